package io.chimedialer.core.cluster;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.chimedialer.core.ledger.LedgerException;
import io.chimedialer.core.ledger.LedgerQueries;
import io.chimedialer.core.ledger.MigrationRunner;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL database that coordinates the nodes: a small HikariCP pool of its own (separate from the
 * ledger's) for claims, heartbeats and control, plus dedicated connections for LISTEN.
 *
 * <p>The cluster owns its tables: opening applies its migrations ({@value #MIGRATIONS}, history in
 * {@value #HISTORY}). It reads the ledger's tables, so open the ledger on the same database first; opening fails
 * with a {@link ClusterException} that says so when the ledger's schema is missing. Thread-safe.
 */
public final class ClusterDatabase implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterDatabase.class);
    /** The cluster's migration scripts (classpath folder). */
    static final String MIGRATIONS = "db/cluster";
    /** The cluster's migration history, beside the ledger's {@code schema_version}. */
    static final String HISTORY = "cluster_schema_version";
    /** The advisory lock that serializes the cluster's migrations between nodes ("cluster"). */
    private static final long MIGRATION_LOCK = 0x636c7573746572L;
    /**
     * The cluster's migrations that the ledger applied before the cluster owned them: cluster version to ledger
     * version. A database migrated then has them recorded in the cluster's history, not run again.
     */
    private static final Map<Integer, Integer> FROM_LEDGER = Map.of(1, 2, 2, 4);

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
     * Opens the pool and applies the cluster's migrations, stamped with the system clock.
     *
     * @see #open(String, int, Duration, Clock)
     */
    public static ClusterDatabase open(String url, int poolSize, Duration connectTimeout) {
        return open(url, poolSize, connectTimeout, Clock.systemUTC());
    }

    /**
     * Opens the pool and brings the cluster's tables up to date (see the class comment).
     *
     * @param url            a {@code jdbc:postgresql://} URL (the ledger's)
     * @param poolSize       connections in the pool (&gt;= 2: claims and heartbeats run at once)
     * @param connectTimeout how long to wait for a connection (&gt;= 250 ms)
     * @param clock          stamps the migrations' {@code applied_at}
     * @return the database
     * @throws ClusterException when the URL is not PostgreSQL's, the server is unreachable, the ledger's schema is
     *                          missing, or the cluster's migrations fail (an applied script edited, a newer schema)
     */
    public static ClusterDatabase open(String url, int poolSize, Duration connectTimeout, Clock clock) {
        Objects.requireNonNull(clock, "clock");
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
            db.migrate(clock);
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        return db;
    }

    private void migrate(Clock clock) {
        try (Connection connection = pool.getConnection()) {
            try {
                LedgerQueries.appliedMigrations(connection);
                connection.rollback();
            } catch (SQLException e) {
                throw new ClusterException("cluster database " + description + ": no ledger schema ("
                        + e.getMessage() + "); open the ledger on it first (it applies the migrations)", e);
            }
            int applied = MigrationRunner.migratePostgres(connection, MIGRATIONS, HISTORY, MIGRATION_LOCK, "Cluster",
                    description, clock, ClusterDatabase::migratedByTheLedger);
            if (applied > 0) {
                log.info("cluster database {}: applied {} schema migration(s)", description, applied);
            }
        } catch (SQLException | LedgerException e) {
            throw new ClusterException("cluster database " + description + ": migrations failed (" + e.getMessage()
                    + ")", e);
        }
    }

    /** The cluster's versions that the ledger's history says it applied (before the cluster owned them). */
    private static Set<Integer> migratedByTheLedger(Connection connection) throws SQLException {
        Set<Integer> ledger = LedgerQueries.appliedMigrations(connection);
        Set<Integer> versions = new HashSet<>();
        FROM_LEDGER.forEach((cluster, version) -> {
            if (ledger.contains(version)) {
                versions.add(cluster);
            }
        });
        return versions;
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
