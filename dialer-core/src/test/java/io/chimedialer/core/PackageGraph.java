package io.chimedialer.core;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The dependency graph between dialer-core's top-level packages ({@code io.chimedialer.core.X..} is package
 * {@code X}), from the class files: an edge {@code a -> b} weighs how many distinct class pairs make it.
 * Renders as a list of edges plus the layers (bottom first) when the graph has no cycle.
 */
final class PackageGraph {

    static final String CORE = "io.chimedialer.core";

    private final Map<String, Map<String, Set<String>>> edges = new TreeMap<>();

    private PackageGraph() {
    }

    static PackageGraph of(JavaClasses classes) {
        PackageGraph g = new PackageGraph();
        for (JavaClass from : classes) {
            String a = slice(from);
            if (a == null) {
                continue;
            }
            g.edges.computeIfAbsent(a, k -> new TreeMap<>());
            for (Dependency d : from.getDirectDependenciesFromSelf()) {
                JavaClass to = d.getTargetClass().getBaseComponentType();
                String b = slice(to);
                if (b != null && !b.equals(a)) {
                    g.edges.get(a).computeIfAbsent(b, k -> new HashSet<>())
                            .add(from.getName() + ">" + to.getName());
                }
            }
        }
        return g;
    }

    private static String slice(JavaClass c) {
        String p = c.getPackageName();
        if (p.equals(CORE)) {
            return "(root)";
        }
        if (!p.startsWith(CORE + ".")) {
            return null;
        }
        String rest = p.substring(CORE.length() + 1);
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }

    Set<String> packages() {
        Set<String> all = new TreeSet<>(edges.keySet());
        edges.values().forEach(m -> all.addAll(m.keySet()));
        return all;
    }

    Set<String> dependenciesOf(String p) {
        return edges.getOrDefault(p, Map.of()).keySet();
    }

    /** Packages by layer, bottom first: each uses only packages of lower layers. Empty if there is a cycle. */
    List<Set<String>> layers() {
        List<Set<String>> layers = new ArrayList<>();
        Set<String> placed = new HashSet<>();
        Set<String> left = packages();
        while (!left.isEmpty()) {
            Set<String> layer = new TreeSet<>();
            for (String p : left) {
                if (placed.containsAll(dependenciesOf(p))) {
                    layer.add(p);
                }
            }
            if (layer.isEmpty()) {
                return List.of();
            }
            layers.add(layer);
            placed.addAll(layer);
            left.removeAll(layer);
        }
        return layers;
    }

    String render() {
        StringBuilder out = new StringBuilder("dialer-core package graph (main classes; \"a -> b (n)\": "
                + "n class pairs of " + CORE + ".a.. using " + CORE + ".b..):\n");
        int width = packages().stream().mapToInt(String::length).max().orElse(0);
        for (String a : packages()) {
            out.append("  ").append(a).append(" ".repeat(width - a.length())).append(" ->");
            Map<String, Set<String>> to = edges.getOrDefault(a, Map.of());
            if (to.isEmpty()) {
                out.append(" (nothing)");
            }
            String sep = " ";
            for (Map.Entry<String, Set<String>> e : to.entrySet()) {
                out.append(sep).append(e.getKey()).append(" (").append(e.getValue().size()).append(')');
                sep = ", ";
            }
            out.append('\n');
        }
        List<Set<String>> layers = layers();
        if (layers.isEmpty()) {
            out.append("layers: none, the graph has a cycle\n");
        } else {
            out.append("layers, bottom first:\n");
            for (int i = 0; i < layers.size(); i++) {
                out.append("  ").append(i).append(": ").append(String.join(", ", layers.get(i))).append('\n');
            }
        }
        return out.toString();
    }
}
