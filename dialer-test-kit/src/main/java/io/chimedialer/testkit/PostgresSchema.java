package io.chimedialer.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A fresh schema, for one test, in the PostgreSQL at {@code DIALER_TEST_POSTGRES_URL} (e.g.
 * {@code jdbc:postgresql://127.0.0.1:5432/test?user=postgres}); dropped with everything in it on {@link #close()}.
 * A test that asks for one is skipped when the variable is not set, and fails (never skips) when it is set and the
 * server does not answer. The JDBC driver comes from the test's own classpath. Not thread-safe; one per test.
 */
public final class PostgresSchema implements AutoCloseable {
    /** The environment variable naming the server. */
    public static final String ENV = "DIALER_TEST_POSTGRES_URL";

    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,40}");

    private final String baseUrl;
    private final String name;
    private final String url;

    private PostgresSchema(String baseUrl, String name) {
        this.baseUrl = baseUrl;
        this.name = name;
        this.url = withParameter(baseUrl, "currentSchema=" + name);
    }

    /** The server's URL from {@value #ENV}, or null when PostgreSQL tests are off. */
    public static String baseUrl() {
        String url = System.getenv(ENV);
        return url == null || url.isBlank() ? null : url;
    }

    /**
     * Creates {@code <prefix>_<random>}, or skips the calling test when {@value #ENV} is not set.
     *
     * @param prefix what the schema's name starts with: lower-case letters, digits and underscores
     * @param what   the test, for the skip message
     * @throws AssertionError when the variable is set and the schema cannot be created
     */
    public static PostgresSchema create(String prefix, String what) {
        String base = baseUrl();
        Assumptions.assumeTrue(base != null, ENV + " is not set: " + what + " skipped");
        return create(base, prefix, what);
    }

    /** {@link #create(String, String)} on the server at {@code baseUrl}, which must answer. */
    static PostgresSchema create(String baseUrl, String prefix, String what) {
        Objects.requireNonNull(baseUrl, "baseUrl");
        if (!IDENTIFIER.matcher(prefix).matches()) {
            throw new IllegalArgumentException("schema prefix must be a lower-case SQL identifier: " + prefix);
        }
        String name = prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection connection = DriverManager.getConnection(baseUrl);
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE SCHEMA " + name);
        } catch (SQLException e) {
            throw new AssertionError(ENV + " is set but PostgreSQL at " + baseUrl + " is unreachable or refused "
                    + "CREATE SCHEMA (" + what + "): " + e, e);
        }
        return new PostgresSchema(baseUrl, name);
    }

    /** {@code url} with one more query parameter ({@code key=value}). */
    public static String withParameter(String url, String parameter) {
        return url + (url.contains("?") ? "&" : "?") + parameter;
    }

    /** The schema's name. */
    public String name() {
        return name;
    }

    /** The JDBC URL whose connections use this schema ({@code currentSchema}). */
    public String url() {
        return url;
    }

    /** A new connection in this schema; the caller closes it. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(url);
    }

    /** Runs one statement in this schema. */
    public void execute(String sql) throws SQLException {
        try (Connection connection = connect(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    /** The first column of the first row of a query in this schema, as a number; fails when there is no row. */
    public long count(String sql) throws SQLException {
        try (Connection connection = connect();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(sql)) {
            if (!rs.next()) {
                throw new AssertionError("no row from: " + sql);
            }
            return rs.getLong(1);
        }
    }

    /** Drops the schema and everything in it. */
    @Override
    public void close() throws SQLException {
        try (Connection connection = DriverManager.getConnection(baseUrl);
             Statement statement = connection.createStatement()) {
            statement.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
        }
    }

    @Override
    public String toString() {
        return "PostgresSchema[" + name + "]";
    }
}
