package io.chimedialer.app.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A configuration that cannot be used, with every problem found (not just the first).
 * The message lists them one per line; it never contains a secret's value.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient List<ConfigProblem> problems;

    /**
     * @param problems every problem found, at least one
     */
    public ConfigException(List<ConfigProblem> problems) {
        super(message(problems));
        this.problems = List.copyOf(problems);
    }

    /** Every problem, ordered by file and line. */
    public List<ConfigProblem> problems() {
        return problems == null ? List.of() : problems;
    }

    private static String message(List<ConfigProblem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        return problems.size() + (problems.size() == 1 ? " configuration problem:" : " configuration problems:")
                + problems.stream().map(p -> "\n  " + p).collect(Collectors.joining());
    }
}
