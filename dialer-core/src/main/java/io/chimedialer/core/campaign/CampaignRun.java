package io.chimedialer.core.campaign;

import io.chimedialer.core.calls.CallEvent;
import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.contacts.ClaimGuard;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.pacing.ActivePermits;
import io.chimedialer.core.pacing.CampaignPacing;
import io.chimedialer.core.pacing.DialRequest;
import io.chimedialer.core.pacing.Dialer;
import io.chimedialer.core.pacing.RegionHealth;
import io.chimedialer.core.pacing.RegionPacing;
import io.chimedialer.core.pacing.RegionRouter;
import io.chimedialer.core.util.MonoMerge;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One run of one campaign: the whole loop of DESIGN.md section 3 for its contacts. Rows are read,
 * validated, de-duplicated, skipped when an earlier run finished them, held for their calling window
 * ({@link ContactAdmission}), and handed to the {@link Dialer} (pacing, intents behind the {@link ClaimFence},
 * Create); each Create's outcome ({@link DialOutcomes}) and each call's events from the webhook
 * ({@link CallOutcomes}) then decide the final state, the ledger record, the permit's release and the
 * follow-ups ({@link FollowUps}). A resumed run first takes over the previous run's open work ({@link Recovery}).
 *
 * <p>Every contact read ends in exactly one of: invalid, duplicate, suppressed, window expired, already
 * done (resume), or dialed (then each attempt ends in exactly one {@link CallEvent.CallEnded}). The run
 * completes when the list is exhausted, no call or follow-up is outstanding and every ledger write it caused has
 * landed (a failed bookkeeping write is logged and counted in {@link CampaignCounters#ledgerWriteFailures}).
 *
 * <p>Thread-safety: control methods may be called from any thread. Nothing subscribes in the constructor;
 * {@link #start()} does.
 */
public final class CampaignRun {
    private static final Logger log = LoggerFactory.getLogger(CampaignRun.class);
    /**
     * How many steps of the event and Create-outcome chains may have writes in flight at once: unbounded, as the
     * ledger batches them (group commit). A bound would hold the campaign's event stream behind a slow commit,
     * and its buffer would then drop call events; one step at a time would cost one commit per event.
     */
    private static final int UNBOUNDED = Integer.MAX_VALUE;
    /** How often the Region router looks again at Regions that were all busy. */
    private static final Duration ROUTER_RECHECK = Duration.ofMillis(100);

    /**
     * The lifecycle of a run. SCHEDULED: waiting for its scheduled start (no call). ENDING: its scheduled end came;
     * no new call starts, the calls in progress finish; then ENDED, with {@link #endReason()}.
     */
    public enum State { CREATED, SCHEDULED, RUNNING, PAUSED, ENDING, CANCELLING, CANCELLED, COMPLETED, ENDED, FAILED }

    /** Starts a run's setup; see {@link RunSetup} for what it needs and its defaults. */
    public static RunSetup.Builder setup(CampaignConfig config) {
        return new RunSetup.Builder(config);
    }

    private final RunSetup setup;
    private final String id;
    private final RunContext run;
    private final CampaignCounters counters;
    private final ClaimFence fence;
    private final FollowUps followUps;
    private final ContactAdmission admission;
    private final Recovery recovery;
    private final DialOutcomes dialOutcomes;
    private final ActionFailureStreak actionFailures;
    private final CallOutcomes callOutcomes;
    private final AtomicBoolean sourceDone = new AtomicBoolean();
    private final AtomicBoolean dialDone = new AtomicBoolean();
    private final Sinks.Many<Boolean> paused = Sinks.many().replay().latest();
    private final Sinks.Many<String> errorPauses = Sinks.many().multicast().directBestEffort();
    /** Every state the run enters, in order; the latest is replayed to a late subscriber. */
    private final Sinks.Many<State> states = Sinks.many().replay().latest();
    private volatile String pauseReason;
    private volatile String endReason;
    private final CampaignPacing pacing;
    private final Sinks.Empty<Void> cancelSignal = Sinks.empty();
    private final Sinks.Empty<Void> endSignal = Sinks.empty();
    private final Sinks.Empty<Void> done = Sinks.empty();
    private final Sinks.Empty<Void> recovered = Sinks.empty();
    private final Disposable.Composite subscriptions = Disposables.composite();
    private volatile long startedAtNanos;

    public CampaignRun(RunSetup setup) {
        this.setup = Objects.requireNonNull(setup, "setup");
        this.run = new RunContext(setup, this::checkDone);
        this.id = run.id;
        this.counters = run.counters;
        this.fence = new ClaimFence(run);
        this.followUps = new FollowUps(run);
        this.admission = new ContactAdmission(run, fence::guarded, () -> {
            sourceDone.set(true);
            checkDone();
        });
        this.dialOutcomes = new DialOutcomes(run, fence, followUps,
                reason -> pauseOnError(regionsDownReason()));
        this.actionFailures = new ActionFailureStreak(setup.config().pauseAfterActionFailures());
        this.callOutcomes = new CallOutcomes(run, followUps, actionFailures, this::pauseOnError);
        this.recovery = new Recovery(run, followUps, callOutcomes::ended);
        this.pacing = run.pacing;
        paused.tryEmitNext(false);
    }

    /** The campaign id. */
    public String id() {
        return id;
    }

    /** The live counters. */
    public CampaignCounters counters() {
        return counters;
    }

    /** The current state. */
    public State state() {
        return run.state.get();
    }

    /** Contacts waiting for their calling window now. */
    public int waiting() {
        return admission.waiting();
    }

    /**
     * Live calls that Chime accepted (they have a TransactionId) and that have not ended: what a graceful stop
     * waits for. Unlike {@code counters().live} it leaves out admitted calls held before their Create by a pause.
     */
    public long placedCalls() {
        return run.live.values().stream().filter(l -> l.transactionId != null).count();
    }

    /** Contacts not yet in a final state, when the list's size is known; else -1. */
    public long remaining() {
        long total = setup.expectedTotal();
        if (total < 0) {
            return -1;
        }
        return Math.max(0, total - finalContacts());
    }

    private long finalContacts() {
        return counters.invalid.sum() + counters.duplicate.sum() + counters.suppressed.sum()
                + counters.windowExpired.sum() + counters.resumedDone.sum() + counters.finished.sum();
    }

    /**
     * Starts the run; the returned Mono completes when the run is over (completed or cancelled) and errors
     * when the pipeline itself fails (e.g. the ledger refuses intents for good).
     */
    public Mono<RunReport> start() {
        CampaignSchedule schedule = setup.config().schedule();
        Instant now = run.now();
        Duration untilStart = schedule.startInstant().map(at -> Duration.between(now, at))
                .filter(d -> !d.isNegative() && !d.isZero()).orElse(Duration.ZERO);
        State first = untilStart.isZero() ? State.RUNNING : State.SCHEDULED;
        if (!run.state.compareAndSet(State.CREATED, first)) {
            return Mono.error(new IllegalStateException("campaign " + id + " was already started"));
        }
        startedAtNanos = run.nanos();
        entered(first);
        if (first == State.SCHEDULED) {
            log.info("campaign {} scheduled: it waits for its start {} (in {})", id, schedule.start(),
                    untilStart.toString().substring(2).toLowerCase(Locale.ROOT));
            subscriptions.add(Mono.delay(untilStart, setup.scheduler()).subscribe(t -> onScheduledStart()));
        } else {
            log.info("campaign {} started", id);
        }
        schedule.endInstant().ifPresent(end -> {
            Duration untilEnd = Duration.between(now, end);
            if (untilEnd.isNegative() || untilEnd.isZero()) {
                endAtSchedule();
            } else {
                subscriptions.add(Mono.delay(untilEnd, setup.scheduler()).subscribe(t -> endAtSchedule()));
            }
        });
        // Each event's step updates the run at once, in event order, and its writes are part of the chain.
        // MonoMerge, not flatMap: flatMap scans every pending inner (here a write waiting for its commit) each time
        // one completes, thousands per commit at a high rate (issue 17).
        subscriptions.add(MonoMerge.flatMap(setup.registry().bus().events(id), callOutcomes::onEvent, UNBOUNDED)
                .subscribe(v -> { }, e -> log.error("campaign {} event stream failed", id, e)));
        subscriptions.add(followUps.timers()
                .subscribe(v -> { }, e -> log.error("campaign {}: follow-ups failed", id, e)));
        // On resume, the previous run's open attempts and follow-ups are taken over before any contact is read.
        // A scheduled run takes over the previous run's open work at once, and reads no contact before its start.
        Flux<DialRequest> input = recovery.recoverPrevious()
                .doFinally(signal -> recovered.tryEmitEmpty())
                .then(untilStart.isZero() ? Mono.<Void>empty() : Mono.delay(untilStart, setup.scheduler()).then())
                .thenMany(Flux.merge(1, admission.firstAttempts(), followUps.due()))
                .takeUntilOther(cancelSignal.asMono())
                .concatMap(request -> Mono.defer(() -> {
                    if (run.regionsDown()) {
                        pauseOnError(regionsDownReason());
                    }
                    return whileRunning();
                }).thenReturn(request), 0)
                // At the scheduled end, even a request held by a pause: it was not written, it stays dialable.
                .takeUntilOther(endSignal.asMono());
        Dialer dialer = new Dialer(pacing, router(), setup.create(), setup.dialer(), setup.attemptIds(),
                setup.scheduler());
        // Calls admitted before a pause are not sent: withdrawn, their contacts queued again before admission (where
        // the pause holds them, with no open intent); after a cancel they are withheld, never sent.
        subscriptions.add(MonoMerge.flatMap(dialer.dialRequests(input, fence::beforePlace,
                        number -> run.cancelling() || fence.withheld(number) || setup.dnc().contains(number),
                        () -> {
                            State s = run.state.get();
                            return s == State.PAUSED || s == State.ENDING;
                        }), dialOutcomes::onDialResult, UNBOUNDED)
                .subscribe(v -> { }, this::onDialError, this::onDialComplete));
        return done.asMono().then(Mono.fromSupplier(this::report));
    }

    /**
     * Completes once a resumed run has taken over the previous run's open attempts (registered with the
     * {@link CallRegistry}) and follow-ups; at once for a run that does not resume. The webhook's ledger lookup
     * waits for it, so that a call restored from the ledger is the very call this run tracks.
     */
    public Mono<Void> recovered() {
        return recovered.asMono();
    }

    /**
     * Takes over a follow-up that another node scheduled and could not make (it died; in a cluster, see
     * {@code ClaimingSource.adoptedFollowUps()}): it is dialed at its original due time, or at once when overdue,
     * as the follow-ups of a resumed run are. It counts as pending work from this call on, so the run does not
     * complete before the follow-up has ended; call it synchronously where the adoption is learnt. Its intent
     * marks it taken in the ledger, as for this run's own follow-ups.
     *
     * @param followUp the ledger's follow-up of this campaign
     * @return false, and nothing is scheduled, when the run is cancelled or over
     */
    public boolean adoptFollowUp(Ledger.FollowUp followUp) {
        Objects.requireNonNull(followUp, "followUp");
        if (!id.equals(followUp.campaignId())) {
            throw new IllegalArgumentException("follow-up of campaign " + followUp.campaignId() + " handed to the run of "
                    + id);
        }
        run.pending.incrementAndGet();
        State s = run.state.get();
        if (s != State.CREATED && s != State.RUNNING && s != State.PAUSED) {
            run.pending.decrementAndGet();
            log.warn("campaign {}: adopted follow-up of contact {} not scheduled: the run is {}", id,
                    followUp.contactKey(), s);
            return false;
        }
        followUps.takeOver(followUp);
        log.debug("campaign {}: adopted follow-up {} of contact {} due {}", id, followUp.attemptNumber(),
                followUp.contactKey(), followUp.due());
        return true;
    }

    /**
     * In a cluster, makes every batch of attempts confirm, before its intents are written, that this node still
     * holds their contacts (see {@link ClaimGuard}). The run then leaves repeated numbers to the shared list's
     * import, which settles them, since a contact this node let go may be handed to it again. Call before
     * {@link #start()}.
     */
    public void guardClaims(ClaimGuard guard) {
        fence.guard(guard);
    }

    /** Completes at once while running, or when a paused run is resumed or cancelled. */
    private Mono<Void> whileRunning() {
        return paused.asFlux().filter(p -> !p).next().then();
    }

    /**
     * Stops asking for new contacts; calls admitted but not yet sent are withdrawn (their contacts wait for the
     * resume, and a stopped process leaves no open intent for them); live calls go on.
     */
    public void pause() {
        State before = run.state.getAndUpdate(s -> s == State.RUNNING || s == State.SCHEDULED ? State.PAUSED : s);
        if (before == State.RUNNING || before == State.SCHEDULED) {
            paused.tryEmitNext(true);
            entered(State.PAUSED);
            log.info("campaign {} paused", id);
        }
    }

    /**
     * Pauses the run by itself for an error that no contact caused and that retrying will not fix (every Region
     * failed on an account or configuration error, or {@code pause-after-action-failures} answered calls in a row
     * failed an action with the same ErrorType): as {@link #pause()}, with the reason shown in the report and
     * the status, and told to {@link #errorPauses()}. {@link #resume()} clears it.
     */
    public void pauseOnError(String reason) {
        Objects.requireNonNull(reason, "reason");
        if (run.state.compareAndSet(State.RUNNING, State.PAUSED)) {
            pauseReason = reason;
            paused.tryEmitNext(true);
            entered(State.PAUSED);
            log.error("campaign {} paused: {}. Fix the configuration or the account, then resume it.", id, reason);
            errorPauses.tryEmitNext(reason);
        }
    }

    /** Why the run paused by itself ({@link #pauseOnError}), or null. */
    public String pauseReason() {
        return pauseReason;
    }

    /** The reasons of the run's pauses on error, as they happen (hot; nothing is replayed). */
    public Flux<String> errorPauses() {
        return errorPauses.asFlux();
    }

    /**
     * Resumes a paused run. The campaign's failed Regions are restored first (the operator fixed what failed
     * them); if it is not fixed, the next Create there fails the Region again. The count of answered calls failing
     * alike starts over.
     */
    public void resume() {
        State next = beforeStart() ? State.SCHEDULED : State.RUNNING;
        if (run.state.compareAndSet(State.PAUSED, next)) {
            for (String name : setup.config().regions().keySet()) {
                RegionPacing pacing = setup.regions().get(name);
                if (pacing != null && pacing.health().restore()) {
                    log.info("campaign {}: Region {} restored", id, name);
                }
            }
            pauseReason = null;
            actionFailures.reset();
            paused.tryEmitNext(false);
            entered(next);
            log.info("campaign {} resumed{}", id, next == State.SCHEDULED ? ": it waits for its scheduled start "
                    + setup.config().schedule().start() : "");
        }
    }

    private boolean beforeStart() {
        return setup.config().schedule().startInstant().map(start -> run.now().isBefore(start)).orElse(false);
    }

    /** The scheduled start came: a run waiting for it dials from now (a paused one once resumed). */
    private void onScheduledStart() {
        if (run.state.compareAndSet(State.SCHEDULED, State.RUNNING)) {
            entered(State.RUNNING);
            log.info("campaign {} started at its scheduled start {}", id, setup.config().schedule().start());
        }
    }

    /**
     * The scheduled end came: no new call starts (admitted calls not yet sent are withdrawn, follow-ups are left in
     * the ledger for a later run, contacts not read stay unread), the calls in progress finish and their outcomes
     * are recorded; then the run is ENDED with the reason.
     */
    private void endAtSchedule() {
        State before = run.state.getAndUpdate(s -> s == State.SCHEDULED || s == State.RUNNING || s == State.PAUSED
                ? State.ENDING : s);
        if (before != State.SCHEDULED && before != State.RUNNING && before != State.PAUSED) {
            return;
        }
        endReason = "ended at its scheduled end " + setup.config().schedule().end();
        entered(State.ENDING);
        log.info("campaign {} {}: no new calls; {} calls in progress finish, contacts not dialed stay dialable", id,
                endReason, placedCalls());
        endSignal.tryEmitEmpty();
        checkDone();
    }

    /** Why the run stopped placing calls by itself ("ended at its scheduled end ..."), or null. */
    public String endReason() {
        return endReason;
    }

    /** The campaign's own pacing: its caps beside the Regions' and its priority. */
    public CampaignPacing pacing() {
        return pacing;
    }

    private String regionsDownReason() {
        StringBuilder sb = new StringBuilder("every Region failed:");
        for (String name : setup.config().regions().keySet()) {
            RegionPacing pacing = setup.regions().get(name);
            pacing.health().failure().ifPresent(f -> sb.append(' ').append(name).append(" (").append(f.describe())
                    .append(')'));
        }
        return sb.toString();
    }

    /**
     * Cancels the run: no new call starts, follow-ups are dropped, and every live call is hung up through
     * UpdateSipMediaApplicationCall (paced at each Region's Update rate). The run completes once the last
     * live call has ended.
     */
    public void cancel() {
        State before = run.state.getAndUpdate(s -> s == State.RUNNING || s == State.PAUSED || s == State.SCHEDULED
                || s == State.ENDING ? State.CANCELLING : s);
        if (before != State.RUNNING && before != State.PAUSED && before != State.SCHEDULED && before != State.ENDING) {
            return;
        }
        entered(State.CANCELLING);
        log.info("campaign {} cancelling: hanging up {} live calls", id, run.live.size());
        paused.tryEmitNext(false);
        cancelSignal.tryEmitEmpty();
        List<String> transactions = setup.registry().cancelCampaign(id);
        Map<String, String> regionOf = new LinkedHashMap<>();
        run.live.values().forEach(l -> {
            if (l.transactionId != null) {
                regionOf.put(l.transactionId, l.attempt.region());
            }
        });
        // Subscribed once, from this control method; disposed with the run.
        subscriptions.add(Flux.fromIterable(transactions)
                .flatMap(tx -> {
                    String region = regionOf.get(tx);
                    RegionPacing pacing = region == null ? null : setup.regions().get(region);
                    return pacing == null ? Mono.empty() : setup.originator().hangUp(pacing.config(), tx);
                }, 64)
                .subscribe(outcome -> { }, e -> log.warn("campaign {}: hang-up failed: {}", id, e.toString())));
        checkDone();
    }

    private RegionRouter router() {
        Map<RegionPacing, Integer> weights = new LinkedHashMap<>();
        setup.config().regions().forEach((name, weight) -> weights.put(setup.regions().get(name), weight));
        return new RegionRouter(weights, ROUTER_RECHECK, setup.scheduler());
    }

    private void onDialError(Throwable error) {
        log.error("campaign {} failed: {}", id, error.toString());
        run.state.set(State.FAILED);
        entered(State.FAILED);
        states.emitComplete(Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
        done.tryEmitError(error);
    }

    private void onDialComplete() {
        dialDone.set(true);
        checkDone();
    }

    /** Ends the run when its work is over: called after every piece of work ends, from any thread. */
    private void checkDone() {
        State s = run.state.get();
        if (s == State.CANCELLING) {
            if (dialDone.get() && run.live.isEmpty() && run.writes.idle()) {
                finish(State.CANCELLED);
            }
            return;
        }
        if (s == State.ENDING) {
            if (dialDone.get() && run.live.isEmpty() && run.writes.idle()) {
                finish(State.ENDED);
            }
            return;
        }
        if (sourceDone.get() && run.pending.get() == 0) {
            followUps.complete();
            if (dialDone.get() && run.writes.idle()) {
                finish(State.COMPLETED);
            }
        }
    }

    private void finish(State end) {
        State before = run.state.getAndUpdate(s -> isFinal(s) ? s : end);
        if (isFinal(before)) {
            return;
        }
        log.info("campaign {} {}: {} attempts, outcomes {}", id, end == State.ENDED ? endReason
                : end.name().toLowerCase(Locale.ROOT), counters.attempts.sum(), counters.outcomes());
        subscriptions.dispose();
        entered(end);
        states.emitComplete(Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
        done.tryEmitEmpty();
    }

    private static boolean isFinal(State s) {
        return s == State.COMPLETED || s == State.CANCELLED || s == State.ENDED || s == State.FAILED;
    }

    /** Tells {@link #states()} a state the run entered; transitions are serialized by the busy-looping handler. */
    private void entered(State state) {
        states.emitNext(state, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
    }

    /**
     * The states the run enters, as they happen (the current one first): SCHEDULED (waiting for its start),
     * RUNNING, PAUSED (by an operator or {@link #pauseOnError}), ENDING (its scheduled end came), CANCELLING, and the
     * final COMPLETED, ENDED, CANCELLED or FAILED, after which it completes.
     */
    public Flux<State> states() {
        return states.asFlux();
    }

    /** Releases this run's subscriptions (the composition root calls it on shutdown). */
    public void dispose() {
        subscriptions.dispose();
    }

    /** The report as of now. */
    public RunReport report() {
        double seconds = (run.nanos() - startedAtNanos) / 1e9;
        long waiting = admission.waiting();
        long accounted = counters.invalid.sum() + counters.duplicate.sum() + counters.suppressed.sum()
                + counters.windowExpired.sum() + counters.dialed.sum() + counters.resumedDone.sum() + waiting;
        RunReport.Contacts contacts = new RunReport.Contacts(counters.total.sum(), counters.invalid.sum(),
                counters.duplicate.sum(), counters.suppressed.sum(), counters.windowExpired.sum(),
                counters.dialed.sum(), counters.resumedDone.sum(), waiting,
                Math.max(0, counters.total.sum() - accounted));
        Map<String, RunReport.RegionReport> regions = new LinkedHashMap<>();
        for (String name : setup.config().regions().keySet()) {
            RegionPacing pacing = setup.regions().get(name);
            RegionTally t = run.tally(name);
            String failure = pacing.health().failure().map(RegionHealth.Failure::describe).orElse(null);
            regions.put(name, new RunReport.RegionReport(t.attempts.get(), setup.originator().throttled(name),
                    pacing.config().callsPerSecond(), t.achievedCps(), pacing.rate().effectiveRate(),
                    pacing.permits().peak(), pacing.permits().configuredCap(), failure, t.recentCps(run.nanos())));
        }
        Map<Disposition, Long> outcomes = new EnumMap<>(counters.outcomes());
        CampaignSchedule schedule = setup.config().schedule();
        RunReport.Schedule scheduleReport = schedule.isScheduled() || endReason != null
                ? new RunReport.Schedule(schedule.start() == null ? null : schedule.start().toString(),
                        schedule.end() == null ? null : schedule.end().toString(), endReason)
                : null;
        CampaignLimits limits = setup.config().limits();
        RunReport.Limits limitsReport = new RunReport.Limits(limits.callsPerSecond(), limits.maxActiveCalls(),
                limits.priority(), pacing.liveCalls().map(ActivePermits::peak).orElse(null));
        return new RunReport(id, run.state.get().name(), contacts, counters.attempts.sum(), outcomes, regions,
                Math.max(0, seconds), counters.withdrawn.sum(), pauseReason, followUps.pending(), scheduleReport,
                limitsReport);
    }
}
