package io.chimedialer.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
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
        // V4 (the control payload) is PostgreSQL-only too
        assertThat(sqlite.get(3).statements()).isEmpty();
        assertThat(postgresql.get(3).statements()).hasSize(1);
        assertThat(sqlite.get(2).statements()).isEqualTo(postgresql.get(2).statements()).hasSize(2);
        // V2 (the cluster tables) is PostgreSQL-only: on SQLite it only advances the version
        assertThat(sqlite.get(1).statements()).isEmpty();
        assertThat(postgresql.get(1).statements()).hasSize(7);
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
        TestClock clock = new TestClock(Instant.parse("2026-01-02T03:04:05Z"));
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
    void redact_hidesPasswordsInQueryAndUserInfo() {
        assertThat(PostgresBackend.redact("jdbc:postgresql://h:5432/db?user=u&password=p4ss&ssl=true"))
                .isEqualTo("jdbc:postgresql://h:5432/db?user=u&password=***&ssl=true");
        assertThat(PostgresBackend.redact("jdbc:postgresql://u:p4ss@h/db")).isEqualTo("jdbc:postgresql://u:***@h/db");
    }
}
