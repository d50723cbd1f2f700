package io.chimedialer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** The schema fixture; the tests that need a server run when {@code DIALER_TEST_POSTGRES_URL} is set. */
class PostgresSchemaTest {

    @Test
    void create_setButUnreachable_failsInsteadOfSkipping() {
        // Port 1 on the loopback: nothing listens there, the connection is refused at once.
        assertThatThrownBy(() -> PostgresSchema.create("jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=5",
                "kit_test", "the unreachable test"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("DIALER_TEST_POSTGRES_URL is set but PostgreSQL at jdbc:postgresql://127.0.0.1:1/")
                .hasMessageContaining("the unreachable test");
    }

    @Test
    void create_prefixNotAnIdentifier_rejected() {
        assertThatThrownBy(() -> PostgresSchema.create("jdbc:postgresql://127.0.0.1:1/test", "x; DROP", "t"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void withParameter_addsToTheQuery() {
        assertThat(PostgresSchema.withParameter("jdbc:postgresql://h/db", "a=1")).isEqualTo("jdbc:postgresql://h/db?a=1");
        assertThat(PostgresSchema.withParameter("jdbc:postgresql://h/db?user=u", "a=1"))
                .isEqualTo("jdbc:postgresql://h/db?user=u&a=1");
    }

    @Test
    void create_thenClose_tablesLiveInTheFreshSchemaWhichIsDroppedAtTheEnd() throws SQLException {
        String name;
        try (PostgresSchema schema = PostgresSchema.create("kit_test", "the schema fixture test")) {
            name = schema.name();
            assertThat(name).matches("kit_test_[0-9a-f]{12}");
            assertThat(schemaExists(name)).isTrue();

            schema.execute("CREATE TABLE t (n int)");
            schema.execute("INSERT INTO t VALUES (1), (2), (3)");
            assertThat(schema.count("SELECT count(*) FROM t")).isEqualTo(3);
            assertThat(schema.count("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" + name
                    + "' AND table_name = 't'")).isEqualTo(1);
            assertThatThrownBy(() -> schema.count("SELECT 1 WHERE false")).isInstanceOf(AssertionError.class);
        }
        assertThat(schemaExists(name)).isFalse();
    }

    @Test
    void create_twice_twoDistinctSchemas() throws SQLException {
        try (PostgresSchema a = PostgresSchema.create("kit_test", "t"); PostgresSchema b = PostgresSchema.create("kit_test", "t")) {
            assertThat(a.name()).isNotEqualTo(b.name());
            a.execute("CREATE TABLE only_in_a (n int)");
            assertThat(b.count("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
                    + "AND table_name = 'only_in_a'")).isZero();
        }
    }

    private static boolean schemaExists(String name) throws SQLException {
        try (Connection connection = DriverManager.getConnection(PostgresSchema.baseUrl());
             PreparedStatement statement = connection.prepareStatement(
                     "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?")) {
            statement.setString(1, name);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getLong(1) == 1;
            }
        }
    }
}
