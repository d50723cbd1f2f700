package io.chimedialer.core.calls;

import io.chimedialer.core.webhook.Invocation;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.flow.FlowEngine;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * The live calls, correlated by attempt id and TransactionId. The pipeline calls {@link #expect} before
 * Create and {@link #placed} after it; the webhook finds calls here; {@link #markUnknown}, {@link #close} and
 * {@link #sweep} close calls whose HANGUP never came. Every expected attempt ends in exactly one
 * {@link CallEvent.CallEnded}, whichever of HANGUP, duplicate HANGUPs, markUnknown, close or the lifetime
 * sweep comes first; when that end was an UNKNOWN decided here and the call's HANGUP comes after all (while the
 * ended call is retained), one {@link CallEvent.UnknownResolved} follows with the HANGUP's outcome.
 *
 * <p>Memory is bounded by the live calls: an ended call is kept for {@code retention} (default 2 minutes, so
 * duplicate invocations still get their identical response) and then dropped by {@link #sweep}. Inbound calls
 * (NEW_INBOUND_CALL), which anybody can start by calling one of the numbers, are also capped at
 * {@code maxInboundCalls} (default {@value #DEFAULT_MAX_INBOUND_CALLS}): past the cap the oldest is forgotten and
 * counted ({@link #inboundCallsEvicted()}); a forgotten call's later invocations are unknown calls.
 * Thread-safe; events are published after the call's monitor is released.
 */
public final class CallRegistry {
    private static final Logger log = LoggerFactory.getLogger(CallRegistry.class);

    /** The ArgumentsMap key of the attempt id that the pipeline sets on CreateSipMediaApplicationCall. */
    public static final String ARGUMENT_ATTEMPT_ID = "attemptId";
    /** The ArgumentsMap key of the campaign id (informational; correlation uses the attempt id). */
    public static final String ARGUMENT_CAMPAIGN_ID = "campaignId";

    /**
     * How long past its lifetime a call whose Create never answered is kept before the sweep closes it anyway:
     * longer than Create's whole resilience chain (rate wait, timeouts, retries) takes.
     */
    public static final Duration AWAIT_CREATE_LIMIT = Duration.ofMinutes(5);

    /** Default time an ended call is kept for duplicate invocations. */
    public static final Duration DEFAULT_RETENTION = Duration.ofMinutes(2);

    /** Default cap on the inbound calls held in memory, live or ended within the retention. */
    public static final int DEFAULT_MAX_INBOUND_CALLS = 10_000;

    private final EventBus bus;
    private final Clock clock;
    private final Duration retention;
    private final ConcurrentMap<String, LiveCall> byAttempt = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LiveCall> byTransaction = new ConcurrentHashMap<>();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    private final AtomicInteger live = new AtomicInteger();
    private final LongAdder expired = new LongAdder();
    private final LongAdder conflictingTransactions = new LongAdder();
    private final int maxInboundCalls;
    /** The inbound calls held, oldest first; guarded by itself. Their entries in byTransaction follow it. */
    private final Map<String, LiveCall> inboundCalls = new LinkedHashMap<>();
    private final LongAdder inboundEvicted = new LongAdder();
    /**
     * Calls restored from the ledger by an invocation that ended before any run took them over (their campaign's
     * resume had not reached them yet): kept for {@link #takeRestoredEnded}, dropped by the sweep after
     * {@link #RESTORED_ENDED_RETENTION}.
     */
    private final ConcurrentMap<String, LiveCall> restoredEnded = new ConcurrentHashMap<>();

    /** How long a restored call that ended waits for its campaign's resume to take it over. */
    public static final Duration RESTORED_ENDED_RETENTION = Duration.ofMinutes(30);

    /** A call restored from the ledger that ended before a run took it over: its attempt and its result. */
    public record EndedCall(Attempt attempt, CallResult result) {
    }

    /** A registry publishing on {@code bus}, timing with {@code clock}, with the default retention. */
    public CallRegistry(EventBus bus, Clock clock) {
        this(bus, clock, DEFAULT_RETENTION);
    }

    /**
     * @param bus       where call events go
     * @param clock     the time of starts, answers, ends and lifetimes
     * @param retention how long an ended call is kept for duplicate invocations
     */
    public CallRegistry(EventBus bus, Clock clock, Duration retention) {
        this(bus, clock, retention, DEFAULT_MAX_INBOUND_CALLS);
    }

    /**
     * @param bus             where call events go
     * @param clock           the time of starts, answers, ends and lifetimes
     * @param retention       how long an ended call is kept for duplicate invocations
     * @param maxInboundCalls the most inbound calls held at once (at least 1); past it the oldest is forgotten
     */
    public CallRegistry(EventBus bus, Clock clock, Duration retention, int maxInboundCalls) {
        this.bus = Objects.requireNonNull(bus, "bus");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.retention = Objects.requireNonNull(retention, "retention");
        if (maxInboundCalls < 1) {
            throw new IllegalArgumentException("maxInboundCalls must be >= 1, was " + maxInboundCalls);
        }
        this.maxInboundCalls = maxInboundCalls;
    }

    /** The bus this registry publishes on. */
    public EventBus bus() {
        return bus;
    }

    /**
     * Registers an attempt before its Create is sent, so that its NEW_OUTBOUND_CALL (which may arrive before
     * Create's response) is recognized by the attempt id in ArgumentsMap.
     *
     * @throws IllegalStateException when the attempt id is already registered and not ended
     */
    public void expect(Attempt attempt, CallContext context) {
        ExpectedCall expected = new ExpectedCall(attempt, context);
        LiveCall call = new LiveCall(expected, attempt.campaignId(), clock.instant(), context.maxLifetime(), live);
        LiveCall previous = byAttempt.putIfAbsent(attempt.attemptId(), call);
        if (previous != null) {
            boolean replaced;
            synchronized (previous) {
                replaced = previous.ended && byAttempt.replace(attempt.attemptId(), previous, call);
            }
            if (!replaced) {
                live.decrementAndGet(); // the new entry was never registered
                throw new IllegalStateException("attempt already expected: " + attempt.attemptId());
            }
        }
    }

    /**
     * A resumed run takes over a call of the previous run that the ledger holds open with a TransactionId: it is
     * registered (as {@link #expect} then {@link #placed}) unless an invocation already restored it from the
     * ledger ({@code WebhookHandler}'s ledger lookup answers such calls from memory while the resume is under way),
     * in which case that call is kept and its end reaches the run on the bus.
     *
     * @return the call's result when the restored call has already ended (the caller handles that end; it is
     *         not published again), else null
     */
    public CallResult takeOver(Attempt attempt, CallContext context, String transactionId) {
        for (int tries = 0; tries < 3; tries++) {
            LiveCall existing = byAttempt.get(attempt.attemptId());
            if (existing != null) {
                synchronized (existing) {
                    if (!existing.ended) {
                        existing.takenOver = true;
                        return null;
                    }
                    if (existing.restored && existing.result != null) {
                        existing.takenOver = true;
                        restoredEnded.remove(attempt.attemptId(), existing);
                        return existing.result;
                    }
                }
            }
            try {
                expect(attempt, context);
            } catch (IllegalStateException restoredMeanwhile) {
                continue; // an invocation restored it between the look and the registration: look again
            }
            LiveCall call = byAttempt.get(attempt.attemptId());
            if (call != null) {
                synchronized (call) {
                    call.takenOver = true;
                }
            }
            placed(attempt.attemptId(), transactionId);
            return null;
        }
        throw new IllegalStateException("attempt " + attempt.attemptId() + " could not be taken over");
    }

    /**
     * The calls of this campaign restored from the ledger by an invocation that ended before a run took them over
     * ({@link #takeOver}), each returned once: the resume handles their ends (counts, follow-ups) as its own.
     */
    public List<EndedCall> takeRestoredEnded(String campaignId) {
        List<EndedCall> ended = new ArrayList<>();
        for (LiveCall call : restoredEnded.values()) {
            synchronized (call) {
                if (campaignId.equals(call.campaignId) && !call.takenOver
                        && restoredEnded.remove(call.expected.attempt().attemptId(), call)) {
                    call.takenOver = true;
                    ended.add(new EndedCall(call.expected.attempt(), call.result));
                }
            }
        }
        return ended;
    }

    /** Keeps a restored call that ended before any run took it over, for {@link #takeRestoredEnded}. */
    private void noteEnded(CallResult result) {
        LiveCall call = byAttempt.get(result.attemptId());
        if (call == null) {
            return;
        }
        synchronized (call) {
            if (call.restored && !call.takenOver && call.result != null) {
                restoredEnded.put(result.attemptId(), call);
            }
        }
    }

    /**
     * Records Create's TransactionId. Publishes {@link CallEvent.CallStarted} unless NEW_OUTBOUND_CALL already did.
     * A second, different TransactionId for the same attempt (a duplicated Create) is counted and not bound.
     *
     * @return false when the attempt is not registered (never expected, or ended and dropped)
     */
    public boolean placed(String attemptId, String transactionId) {
        LiveCall call = byAttempt.get(attemptId);
        if (call == null) {
            return false;
        }
        CallEvent started;
        synchronized (call) {
            if (call.placedAt == null) {
                call.placedAt = clock.instant();
            }
            started = bind(call, transactionId);
        }
        publish(started);
        return true;
    }

    /**
     * Closes an attempt as {@link Disposition#UNKNOWN} (its HANGUP never came, or Create's outcome is unknown).
     *
     * @return true when this closed it, false when it had already ended or is not registered
     */
    public boolean markUnknown(String attemptId) {
        return close(attemptId, Disposition.UNKNOWN, null);
    }

    /**
     * Closes an attempt with a disposition decided outside the webhook (e.g. Create rejected the number as
     * INVALID_NUMBER). Publishes the one CallEnded of the attempt unless it had already ended.
     *
     * @return true when this closed it
     */
    public boolean close(String attemptId, Disposition disposition, Integer sipCode) {
        LiveCall call = byAttempt.get(attemptId);
        if (call == null) {
            return false;
        }
        CallResult result;
        synchronized (call) {
            result = call.end(disposition, sipCode, clock.instant());
        }
        if (result == null) {
            return false;
        }
        noteEnded(result);
        bus.publish(new CallEvent.CallEnded(result));
        return true;
    }

    /**
     * Create's outcome is unknown (5xx or timeout): the call may or may not exist. It stays expected, so a
     * NEW_OUTBOUND_CALL carrying its attempt id reconciles it (and restores its full lifetime); if no invocation
     * arrives within {@code grace}, the sweep closes it as UNKNOWN and its permit comes back early.
     *
     * @return false when the attempt is not registered, already ended, or already has a TransactionId
     */
    public boolean awaitReconciliation(String attemptId, Duration grace) {
        LiveCall call = byAttempt.get(attemptId);
        if (call == null) {
            return false;
        }
        synchronized (call) {
            if (call.ended || call.transactionId != null) {
                return false;
            }
            call.uncertain = true;
            Instant shortened = clock.instant().plus(grace);
            if (shortened.isBefore(call.deadline)) {
                call.deadline = shortened;
            }
            return true;
        }
    }

    /**
     * Forgets an attempt that was never created (e.g. ResourceLimitExceededException: the attempt will be sent
     * again later, with the same id, after a new {@link #expect}). Publishes nothing.
     *
     * @return true when removed; false when unknown, ended, or already correlated to a TransactionId
     */
    public boolean withdraw(String attemptId) {
        LiveCall call = byAttempt.get(attemptId);
        if (call == null) {
            return false;
        }
        synchronized (call) {
            if (call.ended || call.transactionId != null) {
                return false;
            }
            call.markEnded(clock.instant()); // a racing invocation sees an ended call, never a second owner
        }
        return byAttempt.remove(attemptId, call);
    }

    /**
     * Closes every live call older than its context's max lifetime as UNKNOWN and drops ended calls older than
     * the retention.
     *
     * @return how many calls this closed as UNKNOWN
     */
    public int sweep() {
        Instant now = clock.instant();
        int closed = 0;
        List<LiveCall> all = new ArrayList<>(byAttempt.values());
        for (LiveCall call : byTransaction.values()) {
            if (call.inbound()) {
                all.add(call);
            }
        }
        for (LiveCall call : all) {
            CallResult result = null;
            boolean drop;
            synchronized (call) {
                if (!call.ended && !call.deadline.isAfter(now) && !awaitingCreate(call, now)) {
                    result = call.end(Disposition.UNKNOWN, null, now);
                    expired.increment();
                    if (call.inbound()) {
                        closed++;
                    }
                }
                drop = call.ended && !call.endedAt.plus(retention).isAfter(now);
            }
            if (result != null) {
                closed++;
                noteEnded(result);
                bus.publish(new CallEvent.CallEnded(result));
            }
            if (drop) {
                if (call.attemptId() != null) {
                    byAttempt.remove(call.attemptId(), call);
                }
                if (call.inbound()) {
                    synchronized (inboundCalls) {
                        inboundCalls.remove(call.transactionId, call);
                        byTransaction.remove(call.transactionId, call);
                    }
                } else if (call.transactionId != null) {
                    byTransaction.remove(call.transactionId, call);
                }
            }
        }
        Instant forgotten = now.minus(RESTORED_ENDED_RETENTION);
        restoredEnded.values().removeIf(call -> call.endedAt != null && call.endedAt.isBefore(forgotten));
        return closed;
    }

    /**
     * Whether the call's Create has not answered yet (no TransactionId, not uncertain) and may still: such a
     * call is not closed by its lifetime, which counts from placement, or a Create delayed by pacing or a slow
     * service would be closed as UNKNOWN (its permit released) and then created anyway. The pipeline always
     * settles a Create (placed, unknown or closed); {@link #AWAIT_CREATE_LIMIT} bounds a ticket it dropped.
     */
    private static boolean awaitingCreate(LiveCall call, Instant now) {
        return call.transactionId == null && call.placedAt == null && !call.uncertain
                && call.createdAt.plus(call.lifetime).plus(AWAIT_CREATE_LIMIT).isAfter(now);
    }

    /** Runs {@link #sweep} every {@code period} on {@code scheduler} until the returned Disposable is disposed. */
    public Disposable startSweeper(Scheduler scheduler, Duration period) {
        return Flux.interval(period, period, scheduler).subscribe(tick -> sweep());
    }

    /**
     * Marks a campaign cancelled: its calls are answered with Hangup on their next CALL_ANSWERED or
     * CALL_UPDATE_REQUESTED (the integrator sends UpdateSipMediaApplicationCall to each returned TransactionId).
     *
     * @return the TransactionIds of the campaign's live calls at this moment
     */
    public List<String> cancelCampaign(String campaignId) {
        cancelled.add(campaignId);
        List<String> live = new ArrayList<>();
        for (LiveCall call : byAttempt.values()) {
            synchronized (call) {
                if (campaignId.equals(call.campaignId) && !call.ended && call.transactionId != null) {
                    live.add(call.transactionId);
                }
            }
        }
        return live;
    }

    /** Whether {@link #cancelCampaign} was called for this campaign. */
    public boolean isCancelled(String campaignId) {
        return cancelled.contains(campaignId);
    }

    /** Calls expected or placed and not yet ended (the permits the pipeline holds). */
    public int liveCalls() {
        return live.get();
    }

    /** Calls held in memory, live or ended within the retention (inbound calls included). */
    public int trackedCalls() {
        return byAttempt.size() + inboundCalls();
    }

    /** Inbound calls held in memory, live or ended within the retention; at most the cap. */
    public int inboundCalls() {
        synchronized (inboundCalls) {
            return inboundCalls.size();
        }
    }

    /** Inbound calls forgotten because the cap was reached. */
    public long inboundCallsEvicted() {
        return inboundEvicted.sum();
    }

    /** Calls closed as UNKNOWN by {@link #sweep} because their lifetime ran out. */
    public long expiredCalls() {
        return expired.sum();
    }

    /** Create responses whose TransactionId differed from the one already bound to the attempt. */
    public long conflictingTransactions() {
        return conflictingTransactions.sum();
    }

    // ---- webhook side (package-private) ----

    Instant now() {
        return clock.instant();
    }

    /** The call of this invocation by TransactionId, else by ArgumentsMap attempt id, else by attribute. */
    LiveCall correlate(Invocation inv) {
        return correlate(inv, this::publish);
    }

    /**
     * Like {@link #correlate(Invocation)}, handing the call's {@link CallEvent.CallStarted} (when this invocation
     * binds its TransactionId) to {@code started} instead of publishing it: the webhook publishes it with the
     * invocation's other events, off the thread that answers.
     */
    LiveCall correlate(Invocation inv, java.util.function.Consumer<CallEvent> started) {
        LiveCall call = byTransaction.get(inv.transactionId());
        if (call != null) {
            return call;
        }
        String attemptId = inv.arguments().get(ARGUMENT_ATTEMPT_ID);
        if (attemptId == null) {
            attemptId = inv.transactionAttributes().get(FlowEngine.ATTR_ATTEMPT);
        }
        if (attemptId == null) {
            return null;
        }
        call = byAttempt.get(attemptId);
        if (call == null) {
            return null;
        }
        CallEvent event;
        synchronized (call) {
            if (call.transactionId != null && !call.transactionId.equals(inv.transactionId())) {
                conflictingTransactions.increment();
                return null;
            }
            event = bind(call, inv.transactionId());
        }
        if (event != null) {
            started.accept(event);
        }
        return call;
    }

    /** Recreates a call found by the ledger after a restart; a concurrent restore of the same call wins once. */
    LiveCall restore(ExpectedCall expected, Invocation inv) {
        LiveCall call = byAttempt.get(expected.attempt().attemptId());
        if (call == null) {
            LiveCall fresh = new LiveCall(expected, expected.attempt().campaignId(), clock.instant(),
                    expected.context().maxLifetime(), live);
            fresh.restored = true; // not shared yet: published by the map
            if (expected.closedUnknown() != null) {
                // closed UNKNOWN in the ledger: not live; its HANGUP replaces the UNKNOWN
                fresh.restoreClosedUnknown(expected.closedUnknown(), clock.instant());
            }
            LiveCall existing = byAttempt.putIfAbsent(expected.attempt().attemptId(), fresh);
            if (existing != null) {
                live.decrementAndGet(); // a concurrent restore won; this copy was never registered
                call = existing;
            } else {
                call = fresh;
            }
        }
        synchronized (call) {
            if (call.transactionId == null) {
                call.transactionId = inv.transactionId();
                // Its CallStarted was published before the restart.
                call.startedPublished = true;
                byTransaction.putIfAbsent(inv.transactionId(), call);
            }
            String answered = inv.transactionAttributes().get(FlowEngine.ATTR_ANSWERED_AT);
            if (answered != null && call.answeredAt == null) {
                try {
                    call.answeredAt = Instant.ofEpochMilli(Long.parseLong(answered));
                    call.answeredPublished = true;
                } catch (NumberFormatException | java.time.DateTimeException e) {
                    // a mangled attribute only costs the talk time
                }
            }
        }
        return call;
    }

    /**
     * The inbound call of this TransactionId, created on first sight; creating one past the cap forgets the oldest
     * inbound call (counted, and logged at the 1st, 10th, 100th... time).
     */
    LiveCall inbound(String transactionId, Duration lifetime) {
        long evicted = 0;
        LiveCall call;
        synchronized (inboundCalls) {
            call = byTransaction.get(transactionId);
            if (call != null) {
                return call;
            }
            call = new LiveCall(null, EventBus.INBOUND, clock.instant(), lifetime, null);
            call.transactionId = transactionId;
            byTransaction.put(transactionId, call);
            inboundCalls.put(transactionId, call);
            Iterator<Map.Entry<String, LiveCall>> oldest = inboundCalls.entrySet().iterator();
            while (inboundCalls.size() > maxInboundCalls && oldest.hasNext()) {
                Map.Entry<String, LiveCall> e = oldest.next();
                oldest.remove();
                byTransaction.remove(e.getKey(), e.getValue());
                inboundEvicted.increment();
                evicted = inboundEvicted.sum();
            }
        }
        if (evicted > 0 && isPowerOfTen(evicted)) {
            log.warn("{} inbound calls forgotten so far: more than {} held at once (their later invocations are"
                    + " answered as unknown calls)", evicted, maxInboundCalls);
        }
        return call;
    }

    private static boolean isPowerOfTen(long n) {
        long p = 1;
        while (p < n && p <= Long.MAX_VALUE / 10) {
            p *= 10;
        }
        return p == n;
    }

    /** Binds a TransactionId to a call (caller holds its monitor); returns the CallStarted to publish, or null. */
    CallEvent bind(LiveCall call, String transactionId) {
        if (call.transactionId == null) {
            call.transactionId = transactionId;
            byTransaction.put(transactionId, call);
            // The call exists from now on (reconciled, if it was uncertain): its lifetime counts from here.
            call.uncertain = false;
            Instant placedDeadline = clock.instant().plus(call.lifetime);
            if (placedDeadline.isAfter(call.deadline)) {
                call.deadline = placedDeadline;
            }
        } else if (!call.transactionId.equals(transactionId)) {
            conflictingTransactions.increment();
            return null;
        }
        if (call.startedPublished || call.ended) {
            // An ended call keeps its TransactionId (late invocations are answered with Hangup) but never
            // announces a start after its end.
            return null;
        }
        call.startedPublished = true;
        return new CallEvent.CallStarted(call.campaignId, call.attemptId(), transactionId);
    }

    void publish(CallEvent event) {
        if (event != null) {
            if (event instanceof CallEvent.CallEnded ended) {
                noteEnded(ended.result());
            }
            bus.publish(event);
        }
    }
}
