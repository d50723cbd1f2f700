package io.chimedialer.app.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the project's files are: the launcher passes {@code -Ddialer.home}; else the working directory. */
final class Home {
    private Home() {
    }

    static Path dir() {
        String home = System.getProperty("dialer.home");
        return home == null || home.isBlank() ? Path.of("").toAbsolutePath() : Path.of(home);
    }

    /** A path as the user gave it: absolute, or relative to the working directory when it exists there, else home. */
    static Path resolve(String path) {
        Path p = Path.of(path);
        if (p.isAbsolute() || Files.exists(p)) {
            return p.toAbsolutePath();
        }
        Path inHome = dir().resolve(path);
        return Files.exists(inHome) ? inHome : p.toAbsolutePath();
    }
}
