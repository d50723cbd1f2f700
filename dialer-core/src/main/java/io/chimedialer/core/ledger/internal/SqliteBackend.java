package io.chimedialer.core.ledger.internal;

import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerException;
import io.chimedialer.core.ledger.LedgerOptions;
import io.chimedialer.core.ledger.LedgerUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Set;
import org.sqlite.SQLiteConfig;

/**
 * SQLite through xerial's driver: one long-lived writer connection, a fresh read-only connection per
 * read (WAL lets readers run beside the writer).
 *
 * <p>{@code synchronous=FULL}: in WAL mode it syncs the log at every commit, so a committed intent
 * survives a power loss or OS crash, not only a process crash. NORMAL could lose the last commits on
 * power loss, and an intent lost after its call was placed would let a restart dial that contact again,
 * breaking "at most once". Group commit spreads the one sync over a whole batch, which keeps FULL cheap.
 */
public final class SqliteBackend extends Backend {
    private static final byte[] HEADER = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

    /**
     * WAL frames (pages) after which a commit copies the log back into the database: 10,000 pages, some 40 MB,
     * against SQLite's 1,000. The random TransactionId index dirties a page per placement, and a checkpoint writes
     * every distinct page of the log back and syncs the database file; ten times fewer checkpoints write each such
     * page back once instead of up to ten times. LedgerWriteBenchmark ({@code sqlite 200000 512 100 0 time}, five
     * alternated pairs): writer CPU per attempt median 39.2 against 44.2 us, 20,128 against 16,212 attempts/s.
     * Durability is unchanged: every commit still syncs the log ({@code synchronous=FULL}).
     */
    public static final int WAL_CHECKPOINT_PAGES = 10_000;

    private final Path file;
    private final String url;
    private final int lockTimeoutMillis;
    private final Connection writer;

    private final boolean readOnly;

    private SqliteBackend(Path file, int lockTimeoutMillis, boolean readOnly) {
        this.file = file;
        this.url = "jdbc:sqlite:" + file;
        this.lockTimeoutMillis = lockTimeoutMillis;
        this.readOnly = readOnly;
        this.writer = readOnly ? openReadOnly() : openWriter();
    }

    /**
     * Checks the file without writing (header, permissions), creates its directory when absent, then
     * opens the writer connection in WAL mode.
     */
    public static SqliteBackend open(LedgerOptions options) {
        Path file = fileOf(options.url());
        preflight(file);
        return new SqliteBackend(file, (int) Math.min(Integer.MAX_VALUE, options.lockTimeout().toMillis()), false);
    }

    /**
     * Opens an existing ledger file for reading only: nothing is created (a missing file is an error), the
     * journal mode is left as it is (no switch to WAL), and every connection is read-only, so a file that is
     * not the dialer's stays byte for byte as it was.
     */
    public static SqliteBackend openReadOnly(LedgerOptions options) {
        Path file = fileOf(options.url());
        if (!Files.exists(file)) {
            throw new LedgerException("Ledger database " + file + ": no such file (nothing is created when reading "
                    + "a ledger: give the ledger of the run with --ledger jdbc:sqlite:FILE or ledger.url)");
        }
        if (Files.isDirectory(file)) {
            throw new LedgerException("Ledger database " + file + ": is a directory, not a database file");
        }
        try {
            byte[] header = new byte[HEADER.length];
            int read;
            try (InputStream in = Files.newInputStream(file)) {
                read = in.readNBytes(header, 0, header.length);
            }
            if (read < HEADER.length || !Arrays.equals(header, HEADER)) {
                throw new LedgerException("Ledger database " + file + ": not an SQLite database (its "
                        + Files.size(file) + " bytes do not start with the SQLite header)");
            }
        } catch (IOException e) {
            throw new LedgerException("Ledger database " + file + ": cannot be read (" + e + ")", e);
        }
        return new SqliteBackend(file, (int) Math.min(Integer.MAX_VALUE, options.lockTimeout().toMillis()), true);
    }

