package io.chimedialer.core.campaign;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.pacing.Permit;

/** An attempt whose one CallEnded has not arrived yet. */
final class LiveAttempt {
    final Attempt attempt;
    /** Taken over from a previous run: its contact already counts as resumedDone (its permit is taken on resume). */
    final boolean resumed;
    private Permit permit;
    private boolean ended;
    volatile String transactionId;

    LiveAttempt(Attempt attempt, boolean resumed) {
        this.attempt = attempt;
        this.resumed = resumed;
    }

    /** Hands the call's permit over; false when the call has already ended (the caller releases it). */
    synchronized boolean holdPermit(Permit p) {
        if (ended) {
            return false;
        }
        permit = p;
        return true;
    }

    /** Marks the call ended; returns the permit to release, if one was handed over. */
    synchronized Permit end() {
        ended = true;
        Permit p = permit;
        permit = null;
        return p;
    }
}
