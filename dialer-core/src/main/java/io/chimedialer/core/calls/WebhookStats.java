package io.chimedialer.core.calls;

import io.chimedialer.core.webhook.Invocation;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the webhook, monotonic since start. Thread-safe; read them from a metrics binder.
 */
public final class WebhookStats {
    final LongAdder requests = new LongAdder();
    final LongAdder answered = new LongAdder();
    final LongAdder unauthorized = new LongAdder();
    final LongAdder tooLarge = new LongAdder();
    final LongAdder malformed = new LongAdder();
    final LongAdder duplicates = new LongAdder();
    final LongAdder unknownCalls = new LongAdder();
    final LongAdder unknownEventTypes = new LongAdder();
    final LongAdder invalidLambdaResponses = new LongAdder();
    final LongAdder ledgerLookups = new LongAdder();
    final LongAdder ledgerFailures = new LongAdder();
    final LongAdder internalErrors = new LongAdder();
    final LongAdder budgetHangups = new LongAdder();

    private final Map<Invocation.EventType, LongAdder> byEventType = new EnumMap<>(Invocation.EventType.class);

    WebhookStats() {
        for (Invocation.EventType t : Invocation.EventType.values()) {
            byEventType.put(t, new LongAdder());
        }
    }

    void countEvent(Invocation.EventType type) {
        byEventType.get(type).increment();
    }

    /** Authenticated, parsed invocations of this event type (UNKNOWN: types not in CHIME.md section 3.3). */
    public long invocations(Invocation.EventType type) {
        return byEventType.get(type).sum();
    }

    /** Every request handled. */
    public long requests() {
        return requests.sum();
    }

    /** Requests answered with 200. */
    public long answered() {
        return answered.sum();
    }

    /** Requests answered with 401 (missing or wrong signature, stale timestamp). */
    public long unauthorized() {
        return unauthorized.sum();
    }

    /** Requests answered with 413. */
    public long tooLarge() {
        return tooLarge.sum();
    }

    /** Requests answered with 400 (not JSON, not an object, no TransactionId). */
    public long malformed() {
        return malformed.sum();
    }

    /** Repeated (TransactionId, Sequence) answered from the remembered response. */
    public long duplicates() {
        return duplicates.sum();
    }

    /** Invocations that matched no call (unknown-call policy applied). */
    public long unknownCalls() {
        return unknownCalls.sum();
    }

    /** Invocations whose InvocationEventType is not one of the 11 known ones. */
    public long unknownEventTypes() {
        return unknownEventTypes.sum();
    }

    /** INVALID_LAMBDA_RESPONSE invocations (a response of ours was rejected by Chime). */
    public long invalidLambdaResponses() {
        return invalidLambdaResponses.sum();
    }

    /** Ledger lookups for calls not in memory. */
    public long ledgerLookups() {
        return ledgerLookups.sum();
    }

    /** Ledger lookups that failed or timed out (treated as not found). */
    public long ledgerFailures() {
        return ledgerFailures.sum();
    }

    /** Bugs caught: the request still got a safe 200 or 400, never a 5xx. */
    public long internalErrors() {
        return internalErrors.sum();
    }

    /** Calls hung up politely because their invocation budget reached the reserve. */
    public long budgetHangups() {
        return budgetHangups.sum();
    }
}