    public static Path fileOf(String url) {
        String rest = url.substring("jdbc:sqlite:".length());
        int query = rest.indexOf('?');
        if (query >= 0) {
            rest = rest.substring(0, query);
        }
        if (rest.startsWith("file:")) {
            rest = rest.substring("file:".length());
        }
        if (rest.isBlank() || rest.contains(":memory:") || rest.startsWith("memory:")) {
            throw new LedgerException("Ledger URL " + url + ": an in-memory SQLite database is not durable; "
                    + "give a file, e.g. " + LedgerOptions.DEFAULT_URL);
        }
        return Paths.get(rest).toAbsolutePath().normalize();
    }

    /** Everything that can be checked before SQLite touches the file; throws naming the file. */
    static void preflight(Path file) {
        preflight(file, true);
    }

    /**
     * Whether the ledger could open (or create) this file, without creating or changing anything: the checks of
     * {@link #open} on an existing file, else that the nearest existing directory above it is writable.
     *
     * @throws LedgerException naming the file and the problem
     */
    public static void checkWritable(Path file) {
        preflight(file, false);
    }

    private static void preflight(Path file, boolean create) {
        if (Files.exists(file)) {
            if (Files.isDirectory(file)) {
                throw new LedgerException("Ledger database " + file + ": is a directory, not a database file");
            }
            try {
                long size = Files.size(file);
                if (size > 0) {
                    byte[] header = new byte[HEADER.length];
                    int read;
                    try (InputStream in = Files.newInputStream(file)) {
                        read = in.readNBytes(header, 0, header.length);
                    }
                    if (read < HEADER.length || !Arrays.equals(header, HEADER)) {
                        throw new LedgerException("Ledger database " + file + ": not an SQLite database (its "
                                + size + " bytes do not start with the SQLite header); refusing to open it so "
                                + "that nothing is overwritten. Point the ledger URL at another file or move "
                                + "this one away");
                    }
                }
            } catch (IOException e) {
                throw new LedgerException("Ledger database " + file + ": cannot be read (" + e + ")", e);
            }
            if (readOnly(file)) {
                throw new LedgerException("Ledger database " + file + ": the file is read-only; the ledger "
                        + "must write to it (make it writable, or point the ledger URL at another file)");
            }
            Path dir = file.getParent();
            if (dir != null && readOnly(dir)) {
                throw new LedgerException("Ledger database " + file + ": its directory " + dir + " is "
                        + "read-only; SQLite in WAL mode needs to create " + file.getFileName()
                        + "-wal and -shm beside it");
            }
            return;
        }
        Path dir = file.getParent();
        if (dir == null) {
            return;
        }
        if (!create) {
            Path existing = dir;
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            if (existing != null && !Files.isDirectory(existing)) {
                throw new LedgerException("Ledger database " + file + ": " + existing + " is not a directory");
            }
            if (existing != null && readOnly(existing)) {
                throw new LedgerException("Ledger database " + file + ": " + (existing.equals(dir) ? "its directory "
                        : "the directory ") + existing + (existing.equals(dir) ? "" : " above it") + " is read-only; "
                        + "the ledger cannot create the database there");
            }
            return;
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new LedgerException("Ledger database " + file + ": cannot create its directory " + dir
                    + " (" + e + ")", e);
        }
        if (readOnly(dir)) {
            throw new LedgerException("Ledger database " + file + ": its directory " + dir + " is read-only; "
                    + "the ledger cannot create the database there");
        }
    }

