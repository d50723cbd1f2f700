package io.chimedialer.core.contacts;

/** A contact list that cannot be read at all (missing, unreadable, or without a number column). */
public final class ContactSourceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ContactSourceException(String message) {
        super(message);
    }

    public ContactSourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
