package io.chimedialer.app;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The boundaries between the project's modules, over the main classes of all four (dialer-app has them all on
 * its test class path): the emulator and the Lambda bridge share nothing with the core or with each other, the
 * core uses no other module, each module's classes live under its own package root only, and no main class
 * uses another library's internal package. Logs the module graph at INFO and puts it in every failure message.
 * dialer-core's own package rules are in its {@code ArchitectureTest}.
 */
class ModuleBoundariesTest {

    private static final Logger log = LoggerFactory.getLogger(ModuleBoundariesTest.class);

    private static final String ROOT = "io.chimedialer";
    /** Maven module -> the package root its classes live under. */
    private static final Map<String, String> MODULES = Map.of(
            "dialer-core", ROOT + ".core",
            "chime-emulator", ROOT + ".emulator",
            "dialer-lambda", ROOT + ".lambda",
            "dialer-app", ROOT + ".app");

    private static JavaClasses main;
    private static String graph;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(ROOT);
        graph = moduleGraph(main);
        log.info("\n{}", graph);
    }

    @Test
    void emulatorClasses_coreAppAndLambda_neverUsed() {
        check(noClasses().that().resideInAPackage(ROOT + ".emulator..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        ROOT + ".core..", ROOT + ".app..", ROOT + ".lambda..")
                .because("the emulator stands in for Amazon Chime and shares nothing with the dialer"));
    }

    @Test
    void lambdaClasses_coreAppAndEmulator_neverUsed() {
        check(noClasses().that().resideInAPackage(ROOT + ".lambda..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        ROOT + ".core..", ROOT + ".app..", ROOT + ".emulator..")
                .because("the Lambda bridge is deployed alone and shares nothing with the dialer"));
    }

    @Test
    void coreClasses_otherModules_neverUsed() {
        check(noClasses().that().resideInAPackage(ROOT + ".core..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        ROOT + ".app..", ROOT + ".emulator..", ROOT + ".lambda..")
                .because("dialer-core is the library the other modules build on"));
    }

    @Test
    void mainClasses_internalPackagesOfOtherLibraries_neverUsed() {
        check(noClasses().that().resideInAPackage(ROOT + "..")
                .should().dependOnClassesThat(DescribedPredicate.describe(
                        "reside in another library's internal package (a package name containing '.internal')",
                        c -> !isOurs(c) && c.getPackageName().contains(".internal")))
                .because("a library's internal package may change in any release"));
    }

    @Test
    void everyModule_classes_onlyUnderItsOwnPackageRoot() {
        Map<String, Integer> seen = new TreeMap<>();
        List<String> misplaced = new ArrayList<>();
        for (JavaClass c : main) {
            String module = moduleOf(c);
            if (module == null) {
                continue;
            }
            seen.merge(module, 1, Integer::sum);
            String root = MODULES.get(module);
            if (!c.getPackageName().equals(root) && !c.getPackageName().startsWith(root + ".")) {
                misplaced.add(c.getName() + " (in " + module + ", outside " + root + ")");
            }
        }

        // Every module must have been imported, or the rules above would pass on nothing.
        assertThat(seen.keySet()).as(graph).containsExactlyInAnyOrderElementsOf(MODULES.keySet());
        assertThat(misplaced).as(graph).isEmpty();
    }

    /** The Maven module a class file came from (the module name that comes last in its location), or null. */
    private static String moduleOf(JavaClass c) {
        String uri = c.getSource().map(s -> s.getUri().toString()).orElse("");
        String module = null;
        int at = -1;
        for (String m : MODULES.keySet()) {
            int i = uri.lastIndexOf("/" + m);
            if (i > at) {
                at = i;
                module = m;
            }
        }
        return module;
    }

    private static boolean isOurs(JavaClass c) {
        return c.getPackageName().equals(ROOT) || c.getPackageName().startsWith(ROOT + ".");
    }

    private static String moduleRoot(JavaClass c) {
        String p = c.getPackageName();
        if (!p.startsWith(ROOT + ".")) {
            return null;
        }
        String rest = p.substring(ROOT.length() + 1);
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }

    /** {@code a -> b (n)}: n distinct class pairs of {@code io.chimedialer.a..} use {@code io.chimedialer.b..}. */
    private static String moduleGraph(JavaClasses classes) {
        Map<String, Map<String, Set<String>>> edges = new TreeMap<>();
        for (JavaClass from : classes) {
            String a = moduleRoot(from);
            if (a == null) {
                continue;
            }
            Map<String, Set<String>> out = edges.computeIfAbsent(a, k -> new TreeMap<>());
            for (Dependency d : from.getDirectDependenciesFromSelf()) {
                JavaClass to = d.getTargetClass().getBaseComponentType();
                String b = moduleRoot(to);
                if (b != null && !b.equals(a)) {
                    out.computeIfAbsent(b, k -> new HashSet<>()).add(from.getName() + ">" + to.getName());
                }
            }
        }
        StringBuilder text = new StringBuilder("module graph (main classes; \"a -> b (n)\": n class pairs of "
                + ROOT + ".a.. using " + ROOT + ".b..):\n");
        edges.forEach((a, out) -> {
            text.append("  ").append(a).append(" ->");
            if (out.isEmpty()) {
                text.append(" (nothing)");
            }
            String sep = " ";
            for (Map.Entry<String, Set<String>> e : out.entrySet()) {
                text.append(sep).append(e.getKey()).append(" (").append(e.getValue().size()).append(')');
                sep = ", ";
            }
            text.append('\n');
        });
        return text.toString();
    }

    private static void check(ArchRule rule) {
        EvaluationResult result = rule.evaluate(main);
        if (result.hasViolation()) {
            fail(result.getFailureReport() + "\n\n" + graph);
        }
    }
}