    /**
     * Read-only when the OS says so, or when no write permission bit is set: root can write anything, but
     * an operator who removed every write bit meant "do not write".
     */
    private static boolean readOnly(Path path) {
        if (!Files.isWritable(path)) {
            return true;
        }
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        if (view == null) {
            return false;
        }
        try {
            Set<PosixFilePermission> permissions = view.readAttributes().permissions();
            return !permissions.contains(PosixFilePermission.OWNER_WRITE)
                    && !permissions.contains(PosixFilePermission.GROUP_WRITE)
                    && !permissions.contains(PosixFilePermission.OTHERS_WRITE);
        } catch (IOException e) {
            return false;
        }
    }

    private Connection openWriter() {
        SQLiteConfig config = baseConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        try {
            Connection connection = config.createConnection(url);
            connection.setAutoCommit(true); // transactions are explicit: BEGIN IMMEDIATE ... COMMIT
            execute(connection, "PRAGMA wal_autocheckpoint=" + WAL_CHECKPOINT_PAGES);
            return connection;
        } catch (SQLException e) {
            throw translate("open", e);
        }
    }

    private Connection openReadOnly() {
        SQLiteConfig config = baseConfig();
        config.setReadOnly(true);
        try {
            Connection connection = config.createConnection(url);
            connection.setAutoCommit(true);
            return connection;
        } catch (SQLException e) {
            throw translate("open", e);
        }
    }

    /** Whether this backend was opened with {@link #openReadOnly}. */
    public boolean readOnly() {
        return readOnly;
    }

    private SQLiteConfig baseConfig() {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(lockTimeoutMillis);
        return config;
    }

    @Override
    public String dialect() {
        return "sqlite";
    }

    @Override
    public String describe() {
        return file.toString();
    }

    Path file() {
        return file;
    }

    @Override
    public Connection writer() {
        return writer;
    }

    @Override
    public void releaseWriter(Connection connection) {
        // the single writer connection lives as long as the ledger
    }

    @Override
    public Connection reader() throws SQLException {
        SQLiteConfig config = baseConfig();
        config.setReadOnly(true);
        Connection connection = config.createConnection(url);
        connection.setAutoCommit(false);
        return connection;
    }

    @Override
    public int readers() {
        return 2;
    }

    @Override
    public void begin(Connection connection) throws SQLException {
        // IMMEDIATE takes the write lock now, so a lock held by another process fails here, before any change
        execute(connection, "BEGIN IMMEDIATE");
    }

    @Override
    public void commit(Connection connection) throws SQLException {
        execute(connection, "COMMIT");
    }

    @Override
    public void rollbackQuietly(Connection connection) {
        if (connection == null) {
            return;
        }
        try {
            execute(connection, "ROLLBACK");
        } catch (SQLException ignored) {
            // no transaction was open, or the connection is gone; the original error is what matters
        }
    }

    @Override
    public LedgerException translate(String action, Throwable error) {
        if (error instanceof LedgerException ledgerException) {
            return ledgerException;
        }
        if (!(error instanceof SQLException sql)) {
            return new LedgerException("Ledger database " + file + ": " + action + " failed (" + error + ")", error);
        }
        int code = sql.getErrorCode() & 0xff;
        String prefix = "Ledger database " + file + ": ";
        String detail = " (" + sql.getMessage() + ")";
        return switch (code) {
            case 5, 6 -> new LedgerUnavailableException(prefix + "locked by another process or connection; "
                    + action + " gave up after " + lockTimeoutMillis + " ms" + detail, sql);
            case 11, 26 -> new LedgerException(prefix + "not an SQLite database, or corrupt" + detail, sql);
            case 8, 3, 14 -> new LedgerException(prefix + "cannot be opened for writing (read-only file, "
                    + "directory or file system?)" + detail, sql);
            case 13 -> new LedgerException(prefix + "disk full" + detail, sql);
            case 10 -> new LedgerException(prefix + "I/O error" + detail, sql);
            default -> new LedgerException(prefix + action + " failed" + detail, sql);
        };
    }

    @Override
    public void close() {
        try {
            writer.close();
        } catch (SQLException e) {
            throw translate("close", e);
        }
    }
}
