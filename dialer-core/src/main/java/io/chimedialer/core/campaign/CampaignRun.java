package io.chimedialer.core.campaign;

import io.chimedialer.core.contacts.ClaimGuard;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.contacts.CallingWindow;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.Deduplicator;
import io.chimedialer.core.contacts.DncList;
import io.chimedialer.core.contacts.WindowGate;
import io.chimedialer.core.calls.CallContext;
import io.chimedialer.core.calls.CallEvent;
import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerUnavailableException;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.core.pacing.DialRequest;
import io.chimedialer.core.pacing.DialResult;
import io.chimedialer.core.pacing.Dialer;
import io.chimedialer.core.pacing.DialerSettings;
import io.chimedialer.core.pacing.Permit;
import io.chimedialer.core.pacing.RegionPacing;
import io.chimedialer.core.pacing.RegionRouter;
import io.chimedialer.core.pacing.ResilientCreate;
import io.chimedialer.core.util.Masking;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/**
 * One run of one campaign: the whole loop of DESIGN.md section 3 for its contacts. Rows are read,
 * validated, de-duplicated, skipped when an earlier run finished them, held for their calling window,
 * and handed to the {@link Dialer} (pacing, intents, Create); each Create's outcome and each call's
 * events from the webhook then decide the final state, the ledger record, the permit's release and
 * the follow-ups.
 *
 * <p>Every contact read ends in exactly one of: invalid, duplicate, suppressed, window expired, already
 * done (resume), or dialed (then each attempt ends in exactly one {@link CallEvent.CallEnded}). The run
 * completes when the list is exhausted and no call or follow-up is outstanding.
 *
 * <p>Thread-safety: control methods may be called from any thread. Nothing subscribes in the constructor;
 * {@link #start()} does.
 */
public final class CampaignRun {
    private static final Logger log = LoggerFactory.getLogger(CampaignRun.class);

    /** The lifecycle of a run. */
    public enum State { CREATED, RUNNING, PAUSED, CANCELLING, CANCELLED, COMPLETED, FAILED }

    /**
     * Everything a run needs; built by the composition root.
     *
     * @param config         the campaign
     * @param source         the contact rows, subscribed once (reading may block: subscribe it on an I/O scheduler)
     * @param expectedTotal  the number of rows in the list when known (for progress), else -1
     * @param dnc            the suppression list checked before each dial; opt-outs are added to it
     * @param dncListName    the name under which opt-outs are recorded in the ledger
     * @param window         the calling window
     * @param horizon        contacts whose window opens after this end as window-expired
     * @param maxWaiting     how many contacts may wait for their window at once
     * @param regions        every configured Region's pacing, by name (shared by all campaigns)
     * @param create         the resilience chain around the originator
     * @param originator     the metered originator (hang-ups on cancel, request counts for the report)
     * @param registry       the live-call registry shared with the webhook
     * @param ledger         the durable record
     * @param metrics        the meters
     * @param scheduler      time for windows, batching and follow-ups
     * @param attemptIds     a new globally unique attempt id per call
     * @param dialer         batching and capacity settings
     * @param reconcileGrace how long an UNKNOWN Create waits for its NEW_OUTBOUND_CALL before it is closed
     * @param resume         whether contacts that the ledger already knows are skipped
     * @param arguments      extra ArgumentsMap entries for every call (e.g. the node's URL)
     */
    public record Setup(CampaignConfig config, Flux<ContactRow> source, long expectedTotal, DncList dnc,
                        String dncListName, CallingWindow window, Instant horizon, int maxWaiting,
                        Map<String, RegionPacing> regions, ResilientCreate create, MeteredOriginator originator,
                        CallRegistry registry, Ledger ledger, DialerMetrics metrics, Scheduler scheduler,
                        Supplier<String> attemptIds, DialerSettings dialer, Duration reconcileGrace, boolean resume,
                        Map<String, String> arguments) {
        public Setup {
            Objects.requireNonNull(config, "config");
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(dnc, "dnc");
            Objects.requireNonNull(window, "window");
            Objects.requireNonNull(regions, "regions");
            Objects.requireNonNull(create, "create");
            Objects.requireNonNull(originator, "originator");
            Objects.requireNonNull(registry, "registry");
            Objects.requireNonNull(ledger, "ledger");
            Objects.requireNonNull(metrics, "metrics");
            Objects.requireNonNull(scheduler, "scheduler");
            Objects.requireNonNull(attemptIds, "attemptIds");
            dialer = dialer == null ? DialerSettings.ofDefaults() : dialer;
            reconcileGrace = reconcileGrace == null ? Duration.ofSeconds(30) : reconcileGrace;
            maxWaiting = maxWaiting < 1 ? 10_000 : maxWaiting;
            arguments = arguments == null ? Map.of() : Map.copyOf(arguments);
            for (String region : config.regions().keySet()) {
                if (!regions.containsKey(region)) {
                    throw new IllegalArgumentException("campaigns." + config.name() + ".regions: Region '" + region
                            + "' is not configured");
                }
            }
        }
    }

