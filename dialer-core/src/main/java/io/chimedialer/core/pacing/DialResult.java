package io.chimedialer.core.pacing;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.chime.CreateOutcome;
import java.util.Objects;

/**
 * What dialing one request came to. The {@code permit} stays held when {@link #holdsPermit()} (Placed and
 * Unknown: the call may be live); its owner releases it on the call's HANGUP (or the lifetime guard
 * reclaims it). For every other outcome it has already been released.
 *
 * <p>How to read the outcome: Placed (record the TransactionId; the call's events follow), Unknown (never
 * redial; reconcile when a NEW_OUTBOUND_CALL with this attempt id arrives, else UNKNOWN at the lifetime),
 * Rejected (final, its disposition), Suppressed (final), and Throttled / NotSent / AtCapacity after the
 * chain gave up: provably never created, so the contact may be re-queued as a new attempt.
 *
 * @param attempt the attempt (its id was written by {@code beforePlace} before the call was sent)
 * @param outcome what Create came to, or {@link CreateOutcome.Suppressed} when the DNC check stopped it
 * @param permit  the Region's active-call permit used
 */
public record DialResult(Attempt attempt, CreateOutcome outcome, Permit permit) {

    public DialResult {
        Objects.requireNonNull(attempt, "attempt");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(permit, "permit");
    }

    /** Whether the permit is still held (the call may be live). */
    public boolean holdsPermit() {
        return outcome.mayBeLive();
    }
}
