package io.chimedialer.app.config;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One parsed configuration file while it is validated: where problems go, how key paths are shown, and which
 * keys already have a reported problem (a missing environment variable) so they are not reported twice.
 */
final class FileContext {
    final Path file;
    final YamlTree tree;
    final List<EnvSubstitution.Ref> refs;
    private final String prefix;
    private final List<ConfigProblem> problems;
    private final Set<String> poisoned = new HashSet<>();

    /**
     * @param prefix   the key path of this file's root in the whole configuration ("" for the main file,
     *                 {@code campaigns.NAME} for a campaign file)
     */
    FileContext(Path file, YamlTree tree, List<EnvSubstitution.Ref> refs, String prefix, List<ConfigProblem> problems) {
        this.file = file;
        this.tree = tree;
        this.refs = refs;
        this.prefix = prefix;
        this.problems = problems;
    }

    /** Directory that relative paths in this file resolve against. */
    Path dir() {
        Path parent = file.getParent();
        return parent == null ? Path.of("") : parent;
    }

    /** Resolves a path written in this file against the file's directory. */
    Path resolve(String written) {
        Path p = Path.of(written);
        return p.isAbsolute() ? p.normalize() : dir().resolve(p).normalize();
    }

    /** The key path as shown to users. */
    String display(String localPath) {
        if (prefix.isEmpty()) {
            return localPath;
        }
        if (localPath.isEmpty()) {
            return prefix;
        }
        return localPath.startsWith("[") ? prefix + localPath : prefix + "." + localPath;
    }

    /** Records a problem at a local key path unless that key (or an enclosing one) already has one. */
    void error(String localPath, String message) {
        for (String p = localPath; ; p = YamlTree.parent(p)) {
            if (poisoned.contains(p)) {
                return;
            }
            if (p.isEmpty()) {
                break;
            }
        }
        problems.add(new ConfigProblem(file, display(localPath), tree.line(localPath), message));
    }

    /** Records a problem and silences further ones at the same key. */
    void errorOnce(String localPath, String message) {
        error(localPath, message);
        poisoned.add(localPath);
    }

    /** Reports the substitution problems (missing variables, malformed references) at the keys they belong to. */
    void reportSubstitutionProblems() {
        for (EnvSubstitution.Ref ref : refs) {
            if (ref.problem() == null) {
                continue;
            }
            String path = tree.pathAt(ref.line(), ref.column());
            if (path == null) {
                problems.add(new ConfigProblem(file, display(""), ref.line(), ref.problem()));
            } else {
                errorOnce(path, ref.problem());
            }
        }
    }

    /** The references whose value lands in the scalar at {@code localPath}. */
    List<EnvSubstitution.Ref> refsIn(String localPath) {
        int[] pos = tree.valuePosition(localPath);
        if (pos == null) {
            return List.of();
        }
        return refs.stream().filter(r -> r.line() == pos[0] && r.column() >= pos[1]).toList();
    }
}