    private final Setup setup;
    private final String id;
    private final CampaignCounters counters = new CampaignCounters();
    private final Deduplicator dedupe;
    private final Map<String, LiveAttempt> live = new ConcurrentHashMap<>();
    private final Map<String, RegionTally> regionTally = new ConcurrentHashMap<>();
    private final AtomicLong pending = new AtomicLong();
    private final AtomicBoolean sourceDone = new AtomicBoolean();
    private final AtomicBoolean dialDone = new AtomicBoolean();
    private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
    private final Sinks.Many<DialRequest> followUps = Sinks.many().unicast().onBackpressureBuffer();
    private final Sinks.Many<Boolean> paused = Sinks.many().replay().latest();
    private final Sinks.Empty<Void> cancelSignal = Sinks.empty();
    private final Sinks.Empty<Void> done = Sinks.empty();
    private final Sinks.Empty<Void> recovered = Sinks.empty();
    private volatile ClaimGuard claimGuard;
    /** Attempts not to be sent, by number: their claim passed to another node ({@link #lost}) or came late. */
    private final Set<String> withheldNumbers = ConcurrentHashMap.newKeySet();
    /** Attempt ids whose contact another node may hold now: nothing of them was written, nothing is sent. */
    private final Set<String> lost = ConcurrentHashMap.newKeySet();
    /** Attempt ids whose intent was written after their claim could have passed: never sent, UNKNOWN. */
    private final Set<String> late = ConcurrentHashMap.newKeySet();
    private final Disposable.Composite subscriptions = Disposables.composite();
    private final WindowGate gate;
    private volatile long startedAtNanos;

    public CampaignRun(Setup setup) {
        this.setup = Objects.requireNonNull(setup, "setup");
        this.id = setup.config().name();
        // Sized up front when the list's length is known: growing a large table doubles its memory for a moment.
        long expected = setup.expectedTotal();
        this.dedupe = expected > 0 ? new Deduplicator((int) Math.min(expected, 100_000_000L)) : new Deduplicator();
        this.gate = WindowGate.of(setup.window(), setup.scheduler(), setup.maxWaiting(), setup.horizon());
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
        return state.get();
    }

    /** Contacts waiting for their calling window now. */
    public int waiting() {
        return gate.waitingCount();
    }

    /**
     * Live calls that Chime accepted (they have a TransactionId) and that have not ended: what a graceful stop
     * waits for. Unlike {@code counters().live} it leaves out admitted calls held before their Create by a pause.
     */
    public long placedCalls() {
        return live.values().stream().filter(l -> l.transactionId != null).count();
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
        if (!state.compareAndSet(State.CREATED, State.RUNNING)) {
            return Mono.error(new IllegalStateException("campaign " + id + " was already started"));
        }
        startedAtNanos = setup.scheduler().now(TimeUnit.NANOSECONDS);
        log.info("campaign {} started", id);
        subscriptions.add(setup.registry().bus().events(id).subscribe(this::onEvent,
                e -> log.error("campaign {} event stream failed", id, e)));
        // On resume, the previous run's open attempts and follow-ups are taken over before any contact is read.
        Flux<DialRequest> input = recoverPrevious()
                .doFinally(signal -> recovered.tryEmitEmpty())
                .thenMany(Flux.merge(1, firstAttempts(), followUps.asFlux()))
                .takeUntilOther(cancelSignal.asMono())
                .concatMap(request -> whileRunning().thenReturn(request), 0);
        Dialer dialer = new Dialer(id, router(), setup.create(), setup.dialer(), setup.attemptIds(), setup.scheduler());
        // Calls already admitted wait at the gate while paused; after a cancel they are withheld, never sent.
        subscriptions.add(dialer.dialRequests(input, this::beforePlace,
                        number -> cancelling() || withheldNumbers.contains(number) || setup.dnc().contains(number),
                        whileRunning())
                .subscribe(this::onDialResult, this::onDialError, this::onDialComplete));
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
        pending.incrementAndGet();
        State s = state.get();
        if (s != State.CREATED && s != State.RUNNING && s != State.PAUSED) {
            pending.decrementAndGet();
            log.warn("campaign {}: adopted follow-up of contact {} not scheduled: the run is {}", id,
                    followUp.contactKey(), s);
            return false;
        }
        Contact contact = new Contact(0, followUp.contactKey(), followUp.number(), "", null, Map.of());
        Duration delay = Duration.between(now(), followUp.due());
        scheduleRequest(new DialRequest(contact, followUp.attemptNumber(), setup.arguments()),
                delay.isNegative() ? Duration.ZERO : delay);
        log.debug("campaign {}: adopted follow-up {} of contact {} due {}", id, followUp.attemptNumber(),
                followUp.contactKey(), followUp.due());
        return true;
    }

