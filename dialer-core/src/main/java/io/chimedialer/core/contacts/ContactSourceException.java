package io.chimedialer.core.contacts;

/**
 * A contact list that cannot be read at all (missing, unreadable, or without a number column). The message names
 * the list; {@link #line()} and {@link #reason()} give the same problem without the list's name, for reports that
 * print it as {@code file:line: reason}.
 */
public final class ContactSourceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long line;
    private final String reason;

    public ContactSourceException(String message) {
        this(message, null);
    }

    public ContactSourceException(String message, Throwable cause) {
        this(message, 0, message, cause);
    }

    /**
     * @param message the message, naming the list
     * @param line    the 1-based line the problem is on, or 0 when it is about the whole list
     * @param reason  the problem without the list's name
     * @param cause   the underlying error, or {@code null}
     */
    public ContactSourceException(String message, long line, String reason, Throwable cause) {
        super(message, cause);
        this.line = line;
        this.reason = reason == null ? message : reason;
    }

    /** The 1-based line the problem is on (the header's, say), or 0 when it is about the whole list. */
    public long line() {
        return line;
    }

    /** The problem without the list's name, e.g. {@code no number column: ...}. */
    public String reason() {
        return reason;
    }
}
