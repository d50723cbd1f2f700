package io.chimedialer.core.campaign;

import io.chimedialer.core.calls.CallContext;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.pacing.RegionPacing;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The resume of a run (DESIGN.md section 4): takes over what a previous run of the campaign left open in the
 * ledger before any contact is read. An intent without a TransactionId may or may not have become a call, so it
 * ends as UNKNOWN and follows the UNKNOWN policy (not redialed unless {@code redial-unknown}); an attempt with a
 * TransactionId may still be live, so it is registered again with the rest of its lifetime, holds an active-call
 * permit of its Region until it ends, and ends by its HANGUP or, failing that, by the lifetime guard as UNKNOWN. Follow-ups not yet taken are scheduled again at their
 * original due time.
 *
 * <p>The webhook listens before the resume begins: an invocation of a previous run's call that arrives meanwhile
 * is answered from memory, its call restored from the ledger ({@code CallRegistry.restore}) and its outcome recorded
 * by the webhook. The resume takes such a call over ({@code CallRegistry.takeOver}); one that ended before it was
 * taken over is handled as this run's end (counted, its follow-up scheduled) once the ledger's follow-ups are read,
 * so that a follow-up is never scheduled twice.
 */
final class Recovery {
    private static final Logger log = LoggerFactory.getLogger(CampaignRun.class);

    private final RunContext run;
    private final FollowUps followUps;
    private final Function<CallResult, Mono<Void>> ended;

    /**
     * @param ended handles the end of a call in {@code run.live} as the run's CallEnded would
     */
    Recovery(RunContext run, FollowUps followUps, Function<CallResult, Mono<Void>> ended) {
        this.run = run;
        this.followUps = followUps;
        this.ended = ended;
    }

    /** Completes once the previous run's open work is taken over; at once for a run that does not resume. */
    Mono<Void> recoverPrevious() {
        if (!run.setup.resume()) {
            return Mono.empty();
        }
        Ledger ledger = run.setup.ledger();
        Instant now = run.now();
        AtomicLong unknown = new AtomicLong();
        AtomicLong relive = new AtomicLong();
        AtomicLong rescheduled = new AtomicLong();
        List<Ledger.AttemptRecord> endedBefore = new CopyOnWriteArrayList<>();
        List<CallResult> endedResults = new CopyOnWriteArrayList<>();
        Mono<Void> attempts = ledger.openAttempts(run.id)
                .onErrorResume(UnsupportedOperationException.class, e -> Flux.empty())
                .retryWhen(run.ledgerOutage())
                .flatMap(record -> {
                    if (record.transactionId() == null) {
                        unknown.incrementAndGet();
                        return endUnplaced(record, run.now());
                    }
                    relive.incrementAndGet();
                    CallResult result = track(record, run.now());
                    if (result != null) {
                        endedBefore.add(record);
                        endedResults.add(result);
                    }
                    return Mono.<Void>empty();
                }, 256)
                .then();
        Mono<Void> followUpsDue = ledger.dueFollowUps(run.id, now.plus(Duration.ofDays(36_500)))
                .onErrorResume(UnsupportedOperationException.class, e -> Flux.empty())
                .retryWhen(run.ledgerOutage())
                .doOnNext(f -> {
                    rescheduled.incrementAndGet();
                    if (f.attemptNumber() == 1) {
                        run.redialedFirstAttempts.add(f.contactKey());
                    }
                    run.pending.incrementAndGet();
                    followUps.takeOver(f);
                })
                .then();
        // Calls restored by the webhook that ended before they were taken over: after the follow-ups are read, so
        // that the follow-up their end schedules is not also read back and scheduled twice.
        Mono<Void> endedMeanwhile = Flux.defer(() -> {
            List<Mono<Void>> ends = new java.util.ArrayList<>();
            for (int i = 0; i < endedBefore.size(); i++) {
                ends.add(endTrackedLate(attempt(endedBefore.get(i)), endedResults.get(i)));
            }
            for (io.chimedialer.core.calls.CallRegistry.EndedCall call
                    : run.setup.registry().takeRestoredEnded(run.id)) {
                ends.add(endTrackedLate(call.attempt(), call.result()));
            }
            if (!ends.isEmpty()) {
                log.info("campaign {}: {} calls of the previous run ended while it resumed; their outcomes came"
                        + " through the webhook", run.id, ends.size());
            }
            return Flux.concat(ends);
        }).then();
        return attempts.then(followUpsDue).then(endedMeanwhile)
                .doOnSuccess(v -> {
                    // Nothing taken over (a campaign new to the ledger, or one that stopped clean): no "resumed" line,
                    // which read as a resume on every fresh start.
                    if (unknown.get() + relive.get() + rescheduled.get() > 0) {
                        log.info("campaign {} resumed: {} intents without TransactionId ended UNKNOWN, {} placed"
                                + " calls tracked again, {} follow-ups rescheduled", run.id, unknown.get(),
                                relive.get(), rescheduled.get());
                    } else {
                        log.debug("campaign {}: nothing of a previous run to take over", run.id);
                    }
                });
    }

