package io.chimedialer.core.ledger;

import io.chimedialer.core.ledger.internal.PostgresBackend;
import io.chimedialer.core.ledger.internal.SqliteBackend;
import io.chimedialer.testkit.ManualClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MigrationRunnerTest {

    @Test
    void split_dropsCommentsAndSplitsOnLineEndingSemicolons() {
        List<String> statements = MigrationRunner.split("""
                -- a comment; with a semicolon
                CREATE TABLE a (
                    x INTEGER -- trailing words
                );

                CREATE INDEX a_x ON a (x);
                """);

        assertThat(statements).containsExactly("CREATE TABLE a (\n    x INTEGER -- trailing words\n)",
                "CREATE INDEX a_x ON a (x)");
    }

    @Test
    void load_eachDialect_sharedStatementsThenItsOwn() {
        List<MigrationRunner.Migration> sqlite = MigrationRunner.load("sqlite");
        List<MigrationRunner.Migration> postgresql = MigrationRunner.load("postgresql");

        assertThat(sqlite).extracting(MigrationRunner.Migration::version).containsExactly(1, 2, 3, 4);
        // V2 (the cluster tables) and V4 (the control payload) moved to the cluster's migrations: retired here
        assertThat(sqlite).extracting(MigrationRunner.Migration::retired).containsExactly(false, true, false, true);
        assertThat(postgresql).extracting(MigrationRunner.Migration::retired).containsExactly(false, true, false, true);
        assertThat(postgresql.get(1).statements()).isEmpty();
        assertThat(postgresql.get(3).statements()).isEmpty();
        assertThat(sqlite.get(2).statements()).isEqualTo(postgresql.get(2).statements()).hasSize(2);
        assertThat(sqlite.get(0).name()).isEqualTo("V1__init.sql");
        assertThat(sqlite.get(0).statements()).hasSize(9);
        assertThat(postgresql.get(0).statements()).hasSize(9);
        // shared part identical, the attempts table differs only in its seq column
        assertThat(sqlite.get(0).statements().subList(0, 5)).isEqualTo(postgresql.get(0).statements().subList(0, 5));
        assertThat(sqlite.get(0).statements().get(5)).contains("seq               INTEGER      PRIMARY KEY AUTOINCREMENT");
        assertThat(postgresql.get(0).statements().get(5)).contains("GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
        assertThat(sqlite.get(0).statements().get(5).replaceFirst("seq[^\n]*\n", ""))
                .isEqualTo(postgresql.get(0).statements().get(5).replaceFirst("seq[^\n]*\n", ""));
    }

    @Test
    void migrate_gapFilledLater_appliesOnlyTheMissingVersion_andRefusesADowngrade(@TempDir Path dir)
            throws SQLException {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-02T03:04:05Z"));
        MigrationRunner.Migration v1 = new MigrationRunner.Migration(1, "V1__a.sql", List.of("CREATE TABLE t1 (x INTEGER)"));
        MigrationRunner.Migration v2 = new MigrationRunner.Migration(2, "V2__b.sql", List.of("CREATE TABLE t2 (x INTEGER)"));
        MigrationRunner.Migration v3 = new MigrationRunner.Migration(3, "V3__c.sql", List.of("CREATE TABLE t3 (x INTEGER)"));
        try (SqliteBackend backend = SqliteBackend.open(LedgerOptions.of("jdbc:sqlite:" + dir.resolve("m.db"), clock))) {
            assertThat(MigrationRunner.migrate(backend, backend.writer(), clock, List.of(v1, v3))).isEqualTo(2);
            assertThat(MigrationRunner.migrate(backend, backend.writer(), clock, List.of(v1, v3))).isZero();

            assertThat(MigrationRunner.migrate(backend, backend.writer(), clock, List.of(v1, v2, v3))).isEqualTo(1);

            assertThat(MigrationRunner.appliedVersions(backend.writer())).containsExactlyInAnyOrder(1, 2, 3);
            assertThatThrownBy(() -> MigrationRunner.migrate(backend, backend.writer(), clock, List.of(v1)))
                    .isInstanceOf(LedgerException.class).hasMessageContaining("schema version 3 is newer");
        }
    }

    @Test
    void load_clusterSet_itsScriptsInOrder() {
        List<MigrationRunner.Migration> cluster = MigrationRunner.load("db/cluster", "postgresql", "Cluster");

        assertThat(cluster).extracting(MigrationRunner.Migration::name)
                .containsExactly("V1__cluster.sql", "V2__control_payload.sql", "V3__claim_leases.sql");
        assertThat(cluster.get(0).statements()).hasSize(7);
        assertThat(cluster.get(1).statements()).containsExactly("ALTER TABLE campaign_control ADD COLUMN payload TEXT");
    }

    @Test
    void checksum_ignoresCommentsBlankLinesAndTrailingSpaces_notTheStatements() {
        String checksum = new MigrationRunner.Migration(1, "V1__a.sql",
                MigrationRunner.split("CREATE TABLE t (x INTEGER);\n")).checksum();

        assertThat(new MigrationRunner.Migration(1, "V1__a.sql",
                MigrationRunner.split("-- a table\r\n\r\nCREATE TABLE t (x INTEGER);   \r\n")).checksum())
                .isEqualTo(checksum).hasSize(64);
        assertThat(new MigrationRunner.Migration(1, "V1__a.sql",
                MigrationRunner.split("CREATE TABLE t (x BIGINT);\n")).checksum()).isNotEqualTo(checksum);
    }

    @Test
    void migrate_appliedScriptEdited_refusedNamingTheScriptAndBothChecksums(@TempDir Path dir) throws SQLException {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-02T03:04:05Z"));
        MigrationRunner.Migration v1 = new MigrationRunner.Migration(1, "V1__a.sql", List.of("CREATE TABLE t1 (x INTEGER)"));
        MigrationRunner.Migration edited = new MigrationRunner.Migration(1, "V1__a.sql",
                List.of("CREATE TABLE t1 (x INTEGER, y INTEGER)"));
        MigrationRunner.Migration v2 = new MigrationRunner.Migration(2, "V2__b.sql", List.of("CREATE TABLE t2 (x INTEGER)"));
        try (SqliteBackend backend = SqliteBackend.open(LedgerOptions.of("jdbc:sqlite:" + dir.resolve("m.db"), clock))) {
            assertThat(MigrationRunner.migrate(backend, backend.writer(), clock, List.of(v1))).isEqualTo(1);

            assertThatThrownBy(() -> MigrationRunner.migrate(backend, backend.writer(), clock, List.of(edited, v2)))
                    .isInstanceOf(LedgerException.class)
                    .hasMessageContaining("V1__a.sql was edited after it was applied")
                    .hasMessageContaining(v1.checksum())
                    .hasMessageContaining(edited.checksum());
            // refused before anything ran: V2 is not applied
            assertThat(MigrationRunner.appliedVersions(backend.writer())).containsExactly(1);
            assertThat(MigrationRunner.migrate(backend, backend.writer(), clock, List.of(v1, v2))).isEqualTo(1);
        }
    }

    @Test
    void migrate_historyFromBeforeChecksums_acceptedAndChecksumsRecorded_thenEditsRefused(@TempDir Path dir)
            throws SQLException {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-02T03:04:05Z"));
        MigrationRunner.Migration v1 = new MigrationRunner.Migration(1, "V1__a.sql", List.of("CREATE TABLE t1 (x INTEGER)"));
        MigrationRunner.Migration v2 = new MigrationRunner.Migration(2, "V2__b.sql", List.of("CREATE TABLE t2 (x INTEGER)"));
        try (SqliteBackend backend = SqliteBackend.open(LedgerOptions.of("jdbc:sqlite:" + dir.resolve("m.db"), clock))) {
            Connection writer = backend.writer();
            try (Statement statement = writer.createStatement()) {
                // the history as a dialer before checksums left it, with V1 applied
                statement.execute("CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, "
                        + "description VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)");
                statement.execute("CREATE TABLE t1 (x INTEGER)");
                statement.execute("INSERT INTO schema_version VALUES (1, 'V1__a.sql', 42)");
            }

            assertThat(MigrationRunner.migrate(backend, writer, clock, List.of(v1, v2))).isEqualTo(1);

            Map<Integer, String> checksums = new TreeMap<>();
            try (Statement statement = writer.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT version, checksum, applied_at FROM schema_version")) {
                while (rows.next()) {
                    checksums.put(rows.getInt(1), rows.getString(2) + "@" + rows.getLong(3));
                }
            }
            assertThat(checksums).containsExactly(Map.entry(1, v1.checksum() + "@42"),
                    Map.entry(2, v2.checksum() + "@" + clock.millis()));
            MigrationRunner.Migration edited = new MigrationRunner.Migration(1, "V1__a.sql", List.of("CREATE TABLE t1 (y TEXT)"));
            assertThatThrownBy(() -> MigrationRunner.migrate(backend, writer, clock, List.of(edited, v2)))
                    .isInstanceOf(LedgerException.class).hasMessageContaining("V1__a.sql was edited");
        }
    }

    @Test
    void migrate_retiredVersion_neverAppliedButStillKnown(@TempDir Path dir) throws SQLException {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-02T03:04:05Z"));
        MigrationRunner.Migration v1 = new MigrationRunner.Migration(1, "V1__a.sql", List.of("CREATE TABLE t1 (x INTEGER)"));
        MigrationRunner.Migration v2 = new MigrationRunner.Migration(2, "V2__b.sql", List.of("CREATE TABLE t2 (x INTEGER)"));
        MigrationRunner.Migration retired = new MigrationRunner.Migration(2, "V2__b.sql", List.of(), true);
        try (SqliteBackend fresh = SqliteBackend.open(LedgerOptions.of("jdbc:sqlite:" + dir.resolve("new.db"), clock));
             SqliteBackend older = SqliteBackend.open(LedgerOptions.of("jdbc:sqlite:" + dir.resolve("old.db"), clock))) {
            assertThat(MigrationRunner.migrate(fresh, fresh.writer(), clock, List.of(v1, retired))).isEqualTo(1);
            assertThat(MigrationRunner.appliedVersions(fresh.writer())).containsExactly(1);

            // a database that applied V2 before it was retired opens, its row kept (not a "newer" schema)
            assertThat(MigrationRunner.migrate(older, older.writer(), clock, List.of(v1, v2))).isEqualTo(2);
            assertThat(MigrationRunner.migrate(older, older.writer(), clock, List.of(v1, retired))).isZero();
            assertThat(MigrationRunner.appliedVersions(older.writer())).containsExactlyInAnyOrder(1, 2);
        }
    }

    @Test
    void redact_hidesPasswordsInQueryAndUserInfo() {
        assertThat(PostgresBackend.redact("jdbc:postgresql://h:5432/db?user=u&password=p4ss&ssl=true"))
                .isEqualTo("jdbc:postgresql://h:5432/db?user=u&password=***&ssl=true");
        assertThat(PostgresBackend.redact("jdbc:postgresql://u:p4ss@h/db")).isEqualTo("jdbc:postgresql://u:***@h/db");
    }
}
