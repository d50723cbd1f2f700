package io.chimedialer.core.chime;

/**
 * What one UpdateSipMediaApplicationCall request came to; per-call failures are values, never errors.
 */
public sealed interface UpdateOutcome {

    /** Chime accepted the update (202); the CALL_UPDATE_REQUESTED invocation follows asynchronously. */
    record Updated(String transactionId) implements UpdateOutcome {
    }

    /** NotFoundException: the call has already ended (or never existed). */
    record NotFound(String message) implements UpdateOutcome {
    }

    /** HTTP 429: refused before execution; the caller may try again later. */
    record Throttled(String message) implements UpdateOutcome {
    }

    /** Any other failure (other 4xx, 5xx, I/O, timeout). */
    record Failed(String errorType, Throwable cause) implements UpdateOutcome {
    }
}
