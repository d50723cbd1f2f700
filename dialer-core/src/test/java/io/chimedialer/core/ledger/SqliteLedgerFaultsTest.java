package io.chimedialer.core.ledger;

import io.chimedialer.core.ledger.internal.SqliteBackend;
import io.chimedialer.testkit.ManualClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.contacts.Contact;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SQLite specifics: WAL mode, the default directory, and the faults that must name the file and write nothing. */
class SqliteLedgerFaultsTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Instant T0 = Instant.parse("2026-01-02T03:04:05.678Z");

    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock(T0);

    private LedgerOptions options(Path file) {
        return LedgerOptions.of("jdbc:sqlite:" + file, clock).withLockTimeout(Duration.ofMillis(200));
    }

    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static Attempt attempt(String id) {
        return new Attempt(id, "c", new Contact(1, "k-" + id, "+12065550001", "", null, null), 1, "us-east-1",
                "+12065550100");
    }

    private Path existingLedger() {
        Path file = dir.resolve("ledger.db");
        try (JdbcLedger ledger = JdbcLedger.open(options(file))) {
            ledger.addDnc("l", "+12065550001", T0).block(WAIT);
        }
        return file;
    }

    @Test
    void open_missingDirectories_createsThemAndUsesWalMode() throws SQLException {
        Path file = dir.resolve("a/b/dialer.db");

        try (JdbcLedger ledger = JdbcLedger.open(options(file))) {
            assertThat(ledger.describe()).isEqualTo(file.toAbsolutePath().toString());
            try (Connection raw = DriverManager.getConnection("jdbc:sqlite:" + file);
                 Statement statement = raw.createStatement();
                 ResultSet rows = statement.executeQuery("PRAGMA journal_mode")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getString(1)).isEqualTo("wal");
            }
        }
        assertThat(file).isRegularFile();
    }

    @Test
    void commits_leaveTheLogUncheckpointedPastSqlitesThousandPages() throws Exception {
        Path file = dir.resolve("wal.db");
        Path wal = dir.resolve("wal.db-wal");

        try (JdbcLedger ledger = JdbcLedger.open(options(file))) {
            // one intent a commit: each commit appends several pages (the row, its indexes, the contact's progress)
            for (int i = 0; i < 600; i++) {
                ledger.recordIntents(List.of(attempt(String.format("a-%05d", i)))).block(WAIT);
            }
            // SQLite's default checkpoints at 1,000 pages and then writes the log again from its start, so the file
            // never holds much more than 1,000 frames (a 32-byte header, then 24 bytes and a 4,096-byte page each)
            long frames = (Files.size(wal) - 32) / (24 + 4096);
            assertThat(frames).isGreaterThan(2_000).isLessThan(SqliteBackend.WAL_CHECKPOINT_PAGES);
            assertThat(ledger.findAttempt("a-00599").block(WAIT)).isNotNull();
        }
    }

    @Test
    void open_fileOfRandomBytes_failsNamingTheFileAndLeavesItUnchanged() throws Exception {
        Path file = dir.resolve("garbage.db");
        byte[] bytes = new byte[8192];
        new Random(42).nextBytes(bytes);
        Files.write(file, bytes);
        String before = sha256(file);

        assertThatThrownBy(() -> JdbcLedger.open(options(file)))
                .isExactlyInstanceOf(LedgerException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("not an SQLite database");

        assertThat(sha256(file)).isEqualTo(before);
        assertThat(dir.resolve("garbage.db-wal")).doesNotExist();
        assertThat(dir.resolve("garbage.db-shm")).doesNotExist();
    }

    @Test
    void open_validHeaderButCorruptPages_failsNamingTheFileAndLeavesItUnchanged() throws Exception {
        Path file = existingLedger();
        byte[] bytes = Files.readAllBytes(file);
        // keep the 16-byte magic, destroy the rest of the header page and beyond
        for (int i = 16; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31);
        }
        Files.write(file, bytes);
        String before = sha256(file);

        assertThatThrownBy(() -> JdbcLedger.open(options(file)))
                .isInstanceOf(LedgerException.class)
                .hasMessageContaining(file.toString());

        assertThat(sha256(file)).isEqualTo(before);
    }

    @Test
    void open_readOnlyFile_failsNamingTheFileAndLeavesItUnchanged() throws Exception {
        Path file = existingLedger();
        String before = sha256(file);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
        try {
            assertThatThrownBy(() -> JdbcLedger.open(options(file)))
                    .isExactlyInstanceOf(LedgerException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("read-only");
        } finally {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        }
        assertThat(sha256(file)).isEqualTo(before);
    }

    @Test
    void open_readOnlyDirectory_failsNamingTheFileAndLeavesItUnchanged() throws Exception {
        Path file = existingLedger();
        String before = sha256(file);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assertThatThrownBy(() -> JdbcLedger.open(options(file)))
                    .isExactlyInstanceOf(LedgerException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("read-only");
        } finally {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        assertThat(sha256(file)).isEqualTo(before);
    }

    @Test
    void open_newFileInReadOnlyDirectory_failsAndCreatesNothing() throws Exception {
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        Path file = ro.resolve("dialer.db");
        try {
            assertThatThrownBy(() -> JdbcLedger.open(options(file)))
                    .isInstanceOf(LedgerException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("read-only");
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwx------"));
        }
        try (var entries = Files.list(ro)) {
            assertThat(entries).isEmpty();
        }
    }

    @Test
    void open_databaseExclusivelyLockedByAnotherConnection_failsNamingTheFileAndLeavesItUnchanged() throws Exception {
        Path file = dir.resolve("locked.db");
        try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement statement = other.createStatement()) {
            statement.execute("CREATE TABLE operator_notes (note TEXT)");
            statement.execute("INSERT INTO operator_notes VALUES ('keep me')");
            String before = sha256(file);
            statement.execute("BEGIN EXCLUSIVE");
            try {
                assertThatThrownBy(() -> JdbcLedger.open(options(file)))
                        .isInstanceOf(LedgerUnavailableException.class)
                        .hasMessageContaining(file.toString())
                        .hasMessageContaining("locked");
                assertThat(sha256(file)).isEqualTo(before);
            } finally {
                statement.execute("ROLLBACK");
            }
        }
    }

    @Test
    void open_ledgerLockedByAnotherWriter_failsNamingTheFileAndLeavesItUnchanged() throws Exception {
        Path file = existingLedger();
        String before = sha256(file);
        try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement statement = other.createStatement()) {
            statement.execute("BEGIN EXCLUSIVE");
            try {
                assertThatThrownBy(() -> JdbcLedger.open(options(file)))
                        .isInstanceOf(LedgerUnavailableException.class)
                        .hasMessageContaining(file.toString())
                        .hasMessageContaining("locked");
            } finally {
                statement.execute("ROLLBACK");
            }
        }
        assertThat(sha256(file)).isEqualTo(before);
    }

    @Test
    void write_whileAnotherWriterHoldsTheLock_failsUnavailable_thenSucceedsOnceReleased() throws Exception {
        Path file = dir.resolve("busy.db");
        try (JdbcLedger ledger = JdbcLedger.open(options(file));
             Connection other = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement statement = other.createStatement()) {
            statement.execute("BEGIN IMMEDIATE");
            assertThatThrownBy(() -> ledger.recordIntents(List.of(attempt("a1"))).block(WAIT))
                    .isInstanceOf(LedgerUnavailableException.class)
                    .hasMessageContaining(file.toAbsolutePath().toString());
            statement.execute("ROLLBACK");

            ledger.recordIntents(List.of(attempt("a1"))).block(WAIT);

            assertThat(ledger.attempts("c").count().block(WAIT)).isEqualTo(1L);
            assertThat(ledger.stats().opsFailed()).isEqualTo(1);
            assertThat(ledger.stats().opsCommitted()).isEqualTo(1);
        }
    }

    @Test
    void open_schemaNewerThanThisDialer_failsWithoutChangingIt() throws Exception {
        Path file = existingLedger();
        try (Connection raw = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement statement = raw.createStatement()) {
            statement.execute("INSERT INTO schema_version (version, description, applied_at) "
                    + "VALUES (99, 'V99__future.sql', 0)");
        }
        String before = sha256(file);

        assertThatThrownBy(() -> JdbcLedger.open(options(file)))
                .isExactlyInstanceOf(LedgerException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("schema version 99");
        assertThat(sha256(file)).isEqualTo(before);
    }

    @Test
    void open_inMemoryUrl_isRefused() {
        assertThatThrownBy(() -> JdbcLedger.open(LedgerOptions.of("jdbc:sqlite::memory:", clock)))
                .isExactlyInstanceOf(LedgerException.class)
                .hasMessageContaining("not durable");
    }

    @Test
    void open_unsupportedUrl_isRefusedWithoutItsPassword() {
        assertThatThrownBy(() -> JdbcLedger.open(LedgerOptions.of("jdbc:mysql://h/db?password=s3cret", clock)))
                .isExactlyInstanceOf(LedgerException.class)
                .hasMessageContaining("unsupported")
                .hasMessageNotContaining("s3cret");
    }

    @Test
    void fileOf_acceptsPlainAndFileUrls() {
        assertThat(SqliteBackend.fileOf("jdbc:sqlite:./data/dialer.db"))
                .isEqualTo(Path.of("data/dialer.db").toAbsolutePath().normalize());
        assertThat(SqliteBackend.fileOf("jdbc:sqlite:file:/tmp/x.db?cache=private")).isEqualTo(Path.of("/tmp/x.db"));
    }
}
