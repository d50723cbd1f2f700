package io.chimedialer.core.cluster;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The PostgreSQL database that coordinates the nodes: a small HikariCP pool of its own (separate from the
 * ledger's) for claims, heartbeats and control, plus dedicated connections for LISTEN.
 *
 * <p>The schema comes from the ledger's migrations (V2, and V4 for the control payload): open the ledger on the same database first; opening
 * fails with a {@link ClusterException} that says so when the cluster tables are missing. Thread-safe.
 */
public final class ClusterDatabase implements AutoCloseable {
    /**
     * The last ledger migration the cluster needs: V2__cluster.sql creates the cluster tables, V4__control_payload.sql
     * adds the control commands' payload. The ledger applies them in order, so V4 implies V2.
     */
    static final int SCHEMA_VERSION = 4;

    private final String url;
    private final String description;
    private final HikariDataSource pool;
    private final Duration connectTimeout;

    private ClusterDatabase(String url, HikariDataSource pool, Duration connectTimeout) {
        this.url = url;
        this.description = redact(url);
        this.pool = pool;
        this.connectTimeout = connectTimeout;
    }

    /**
     * Opens the pool and checks the schema.
     *
     * @param url            a {@code jdbc:postgresql://} URL (the ledger's)
     * @param poolSize       connections in the pool (&gt;= 2: claims and heartbeats run at once)
     * @param connectTimeout how long to wait for a connection (&gt;= 250 ms)
     * @return the database
     * @throws ClusterException when the URL is not PostgreSQL's, the server is unreachable, or the schema lacks
     *                          the cluster tables
     */
    public static ClusterDatabase open(String url, int poolSize, Duration connectTimeout) {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new ClusterException("cluster: the ledger URL must be jdbc:postgresql:... to run several nodes, was "
                    + redact(url));
        }
        if (poolSize < 2) {
            throw new IllegalArgumentException("poolSize must be >= 2, was " + poolSize);
        }
        if (connectTimeout.toMillis() < 250) {
            throw new IllegalArgumentException("connectTimeout must be >= 250ms, was " + connectTimeout);
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setPoolName("cluster");
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(1);
        config.setAutoCommit(false);
        config.setConnectionTimeout(connectTimeout.toMillis());
        config.setValidationTimeout(Math.max(250, Math.min(connectTimeout.toMillis(), 1000)));
        config.setInitializationFailTimeout(connectTimeout.toMillis());
        config.addDataSourceProperty("connectTimeout", Long.toString(Math.max(1, connectTimeout.toSeconds())));
        config.addDataSourceProperty("socketTimeout", "30");
        config.addDataSourceProperty("tcpKeepAlive", "true");
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new ClusterException("cluster database " + redact(url) + ": unreachable (" + e.getMessage() + ")", e);
        }
        ClusterDatabase db = new ClusterDatabase(url, pool, connectTimeout);
        try {
            db.checkSchema();
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        return db;
    }

    private void checkSchema() {
        try (Connection connection = pool.getConnection();
             PreparedStatement query = connection.prepareStatement("SELECT COUNT(*) FROM schema_version WHERE version = ?")) {
            query.setInt(1, SCHEMA_VERSION);
            boolean applied;
            try (ResultSet rows = query.executeQuery()) {
                applied = rows.next() && rows.getInt(1) == 1;
            }
            connection.rollback();
            if (!applied) {
                throw new ClusterException("cluster database " + description + ": migration V" + SCHEMA_VERSION
                        + " (cluster tables and control payload) is not applied; open the ledger on it first (it applies the migrations)");
            }
        } catch (SQLException e) {
            throw new ClusterException("cluster database " + description + ": no ledger schema ("
                    + e.getMessage() + "); open the ledger on it first (it applies the migrations)", e);
        }
    }

    /** The pool (auto-commit off). */
    public DataSource dataSource() {
        return pool;
    }

    /** The URL without secrets, for messages. */
    public String describe() {
        return description;
    }

    /**
     * A new connection outside the pool (auto-commit on), for a LISTEN that holds it for long; the caller closes it.
     */
    Connection dedicated() throws SQLException {
        DriverManager.setLoginTimeout((int) Math.max(1, connectTimeout.toSeconds()));
        Connection connection = DriverManager.getConnection(url);
        connection.setAutoCommit(true);
        return connection;
    }

    /** A pooled connection (auto-commit off). */
    Connection connection() throws SQLException {
        return pool.getConnection();
    }

    /** Work on one connection inside one transaction. */
    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    /**
     * Runs the work in one transaction on a pooled connection: committed when it returns, rolled back when it
     * throws. Blocking.
     */
    <T> T transact(String action, SqlWork<T> work) {
        try (Connection connection = pool.getConnection()) {
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    connection.rollback();
                } catch (SQLException ignored) {
                    // the transaction is abandoned either way; the original error is what matters
                }
                throw e;
            }
        } catch (SQLException | RuntimeException e) {
            throw failure(action, e);
        }
    }

    /** Wraps a failure so that it names the database. */
    ClusterException failure(String action, Throwable error) {
        if (error instanceof ClusterException e) {
            return e;
        }
        return new ClusterException("cluster database " + description + ": " + action + " failed ("
                + error.getMessage() + ")", error);
    }

    /**
     * Whether retrying later can succeed: the database is unreachable, restarting or out of connections, or the
     * transaction lost a deadlock or serialization race.
     */
    static boolean isTransient(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLTransientException || t instanceof java.net.SocketException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.startsWith("08") || state.startsWith("57P0") || state.equals("53300")
                        || state.equals("40001") || state.equals("40P01")) {
                    return true;
                }
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1***").replaceAll("//([^/@:]+):[^/@]*@", "//$1:***@");
    }

    @Override
    public void close() {
        pool.close();
    }
}
