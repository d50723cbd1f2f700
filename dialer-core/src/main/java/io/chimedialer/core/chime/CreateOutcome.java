package io.chimedialer.core.chime;

import io.chimedialer.core.domain.Disposition;
import java.util.Objects;

/**
 * What one CreateSipMediaApplicationCall request came to. Every per-call failure is one of these
 * values; the {@code Mono} that produces it never errors for a per-call failure.
 *
 * <p>The variants split by what is known about the call on Chime's side: {@link Placed} (it exists),
 * {@link Throttled}, {@link NotSent}, {@link Rejected}, {@link RegionFault}, {@link AtCapacity}, {@link Withdrawn}
 * and {@link Suppressed} (it provably does not), and {@link Unknown} (it may or may not exist, so it must never be
 * dialed again blindly).
 *
 * <p>They also split by whose fault a failure is. {@link Rejected} is the contact's (a number Chime refuses) or
 * unexplained; {@link RegionFault} is the Region's or the account's (credentials, permissions, the SIP media
 * application, the from-number), so the contact is not charged with it: its attempt is withdrawn and it is
 * dialed later.
 */
public sealed interface CreateOutcome {

    /** Whether the call may exist on Chime's side, so its active-call permit must stay held. */
    default boolean mayBeLive() {
        return false;
    }

    /** The call was created; Chime's id for it. */
    record Placed(String transactionId) implements CreateOutcome {
        public Placed {
            Objects.requireNonNull(transactionId, "transactionId");
        }

        @Override
        public boolean mayBeLive() {
            return true;
        }
    }

    /** HTTP 429 / ThrottledClientException: the request was refused before it was executed. */
    record Throttled(String message) implements CreateOutcome {
    }

    /** The request provably never left this process (connection refused, no pooled connection, open breaker). */
    record NotSent(Throwable cause) implements CreateOutcome {
        public NotSent {
            Objects.requireNonNull(cause, "cause");
        }
    }

    /** 5xx, a timeout or a reset after the request was written: the call may or may not exist. */
    record Unknown(Throwable cause) implements CreateOutcome {
        public Unknown {
            Objects.requireNonNull(cause, "cause");
        }

        /** Whether no answer came in time (the SDK's API-call timeouts or a read timeout), as opposed to a 5xx or a reset. */
        public boolean timedOut() {
            for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof software.amazon.awssdk.core.exception.ApiCallTimeoutException
                        || t instanceof software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException
                        || t instanceof java.util.concurrent.TimeoutException
                        || t instanceof io.netty.handler.timeout.ReadTimeoutException) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public boolean mayBeLive() {
            return true;
        }
    }

    /**
     * A final 4xx answer that is the contact's fault or unexplained: the call was not created and retrying would not
     * help. A refusal that is the Region's or the account's fault is a {@link RegionFault} instead.
     *
     * @param disposition {@link Disposition#INVALID_NUMBER} for a BadRequest naming {@code ToPhoneNumber}, else
     *                    {@link Disposition#FAILED} (unexplained; a run of them fails the Region)
     * @param errorType   the service's error code, e.g. {@code BadRequestException}
     * @param message     the service's message, may be empty
     */
    record Rejected(Disposition disposition, String errorType, String message) implements CreateOutcome {
        public Rejected {
            Objects.requireNonNull(disposition, "disposition");
        }
    }

    /**
     * A refusal that is not the contact's fault but the Region's or the account's: 401 or 403 (credentials,
     * IAM), NotFoundException (the SIP media application), a BadRequest naming {@code FromPhoneNumber} or the
     * SIP media application, or a run of unexplained 4xx answers. The call was not created; every further Create
     * in the Region would fail the same way until the configuration is fixed.
     *
     * @param errorType the service's error code, e.g. {@code AccessDeniedException}
     * @param message   the service's message, may be empty
     */
    record RegionFault(String errorType, String message) implements CreateOutcome {
        public RegionFault {
            Objects.requireNonNull(errorType, "errorType");
            message = message == null ? "" : message;
        }
    }

    /**
     * The attempt was not sent because, after it was admitted, its Region failed ({@link RegionFault}) or its
     * campaign was paused. Produced by the dialing pipeline, never by an {@link Originator}.
     *
     * @param reason why, for the log and the ledger
     */
    record Withdrawn(String reason) implements CreateOutcome {
        public Withdrawn {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** ResourceLimitExceededException: the account's active-call quota is full; the call was not created. */
    record AtCapacity(String message) implements CreateOutcome {
    }

    /**
     * The number was on a suppression (DNC) list when checked right before the dial, so nothing was sent.
     * Produced by the dialing pipeline, never by an {@link Originator}.
     */
    record Suppressed() implements CreateOutcome {
    }
}