    /** Completes at once while running, or when a paused run is resumed or cancelled. */
    private Mono<Void> whileRunning() {
        return paused.asFlux().filter(p -> !p).next().then();
    }

    private boolean cancelling() {
        State s = state.get();
        return s == State.CANCELLING || s == State.CANCELLED;
    }

    /** Stops asking for new contacts and holds admitted calls before their Create; live calls go on. */
    public void pause() {
        if (state.compareAndSet(State.RUNNING, State.PAUSED)) {
            paused.tryEmitNext(true);
            log.info("campaign {} paused", id);
        }
    }

    /** Resumes a paused run. */
    public void resume() {
        if (state.compareAndSet(State.PAUSED, State.RUNNING)) {
            paused.tryEmitNext(false);
            log.info("campaign {} resumed", id);
        }
    }

    /**
     * Cancels the run: no new call starts, follow-ups are dropped, and every live call is hung up through
     * UpdateSipMediaApplicationCall (paced at each Region's Update rate). The run completes once the last
     * live call has ended.
     */
    public void cancel() {
        State before = state.getAndUpdate(s -> s == State.RUNNING || s == State.PAUSED ? State.CANCELLING : s);
        if (before != State.RUNNING && before != State.PAUSED) {
            return;
        }
        log.info("campaign {} cancelling: hanging up {} live calls", id, live.size());
        paused.tryEmitNext(false);
        cancelSignal.tryEmitEmpty();
        List<String> transactions = setup.registry().cancelCampaign(id);
        Map<String, String> regionOf = new LinkedHashMap<>();
        live.values().forEach(l -> {
            if (l.transactionId != null) {
                regionOf.put(l.transactionId, l.attempt.region());
            }
        });
        subscriptions.add(Flux.fromIterable(transactions)
                .flatMap(tx -> {
                    String region = regionOf.get(tx);
                    RegionPacing pacing = region == null ? null : setup.regions().get(region);
                    return pacing == null ? Mono.empty() : setup.originator().hangUp(pacing.config(), tx);
                }, 64)
                .subscribe(outcome -> { }, e -> log.warn("campaign {}: hang-up failed: {}", id, e.toString())));
        checkDone();
    }

    // ---- resume ----

    /**
     * Takes over what a previous run left open (DESIGN.md section 4): an intent without a TransactionId may or
     * may not have become a call, so it ends as UNKNOWN and follows the UNKNOWN policy (not redialed unless
     * {@code redial-unknown}); an attempt with a TransactionId may still be live, so it is registered again with
     * the rest of its lifetime and ends by its HANGUP or, failing that, by the lifetime guard as UNKNOWN. Follow-ups
     * not yet taken are scheduled again at their original due time.
     */
    private Mono<Void> recoverPrevious() {
        if (!setup.resume()) {
            return Mono.empty();
        }
        Instant now = now();
        AtomicLong unknown = new AtomicLong();
        AtomicLong relive = new AtomicLong();
        AtomicLong rescheduled = new AtomicLong();
        Mono<Void> attempts = setup.ledger().openAttempts(id)
                .onErrorResume(UnsupportedOperationException.class, e -> Flux.empty())
                .retryWhen(ledgerOutage())
                .flatMap(record -> {
                    if (record.transactionId() == null) {
                        unknown.incrementAndGet();
                        return endUnplaced(record, now());
                    }
                    relive.incrementAndGet();
                    track(record, now());
                    return Mono.<Void>empty();
                }, 256)
                .then();
        Mono<Void> followUpsDue = setup.ledger().dueFollowUps(id, now.plus(Duration.ofDays(36_500)))
                .onErrorResume(UnsupportedOperationException.class, e -> Flux.empty())
                .retryWhen(ledgerOutage())
                .doOnNext(f -> {
                    rescheduled.incrementAndGet();
                    Contact contact = new Contact(0, f.contactKey(), f.number(), "", null, Map.of());
                    Duration delay = Duration.between(now, f.due());
                    pending.incrementAndGet();
                    scheduleRequest(new DialRequest(contact, f.attemptNumber(), setup.arguments()),
                            delay.isNegative() ? Duration.ZERO : delay);
                })
                .then();
        return attempts.then(followUpsDue)
                .doOnSuccess(v -> log.info("campaign {} resumed: {} intents without TransactionId ended UNKNOWN, {} "
                        + "placed calls tracked again, {} follow-ups rescheduled", id, unknown.get(), relive.get(),
                        rescheduled.get()));
    }

