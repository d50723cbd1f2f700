package io.chimedialer.emulator;

import java.util.Locale;

/**
 * Which error a Create gets when its Region's active-call quota is reached. AWS does not document it (CHIME.md §7,
 * question 9), so the emulator lets you choose; the default is {@link #RESOURCE_LIMIT_EXCEEDED}.
 */
public enum ActiveCallLimitError {
    /** 400 {@code ResourceLimitExceededException}: "The request exceeds the resource limit." (the default). */
    RESOURCE_LIMIT_EXCEEDED("resourceLimitExceeded", "ResourceLimitExceededException"),
    /** 429 {@code ThrottledClientException}, as for a rate quota; the SDK's default retry policy retries it. */
    THROTTLED("throttled", "ThrottledClientException"),
    /** 503 {@code ServiceUnavailableException}; the SDK retries it too. */
    SERVICE_UNAVAILABLE("serviceUnavailable", "ServiceUnavailableException");

    private final String key;
    private final String exception;

    ActiveCallLimitError(String key, String exception) {
        this.key = key;
        this.exception = exception;
    }

    /** The name used on the command line and in {@code GET /emulator/v1/config}, e.g. {@code throttled}. */
    public String key() {
        return key;
    }

    /** The {@code x-amzn-ErrorType} sent, e.g. {@code ThrottledClientException}. */
    public String exception() {
        return exception;
    }

    /**
     * Parses {@link #key()} or the exception name, case-insensitively, with or without the {@code Exception}
     * suffix ({@code throttled}, {@code ThrottledClient}, {@code ThrottledClientException} are the same).
     */
    public static ActiveCallLimitError ofKey(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        for (ActiveCallLimitError e : values()) {
            String ex = e.exception.toLowerCase(Locale.ROOT);
            if (v.equals(e.key.toLowerCase(Locale.ROOT)) || v.equals(ex) || v.equals(ex.replace("exception", ""))) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown active-call limit error '" + value
                + "' (expected resourceLimitExceeded, throttled or serviceUnavailable)");
    }
}
