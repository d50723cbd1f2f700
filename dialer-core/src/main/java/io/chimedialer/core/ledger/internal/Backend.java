package io.chimedialer.core.ledger.internal;

import io.chimedialer.core.ledger.LedgerException;
import io.chimedialer.core.ledger.LedgerUnavailableException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A database the ledger runs on: how to get the writer's and readers' connections, how to run a
 * transaction, and how to turn a driver error into a message that names the database.
 */
public abstract class Backend implements AutoCloseable {

    /** The dialect directory of the migrations: {@code sqlite} or {@code postgresql}. */
    public abstract String dialect();

    /** The database as operators know it: the file, or the URL without secrets. */
    public abstract String describe();

    /** A connection for the writer; give it back with {@link #releaseWriter}. */
    public abstract Connection writer() throws SQLException;

    /** Gives back a connection from {@link #writer}; null is ignored. */
    public abstract void releaseWriter(Connection connection);

    /** A connection for one read (auto-commit off); the caller closes it. */
    public abstract Connection reader() throws SQLException;

    /** How many reads may run at once. */
    public abstract int readers();

    /** Starts a write transaction on a writer connection. */
    public abstract void begin(Connection connection) throws SQLException;

    /** Serializes schema migrations between processes, inside the migration transaction. */
    public void lockForMigration(Connection connection) throws SQLException {
        // SQLite: the write transaction already excludes every other writer.
    }

    /** Commits a transaction started with {@link #begin}. */
    public void commit(Connection connection) throws SQLException {
        connection.commit();
    }

    /** Rolls back, ignoring a failure (the connection may be gone). */
    public void rollbackQuietly(Connection connection) {
        if (connection == null) {
            return;
        }
        try {
            connection.rollback();
        } catch (SQLException ignored) {
            // the transaction is abandoned either way; the original error is what matters
        }
    }

    /**
     * Translates a failure into the ledger's exceptions, naming the database.
     *
     * @param action what was being done, e.g. "write" or "open"
     * @param error  the failure
     * @return a {@link LedgerUnavailableException} when retrying later can succeed, else a {@link LedgerException}
     */
    public abstract LedgerException translate(String action, Throwable error);

    @Override
    public abstract void close();

    public static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}