    /** An intent of the previous run without a TransactionId: UNKNOWN, then the UNKNOWN policy. */
    private Mono<Void> endUnplaced(Ledger.AttemptRecord record, Instant now) {
        CallResult result = new CallResult(record.attemptId(), id, null, Disposition.UNKNOWN, null, null, null, null,
                0, now);
        counters.outcome(Disposition.UNKNOWN);
        return setup.ledger().recordResult(result).retryWhen(ledgerOutage())
                .doOnSuccess(v -> {
                    // The contact was counted as done (resumedDone) when the list was read; only a redial adds work.
                    scheduleFollowUp(attempt(record), Disposition.UNKNOWN);
                });
    }

    /** A call of the previous run with a TransactionId: live until its HANGUP or the rest of its lifetime. */
    private void track(Ledger.AttemptRecord record, Instant now) {
        Attempt attempt = attempt(record);
        Instant since = record.placedAt() != null ? record.placedAt() : record.intendedAt();
        Duration left = setup.config().maxCallLifetime();
        if (since != null) {
            left = left.minus(Duration.between(since, now));
        }
        LiveAttempt entry = new LiveAttempt(attempt, true);
        entry.transactionId = record.transactionId();
        live.put(attempt.attemptId(), entry);
        counters.live.increment();
        pending.incrementAndGet();
        boolean expired = left.compareTo(Duration.ofMillis(1)) < 0;
        CallContext context = CallContext.of(attempt, setup.config().flow(), expired ? Duration.ofMillis(1) : left);
        try {
            setup.registry().expect(attempt, context);
        } catch (IllegalStateException e) {
            // Already restored from the ledger by an invocation: the registry holds it, its end reaches onEnded.
        }
        setup.registry().placed(attempt.attemptId(), record.transactionId());
        if (expired) {
            setup.registry().markUnknown(attempt.attemptId());
        }
    }

    private Attempt attempt(Ledger.AttemptRecord record) {
        // The contact's other columns are not in the ledger; the flow's state travels in TransactionAttributes.
        Contact contact = new Contact(0, record.contactKey(), record.number(), "", null, Map.of());
        return new Attempt(record.attemptId(), id, contact, record.attemptNumber(), record.region(),
                record.fromNumber());
    }

    // ---- the contact side ----

    private Flux<DialRequest> firstAttempts() {
        Flux<Contact> contacts = setup.source()
                .flatMap(this::admitRow, 64);
        if (setup.resume()) {
            contacts = contacts.buffer(256).concatMap(this::dropKnown, 1);
        }
        return gate.apply(contacts)
                .flatMap(gated -> {
                    if (gated instanceof WindowGate.Gated.Expired expired) {
                        counters.windowExpired.increment();
                        Contact c = expired.contact();
                        return skip(c.id(), c.number(), "WINDOW_EXPIRED", "calling window opens at "
                                + expired.opening() + ", after the campaign's horizon").then(Mono.<Contact>empty());
                    }
                    return Mono.just(gated.contact());
                }, 64)
                .flatMap(contact -> {
                    if (setup.dnc().contains(contact.number())) {
                        counters.suppressed.increment();
                        return skip(contact.id(), contact.number(), "SUPPRESSED", "on a DNC list")
                                .then(Mono.<Contact>empty());
                    }
                    return Mono.just(contact);
                }, 64)
                .map(contact -> {
                    pending.incrementAndGet();
                    return new DialRequest(contact, 1, setup.arguments());
                })
                .doOnComplete(() -> {
                    sourceDone.set(true);
                    log.info("campaign {}: contact list read ({} rows)", id, counters.total.sum());
                    checkDone();
                });
    }

