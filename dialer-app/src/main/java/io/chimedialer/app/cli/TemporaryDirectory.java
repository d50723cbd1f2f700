package io.chimedialer.app.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * A directory in the system's temporary directory that a command owns for its run (the demo's and the sandbox's
 * ledgers and generated lists): {@link #close} deletes it with what it holds, and so does the JVM's shutdown when
 * the command is interrupted before it could (Ctrl-C on {@code run} or {@code demo}). Deleted once, whichever comes
 * first; a failure to delete is reported on stderr, never thrown.
 */
final class TemporaryDirectory implements AutoCloseable {
    private final Path path;
    private final AtomicBoolean deleted = new AtomicBoolean();
    private final Thread onShutdown;

    private TemporaryDirectory(Path path) {
        this.path = path;
        this.onShutdown = new Thread(this::delete, "delete-" + path.getFileName());
        Runtime.getRuntime().addShutdownHook(onShutdown);
    }

    /** Creates a new directory whose name starts with {@code prefix}. */
    static TemporaryDirectory create(String prefix) throws IOException {
        return new TemporaryDirectory(Files.createTempDirectory(prefix));
    }

    Path path() {
        return path;
    }

    Path resolve(String name) {
        return path.resolve(name);
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(onShutdown);
        } catch (IllegalStateException shuttingDown) {
            // the hook deletes it, or has
        }
        delete();
    }

    private void delete() {
        if (!deleted.compareAndSet(false, true)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(path)) {
            // Children first: a SQLite ledger leaves -wal and -shm files beside its own.
            List<Path> all = paths.sorted(Comparator.reverseOrder()).toList();
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            System.err.println("dialer: could not delete the temporary directory " + path + ": " + e.getMessage());
        }
    }
}
