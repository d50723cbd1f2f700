package io.chimedialer.app.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/**
 * A fresh schema, for one test, in the PostgreSQL at {@code DIALER_TEST_POSTGRES_URL}; dropped on {@link #close()}.
 * A test that needs one is skipped when the variable is not set, and fails when it is set and the server does not
 * answer.
 */
final class PostgresSchema implements AutoCloseable {
    /** The server, from the environment; null when PostgreSQL tests are off. */
    static final String BASE_URL = System.getenv("DIALER_TEST_POSTGRES_URL");

    private final String name;
    private final String url;

    private PostgresSchema(String name) {
        this.name = name;
        this.url = BASE_URL + (BASE_URL.contains("?") ? "&" : "?") + "currentSchema=" + name;
    }

    /**
     * Creates {@code <prefix>_<random>}, or skips the calling test when {@code DIALER_TEST_POSTGRES_URL} is not set.
     *
     * @param prefix what the schema's name starts with (a SQL identifier)
     * @param what   the test, for the skip message
     */
    static PostgresSchema create(String prefix, String what) {
        Assumptions.assumeTrue(BASE_URL != null && !BASE_URL.isBlank(),
                "DIALER_TEST_POSTGRES_URL is not set: " + what + " skipped");
        String name = prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection connection = DriverManager.getConnection(BASE_URL);
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE SCHEMA " + name);
        } catch (SQLException e) {
            throw new AssertionError("DIALER_TEST_POSTGRES_URL is set but PostgreSQL is unreachable: " + e, e);
        }
        return new PostgresSchema(name);
    }

    /** The JDBC URL whose connections use this schema. */
    String url() {
        return url;
    }

    /** The first column of the first row of a query in this schema, as a number. */
    long count(String sql) throws SQLException {
        try (Connection connection = DriverManager.getConnection(url);
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(sql)) {
            if (!rs.next()) {
                throw new AssertionError("no row from: " + sql);
            }
            return rs.getLong(1);
        }
    }

    @Override
    public void close() throws SQLException {
        try (Connection connection = DriverManager.getConnection(BASE_URL);
             Statement statement = connection.createStatement()) {
            statement.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
        }
    }
}