    private Mono<Contact> admitRow(ContactRow row) {
        counters.total.increment();
        if (row instanceof ContactRow.Rejected rejected) {
            counters.invalid.increment();
            return skip("line-" + rejected.line(), rejected.rawNumber(), "INVALID",
                    "line " + rejected.line() + ": " + rejected.reason()).then(Mono.empty());
        }
        Contact contact = ((ContactRow.Valid) row).contact();
        // In a cluster (claims guarded), repeated numbers were settled when the list was imported, and a contact
        // this node let go may come back to it later: it must not be taken for a repeat of itself.
        if (claimGuard == null && !dedupe.firstSeen(contact.number())) {
            counters.duplicate.increment();
            return skip(contact.id(), contact.number(), "DUPLICATE", "number already in this campaign")
                    .then(Mono.empty());
        }
        return Mono.just(contact);
    }

    private Flux<Contact> dropKnown(List<Contact> batch) {
        List<String> keys = batch.stream().map(Contact::id).toList();
        return setup.ledger().knownContacts(id, keys)
                .retryWhen(ledgerOutage())
                .flatMapMany(known -> Flux.fromIterable(batch).filter(c -> {
                    if (known.contains(c.id())) {
                        counters.resumedDone.increment();
                        return false;
                    }
                    return true;
                }));
    }

    private Mono<Void> skip(String contactKey, String number, String state, String reason) {
        return setup.ledger().recordSkipped(id, contactKey, number, state, reason).retryWhen(ledgerOutage());
    }

