package io.chimedialer.app.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One problem found in a configuration file.
 *
 * @param file    the file the problem is in
 * @param keyPath the dotted key path, e.g. {@code regions.us-east-1.calls-per-second}
 *                (list items as {@code from-numbers[0]}); empty for the file as a whole
 * @param line    the 1-based line of the key in {@code file}, or 0 when unknown
 * @param message the reason, never containing a secret's value
 */
public record ConfigProblem(Path file, String keyPath, int line, String message) implements Comparable<ConfigProblem> {
    public ConfigProblem {
        Objects.requireNonNull(file, "file");
        keyPath = keyPath == null ? "" : keyPath;
        Objects.requireNonNull(message, "message");
    }

    /** {@code file:line: key.path: message}, the form printed by {@code dialer validate}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append(file);
        if (line > 0) {
            sb.append(':').append(line);
        }
        sb.append(": ");
        if (!keyPath.isEmpty()) {
            sb.append(keyPath).append(": ");
        }
        return sb.append(message).toString();
    }

    /** Orders by file, then line, then key path. */
    @Override
    public int compareTo(ConfigProblem o) {
        int c = file.toString().compareTo(o.file.toString());
        if (c == 0) {
            c = Integer.compare(line, o.line);
        }
        if (c == 0) {
            c = keyPath.compareTo(o.keyPath);
        }
        return c;
    }
}
