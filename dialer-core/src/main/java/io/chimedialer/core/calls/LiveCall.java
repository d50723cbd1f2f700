package io.chimedialer.core.calls;

import io.chimedialer.core.domain.ActionFailure;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The in-memory state of one call. Every field is guarded by the instance's monitor; the webhook holds it for
 * the few microseconds of one decision, never across I/O.
 */
final class LiveCall {

    // Chime waits for each response before the next invocation of a call, so a retry repeats the latest
    // Sequence; two responses cover a retry that races the next invocation.
    private static final int RESPONSES_KEPT = 2;
    private static final int DIGITS_KEPT = 256;

    final ExpectedCall expected;   // null for an inbound call
    final String campaignId;
    final Instant createdAt;
    final Duration lifetime;
    /** When the lifetime sweep closes the call as UNKNOWN; shortened while Create's outcome is uncertain. */
    Instant deadline;
    boolean uncertain;
    String transactionId;
    Instant placedAt;
    Instant startedAt;
    Instant answeredAt;
    Instant endedAt;
    /** A RINGING invocation was seen: an unanswered HANGUP without SIP code is then NO_ANSWER, else FAILED. */
    boolean rang;
    /**
     * This process saw the call's NEW_OUTBOUND_CALL, hence every invocation after it. When it did not (the call was
     * taken over after a restart), RINGING may have gone to the previous process: an unanswered HANGUP without SIP
     * code is then UNKNOWN unless RINGING came here.
     */
    boolean sawStart;
    boolean startedPublished;
    boolean answeredPublished;
    boolean ended;
    /** The result of {@link #end}, once ended with one (replaced once by {@link #resolveUnknown}). */
    CallResult result;
    /** An UNKNOWN close of this call was replaced by its real outcome ({@link #resolveUnknown}). */
    boolean resolved;
    /** Recreated from the ledger by an invocation after a restart ({@code CallRegistry.restore}). */
    boolean restored;
    /** A run tracks this call (its end reaches the run on the bus): set by {@code CallRegistry.takeOver}. */
    boolean takenOver;
    long invocations;
    /** The attributes of our latest response: the flow's state when an invocation carries none. */
    Map<String, String> lastAttributes = Map.of();
    final StringBuilder digits = new StringBuilder();
    /** The call's first failed action, or null. */
    ActionFailure actionFailure;
    private final Map<Long, byte[]> responses = new LinkedHashMap<>(16, 0.75f, false) {
        @java.io.Serial
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
            return size() > RESPONSES_KEPT;
        }
    };

    private final AtomicInteger liveCounter;

    /** An outbound call counted in {@code liveCounter} until it ends, or an inbound call ({@code expected} null). */
    LiveCall(ExpectedCall expected, String campaignId, Instant createdAt, Duration lifetime,
             AtomicInteger liveCounter) {
        this.liveCounter = expected == null ? null : liveCounter;
        if (this.liveCounter != null) {
            this.liveCounter.incrementAndGet();
        }
        this.expected = expected;
        this.campaignId = campaignId;
        this.createdAt = createdAt;
        this.lifetime = lifetime;
        this.deadline = createdAt.plus(lifetime);
    }

    String attemptId() {
        return expected == null ? null : expected.attempt().attemptId();
    }

    boolean inbound() {
        return expected == null;
    }

    /** The earlier response to this Sequence, or null. Caller holds the monitor. */
    byte[] response(long sequence) {
        return sequence < 0 ? null : responses.get(sequence);
    }

    /** Remembers the response to this Sequence. Caller holds the monitor. */
    void remember(long sequence, byte[] body) {
        if (sequence >= 0) {
            responses.put(sequence, body);
        }
    }

    void addDigits(String d) {
        if (digits.length() + d.length() <= DIGITS_KEPT) {
            digits.append(d);
        }
    }

    /**
     * Ends the call once. Caller holds the monitor.
     *
     * @return the result, or null when it had already ended (or is inbound)
     */
    CallResult end(Disposition disposition, Integer sipCode, Instant at) {
        if (!markEnded(at)) {
            return null;
        }
        if (expected == null) {
            return null;
        }
        result = result(disposition, sipCode, at);
        return result;
    }

    /**
     * Whether the dialer closed this call {@link Disposition#UNKNOWN} itself (lifetime guard, reconciliation grace,
     * markUnknown, or a ledger attempt restored as such) and its real end has not been learnt since. Caller holds
     * the monitor.
     */
    boolean closedUnknown() {
        return ended && !resolved && result != null && result.disposition() == Disposition.UNKNOWN;
    }

    /**
     * The real end of a call closed UNKNOWN ({@link #closedUnknown()}) came (its HANGUP): its result replaces the
     * UNKNOWN, once. Caller holds the monitor.
     *
     * @return the new result, or null when the call was not closed UNKNOWN, was already resolved, or
     *         {@code disposition} is UNKNOWN too
     */
    CallResult resolveUnknown(Disposition disposition, Integer sipCode, Instant at) {
        if (!closedUnknown() || disposition == Disposition.UNKNOWN || expected == null) {
            return null;
        }
        resolved = true;
        result = result(disposition, sipCode, at);
        return result;
    }

    /**
     * Marks a call restored from the ledger as closed with the UNKNOWN result the ledger holds (not live, no permit
     * counted). Caller holds the monitor.
     */
    void restoreClosedUnknown(CallResult unknown, Instant at) {
        if (markEnded(at)) {
            result = unknown;
        }
    }

    private CallResult result(Disposition disposition, Integer sipCode, Instant at) {
        Instant ringStart = startedAt != null ? startedAt : placedAt;
        Duration ring = Duration.ZERO;
        if (ringStart != null) {
            Instant ringEnd = answeredAt != null ? answeredAt : at;
            ring = nonNegative(Duration.between(ringStart, ringEnd));
        }
        Duration talk = answeredAt == null ? Duration.ZERO : nonNegative(Duration.between(answeredAt, at));
        return new CallResult(expected.attempt().attemptId(), expected.attempt().campaignId(), transactionId,
                disposition, sipCode, ring, talk, digits.toString(), (int) Math.min(Integer.MAX_VALUE, invocations),
                at, actionFailure);
    }

    /** Marks the call ended once (caller holds the monitor); false when it already was. */
    boolean markEnded(Instant at) {
        if (ended) {
            return false;
        }
        ended = true;
        endedAt = at;
        if (liveCounter != null) {
            liveCounter.decrementAndGet();
        }
        return true;
    }

    private static Duration nonNegative(Duration d) {
        return d.isNegative() ? Duration.ZERO : d;
    }
}