    /** An intent of the previous run without a TransactionId: UNKNOWN, then the UNKNOWN policy. */
    private Mono<Void> endUnplaced(Ledger.AttemptRecord record, Instant now) {
        CallResult result = new CallResult(record.attemptId(), run.id, null, Disposition.UNKNOWN, null, null, null,
                null, 0, now);
        run.counters.outcome(Disposition.UNKNOWN);
        // The contact was counted as done (resumedDone) when the list was read; only a redial adds work. Its call's
        // HANGUP may still come (the Create reached Chime): its outcome then replaces the UNKNOWN (CallOutcomes).
        Attempt attempt = attempt(record);
        return run.setup.ledger().recordResult(result).retryWhen(run.ledgerOutage())
                .then(Mono.fromRunnable(() -> run.closedUnknown.put(attempt.attemptId(), new RunContext.ClosedUnknown(
                        attempt, followUps.afterEnd(attempt, Disposition.UNKNOWN), false))));
    }

    /** A call of the previous run that ended before this run took it over: handled as the run's own end. */
    private Mono<Void> endTrackedLate(Attempt attempt, CallResult result) {
        LiveAttempt entry = new LiveAttempt(attempt, true);
        entry.transactionId = result.transactionId();
        run.live.put(attempt.attemptId(), entry);
        run.counters.live.increment();
        run.pending.incrementAndGet();
        return ended.apply(result);
    }

    /**
     * A call of the previous run with a TransactionId: live until its HANGUP or the rest of its lifetime.
     *
     * @return its result when the webhook restored it and it ended before this (the caller handles that end)
     */
    private CallResult track(Ledger.AttemptRecord record, Instant now) {
        Attempt attempt = attempt(record);
        Instant since = record.placedAt() != null ? record.placedAt() : record.intendedAt();
        Duration left = run.setup.config().maxCallLifetime();
        if (since != null) {
            left = left.minus(Duration.between(since, now));
        }
        LiveAttempt entry = new LiveAttempt(attempt, true);
        entry.transactionId = record.transactionId();
        run.live.put(attempt.attemptId(), entry);
        run.counters.live.increment();
        run.pending.incrementAndGet();
        boolean expired = left.compareTo(Duration.ofMillis(1)) < 0;
        CallContext context = CallContext.of(attempt, run.setup.config().flow(),
                expired ? Duration.ofMillis(1) : left);
        // Registered, or kept as an invocation restored it from the ledger (its end then reaches the run).
        CallResult endedAlready = run.setup.registry().takeOver(attempt, context, record.transactionId());
        if (endedAlready != null) {
            // It ended before this run took it over: handled with the other such ends, after the follow-ups.
            run.live.remove(attempt.attemptId(), entry);
            run.counters.live.decrement();
            run.pending.decrementAndGet();
            return endedAlready;
        }
        if (expired) {
            run.setup.registry().markUnknown(attempt.attemptId());
            return null;
        }
        // The call counts against its Region's active-call cap until it ends, as it does at Chime.
        RegionPacing pacing = attempt.region() == null ? null : run.setup.regions().get(attempt.region());
        if (pacing != null) {
            pacing.permits().acquireAheadFor(attempt.attemptId()).subscribe(permit -> {
                // ... and against the campaign's own cap, if it has one.
                run.pacing.holdLive(permit);
                if (!entry.holdPermit(permit)) {
                    permit.release(); // it ended before the permit came
                }
            });
        }
        return null;
    }

    private Attempt attempt(Ledger.AttemptRecord record) {
        // The contact's other columns are not in the ledger; the flow's state travels in TransactionAttributes.
        Contact contact = new Contact(0, record.contactKey(), record.number(), "", null, Map.of());
        return new Attempt(record.attemptId(), run.id, contact, record.attemptNumber(), record.region(),
                record.fromNumber());
    }
}
