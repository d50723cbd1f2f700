package io.chimedialer.core.cluster;

import io.chimedialer.core.cluster.ClaimStore.Held;
import io.chimedialer.core.contacts.ClaimGuard;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.ledger.Ledger;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/**
 * A campaign's contacts for this node, claimed from the shared {@code cluster_contacts} table in batches, so that
 * no two nodes ever hold the same contact: the {@code CampaignRun}'s source in a cluster. The protocol is in
 * docs/scale-out.md ("Contacts: claimed once, never dialed twice"); the SQL is in {@link ClaimStore}.
 *
 * <ul>
 * <li><b>Claims</b>: a batch at a time as the run asks (one batch ahead at most). Each claim carries a lease of its
 * own, set when claimed and extended by {@link #confirm}, and the lease of this run's row in {@code cluster_leases},
 * renewed every third of the lease until {@link #close()}: one row written per renewal however many contacts the
 * run holds. A claim lapses when both have run out, so a dead node's claims pass one lease after its last renewal.
 * <li><b>Expired claims</b> (of any node) are settled against the ledger first, in the same transaction: DONE when
 * it holds the contact's final state; <i>adopted</i> when another node's contact has a follow-up pending and no
 * open attempt (its follow-ups are emitted on {@link #adoptedFollowUps()}); ORPHANED when its attempt is open
 * (ended UNKNOWN by {@code closeOrphans} unless its HANGUP still comes). Only claims the ledger does not know
 * (never dialed: the intent precedes the Create) are claimed again.
 * <li><b>Done</b>: {@link #rows()} completes when the import is complete and no contact is pending, claimed, or
 * ORPHANED with an open attempt, on any node.
 * <li><b>The fence</b>: a node that cannot renew for a whole lease signals {@link #leaseLost()} and counts rows
 * handed out late ({@link #late()}); the run confirms each batch with {@link #confirm} right before its intents.
 * </ul>
 *
 * <p>Thread-safe; JDBC runs on the given scheduler (one that may block, e.g. {@code Schedulers.boundedElastic()}).
 */
