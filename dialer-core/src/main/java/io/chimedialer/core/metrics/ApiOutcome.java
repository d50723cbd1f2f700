package io.chimedialer.core.metrics;

/**
 * How one Chime API request ended, as the {@code outcome} tag of {@code dialer_api_request_duration_seconds}.
 * Everything except {@link #SUCCESS} counts as an error on the dashboard.
 */
public enum ApiOutcome {
    /** A 2xx response. */
    SUCCESS("success"),
    /** HTTP 429 or a throttling error code: the request was not executed. */
    THROTTLED("throttled"),
    /** Another 4xx (bad request, not found, access denied). */
    CLIENT_ERROR("client_error"),
    /** A 5xx: the outcome of a Create is unknown and must be reconciled, never blindly redialed. */
    SERVER_ERROR("server_error"),
    /** No response in time (attempt or call timeout): like a 5xx, the outcome is unknown. */
    TIMEOUT("timeout"),
    /** The request never reached the service or failed locally (connection refused, breaker open, ...). */
    FAILED("failed");

    private final String tagValue;

    ApiOutcome(String tagValue) {
        this.tagValue = tagValue;
    }

    /** The value of the {@code outcome} tag, e.g. {@code server_error}. */
    public String tagValue() {
        return tagValue;
    }
}
