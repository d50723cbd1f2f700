package io.chimedialer.core.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The final record of one attempt, as the webhook observed it (or as the lifetime guard decided it).
 *
 * @param attemptId     the attempt
 * @param campaignId    its campaign
 * @param transactionId Chime's TransactionId, or {@code null} when the call was never placed
 * @param disposition   the outcome
 * @param sipCode       the SIP code of the HANGUP, or {@code null}
 * @param ring          time from NEW_OUTBOUND_CALL to CALL_ANSWERED or HANGUP
 * @param talk          time from CALL_ANSWERED to HANGUP, zero when not answered
 * @param digits        digits the callee pressed, in order, empty when none
 * @param invocations   how many invocations the call used
 * @param endedAt       when the call ended
 * @param actionFailure the call's first failed action (not counting the callee's input or an unanswered transfer,
 *                      see {@link ActionFailure#isCallOutcome}), or null when none failed
 */
public record CallResult(String attemptId, String campaignId, String transactionId, Disposition disposition,
                         Integer sipCode, Duration ring, Duration talk, String digits, int invocations,
                         Instant endedAt, ActionFailure actionFailure) {
    public CallResult {
        Objects.requireNonNull(attemptId, "attemptId");
        Objects.requireNonNull(disposition, "disposition");
        ring = ring == null ? Duration.ZERO : ring;
        talk = talk == null ? Duration.ZERO : talk;
        digits = digits == null ? "" : digits;
    }

    /** A result without a failed action. */
    public CallResult(String attemptId, String campaignId, String transactionId, Disposition disposition,
                      Integer sipCode, Duration ring, Duration talk, String digits, int invocations, Instant endedAt) {
        this(attemptId, campaignId, transactionId, disposition, sipCode, ring, talk, digits, invocations, endedAt,
                null);
    }
}
