package io.chimedialer.core.ledger.internal;

import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerException;
import io.chimedialer.core.ledger.LedgerOptions;
import io.chimedialer.core.ledger.LedgerUnavailableException;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/**
 * PostgreSQL through a HikariCP pool: the writer borrows a connection per transaction, so a connection
 * broken by an outage is dropped by the pool and the next transaction gets a fresh one when the server is
 * back.
 */
public final class PostgresBackend extends Backend {
    /** The advisory lock that serializes migrations between nodes sharing the database. */
    private static final long MIGRATION_LOCK = 0x6469616c6c6564L;

    private final String description;
    private final HikariDataSource pool;
    private final int readers;

    private PostgresBackend(LedgerOptions options, boolean readOnly) {
        this.description = redact(options.url());
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(options.url());
        config.setReadOnly(readOnly);
        config.setPoolName("ledger");
        config.setMaximumPoolSize(options.poolSize());
        config.setMinimumIdle(1);
        config.setAutoCommit(false);
        long timeout = options.connectTimeout().toMillis();
        config.setConnectionTimeout(timeout);
        config.setValidationTimeout(Math.max(250, Math.min(timeout, 1000)));
        // fail fast at start when the server is down: the caller gets LedgerUnavailableException
        config.setInitializationFailTimeout(timeout);
        // the driver's own timeouts, in seconds, so that a dead server cannot hang the writer
        config.addDataSourceProperty("connectTimeout", Long.toString(Math.max(1, timeout / 1000)));
        config.addDataSourceProperty("socketTimeout", "60");
        config.addDataSourceProperty("tcpKeepAlive", "true");
        this.readers = options.poolSize() - 1;
        try {
            this.pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new LedgerUnavailableException("Ledger database " + description + ": unreachable at start ("
                    + rootMessage(e) + ")", e);
        }
    }

    public static PostgresBackend open(LedgerOptions options) {
        return new PostgresBackend(options, false);
    }

    /** A pool whose connections are all read-only (the server refuses any write). */
    public static PostgresBackend openReadOnly(LedgerOptions options) {
        return new PostgresBackend(options, true);
    }

    /** The URL without a password (query parameter or user-info). */
    public static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1***").replaceAll("//([^/@:]+):[^/@]*@", "//$1:***@");
    }

    @Override
    public String dialect() {
        return "postgresql";
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public Connection writer() throws SQLException {
        return pool.getConnection();
    }

    @Override
    public void releaseWriter(Connection connection) {
        if (connection == null) {
            return;
        }
        try {
            connection.close();
        } catch (SQLException ignored) {
            // the pool evicts a broken connection by itself
        }
    }

    @Override
    public Connection reader() throws SQLException {
        return pool.getConnection();
    }

    @Override
    public int readers() {
        return readers;
    }

    @Override
    public void begin(Connection connection) {
        // auto-commit is off: the transaction starts with the first statement
    }

    @Override
    public void lockForMigration(Connection connection) throws SQLException {
        execute(connection, "SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
    }

    @Override
    public LedgerException translate(String action, Throwable error) {
        if (error instanceof LedgerException ledgerException) {
            return ledgerException;
        }
        String prefix = "Ledger database " + description + ": ";
        if (unavailable(error)) {
            return new LedgerUnavailableException(prefix + "unreachable; " + action + " not done ("
                    + rootMessage(error) + ")", error);
        }
        return new LedgerException(prefix + action + " failed (" + rootMessage(error) + ")", error);
    }

    /** Connection-class SQL states (08), server shutting down or starting (57P0x), too many connections. */
    private static boolean unavailable(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.startsWith("08") || state.startsWith("57P0") || state.equals("53300")) {
                    return true;
                }
            }
            if (t instanceof java.net.ConnectException || t instanceof java.net.SocketException) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == error ? String.valueOf(error.getMessage()) : error.getMessage() + ": " + root.getMessage();
    }

    @Override
    public void close() {
        pool.close();
    }
}
