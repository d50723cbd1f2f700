package io.chimedialer.core.ledger;

/**
 * A ledger failure that needs an operator: a corrupt, locked or read-only database, a schema newer than
 * this dialer, a constraint broken by a write. The message names the database (file or redacted URL) and
 * the cause.
 */
public class LedgerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message names the database and the cause
     * @param cause   the underlying error, or null
     */
    public LedgerException(String message, Throwable cause) {
        super(message, cause);
    }

    /** @param message names the database and the cause */
    public LedgerException(String message) {
        super(message);
    }
}
