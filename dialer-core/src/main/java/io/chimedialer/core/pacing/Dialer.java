package io.chimedialer.core.pacing;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.util.MonoMerge;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The backpressured dialing stage of one campaign: contacts in, one {@link DialResult} per contact out.
 *
 * <p>For each request, in order: a Region from the {@link RegionRouter}; an active-call permit of that
 * Region (waiting if none is free); an {@link Attempt} with a new id and the Region's next from-number;
 * then {@code beforePlace} (the ledger writes the intents) is awaited for the attempt's batch, and no attempt is
 * sent before its own batch's {@code beforePlace} completed; then, right before each dial, the DNC check and the
 * Region's health (a failed Region's admitted attempts are {@link CreateOutcome.Withdrawn}, not sent); then
 * {@link ResilientCreate}, whose outcome the Region's {@link RegionHealth} judges (a refusal that is the
 * account's or the Region's fault fails the Region).
 *
 * <p><b>Natural batching.</b> Admission does not wait for the ledger: contacts go on being routed, permitted
 * and paced while intents commit. Whenever fewer than {@code commitsInFlight} batches are being written, the
 * attempts admitted meanwhile (at most {@code batchSize}) form the next batch, so a batch is one attempt when the
 * ledger is quick and grows with its latency under load; batches may commit in any order (see
 * {@link DialerSettings}).
 *
 * <p><b>The webhook's lag.</b> After a Region is chosen and before its permit is taken, a contact waits while the
 * Region's {@link AdmissionHold} holds (the webhook's answers lag): no new call starts, calls in progress go on.
 *
 * <p><b>Backpressure.</b> The contact {@code Flux} is asked for one contact at a time, and only after the
 * previous contact got its permit (and its Region's rate would let it go within the admission lookahead): it is
 * never asked for more than the held permits plus one. Admitted attempts waiting for their commit hold their
 * permits, so memory does not grow with the list.
 *
 * <p><b>Permits.</b> Placed and Unknown keep their permit (the call may be live; its HANGUP or the
 * lifetime guard releases it); every other outcome releases it before the result is emitted. AtCapacity
 * (the account's active-call quota is full; the call was not created) shrinks the Region's cap to what is
 * live, and the same attempt waits for a permit and is sent again, up to {@code maxAtCapacityRounds}.
 *
 * <p><b>The campaign's own limits and priority</b> ({@link CampaignPacing}). Before a Region is chosen, a contact
 * waits for a live-call permit of the campaign's {@code max-active-calls} (tied to the Region permit it then gets, so
 * both come back together) and for the campaign's {@code calls-per-second} (counting the calls it admitted and has
 * not sent), so that a campaign held by its own caps takes nothing of a shared Region meanwhile. In the Region, its
 * active-call permit is queued by the campaign's priority, and its rate gate counts ahead of its own calls those of
 * every campaign of a higher priority there, admitted or waiting ({@link RegionDemand}: strict, work-conserving).
 * The Create then takes a permit of the campaign's rate and of the Region's ({@link ResilientCreate}). A Dialer
 * dials once: its demand leaves the Regions when the returned Flux terminates.
 *
 * <p><b>Failures.</b> Per-call failures are outcomes. If {@code beforePlace} fails, no attempt of its batch
 * is sent, nor any admitted attempt whose batch had not committed yet (the other commits in flight are
 * cancelled); their permits are released, and the returned Flux errors (the pipeline's failure is an event).
 */
public final class Dialer {
    /** How often an attempt waiting for an unproven Region's probe looks again. */
    private static final Duration PROBE_WAIT = Duration.ofMillis(5);
    /**
     * The shortest wait before admission looks at a rate gate again. The gate's wait is the time until one more
     * permit would fall within the lookahead, a single permit's interval (100 us at 10,000/s) when the admitted calls
     * wait for something else than the rate (their commit, a free slot among the Creates in flight): admission
     * then polled at the configured rate, each poll a timer and a thread wake-up, and that was the largest part
     * of the {@code dialer} threads' CPU at high rates (issue 17). Waiting at least this long admits a few
     * contacts per wake-up instead; it never admits one earlier than the gate allows, and the lookahead (50 ms
     * by default) keeps sends fed meanwhile.
     */
    static final Duration MIN_RATE_RECHECK = Duration.ofMillis(1);
    private static final long MIN_RATE_RECHECK_NANOS = MIN_RATE_RECHECK.toNanos();

    private final String campaignId;
    private final RegionRouter router;
    private final ResilientCreate create;
    private final DialerSettings settings;
    private final Supplier<String> attemptIds;
    private final Scheduler scheduler;
    private final int concurrency;
    private final long lookaheadNanos;
    private final CampaignPacing campaign;
    /** This campaign's demand in each of its Regions, by Region name (see {@link RegionDemand}). */
    private final Map<String, RegionDemand.Lane> lanes = new ConcurrentHashMap<>();
    /** Calls admitted to any Region and not yet sent: what the campaign's own rate gate counts. */
    private final AtomicInteger admitted = new AtomicInteger();
    /** The router's view of each Region's rate: this Dialer's own admission gate, counting what it admitted. */
    private final java.util.function.ToLongFunction<RegionPacing> routeWait = region -> rateWait(region, lane(region));

    /**
     * @param campaignId the campaign (sent in every call's ArgumentsMap)
     * @param router     the campaign's Regions and weights
     * @param create     the resilience chain
     * @param settings   batching and capacity handling
     * @param attemptIds a new, globally unique attempt id per call
     * @param scheduler  the time source of the rate gate and the probe wait
     */
    public Dialer(String campaignId, RegionRouter router, ResilientCreate create, DialerSettings settings,
                  Supplier<String> attemptIds, Scheduler scheduler) {
        this(CampaignPacing.unlimited(campaignId), router, create, settings, attemptIds, scheduler);
    }

    /**
     * A Dialer that also holds the campaign's own limits and takes its Regions' rate by its priority.
     *
     * @param campaign   the campaign's pacing; its name is sent in every call's ArgumentsMap
     */
    public Dialer(CampaignPacing campaign, RegionRouter router, ResilientCreate create, DialerSettings settings,
                  Supplier<String> attemptIds, Scheduler scheduler) {
        this.campaign = Objects.requireNonNull(campaign, "campaign");
        this.campaignId = campaign.campaign();
        this.router = Objects.requireNonNull(router, "router");
        this.create = Objects.requireNonNull(create, "create");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.attemptIds = Objects.requireNonNull(attemptIds, "attemptIds");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.lookaheadNanos = settings.admissionLookahead().toNanos();
        // Creates in flight: every one holds a permit, so the Regions' caps bound them; and so does what the SDK's
        // HTTP clients carry (a request beyond a client's pool and its waiters is refused at once as NotSent).
        this.concurrency = Math.max(1, router.regions().stream()
                .mapToInt(r -> Math.min(r.permits().configuredCap(), settings.createsInFlight())).sum());
    }

    /**
     * Dials each contact's first attempt.
     *
     * @param contacts    the contacts, pulled as permits allow
     * @param beforePlace awaited before any attempt of the batch is sent (the ledger writes the intents)
     * @param suppressed  the DNC check on the E.164 number, called right before each dial
     */
    public Flux<DialResult> dial(Flux<Contact> contacts, Function<List<Attempt>, Mono<Void>> beforePlace,
                                 Predicate<String> suppressed) {
        return dialRequests(contacts.map(DialRequest::first), beforePlace, suppressed);
    }

    /** Like {@link #dial}, for requests that carry an attempt number (retries) and extra arguments. */
    public Flux<DialResult> dialRequests(Flux<DialRequest> requests, Function<List<Attempt>, Mono<Void>> beforePlace,
                                         Predicate<String> suppressed) {
        return dialRequests(requests, beforePlace, suppressed, () -> false);
    }

    /**
     * Like {@link #dialRequests(Flux, Function, Predicate)}, with a hold: an admitted attempt that reaches its
     * Create while {@code held} says so (the campaign is paused) is not sent but comes back
     * {@link CreateOutcome.Withdrawn}, its permit released, so that its intent can be withdrawn and its contact
     * queued again before admission rather than held with an open intent.
     *
     * @param held checked right before each Create (and before its DNC check)
     */
    public Flux<DialResult> dialRequests(Flux<DialRequest> requests, Function<List<Attempt>, Mono<Void>> beforePlace,
                                         Predicate<String> suppressed, BooleanSupplier held) {
        Objects.requireNonNull(beforePlace, "beforePlace");
        Objects.requireNonNull(suppressed, "suppressed");
        Objects.requireNonNull(held, "held");
        // A commit completes on the ledger's writer thread: the batch's Creates go on the dialer's scheduler, so
        // that the writer is free for the next commit instead of sending hundreds of requests first.
        NaturalBatches<Ticket> intents = new NaturalBatches<>(settings.batchSize(), settings.commitsInFlight(),
                batch -> beforePlace.apply(batch.stream().map(Ticket::attempt).toList()).publishOn(scheduler),
                this::drop);
        // prefetch 0: the next request is asked for only when the previous one holds its permit. Admission goes
        // on while intents commit: each commit takes what was admitted meanwhile.
        // MonoMerge, not flatMap: flatMap scans all its inners (here up to createsInFlight) on every Create's answer.
        return MonoMerge.flatMap(requests
                        .concatMap(this::admit, 0)
                        .transform(intents::apply),
                        ticket -> place(ticket, suppressed, held, 0), concurrency)
                // Tickets dropped by a cancel or an error (admitted, not yet committed) were never sent.
                .doOnDiscard(Ticket.class, this::drop)
                // The campaign no longer takes any Region's rate: lower priorities get all of it.
                .doFinally(signal -> lanes.forEach((name, lane) -> router.regions().stream()
                        .filter(r -> r.name().equals(name)).forEach(r -> r.demand().leave(lane))));
    }

    /**
     * The campaign's own limits first (a live-call permit of its cap, then its rate), so that a campaign held by
     * them takes nothing of a Region meanwhile; then a Region, its active-call permit (by priority) and its rate.
     */
    private Mono<Ticket> admit(DialRequest request) {
        Optional<ActivePermits> own = campaign.liveCalls();
        if (own.isEmpty()) {
            return untilCampaignRateAllows().then(Mono.defer(() -> admitToRegion(request, null)));
        }
        return own.get().acquire().flatMap(ownPermit -> untilCampaignRateAllows()
                .then(Mono.defer(() -> admitToRegion(request, ownPermit)))
                // Given up before its call was admitted: the campaign's permit was never used.
                .doOnCancel(ownPermit::release));
    }

    private Mono<Ticket> admitToRegion(DialRequest request, Permit ownPermit) {
        // Until the Region's check at start ended, and while the webhook lags, no new call starts (nothing is
        // admitted yet: no permit, no intent).
        return router.next(routeWait).flatMap(region -> region.ready().then(region.admission().whenOpen())
                .then(Mono.defer(() -> region.permits().acquire(campaign.priority())))
                .flatMap(permit -> whenRateAllows(region, request, permit, ownPermit)));
    }

    private Mono<Ticket> whenRateAllows(RegionPacing region, DialRequest request, Permit permit, Permit ownPermit) {
        RegionDemand.Lane lane = lane(region);
        if (rateWait(region, lane) <= 0) {
            return Mono.just(ticket(region, lane, request, permit, ownPermit));
        }
        // Waiting for the Region's rate: campaigns of a lower priority count this contact ahead of theirs.
        lane.waiting.incrementAndGet();
        return untilRateAllows(region, lane)
                .then(Mono.fromSupplier(() -> ticket(region, lane, request, permit, ownPermit)))
                .doFinally(signal -> lane.waiting.decrementAndGet())
                // Given up while waiting for the rate: the permit was never used.
                .doOnCancel(permit::release);
    }

    /** Completes when the campaign's own rate would let one more call go within the lookahead. */
    private Mono<Void> untilCampaignRateAllows() {
        if (campaign.rate() == null) {
            return Mono.empty();
        }
        return recheckUntil(() -> campaign.rate().nanosToPermit(admitted.get() + 1) - lookaheadNanos);
    }

    private Ticket ticket(RegionPacing region, RegionDemand.Lane lane, DialRequest request, Permit permit,
                          Permit ownPermit) {
        Attempt attempt = new Attempt(attemptIds.get(), campaignId, request.contact(), request.attemptNumber(),
                region.name(), region.nextFromNumber());
        permit.bind(attempt.attemptId());
        if (ownPermit != null) {
            ownPermit.bind(attempt.attemptId());
            permit.tie(ownPermit);
        }
        lane.pending.incrementAndGet();
        admitted.incrementAndGet();
        return new Ticket(region, lane, attempt, request, permit, new AtomicBoolean());
    }

    /**
     * Completes when the Region's rate would let one more call go within the lookahead, counting the calls
     * admitted there but not yet sent. Without this gate, contacts admitted by active-call permits alone
     * would queue inside the limiter (up to a cap's worth of seconds), routed and past the breaker long
     * before they are sent. The chain still takes its own rate permit when it runs; this only keeps
     * admission in step with it. One O(1) look at the limiter per check, whatever the rate.
     */
    private Mono<Void> untilRateAllows(RegionPacing region, RegionDemand.Lane lane) {
        return recheckUntil(() -> rateWait(region, lane));
    }

    /**
     * Completes once {@code wait} is 0 or less, looking again after each positive wait (at least
     * {@link #MIN_RATE_RECHECK}). A loop, not a recursion: each look used to nest one more operator in the chain,
     * which a long wait at a high rate made thousands deep (a stack overflow when it completed).
     */
    private Mono<Void> recheckUntil(java.util.function.LongSupplier wait) {
        return Mono.defer(() -> {
            long nanos = wait.getAsLong();
            return nanos <= 0 ? Mono.just(Boolean.TRUE)
                    : Mono.delay(Duration.ofNanos(Math.max(nanos, MIN_RATE_RECHECK_NANOS)), scheduler)
                            .then(Mono.<Boolean>empty());
        }).repeatWhenEmpty(repeats -> repeats).then();
    }

    /**
     * How long one more call admitted in the Region now would wait for its rate beyond the lookahead (0 or
     * less: none). The router routes by it too, so that a rate-bound Region does not hold back the others. The
     * calls of campaigns of a higher priority in the Region, admitted or waiting, go first ({@link RegionDemand}).
     */
    private long rateWait(RegionPacing region, RegionDemand.Lane lane) {
        return region.limiter().nanosToPermit(lane.pending.get() + region.demand().ahead(lane) + 1) - lookaheadNanos;
    }

    private RegionDemand.Lane lane(RegionPacing region) {
        RegionDemand.Lane known = lanes.get(region.name());
        return known != null ? known
                : lanes.computeIfAbsent(region.name(), k -> region.demand().join(campaign.priority()));
    }

    private Mono<DialResult> place(Ticket ticket, Predicate<String> suppressed, BooleanSupplier held, int round) {
        return Mono.defer(() -> {
            leave(ticket);
            if (held.getAsBoolean()) {
                ticket.permit.release();
                return Mono.just(new DialResult(ticket.attempt,
                        new CreateOutcome.Withdrawn(ResilientCreate.HELD), ticket.permit));
            }
            if (suppressed.test(ticket.attempt.contact().number())) {
                ticket.permit.release();
                return Mono.just(new DialResult(ticket.attempt, new CreateOutcome.Suppressed(), ticket.permit));
            }
            RegionHealth health = ticket.region.health();
            if (!health.up()) {
                // The Region failed after this attempt was admitted: it is not sent, and its contact is dialed later.
                ticket.permit.release();
                String reason = "Region " + ticket.region.name() + " failed: "
                        + health.failure().map(RegionHealth.Failure::describe).orElse("");
                return Mono.just(new DialResult(ticket.attempt, new CreateOutcome.Withdrawn(reason), ticket.permit));
            }
            if (!health.mayProbe()) {
                // The Region has not accepted a Create yet: one goes first, the others wait for its outcome.
                // A loop that looks without claiming (only place claims), then one new place: nesting grows by one
                // per probe this attempt waited for, not by one per look (a probe of minutes overflowed the stack).
                return Mono.defer(() -> health.probeFree() ? Mono.just(Boolean.TRUE) : Mono.<Boolean>empty())
                        .repeatWhenEmpty(looks -> looks.concatMap(look -> Mono.delay(PROBE_WAIT, scheduler)))
                        .then(Mono.defer(() -> place(ticket, suppressed, held, round)));
            }
            return create.create(ticket.attempt, ticket.region, campaign.rate(), ticket.request.arguments(), held)
                    .map(outcome -> health.judge(outcome, Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS))))
                    .flatMap(outcome -> settle(ticket, outcome, suppressed, held, round));
        });
    }

    private Mono<DialResult> settle(Ticket ticket, CreateOutcome outcome, Predicate<String> suppressed,
                                    BooleanSupplier held, int round) {
        if (outcome instanceof CreateOutcome.AtCapacity && round < settings.maxAtCapacityRounds()) {
            ActivePermits permits = ticket.region.permits();
            // Shrink before releasing: released first, the permit would go straight to a waiter. The campaign's own
            // live-call permit stays with the attempt.
            permits.shrinkTo(permits.inUse() - 1);
            Permit own = ticket.permit.untie();
            ticket.permit.release();
            return permits.acquireAhead().flatMap(permit -> {
                permit.bind(ticket.attempt.attemptId());
                if (own != null) {
                    permit.tie(own);
                }
                return place(ticket.withPermit(permit), suppressed, held, round + 1);
            });
        }
        if (!outcome.mayBeLive()) {
            ticket.permit.release();
        }
        return Mono.just(new DialResult(ticket.attempt, outcome, ticket.permit));
    }

    /** A ticket that will never be sent: its permit goes back, and it no longer counts as pending. */
    private void drop(Ticket ticket) {
        leave(ticket);
        ticket.permit.release();
    }

    private void leave(Ticket ticket) {
        if (ticket.left.compareAndSet(false, true)) {
            ticket.lane.pending.decrementAndGet();
            admitted.decrementAndGet();
        }
    }

    /** An admitted attempt; {@code left} turns true once it stops counting as pending admission. */
    private record Ticket(RegionPacing region, RegionDemand.Lane lane, Attempt attempt, DialRequest request,
                          Permit permit, AtomicBoolean left) {
        Ticket withPermit(Permit other) {
            return new Ticket(region, lane, attempt, request, other, left);
        }
    }
}
