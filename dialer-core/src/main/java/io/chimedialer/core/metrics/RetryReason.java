package io.chimedialer.core.metrics;

/**
 * Why a Chime API request was sent again, as the {@code reason} tag of {@code dialer_api_retries_total}.
 * Create is only ever retried after {@link #THROTTLED}; the other reasons apply to idempotent operations.
 */
public enum RetryReason {
    /** HTTP 429 or a throttling error code. */
    THROTTLED("throttled"),
    /** A 5xx response. */
    SERVER_ERROR("server_error"),
    /** No response in time. */
    TIMEOUT("timeout"),
    /** The connection failed before a response. */
    CONNECTION("connection");

    private final String tagValue;

    RetryReason(String tagValue) {
        this.tagValue = tagValue;
    }

    /** The value of the {@code reason} tag, e.g. {@code throttled}. */
    public String tagValue() {
        return tagValue;
    }
}
