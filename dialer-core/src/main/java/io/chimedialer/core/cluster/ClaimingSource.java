package io.chimedialer.core.cluster;

import io.chimedialer.core.contacts.ClaimGuard;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.RejectKind;
import io.chimedialer.core.ledger.Ledger;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * A campaign's contacts for this node, claimed from the shared {@code cluster_contacts} table in batches, so
 * that no two nodes ever hold the same contact: the {@code CampaignRun}'s source
 * in a cluster.
 *
 * <p><b>Claims.</b> A batch is taken with {@code SELECT ... FOR UPDATE SKIP LOCKED} and marked
 * {@code CLAIMED} by this node with a lease ({@code lease_until = now + lease}); the claims are renewed every
 * third of the lease while the source is open. Contacts are claimed only as the run asks for them (one batch
 * ahead at most), so a node takes work at the pace it dials.
 *
 * <p><b>Never a second first attempt.</b> Before claiming, expired claims of any node are settled against the
 * ledger (same database): a contact whose intent or skip is recorded is never claimed again; it becomes
 * {@code DONE} when its final state is recorded and {@code ORPHANED} when its attempt is still open (it ends
 * UNKNOWN, per the at-most-once policy, unless its call's HANGUP still arrives: see {@code closeOrphans}). Only
 * expired claims that the ledger does not know (claimed, never
 * dialed) pass to the claiming node. A contact that an earlier run already settled is marked {@code DONE} and
 * not emitted. The intent is written before any Create and in the same transaction as the ledger's contact
 * progress, so "no progress row" means "never dialed".
 *
 * <p><b>Follow-ups of a dead node.</b> An expired claim of another node whose contact has a follow-up pending in
 * the ledger ({@code follow_ups.taken_at IS NULL}) and no open attempt (every attempt has its result) is
 * <i>adopted</i>: claimed again by this node (new lease, {@code claims + 1}) in the same transaction, and its
 * follow-ups are emitted on {@link #adoptedFollowUps()} once that transaction committed, before the next claim
 * round. The contact stays {@code CLAIMED} by this node until the ledger settles it (the follow-up's intent marks
 * it taken, then its result), so {@link #rows()} cannot complete before the adopted follow-up ends. A contact
 * with an open attempt is never adopted: it becomes {@code ORPHANED} as above. An {@code ORPHANED} contact is
 * never adopted either: a run records results (and schedules follow-ups) only for calls it placed itself, so only
 * a node that lost its lease while alive can add a follow-up to it, and that node dials the follow-up itself.
 * This node's own expired claims are not adopted (its run already holds their follow-ups).
 *
 * <p><b>Done.</b> A claim becomes {@code DONE} once the ledger holds the contact's final state (a status other
 * than {@code IN_PROGRESS} and no follow-up pending); the source completes when the import is complete and no
 * contact of the campaign is pending or claimed by any node, so that a node that dies mid-run still has its
 * claims picked up by the others.
 *
 * <p><b>Lease loss and the fence.</b> A node that cannot renew its claims for a whole lease (database unreachable,
 * or a machine so loaded that renewals stall) signals {@link #leaseLost()} and counts the rows it hands out late
 * ({@link #late()}). Rows handed to the run may then be claimed by another node, so the run confirms
 * each batch with {@link #confirm} right before writing its intents: a contact whose row another node has taken
 * is dropped without a trace, the others get a fresh lease, and their intents must commit within it (else they
 * are not sent). So a contact is dialed by one node only, whatever the stalls, up to the clock skew between nodes.
 *
 * <p>Thread-safe; JDBC runs on the given scheduler (one that may block, e.g. {@code Schedulers.boundedElastic()}).
 */
public final class ClaimingSource implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClaimingSource.class);

    private static final String RETURNED = "c.contact_key, c.seq, c.kind, c.line, c.number, c.name, c.timezone, "
            + "c.variables, c.reason, c.reject_kind, c.claims";

    private final ClusterDatabase db;
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
    private final AtomicLong claimed = new AtomicLong();
    private final AtomicLong reclaimed = new AtomicLong();
    private final AtomicLong settled = new AtomicLong();
    private final AtomicLong orphaned = new AtomicLong();
    private final AtomicLong adopted = new AtomicLong();
    private final AtomicLong late = new AtomicLong();
    private final AtomicLong closedOrphans = new AtomicLong();
    private final Sinks.Empty<Void> leaseLost = Sinks.empty();
    private final Sinks.Many<Ledger.FollowUp> adoptedFollowUps = Sinks.many().unicast().onBackpressureBuffer();
    private volatile long renewedUntil = Long.MIN_VALUE;
    private volatile Disposable renewals;

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
            startRenewals();
            return Mono.fromCallable(this::step).subscribeOn(scheduler)
                    .retryWhen(outage())
                    .repeatWhen(rounds -> rounds.concatMap(n -> lastEmpty.get()
                            ? Mono.delay(settings.pollInterval(), scheduler)
                            : Mono.just(n), 1))
                    .takeUntil(Step::finished)
                    .concatMapIterable(Step::held, 1)
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
        return claimed.get();
    }

    /** Of {@link #claimed()}, those that another node had claimed before and lost with its lease. */
    public long reclaimed() {
        return reclaimed.get();
    }

    /** Contacts found settled by the ledger when claimed (an earlier run) and marked DONE without emitting. */
    public long settled() {
        return settled.get();
    }

    /** Expired claims (of any node) this source found with an open attempt and marked ORPHANED. */
    public long orphaned() {
        return orphaned.get();
    }

    /** Open attempts of ORPHANED contacts this source ended as UNKNOWN (see the class comment). */
    public long closedOrphans() {
        return closedOrphans.get();
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
            Set<String> held = new HashSet<>();
            try (PreparedStatement confirm = c.prepareStatement("UPDATE cluster_contacts SET lease_until = "
                    + "GREATEST(lease_until, ?) WHERE campaign_id = ? AND contact_key = ANY (?) AND state = 'CLAIMED' "
                    + "AND claimed_by = ? RETURNING contact_key")) {
                confirm.setLong(1, until);
                confirm.setString(2, campaignId);
                confirm.setArray(3, c.createArrayOf("varchar", contactKeys.toArray()));
                confirm.setString(4, settings.nodeId());
                try (ResultSet rs = confirm.executeQuery()) {
                    while (rs.next()) {
                        held.add(rs.getString(1));
                    }
                }
            }
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
        Disposable d = renewals;
        if (d != null) {
            d.dispose();
        }
        adoptedFollowUps.tryEmitComplete();
        try {
            int[] counts = transact("release claims", c -> {
                long now = clock.millis();
                List<String> held = new ArrayList<>();
                try (PreparedStatement query = c.prepareStatement("SELECT contact_key FROM cluster_contacts "
                        + "WHERE campaign_id = ? AND state = 'CLAIMED' AND claimed_by = ?")) {
                    query.setString(1, campaignId);
                    query.setString(2, settings.nodeId());
                    try (ResultSet rs = query.executeQuery()) {
                        while (rs.next()) {
                            held.add(rs.getString(1));
                        }
                    }
                }
                if (held.isEmpty()) {
                    return new int[] {0, 0, 0};
                }
                LedgerView ledger = ledgerView(c, held, false);
                List<String> settled = new ArrayList<>();
                List<String> unknown = new ArrayList<>();
                List<String> open = new ArrayList<>();
                for (String key : held) {
                    (ledger.settled(key) ? settled : ledger.known(key) ? open : unknown).add(key);
                }
                int done = leave(c, settled, "state = 'DONE', done_at = " + now);
                int released = leave(c, unknown, "state = 'PENDING', claimed_by = NULL, lease_until = NULL");
                int orphans = leave(c, open, "state = 'ORPHANED', done_at = " + now);
                return new int[] {done, released, orphans};
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

    /** Sets these claims of this node to a new state (a literal SQL assignment list); returns how many changed. */
    private int leave(Connection c, List<String> keys, String assignments) throws SQLException {
        if (keys.isEmpty()) {
            return 0;
        }
        try (PreparedStatement update = c.prepareStatement("UPDATE cluster_contacts SET " + assignments
                + " WHERE campaign_id = ? AND contact_key = ANY (?) AND state = 'CLAIMED' AND claimed_by = ?")) {
            update.setString(1, campaignId);
            update.setArray(2, c.createArrayOf("varchar", keys.toArray()));
            update.setString(3, settings.nodeId());
            return update.executeUpdate();
        }
    }

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

    private void startRenewals() {
        Duration period = settings.lease().dividedBy(3);
        renewals = Flux.interval(period, period, scheduler)
                .onBackpressureDrop()
                .concatMap(i -> renew().onErrorResume(e -> {
                    log.warn("campaign {}: claim renewal failed: {}", campaignId, e.getMessage());
                    checkLease();
                    return Mono.empty();
                }), 1)
                .subscribe();
        if (closed.get()) {
            renewals.dispose();
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
            markDone(c, now);
            long until = now + settings.lease().toMillis();
            int held;
            try (PreparedStatement renew = c.prepareStatement("UPDATE cluster_contacts SET lease_until = ? "
                    + "WHERE campaign_id = ? AND state = 'CLAIMED' AND claimed_by = ? AND lease_until >= ?")) {
                renew.setLong(1, until);
                renew.setString(2, campaignId);
                renew.setString(3, settings.nodeId());
                renew.setLong(4, now);
                held = renew.executeUpdate();
            }
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

    private Step step() {
        List<Ledger.FollowUp> adoptedNow = new ArrayList<>();
        Step step = transact("claim", c -> {
            long now = clock.millis();
            long until = now + settings.lease().toMillis();
            // the expired claims that the ledger does not know (never dialed): the only ones claimed again
            Array expired = settleExpired(c, now, until, adoptedNow);
            closeOrphans(c, now);
            List<Held> rows = expired == null ? new ArrayList<>() : claim(c, "c2.contact_key = ANY (?) "
                    + "AND c2.state = 'CLAIMED' AND c2.lease_until < ?", expired, now, settings.claimBatch(), until);
            if (rows.size() < settings.claimBatch()) {
                rows.addAll(claim(c, "c2.state = 'PENDING'", null, null, settings.claimBatch() - rows.size(), until));
            }
            if (!rows.isEmpty()) {
                // this node's own expired claims that its run still holds: the claim renewed them, nothing more
                rows.removeIf(held -> outstanding.contains(held.key()));
                rows = dropKnown(c, rows, now);
                rows.sort(Comparator.comparingLong(Held::seq));
                return new Step(rows, false);
            }
            markDone(c, now);
            return new Step(List.of(), isFinished(c));
        });
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

    /**
     * Expired claims that the ledger knows: DONE when settled; adopted (claimed by this node until {@code until},
     * their follow-ups added to {@code adoptedNow}) when another node's contact has a follow-up pending and no
     * open attempt; else ORPHANED (see {@link #closeOrphans}).
     *
     * @return the keys of the claims that had expired when this began (some may be claimed below), or null if none
     */
    private Array settleExpired(Connection c, long now, long until, List<Ledger.FollowUp> adoptedNow)
            throws SQLException {
        Map<String, String> expired = new LinkedHashMap<>(); // contact -> the node whose claim expired
        try (PreparedStatement query = c.prepareStatement("SELECT contact_key, claimed_by FROM cluster_contacts "
                + "WHERE campaign_id = ? AND state = 'CLAIMED' AND lease_until < ?")) {
            query.setString(1, campaignId);
            query.setLong(2, now);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    expired.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        if (expired.isEmpty()) {
            return null;
        }
        LedgerView ledger = ledgerView(c, expired.keySet(), true);
        List<String> done = new ArrayList<>();
        List<String> adoptable = new ArrayList<>();
        List<String> orphans = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        expired.forEach((key, node) -> {
            if (!ledger.known(key)) {
                unknown.add(key);
            } else if (ledger.settled(key)) {
                done.add(key);
            } else if (ledger.followUpDue(key) && !node.equals(settings.nodeId())) {
                adoptable.add(key); // one whose row another node holds right now is left for a later round
            } else {
                orphans.add(key);
            }
        });
        if (!done.isEmpty()) {
            try (PreparedStatement update = c.prepareStatement("UPDATE cluster_contacts SET state = 'DONE', "
                    + "done_at = ? WHERE campaign_id = ? AND contact_key = ANY (?) AND state = 'CLAIMED' "
                    + "AND lease_until < ? RETURNING contact_key")) {
                update.setLong(1, now);
                update.setString(2, campaignId);
                update.setArray(3, c.createArrayOf("varchar", done.toArray()));
                update.setLong(4, now);
                try (ResultSet rs = update.executeQuery()) {
                    while (rs.next()) {
                        outstanding.remove(rs.getString(1));
                    }
                }
            }
        }
        if (!adoptable.isEmpty()) {
            adopt(c, now, until, c.createArrayOf("varchar", adoptable.toArray()), adoptedNow);
        }
        if (!orphans.isEmpty()) {
            try (PreparedStatement orphan = c.prepareStatement("UPDATE cluster_contacts SET state = 'ORPHANED', "
                    + "done_at = ? WHERE campaign_id = ? AND contact_key = ANY (?) AND state = 'CLAIMED' "
                    + "AND lease_until < ?")) {
                orphan.setLong(1, now);
                orphan.setString(2, campaignId);
                orphan.setArray(3, c.createArrayOf("varchar", orphans.toArray()));
                orphan.setLong(4, now);
                int n = orphan.executeUpdate();
                if (n > 0) {
                    orphaned.addAndGet(n);
                    log.warn("campaign {}: {} expired claims have an open attempt: ORPHANED (never dialed again, "
                            + "outcome UNKNOWN unless its HANGUP arrives)", campaignId, n);
                }
            }
        }
        return unknown.isEmpty() ? null : c.createArrayOf("varchar", unknown.toArray());
    }

    /**
     * Claims again (for this node, until {@code until}) up to a batch of these expired claims of other nodes, whose
     * contact has a follow-up pending and no open attempt, and collects those follow-ups. The rows are locked with
     * {@code SKIP LOCKED}: two nodes never adopt the same contact, and the new lease keeps the others off it.
     */
    private void adopt(Connection c, long now, long until, Array adoptable, List<Ledger.FollowUp> adoptedNow)
            throws SQLException {
        List<String> keys = new ArrayList<>();
        try (PreparedStatement adopt = c.prepareStatement("WITH picked AS (SELECT c.contact_key FROM cluster_contacts c "
                + "WHERE c.campaign_id = ? AND c.contact_key = ANY (?) AND c.state = 'CLAIMED' AND c.lease_until < ? "
                + "AND c.claimed_by <> ? ORDER BY c.seq LIMIT ? FOR UPDATE SKIP LOCKED) "
                + "UPDATE cluster_contacts u SET claimed_by = ?, claimed_at = ?, lease_until = ?, claims = u.claims + 1 "
                + "FROM picked WHERE u.campaign_id = ? AND u.contact_key = picked.contact_key "
                + "RETURNING u.contact_key")) {
            int i = 1;
            adopt.setString(i++, campaignId);
            adopt.setArray(i++, adoptable);
            adopt.setLong(i++, now);
            adopt.setString(i++, settings.nodeId());
            adopt.setInt(i++, settings.claimBatch());
            adopt.setString(i++, settings.nodeId());
            adopt.setLong(i++, now);
            adopt.setLong(i++, until);
            adopt.setString(i, campaignId);
            try (ResultSet rs = adopt.executeQuery()) {
                while (rs.next()) {
                    keys.add(rs.getString(1));
                }
            }
        }
        if (keys.isEmpty()) {
            return;
        }
        outstanding.addAll(keys); // this node's claims now, settled through markDone like the rest
        try (PreparedStatement query = c.prepareStatement("SELECT campaign_id, contact_key, number, attempt_number, "
                + "due_at FROM follow_ups WHERE campaign_id = ? AND contact_key = ANY (?) AND taken_at IS NULL "
                + "ORDER BY due_at, contact_key, attempt_number")) {
            query.setString(1, campaignId);
            query.setArray(2, c.createArrayOf("varchar", keys.toArray()));
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    adoptedNow.add(new Ledger.FollowUp(rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getInt(4), Instant.ofEpochMilli(rs.getLong(5))));
                }
            }
        }
    }

    private List<Held> claim(Connection c, String condition, Array keys, Long now, int limit, long until)
            throws SQLException {
        try (PreparedStatement claim = c.prepareStatement("WITH picked AS (SELECT c2.contact_key FROM cluster_contacts c2 "
                + "WHERE c2.campaign_id = ? AND " + condition + " ORDER BY c2.seq LIMIT ? FOR UPDATE SKIP LOCKED) "
                + "UPDATE cluster_contacts c SET state = 'CLAIMED', claimed_by = ?, claimed_at = ?, lease_until = ?, "
                + "claims = c.claims + 1 FROM picked WHERE c.campaign_id = ? AND c.contact_key = picked.contact_key "
                + "RETURNING " + RETURNED)) {
            int i = 1;
            claim.setString(i++, campaignId);
            if (keys != null) {
                claim.setArray(i++, keys);
            }
            if (now != null) {
                claim.setLong(i++, now);
            }
            claim.setInt(i++, limit);
            claim.setString(i++, settings.nodeId());
            claim.setLong(i++, clock.millis());
            claim.setLong(i++, until);
            claim.setString(i, campaignId);
            List<Held> rows = new ArrayList<>();
            try (ResultSet rs = claim.executeQuery()) {
                while (rs.next()) {
                    rows.add(held(rs, until));
                }
            }
            return rows;
        }
    }

    /** Claimed contacts that an earlier run already recorded: DONE, not emitted. */
    private List<Held> dropKnown(Connection c, List<Held> rows, long now) throws SQLException {
        Set<String> known = new HashSet<>();
        Array keys = c.createArrayOf("varchar", rows.stream().map(Held::key).toArray());
        try (PreparedStatement query = c.prepareStatement("SELECT contact_key FROM contact_progress "
                + "WHERE campaign_id = ? AND contact_key = ANY (?)")) {
            query.setString(1, campaignId);
            query.setArray(2, keys);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    known.add(rs.getString(1));
                }
            }
        }
        if (known.isEmpty()) {
            count(rows);
            return rows;
        }
        try (PreparedStatement done = c.prepareStatement("UPDATE cluster_contacts SET state = 'DONE', done_at = ? "
                + "WHERE campaign_id = ? AND contact_key = ANY (?)")) {
            done.setLong(1, now);
            done.setString(2, campaignId);
            done.setArray(3, c.createArrayOf("varchar", known.toArray()));
            done.executeUpdate();
        }
        settled.addAndGet(known.size());
        List<Held> kept = new ArrayList<>(rows.size());
        for (Held row : rows) {
            if (!known.contains(row.key())) {
                kept.add(row);
            }
        }
        count(kept);
        return kept;
    }

    private void count(List<Held> rows) {
        claimed.addAndGet(rows.size());
        rows.stream().filter(r -> r.claims() > 1).forEach(r -> reclaimed.incrementAndGet());
    }

    /** This node's claims whose contact the ledger has settled become DONE: those it handed out or adopted. */
    private int markDone(Connection c, long now) throws SQLException {
        if (outstanding.isEmpty()) {
            return 0;
        }
        List<String> keys = new ArrayList<>(outstanding);
        LedgerView ledger = ledgerView(c, keys, false);
        keys.removeIf(key -> !ledger.settled(key));
        if (keys.isEmpty()) {
            return 0;
        }
        try (PreparedStatement done = c.prepareStatement("UPDATE cluster_contacts SET state = 'DONE', done_at = ? "
                + "WHERE campaign_id = ? AND contact_key = ANY (?) AND state = 'CLAIMED' AND claimed_by = ? "
                + "RETURNING contact_key")) {
            done.setLong(1, now);
            done.setString(2, campaignId);
            done.setArray(3, c.createArrayOf("varchar", keys.toArray()));
            done.setString(4, settings.nodeId());
            int n = 0;
            try (ResultSet rs = done.executeQuery()) {
                while (rs.next()) {
                    outstanding.remove(rs.getString(1));
                    n++;
                }
            }
            return n;
        }
    }

    /**
     * What the ledger holds of some contacts, read with one statement per table and no join. Joined in SQL, the
     * planner has to guess the ledger's tables, and while a campaign fills them faster than autovacuum analyzes
     * them it guesses them empty and nests full scans (seconds per round at 30,000 contacts).
     */
    private LedgerView ledgerView(Connection c, Collection<String> keys, boolean withAttempts) throws SQLException {
        Array array = c.createArrayOf("varchar", keys.toArray());
        Map<String, String> status = new HashMap<>();
        try (PreparedStatement query = c.prepareStatement("SELECT contact_key, status FROM contact_progress "
                + "WHERE campaign_id = ? AND contact_key = ANY (?)")) {
            query.setString(1, campaignId);
            query.setArray(2, array);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    status.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        Set<String> pending = new HashSet<>();
        try (PreparedStatement query = c.prepareStatement("SELECT contact_key FROM follow_ups "
                + "WHERE campaign_id = ? AND contact_key = ANY (?) AND taken_at IS NULL")) {
            query.setString(1, campaignId);
            query.setArray(2, array);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    pending.add(rs.getString(1));
                }
            }
        }
        Set<String> open = new HashSet<>();
        if (withAttempts) {
            try (PreparedStatement query = c.prepareStatement("SELECT contact_key FROM attempts "
                    + "WHERE campaign_id = ? AND disposition IS NULL AND contact_key = ANY (?)")) {
                query.setString(1, campaignId);
                query.setArray(2, array);
                try (ResultSet rs = query.executeQuery()) {
                    while (rs.next()) {
                        open.add(rs.getString(1));
                    }
                }
            }
        }
        return new LedgerView(status, pending, open);
    }

    /**
     * @param status  each known contact's {@code contact_progress.status}
     * @param pending contacts with a follow-up not yet taken
     * @param open    contacts with an attempt without outcome (when asked for)
     */
    private record LedgerView(Map<String, String> status, Set<String> pending, Set<String> open) {
        /** The ledger has an intent or a skip of the contact. */
        boolean known(String key) {
            return status.containsKey(key);
        }

        /** Its final state: an outcome or a skip, and no follow-up to come. */
        boolean settled(String key) {
            String s = status.get(key);
            return s != null && !"IN_PROGRESS".equals(s) && !pending.contains(key);
        }

        /** A follow-up is pending and no attempt is open: another node may take it over. */
        boolean followUpDue(String key) {
            return pending.contains(key) && !open.contains(key);
        }
    }

    /**
     * Ends the open attempts of ORPHANED contacts (their node died with the attempt open) as UNKNOWN, per the
     * at-most-once policy, once nothing else can end them: at once when the attempt has no TransactionId (no
     * invocation can be correlated with it), else once the call hold has passed since its intent. Until then the
     * call may still be up at Chime, and its HANGUP, which the Lambda bridge hands to any node when the placing
     * node is gone, records its real outcome through that node's run. The ledger keeps the first result. These
     * contacts are not dialed again.
     */
    private void closeOrphans(Connection c, long now) throws SQLException {
        List<String> orphans = new ArrayList<>();
        try (PreparedStatement query = c.prepareStatement("SELECT contact_key FROM cluster_contacts "
                + "WHERE campaign_id = ? AND state = 'ORPHANED'")) {
            query.setString(1, campaignId);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    orphans.add(rs.getString(1));
                }
            }
        }
        if (orphans.isEmpty()) {
            return;
        }
        List<String> open = new ArrayList<>();
        try (PreparedStatement query = c.prepareStatement("SELECT last_attempt_id FROM contact_progress "
                + "WHERE campaign_id = ? AND contact_key = ANY (?) AND status = 'IN_PROGRESS' "
                + "AND last_attempt_id IS NOT NULL")) {
            query.setString(1, campaignId);
            query.setArray(2, c.createArrayOf("varchar", orphans.toArray()));
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    open.add(rs.getString(1));
                }
            }
        }
        if (open.isEmpty()) {
            return;
        }
        List<String> keys = new ArrayList<>();
        try (PreparedStatement unknown = c.prepareStatement("UPDATE attempts SET disposition = 'UNKNOWN', "
                + "ended_at = ? WHERE attempt_id = ANY (?) AND disposition IS NULL "
                + "AND (transaction_id IS NULL OR intended_at < ?) RETURNING contact_key")) {
            unknown.setLong(1, now);
            unknown.setArray(2, c.createArrayOf("varchar", open.toArray()));
            unknown.setLong(3, now - settings.callHold().toMillis());
            try (ResultSet rs = unknown.executeQuery()) {
                while (rs.next()) {
                    keys.add(rs.getString(1));
                }
            }
        }
        if (keys.isEmpty()) {
            return;
        }
        try (PreparedStatement progress = c.prepareStatement("UPDATE contact_progress SET status = 'UNKNOWN', "
                + "reason = NULL, updated_at = ? WHERE campaign_id = ? AND contact_key = ANY (?) "
                + "AND status = 'IN_PROGRESS'")) {
            progress.setLong(1, now);
            progress.setString(2, campaignId);
            progress.setArray(3, c.createArrayOf("varchar", keys.toArray()));
            progress.executeUpdate();
        }
        closedOrphans.addAndGet(keys.size());
        log.warn("campaign {}: {} attempts of a node that is gone ended UNKNOWN (never dialed again)", campaignId,
                keys.size());
    }

    /**
     * Finished: the import is complete, no contact is pending or claimed by any node, and no ORPHANED contact
     * has an attempt that may still end (see {@link #closeOrphans}).
     */
    private boolean isFinished(Connection c) throws SQLException {
        try (PreparedStatement query = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM cluster_imports "
                + "WHERE campaign_id = ?), EXISTS (SELECT 1 FROM cluster_contacts WHERE campaign_id = ? "
                + "AND state IN ('PENDING', 'CLAIMED')), EXISTS (SELECT 1 FROM cluster_contacts k "
                + "JOIN contact_progress p ON p.campaign_id = k.campaign_id AND p.contact_key = k.contact_key "
                + "WHERE k.campaign_id = ? AND k.state = 'ORPHANED' AND p.status = 'IN_PROGRESS')")) {
            query.setString(1, campaignId);
            query.setString(2, campaignId);
            query.setString(3, campaignId);
            try (ResultSet rs = query.executeQuery()) {
                rs.next();
                return rs.getBoolean(1) && !rs.getBoolean(2) && !rs.getBoolean(3);
            }
        }
    }

    private static Held held(ResultSet rs, long until) throws SQLException {
        String key = rs.getString(1);
        long seq = rs.getLong(2);
        String kind = rs.getString(3);
        long line = rs.getLong(4);
        String number = rs.getString(5);
        ContactRow row;
        if ("REJECTED".equals(kind)) {
            row = new ContactRow.Rejected(line, number, rs.getString(9), RejectKind.valueOf(rs.getString(10)));
        } else {
            String zone = rs.getString(7);
            row = new ContactRow.Valid(new Contact(line, key, number, rs.getString(6),
                    zone == null ? null : ZoneId.of(zone), Json.strings(rs.getString(8))));
        }
        return new Held(key, seq, rs.getInt(11), until, row);
    }

    /** A claimed row and the lease its claim set. */
    private record Held(String key, long seq, int claims, long until, ContactRow row) {
    }

    /** One claim round: the rows it claimed, or none and whether the campaign is finished. */
    private record Step(List<Held> held, boolean finished) {
    }
}