    /** The ledger's PostgreSQL outage pauses the pipeline (no intent, no call) until it returns. */
    private Retry ledgerOutage() {
        return Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200))
                .maxBackoff(Duration.ofSeconds(5))
                .filter(e -> e instanceof LedgerUnavailableException)
                .scheduler(setup.scheduler())
                .doBeforeRetry(s -> {
                    if (s.totalRetriesInARow() % 10 == 0) {
                        log.warn("campaign {}: ledger unavailable, dialing paused: {}", id, s.failure().getMessage());
                    }
                });
    }

    private RegionRouter router() {
        Map<RegionPacing, Integer> weights = new LinkedHashMap<>();
        setup.config().regions().forEach((name, weight) -> weights.put(setup.regions().get(name), weight));
        return new RegionRouter(weights, Duration.ofMillis(100), setup.scheduler());
    }

    // ---- the dialing side ----

    /**
     * In a cluster, makes every batch of attempts confirm, before its intents are written, that this node still
     * holds their contacts (see {@link ClaimGuard}). The run then leaves repeated numbers to the shared list's
     * import, which settles them, since a contact this node let go may be handed to it again. Call before
     * {@link #start()}.
     */
    public void guardClaims(ClaimGuard guard) {
        this.claimGuard = Objects.requireNonNull(guard, "guard");
    }

    private Mono<Void> beforePlace(List<Attempt> attempts) {
        ClaimGuard guard = claimGuard;
        if (guard == null) {
            return recordIntents(attempts);
        }
        return guard.confirm(attempts.stream().map(a -> a.contact().id()).toList())
                .retryWhen(ledgerOutage())
                .flatMap(held -> {
                    List<Attempt> kept = new ArrayList<>(attempts.size());
                    for (Attempt attempt : attempts) {
                        if (held.contactKeys().contains(attempt.contact().id())) {
                            kept.add(attempt);
                        } else {
                            lost.add(attempt.attemptId());
                            withheldNumbers.add(attempt.contact().number());
                        }
                    }
                    if (kept.size() < attempts.size()) {
                        log.warn("campaign {}: {} of {} contacts about to be dialed are no longer claimed by this node "
                                + "(their lease ran out): left to the node that holds them", id,
                                attempts.size() - kept.size(), attempts.size());
                    }
                    return recordIntents(kept).then(Mono.fromRunnable(() -> {
                        if (setup.scheduler().now(TimeUnit.MILLISECONDS) >= held.untilMillis() && !kept.isEmpty()) {
                            log.error("campaign {}: {} intents were written after their claims could pass to another "
                                    + "node: not sent, UNKNOWN", id, kept.size());
                            kept.forEach(a -> {
                                late.add(a.attemptId());
                                withheldNumbers.add(a.contact().number());
                            });
                        }
                    }));
                });
    }

    private Mono<Void> recordIntents(List<Attempt> attempts) {
        if (attempts.isEmpty()) {
            return Mono.empty();
        }
        for (Attempt attempt : attempts) {
            // Tracked before Create is sent: its HANGUP may reach the webhook before Create's answer reaches us.
            live.put(attempt.attemptId(), new LiveAttempt(attempt, false));
            counters.live.increment();
            setup.registry().expect(attempt, CallContext.of(attempt, setup.config().flow(),
                    setup.config().maxCallLifetime()));
        }
        return setup.ledger().recordIntents(attempts).retryWhen(ledgerOutage());
    }

    private void onDialResult(DialResult result) {
        Attempt attempt = result.attempt();
        CreateOutcome outcome = result.outcome();
        if (outcome instanceof CreateOutcome.Suppressed && lost.remove(attempt.attemptId())) {
            // Another node holds the contact now: nothing of this attempt was written; that node dials it.
            withheldNumbers.remove(attempt.contact().number());
            counters.claimsLost.increment();
            pending.decrementAndGet();
            checkDone();
            return;
        }
        if (outcome instanceof CreateOutcome.Suppressed && late.remove(attempt.attemptId())) {
            // The intent is written, the Create never sent: UNKNOWN, like an intent its node did not live to send.
            withheldNumbers.remove(attempt.contact().number());
            setup.registry().withdraw(attempt.attemptId());
            if (live.remove(attempt.attemptId()) != null) {
                counters.live.decrement();
            }
            counters.outcome(Disposition.UNKNOWN);
            counters.finished.increment();
            setup.ledger().recordResult(new CallResult(attempt.attemptId(), id, null, Disposition.UNKNOWN, null, null,
                            null, null, 0, now()))
                    .subscribe(v -> { }, e -> log.error("campaign {}: ledger write failed", id, e));
            pending.decrementAndGet();
            checkDone();
            return;
        }
        if (outcome instanceof CreateOutcome.Suppressed) {
            setup.registry().withdraw(attempt.attemptId());
            if (live.remove(attempt.attemptId()) != null) {
                counters.live.decrement();
            }
            // A call admitted before a cancel and never sent is not reached; the report counts it as such.
            if (!cancelling()) {
                if (attempt.attemptNumber() == 1) {
                    counters.suppressed.increment();
                    skip(attempt.contact().id(), attempt.contact().number(), "SUPPRESSED", "on a DNC list at dial time")
                            .subscribe(v -> { }, e -> log.error("campaign {}: ledger write failed", id, e));
                } else {
                    counters.finished.increment();
                }
            }
            pending.decrementAndGet();
            checkDone();
            return;
        }
        counters.attempts.increment();
        if (attempt.attemptNumber() == 1) {
            counters.dialed.increment();
        }
        tally(attempt.region()).attempt(setup.scheduler().now(TimeUnit.NANOSECONDS));
        setup.metrics().callOriginated(id, attempt.region());
        LiveAttempt entry = live.get(attempt.attemptId());
        if (result.holdsPermit() && (entry == null || !entry.holdPermit(result.permit()))) {
            result.permit().release(); // the call already ended (its HANGUP beat Create's answer)
        }
        if (outcome instanceof CreateOutcome.Placed placed) {
            if (entry != null) {
                entry.transactionId = placed.transactionId();
            }
            setup.registry().placed(attempt.attemptId(), placed.transactionId());
        } else if (outcome instanceof CreateOutcome.Unknown unknown) {
            log.warn("campaign {}: Create outcome unknown for attempt {} to {} ({}); awaiting reconciliation",
                    id, attempt.attemptId(), Masking.phone(attempt.contact().number()), unknown.cause().toString());
            setup.registry().awaitReconciliation(attempt.attemptId(), setup.reconcileGrace());
        } else if (outcome instanceof CreateOutcome.Rejected rejected) {
            setup.registry().close(attempt.attemptId(), rejected.disposition(), null);
        } else {
            // Throttled or NotSent after every retry, or AtCapacity after every round: the call was not made.
            setup.registry().close(attempt.attemptId(), Disposition.FAILED, null);
        }
    }

    private void onDialError(Throwable error) {
        log.error("campaign {} failed: {}", id, error.toString());
        state.set(State.FAILED);
        done.tryEmitError(error);
    }

    private void onDialComplete() {
        dialDone.set(true);
        checkDone();
    }

    // ---- the webhook side ----

    private void onEvent(CallEvent event) {
        if (event instanceof CallEvent.CallEnded ended) {
            onEnded(ended.result());
        } else if (event instanceof CallEvent.CallStarted started) {
            LiveAttempt entry = live.get(started.attemptId());
            if (entry != null) {
                entry.transactionId = started.transactionId();
            }
            setup.ledger().recordPlaced(started.attemptId(), started.transactionId(), now())
                    .subscribe(v -> { }, e -> log.error("campaign {}: ledger write failed", id, e));
        } else if (event instanceof CallEvent.OptedOut optedOut) {
            setup.dnc().add(optedOut.number());
            log.debug("campaign {}: {} opted out", id, Masking.phone(optedOut.number()));
            if (setup.dncListName() != null) {
                setup.ledger().addDnc(setup.dncListName(), optedOut.number(), now())
                        .subscribe(v -> { }, e -> log.error("campaign {}: ledger write failed", id, e));
            }
        }
    }

    private void onEnded(CallResult result) {
        LiveAttempt entry = live.remove(result.attemptId());
        if (entry == null) {
            // Not this run's call: one of another node's, restored from the ledger by this node's webhook (in a
            // cluster, a dead node's calls fall back to any node), or one that already ended here. Its outcome
            // is recorded all the same; the ledger keeps the first result, so an ended call is not changed.
            setup.ledger().recordResult(result)
                    .subscribe(v -> { }, e -> log.error("campaign {}: ledger write failed", id, e));
            return;
        }
        counters.live.decrement();
        Permit permit = entry.end();
        if (permit != null) {
            permit.release();
        }
        counters.outcome(result.disposition());
        setup.metrics().callEnded(entry.attempt.region(), result);
        setup.ledger().recordResult(result)
                .subscribe(v -> { }, e -> log.error("campaign {}: ledger write failed", id, e));
        if (!scheduleFollowUp(entry.attempt, result.disposition()) && !entry.resumed) {
            counters.finished.increment(); // a resumed call's contact was counted as resumedDone
        }
        pending.decrementAndGet();
        checkDone();
    }

    private boolean scheduleFollowUp(Attempt attempt, Disposition disposition) {
        State s = state.get();
        if (s != State.RUNNING && s != State.PAUSED) {
            return false;
        }
        if (disposition == Disposition.UNKNOWN && !setup.config().redialUnknown()) {
            return false;
        }
        RetryConfig retry = setup.config().retry();
        RetryConfig.Rule rule = retry.rules().get(disposition);
        if (rule == null || attempt.attemptNumber() >= rule.maxAttempts()) {
            return false;
        }
        Duration delay = rule.after();
        if (attempt.attemptNumber() >= retry.maxAttemptsPerNumber() && delay.compareTo(retry.perNumberWindow()) < 0) {
            delay = retry.perNumberWindow(); // the per-number cap: no more attempts within its window
        }
        int next = attempt.attemptNumber() + 1;
        pending.incrementAndGet();
        setup.ledger().scheduleFollowUp(id, attempt.contact().id(), attempt.contact().number(), next, now().plus(delay))
                .onErrorResume(UnsupportedOperationException.class, e -> Mono.empty())
                .subscribe(v -> { }, e -> log.error("campaign {}: ledger write failed", id, e));
        scheduleRequest(new DialRequest(attempt.contact(), next, setup.arguments()), delay);
        return true;
    }

    /** Hands a follow-up to {@link #releaseFollowUp} after {@code delay}; the caller has counted it in pending. */
    private void scheduleRequest(DialRequest request, Duration delay) {
        counters.followUpsPending.increment();
        subscriptions.add(setup.scheduler().schedule(() -> releaseFollowUp(request), delay.toNanos(),
                TimeUnit.NANOSECONDS));
    }

    /** A follow-up is due: it waits for the callee's calling window, then joins the dial queue. */
    private void releaseFollowUp(DialRequest request) {
        State now = state.get();
        if (now == State.RUNNING || now == State.PAUSED) {
            Instant at = now();
            Instant opening = setup.window().nextOpening(request.contact(), at);
            if (opening.isAfter(at) && opening.isBefore(setup.horizon())) {
                subscriptions.add(setup.scheduler().schedule(() -> releaseFollowUp(request),
                        Duration.between(at, opening).toNanos(), TimeUnit.NANOSECONDS));
                return;
            }
            if (!opening.isAfter(at)) {
                counters.followUpsPending.decrement();
                try {
                    // Timers fire on several threads: serialize the emits by busy-looping on contention.
                    followUps.emitNext(request, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
                    return;
                } catch (Sinks.EmissionException e) {
                    log.error("campaign {}: follow-up of contact {} dropped: {}", id, request.contact().id(),
                            e.toString());
                }
            } else {
                // The window never opens before the horizon: the follow-up is settled in the ledger as taken, so
                // that the contact is final there (a cluster's claim on it ends, a resumed run skips it).
                counters.followUpsPending.decrement();
                setup.ledger().markFollowUpTaken(id, request.contact().id(), request.attemptNumber(), at)
                        .onErrorResume(UnsupportedOperationException.class, e -> Mono.empty())
                        .subscribe(v -> { }, e -> log.error("campaign {}: ledger write failed", id, e));
            }
        } else {
            counters.followUpsPending.decrement();
        }
        // cancelled meanwhile, or no window left: the follow-up is dropped and the contact is final
        counters.finished.increment();
        pending.decrementAndGet();
        checkDone();
    }

    private void checkDone() {
        State s = state.get();
        if (s == State.CANCELLING) {
            if (dialDone.get() && live.isEmpty()) {
                finish(State.CANCELLED);
            }
            return;
        }
        if (sourceDone.get() && pending.get() == 0) {
            followUps.emitComplete(Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
            if (dialDone.get()) {
                finish(State.COMPLETED);
            }
        }
    }

    private void finish(State end) {
        State before = state.getAndUpdate(s -> s == State.COMPLETED || s == State.CANCELLED || s == State.FAILED
                ? s : end);
        if (before == State.COMPLETED || before == State.CANCELLED || before == State.FAILED) {
            return;
        }
        log.info("campaign {} {}: {} attempts, outcomes {}", id, end.name().toLowerCase(java.util.Locale.ROOT),
                counters.attempts.sum(), counters.outcomes());
        subscriptions.dispose();
        done.tryEmitEmpty();
    }

    /** Releases this run's subscriptions (the composition root calls it on shutdown). */
    public void dispose() {
        subscriptions.dispose();
    }

    /** The report as of now. */
    public RunReport report() {
        double seconds = (setup.scheduler().now(TimeUnit.NANOSECONDS) - startedAtNanos) / 1e9;
        long waiting = gate.waitingCount();
        long accounted = counters.invalid.sum() + counters.duplicate.sum() + counters.suppressed.sum()
                + counters.windowExpired.sum() + counters.dialed.sum() + counters.resumedDone.sum() + waiting;
        RunReport.Contacts contacts = new RunReport.Contacts(counters.total.sum(), counters.invalid.sum(),
                counters.duplicate.sum(), counters.suppressed.sum(), counters.windowExpired.sum(),
                counters.dialed.sum(), counters.resumedDone.sum(), waiting,
                Math.max(0, counters.total.sum() - accounted));
        Map<String, RunReport.RegionReport> regions = new LinkedHashMap<>();
        for (String name : setup.config().regions().keySet()) {
            RegionPacing pacing = setup.regions().get(name);
            RegionTally t = tally(name);
            regions.put(name, new RunReport.RegionReport(t.attempts.get(), setup.originator().throttled(name),
                    pacing.config().callsPerSecond(), t.achievedCps(), pacing.rate().effectiveRate(),
                    pacing.permits().peak(), pacing.permits().configuredCap()));
        }
        Map<Disposition, Long> outcomes = new EnumMap<>(counters.outcomes());
        return new RunReport(id, state.get().name(), contacts, counters.attempts.sum(), outcomes, regions,
                Math.max(0, seconds));
    }

    private RegionTally tally(String region) {
        return regionTally.computeIfAbsent(region, r -> new RegionTally());
    }

    private Instant now() {
        return Instant.ofEpochMilli(setup.scheduler().now(TimeUnit.MILLISECONDS));
    }

    /** An attempt whose one CallEnded has not arrived yet. */
    private static final class LiveAttempt {
        final Attempt attempt;
        /** Taken over from a previous run: holds no permit, and its contact already counts as resumedDone. */
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

    /** A Region's attempts for this campaign and the span they were sent in. */
    private static final class RegionTally {
        final AtomicLong attempts = new AtomicLong();
        final AtomicLong first = new AtomicLong(Long.MIN_VALUE);
        final AtomicLong last = new AtomicLong(Long.MIN_VALUE);

        void attempt(long nanos) {
            attempts.incrementAndGet();
            first.compareAndSet(Long.MIN_VALUE, nanos);
            last.set(nanos);
        }

        double achievedCps() {
            long n = attempts.get();
            long span = last.get() - first.get();
            if (n < 2 || span <= 0) {
                return n;
            }
            return (n - 1) / (span / 1e9);
        }
    }
}
