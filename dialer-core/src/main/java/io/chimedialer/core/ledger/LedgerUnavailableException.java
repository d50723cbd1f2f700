package io.chimedialer.core.ledger;

/**
 * The database cannot be reached right now (a PostgreSQL outage, a connection that timed out, an SQLite
 * file locked beyond the lock timeout). Nothing of the failed write was committed. The pipeline must stop
 * taking new contacts (no intent, so no call), retry the same write with backoff (writes are idempotent),
 * and resume dialing once a write succeeds again.
 */
public class LedgerUnavailableException extends LedgerException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message names the database and the cause
     * @param cause   the underlying error
     */
    public LedgerUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
