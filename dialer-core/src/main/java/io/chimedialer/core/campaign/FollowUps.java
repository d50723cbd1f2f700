package io.chimedialer.core.campaign;

import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.pacing.DialRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A run's follow-ups: whether an ended attempt gets another (the retry rules and the per-number cap), the wait
 * until it is due and its callee's calling window is open, and its hand-over to the dial queue ({@link #due()}).
 *
 * <p>Each scheduled follow-up is one {@code Mono} (its ledger record, its wait, its release) merged into
 * {@link #timers()}, which the run subscribes once and disposes when it is over. A follow-up counts as pending
 * work from its scheduling until it is dialed or dropped. Thread-safe: follow-ups are scheduled from the webhook,
 * the ledger and the claiming threads.
 */
final class FollowUps {
    private static final Logger log = LoggerFactory.getLogger(CampaignRun.class);
    /** How long an emission busy-loops while another thread emits into the same sink. */
    private static final Duration SERIALIZE_FOR = Duration.ofSeconds(1);

    private final RunContext run;
    /** The due times (scheduler nanos) of the follow-ups not yet released, each under its own sequence number. */
    private final java.util.concurrent.ConcurrentSkipListSet<long[]> dueTimes = new java.util.concurrent.ConcurrentSkipListSet<>(
            (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    private final java.util.concurrent.atomic.AtomicLong sequence = new java.util.concurrent.atomic.AtomicLong();
    private final Sinks.Many<DialRequest> due = Sinks.many().unicast().onBackpressureBuffer();
    private final Sinks.Many<Mono<Void>> timers = Sinks.many().unicast().onBackpressureBuffer();

    /**
     * Timers fire and calls end on several threads: emits are serialized by busy-looping on contention. A new
     * handler per emission: Reactor's busy-looping handler fixes its deadline when it is created, so a shared
     * one would stop retrying one second after the class was loaded and drop the emission.
     */
    private static Sinks.EmitFailureHandler serialize() {
        return Sinks.EmitFailureHandler.busyLooping(SERIALIZE_FOR);
    }

    /** {@link #complete()} was called: no follow-up can be dialed by this run any more. */
    private volatile boolean completed;

    FollowUps(RunContext run) {
        this.run = run;
    }

    /** Follow-ups that are due, in their window: the dial queue's second input. Completes with {@link #complete()}. */
    Flux<DialRequest> due() {
        return due.asFlux();
    }

    /** Every scheduled follow-up's record, wait and release, as they are scheduled; never completes. */
    Flux<Void> timers() {
        // Unbounded: each timer is one waiting follow-up, already counted as pending work.
        return timers.asFlux().flatMap(timer -> timer, Integer.MAX_VALUE);
    }

    /** No follow-up is left and none can come: the dial queue's second input ends. */
    void complete() {
        completed = true;
        due.emitComplete(serialize());
    }

    /**
     * Schedules the next attempt of a contact whose attempt ended with {@code disposition}, if the retry rules
     * allow one and the run is active; it is recorded in the ledger, so that a resumed run or another node takes
     * it over.
     *
     * @return whether a follow-up was scheduled (else the contact is final)
     */
    boolean afterEnd(Attempt attempt, Disposition disposition) {
        boolean ending = run.ending();
        if (!run.active() && !ending || completed && !ending) {
            // over, or no follow-up can be dialed any more (an UNKNOWN resolved as the run completes: final)
            return false;
        }
        CampaignConfig config = run.setup.config();
        if (disposition == Disposition.UNKNOWN && !config.redialUnknown()) {
            return false;
        }
        RetryConfig retry = config.retry();
        RetryConfig.Rule rule = retry.rules().get(disposition);
        if (rule == null || attempt.attemptNumber() >= rule.maxAttempts()) {
            return false;
        }
        Duration delay = rule.after();
        if (attempt.attemptNumber() >= retry.maxAttemptsPerNumber() && delay.compareTo(retry.perNumberWindow()) < 0) {
            delay = retry.perNumberWindow(); // the per-number cap: no more attempts within its window
        }
        int next = attempt.attemptNumber() + 1;
        if (ending) {
            // Past the scheduled end: the follow-up is recorded for a later run of the campaign, not dialed by this
            // one; the contact is not final. Its write is part of the run (the run ends once it has landed).
            timers.emitNext(run.writes.track(run.setup.ledger()
                    .scheduleFollowUp(run.id, attempt.contact().id(), attempt.contact().number(), next,
                            run.now().plus(delay))
                    .onErrorResume(UnsupportedOperationException.class, e -> Mono.empty())), serialize());
            return true;
        }
        run.pending.incrementAndGet();
        Mono<Void> recorded = run.writes.track(run.setup.ledger()
                .scheduleFollowUp(run.id, attempt.contact().id(), attempt.contact().number(), next,
                        run.now().plus(delay))
                .onErrorResume(UnsupportedOperationException.class, e -> Mono.empty()));
        schedule(new DialRequest(attempt.contact(), next, run.setup.arguments()), delay, recorded);
        return true;
    }

    /**
     * Dials a contact again whose attempt was withdrawn (not a dial of it): the same attempt number, after
     * {@code delay}, once {@code recorded} (the ledger's withdrawal, which holds the contact's pending follow-up)
     * has landed. The contact's work goes on: pending is unchanged.
     */
    void redial(Attempt withdrawn, Duration delay, Mono<Void> recorded) {
        schedule(new DialRequest(withdrawn.contact(), withdrawn.attemptNumber(), run.setup.arguments()), delay,
                recorded);
    }

    /**
     * Takes over a follow-up that the ledger holds (a previous run's, or a dead node's): it is dialed at its
     * original due time, or at once when overdue. The caller has counted it in pending.
     */
    void takeOver(Ledger.FollowUp followUp) {
        Contact contact = new Contact(0, followUp.contactKey(), followUp.number(), "", null, Map.of());
        Duration delay = Duration.between(run.now(), followUp.due());
        schedule(new DialRequest(contact, followUp.attemptNumber(), run.setup.arguments()),
                delay.isNegative() ? Duration.ZERO : delay, Mono.empty());
    }

    /**
     * The follow-ups scheduled and not yet dialed: how many, and when the earliest and the latest are due (a
     * follow-up that waits for its callee's calling window is due when the window opens).
     */
    RunReport.FollowUps pending() {
        long n = run.counters.followUpsPending.sum();
        long[] first;
        long[] last;
        try {
            first = dueTimes.first();
            last = dueTimes.last();
        } catch (java.util.NoSuchElementException e) {
            return n <= 0 ? RunReport.NO_FOLLOW_UPS : new RunReport.FollowUps(n, null, null);
        }
        Instant now = run.now();
        long nanos = run.nanos();
        return new RunReport.FollowUps(Math.max(n, 0), now.plusNanos(first[0] - nanos).toString(),
                now.plusNanos(last[0] - nanos).toString());
    }

    /** Releases the follow-up after {@code delay} (counted from now), alongside its ledger record. */
    private void schedule(DialRequest request, Duration delay, Mono<Void> recorded) {
        run.counters.followUpsPending.increment();
        long dueAt = run.nanos() + delay.toNanos();
        long[] key = {dueAt, sequence.incrementAndGet()};
        dueTimes.add(key);
        Mono<Void> wait = Mono.defer(() -> Mono.delay(Duration.ofNanos(Math.max(0, dueAt - run.nanos())),
                        run.setup.scheduler()))
                .then(Mono.defer(() -> release(request, key)));
        timers.emitNext(Mono.when(recorded, wait), serialize());
    }

    /**
     * A follow-up is due: it waits for the callee's calling window, then joins the dial queue.
     *
     * @param key its entry in {@link #dueTimes}, replaced by the window's opening while it waits for it
     */
    private Mono<Void> release(DialRequest request, long[] key) {
        dueTimes.remove(key);
        if (!run.active()) {
            // cancelled meanwhile: the follow-up is dropped and the contact is final; at the scheduled end, it stays
            // in the ledger for a later run
            run.counters.followUpsPending.decrement();
            run.workEnded(!run.ending());
            return Mono.empty();
        }
        Instant at = run.now();
        Instant opening = run.setup.window().nextOpening(request.contact(), at);
        if (opening.isAfter(at) && opening.isBefore(run.setup.horizon())) {
            long[] windowKey = {run.nanos() + Duration.between(at, opening).toNanos(), key[1]};
            dueTimes.add(windowKey);
            return Mono.delay(Duration.between(at, opening), run.setup.scheduler())
                    .then(Mono.defer(() -> release(request, windowKey)));
        }
        run.counters.followUpsPending.decrement();
        if (!opening.isAfter(at)) {
            try {
                due.emitNext(request, serialize());
                return Mono.empty();
            } catch (Sinks.EmissionException e) {
                log.error("campaign {}: follow-up of contact {} dropped: {}", run.id, request.contact().id(),
                        e.toString());
                run.workEnded(true);
                return Mono.empty();
            }
        }
        // The window never opens before the horizon: the follow-up is settled in the ledger as taken, so that the
        // contact is final there (a cluster's claim on it ends, a resumed run skips it).
        Mono<Void> taken = run.writes.track(run.setup.ledger()
                .markFollowUpTaken(run.id, request.contact().id(), request.attemptNumber(), at)
                .onErrorResume(UnsupportedOperationException.class, e -> Mono.empty()));
        run.workEnded(true);
        return taken;
    }
}