public final class ClaimingSource implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClaimingSource.class);

    private final ClusterDatabase db;
    private final ClaimStore store;
    private final String campaignId;
    private final ClusterSettings settings;
    private final Clock clock;
    private final Scheduler scheduler;
    private final AtomicBoolean subscribed = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean lastEmpty = new AtomicBoolean();
    /** Claim rounds and renewals, one at a time (see {@link #transact}). */
    private final ReentrantLock transactions = new ReentrantLock();
    /** Contacts this source handed to the run and has not yet seen settled: claiming one again must not re-emit it. */
    private final Set<String> outstanding = ConcurrentHashMap.newKeySet();
    private final ClaimRounds rounds;
    private final AtomicLong adopted = new AtomicLong();
    private final AtomicLong late = new AtomicLong();
    private final Sinks.Empty<Void> leaseLost = Sinks.empty();
    private final Sinks.Many<Ledger.FollowUp> adoptedFollowUps = Sinks.many().unicast().onBackpressureBuffer();
    /** Completes when {@link #rows()} is subscribed: the renewals start then. */
    private final Sinks.Empty<Void> started = Sinks.empty();
    /** The renewals, every third of the lease from the first subscription to {@link #rows()} until {@link #close()}. */
    private final Disposable renewals;
    private volatile long renewedUntil = Long.MIN_VALUE;

    /**
     * @param db         the cluster database (the ledger's PostgreSQL)
     * @param campaignId the campaign
     * @param settings   this node's id, lease, batch size and poll interval
     * @param clock      leases are epoch milliseconds of this clock: keep the nodes' clocks in sync (NTP)
     * @param scheduler  runs the JDBC work and the timers (may block)
     */
    public ClaimingSource(ClusterDatabase db, String campaignId, ClusterSettings settings, Clock clock,
                          Scheduler scheduler) {
        this.db = Objects.requireNonNull(db, "db");
        this.campaignId = Objects.requireNonNull(campaignId, "campaignId");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        // this run's lease row: a restarted node (same id) is a new holder, so its predecessor's claims lapse
        this.store = new ClaimStore(campaignId, settings.nodeId(), settings.nodeId() + "/"
                + java.util.UUID.randomUUID());
        this.rounds = new ClaimRounds(store, campaignId, settings, clock, outstanding);
        Duration period = settings.lease().dividedBy(3);
        this.renewals = started.asMono()
                .thenMany(Flux.interval(period, period, scheduler))
                .onBackpressureDrop()
                .concatMap(i -> renew().onErrorResume(e -> {
                    log.warn("campaign {}: claim renewal failed: {}", campaignId, e.getMessage());
                    checkLease();
                    return Mono.empty();
                }), 1)
                .subscribe();
    }

    /** The campaign. */
    public String campaignId() {
        return campaignId;
    }

    /**
     * The claimed rows, pulled: a batch is claimed when the run asks for more. Subscribe once; completes when
     * the campaign has no pending or claimed contact left in the cluster. A database outage pauses it (retried
     * with backoff); any other database failure ends it with a {@link ClusterException}. Cancelling keeps the claims (they are
     * renewed until {@link #close()}).
     */
    public Flux<ContactRow> rows() {
        return Flux.defer(() -> {
            if (closed.get()) {
                return Flux.error(new IllegalStateException("claiming source of " + campaignId + " is closed"));
            }
            if (!subscribed.compareAndSet(false, true)) {
                return Flux.error(new IllegalStateException("claiming source of " + campaignId
                        + " is subscribed once"));
            }
            started.tryEmitEmpty(); // the renewals start
            return Mono.fromCallable(this::step).subscribeOn(scheduler)
                    .retryWhen(outage())
                    .repeatWhen(rounds -> rounds.concatMap(n -> lastEmpty.get()
                            ? Mono.delay(settings.pollInterval(), scheduler)
                            : Mono.just(n), 1))
                    .takeUntil(ClaimRounds.Step::finished)
                    .concatMapIterable(ClaimRounds.Step::held, 1)
                    .doOnNext(this::checkHeld)
                    .map(Held::row);
        });
    }

    /** A database outage or a lost deadlock race delays the next claim (backoff up to 5 s); it never ends the rows. */
    private Retry outage() {
        return Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200))
                .maxBackoff(Duration.ofSeconds(5))
                .filter(ClusterDatabase::isTransient)
                .scheduler(scheduler)
                .doBeforeRetry(signal -> {
                    if (signal.totalRetriesInARow() % 10 == 0) {
                        log.warn("campaign {}: claiming paused, database unavailable: {}", campaignId,
                                signal.failure().getMessage());
                    }
                });
    }

    /** Completes when this node failed to renew its claims for a whole lease (see the class comment). */
    public Mono<Void> leaseLost() {
        return leaseLost.asMono();
    }

    /** Contacts claimed by this source so far (each claim once). */
    public long claimed() {
        return rounds.claimed();
    }

    /** Of {@link #claimed()}, those that another node had claimed before and lost with its lease. */
    public long reclaimed() {
        return rounds.reclaimed();
    }

    /** Contacts found settled by the ledger when claimed (an earlier run) and marked DONE without emitting. */
    public long settled() {
        return rounds.settled();
    }

    /** Expired claims (of any node) this source found with an open attempt and marked ORPHANED. */
    public long orphaned() {
        return rounds.orphaned();
    }

    /** Open attempts of ORPHANED contacts this source ended as UNKNOWN (see the class comment). */
    public long closedOrphans() {
        return rounds.closedOrphans();
    }

    /** Expired claims of other nodes adopted for their pending follow-ups (see the class comment). */
    public long adopted() {
        return adopted.get();
    }

    /**
     * The follow-ups of the contacts this source adopted from dead nodes, each once, in due order within a claim
     * round; subscribe once, before {@link #rows()}. Each is emitted on the claiming thread right after the
     * adoption committed and before the next claim round, so a subscriber that counts it as pending work at
     * once (see {@code CampaignRun.adoptFollowUp}) holds its run open: the contact stays claimed by this node
     * until the follow-up's attempt is settled in the ledger, and {@link #rows()} completes only after that.
     * Nothing here marks a follow-up taken: its intent does, when it is dialed, as for the node's own follow-ups.
     * Completes on {@link #close()}.
     */
    public Flux<Ledger.FollowUp> adoptedFollowUps() {
        return adoptedFollowUps.asFlux();
    }

    /**
     * Confirms that this node still holds these contacts, right before their intents are written, and extends
     * their claims to a full lease from now: the fence of {@code ClaimGuard}. A contact counts as held
     * while its row is {@code CLAIMED} by this node, even when its lease ran out but no other node has claimed
     * it yet; the update takes the row's lock, so a concurrent claim by another node either waits for it (and
     * then finds the lease extended) or has already taken the row (and the contact is not returned). Another node
     * may claim a returned contact only after {@code untilMillis}, and not at all once its intent is written.
     *
     * @param contactKeys the contacts about to be dialed
     * @return the contacts still held, and until when
     */
    public Mono<ClaimGuard.Held> confirm(List<String> contactKeys) {
        Objects.requireNonNull(contactKeys, "contactKeys");
        if (contactKeys.isEmpty()) {
            return Mono.just(new ClaimGuard.Held(Set.of(), clock.millis()));
        }
        // Not queued behind this node's claim rounds: a confirmation stands between the run and its next call.
        // It may meet a renewal on the same rows; PostgreSQL then fails one of the two, and both are retried.
        return Mono.fromCallable(() -> db.transact("claim confirmation", c -> {
            long until = clock.millis() + settings.lease().toMillis();
            Set<String> held = store.confirm(c, contactKeys, until);
            for (String key : contactKeys) {
                if (!held.contains(key)) {
                    outstanding.remove(key); // another node's now: should it come back, it is handed out again
                }
            }
            return new ClaimGuard.Held(held, until);
        })).subscribeOn(scheduler).retryWhen(outage());
    }

    /** Rows handed to the run after their lease had run out (they are dialed only if {@link #confirm} holds them). */
    public long late() {
        return late.get();
    }

    /**
     * Renews this node's unexpired claims and marks the settled ones DONE, now (it also runs every third of the
     * lease while the rows are subscribed).
     *
     * @return how many claims this node still holds
     */
    public Mono<Integer> renew() {
        return Mono.fromCallable(this::renewNow).subscribeOn(scheduler);
    }

    /**
     * Stops renewing and gives the claims back: contacts the ledger does not know return to PENDING for the
     * other nodes, those with an open attempt become ORPHANED (a later claim round ends the attempt, see
     * {@code closeOrphans}), settled ones DONE. The ledger is read by key, as in the claim rounds.
     * Call it only once the run that consumed {@link #rows()} is over and the ledger's writes are flushed (close
     * the ledger first): a contact handed to a live run must not be given back. Blocking; idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        renewals.dispose();
        adoptedFollowUps.tryEmitComplete();
        try {
            int[] counts = transact("release claims", c -> {
                int[] left = rounds.leave(c);
                store.dropLease(c, clock.millis());
                return left;
            });
            log.info("campaign {}: node {} left its claims: {} done, {} released, {} orphaned", campaignId,
                    settings.nodeId(), counts[0], counts[1], counts[2]);
        } catch (ClusterException e) {
            // the claims expire by themselves after the lease
            log.warn("campaign {}: claims not released ({}); they expire after {}", campaignId, e.getMessage(),
                    settings.lease());
        }
    }

    // ---- internals ----

    /**
     * Runs a claim round or a renewal, one at a time: both update many rows of this node, and run concurrently they
     * would deadlock each other (PostgreSQL breaks the tie after a second, which is a second of stalled renewals).
     */
    private <T> T transact(String action, ClusterDatabase.SqlWork<T> work) {
        transactions.lock();
        try {
            return db.transact(action, work);
        } finally {
            transactions.unlock();
        }
    }

    private void checkLease() {
        long until = renewedUntil;
        if (until != Long.MIN_VALUE && clock.millis() >= until
                && leaseLost.tryEmitEmpty() == Sinks.EmitResult.OK) {
            log.error("campaign {}: node {} could not renew its claims for {}: they may pass to other nodes",
                    campaignId, settings.nodeId(), settings.lease());
        }
    }

    private int renewNow() {
        return transact("claim renewal", c -> {
            long now = clock.millis();
            rounds.markDone(c, now);
            long until = now + settings.lease().toMillis();
            // one row: every claim of this run is valid while its lease row is (see ClaimStore)
            store.renew(c, until);
            int held = store.held(c);
            long previous = renewedUntil;
            renewedUntil = until;
            long gap = now - (previous - settings.lease().toMillis());
            if (previous != Long.MIN_VALUE && gap > settings.lease().toMillis() / 2) {
                log.warn("campaign {}: node {} renewed its claims {} ms after the previous renewal (lease {}): a"
                        + " claim lost if that reaches the lease", campaignId, settings.nodeId(), gap, settings.lease());
            }
            return held;
        });
    }

    /** A row handed out after its lease ran out is counted (the run's confirmation decides whether it is dialed). */
    private void checkHeld(Held held) {
        if (clock.millis() >= Math.max(held.until(), renewedUntil)) {
            late.incrementAndGet();
            checkLease();
        }
    }

    private ClaimRounds.Step step() {
        List<Ledger.FollowUp> adoptedNow = new ArrayList<>();
        ClaimRounds.Step step = transact("claim", c -> rounds.round(c, adoptedNow));
        // Committed: hand the adopted follow-ups over before this round's rows, and before any later round
        // could find the campaign finished (the adopted contacts are claimed by this node).
        if (!adoptedNow.isEmpty()) {
            adopted.addAndGet(adoptedNow.stream().map(Ledger.FollowUp::contactKey).distinct().count());
            log.info("campaign {}: adopted {} follow-ups of expired claims of other nodes", campaignId,
                    adoptedNow.size());
            for (Ledger.FollowUp followUp : adoptedNow) {
                Sinks.EmitResult result = adoptedFollowUps.tryEmitNext(followUp);
                if (result.isFailure()) {
                    log.error("campaign {}: adopted follow-up of contact {} not handed over: {}", campaignId,
                            followUp.contactKey(), result);
                }
            }
        }
        step.held().forEach(held -> outstanding.add(held.key()));
        lastEmpty.set(step.held().isEmpty());
        return step;
    }
}
