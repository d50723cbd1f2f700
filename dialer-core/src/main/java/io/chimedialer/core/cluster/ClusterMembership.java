package io.chimedialer.core.cluster;

import java.sql.Connection;
import java.sql.SQLException;
import io.chimedialer.core.ledger.LedgerQueries;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * This node's membership: a row in {@code cluster_nodes} refreshed every heartbeat, and the list of live nodes
 * (last heartbeat within the node timeout, not left).
 *
 * <p>Each heartbeat, in one transaction: read the live nodes, re-balance the {@link ClusterLimits} (if any),
 * and write this node's {@code last_seen}, the member set it split by and its applied shares. A separate timer
 * fences the limits when heartbeats have failed for the node timeout less two heartbeats (checked every
 * heartbeat, so fenced before the node timeout, when the others start to drop it) (see
 * {@link ClusterLimits}). Heartbeat failures are logged and counted, never fatal: the node rejoins when the
 * database is back.
 *
 * <p>Thread-safe. {@link #start()} subscribes; the constructor does nothing. JDBC and timers run on the given
 * scheduler, which may block and must have more than one thread (e.g. {@code Schedulers.boundedElastic()}),
 * so that the fence timer runs while a heartbeat waits on the database.
 */
public final class ClusterMembership implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterMembership.class);

    private final ClusterDatabase db;
    private final NodeStore store;
    private final ClusterSettings settings;
    private final ClusterLimits limits;
    private final Clock clock;
    private final Scheduler scheduler;
    private final Disposable.Composite tasks = Disposables.composite();
    private final Sinks.Many<ClusterView> views = Sinks.many().replay().latest();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong beats = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile long lastBeatOk = Long.MIN_VALUE;
    private volatile long startedAt;
    private volatile ClusterView current;

    /**
     * @param db        the cluster database
     * @param settings  node id, URL, heartbeat and node timeout
     * @param limits    the Region shares to re-balance each heartbeat, or null for membership only
     * @param clock     heartbeat times are epoch milliseconds of this clock (keep the nodes' clocks in sync)
     * @param scheduler runs heartbeats (JDBC) and the fence timer; may block; more than one thread
     */
    public ClusterMembership(ClusterDatabase db, ClusterSettings settings, ClusterLimits limits, Clock clock,
                             Scheduler scheduler) {
        this.db = Objects.requireNonNull(db, "db");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.store = new NodeStore(settings.nodeId(), settings.url());
        this.limits = limits;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    /** This node's id. */
    public String nodeId() {
        return settings.nodeId();
    }

    /**
     * Fences the limits (no new call until the first acknowledged heartbeat), then heartbeats every period,
     * the first at once. Idempotent.
     */
    public void start() {
        if (closed.get() || !started.compareAndSet(false, true)) {
            return;
        }
        if (limits != null) {
            limits.fence();
        }
        startedAt = clock.millis();
        Flux<Void> heartbeats = Flux.interval(Duration.ZERO, settings.heartbeat(), scheduler)
                .onBackpressureDrop()
                .concatMap(i -> Mono.fromRunnable(this::beat).subscribeOn(scheduler).onErrorResume(e -> {
                    long n = failures.incrementAndGet();
                    if (n == 1 || n % 10 == 0) {
                        log.warn("node {}: heartbeat failed ({} so far): {}", settings.nodeId(), n, e.getMessage());
                    }
                    return Mono.empty();
                }).then(), 1);
        Flux<Void> fenceChecks = Flux.interval(settings.heartbeat(), settings.heartbeat(), scheduler)
                .onBackpressureDrop()
                .concatMap(i -> Mono.<Void>fromRunnable(this::checkFence), 1);
        // one subscription, disposed on close: the fence checks run beside the heartbeats, never behind them
        tasks.add(Flux.merge(heartbeats, fenceChecks).subscribe());
    }

    /** Every view, from each successful heartbeat; replays the latest to a new subscriber. */
    public Flux<ClusterView> views() {
        return views.asFlux();
    }

    /** The view of the last successful heartbeat, or null before the first. */
    public ClusterView current() {
        return current;
    }

    /** Successful heartbeats so far. */
    public long beats() {
        return beats.get();
    }

    /** Failed heartbeats so far. */
    public long failures() {
        return failures.get();
    }

    /** The limits this membership re-balances, or null. */
    public ClusterLimits limits() {
        return limits;
    }

    /**
     * Reads the cluster's state now for {@code GET /v1/cluster}: live nodes, their unexpired claims by campaign,
     * their shares, and each campaign's contacts by state.
     */
    public Mono<ClusterStatus> status() {
        return Mono.fromCallable(() -> db.transact("cluster status", c -> {
            long now = clock.millis();
            Map<String, Map<String, Long>> claims = store.unexpiredClaims(c, now);
            Map<String, Map<String, Long>> campaigns = store.contactsByState(c);
            List<ClusterStatus.Node> nodes = new ArrayList<>();
            for (NodeInfo n : store.live(c, now - settings.nodeTimeout().toMillis())) {
                nodes.add(new ClusterStatus.Node(n.nodeId(), n.url(), n.startedAt(), n.lastSeen(), n.members(),
                        n.shares(), claims.getOrDefault(n.nodeId(), Map.of())));
            }
            return new ClusterStatus(settings.nodeId(), Instant.ofEpochMilli(now), nodes, campaigns);
        })).subscribeOn(scheduler);
    }

    /** The live nodes now, read from the database. */
    public Mono<List<NodeInfo>> liveNodes() {
        return Mono.fromCallable(() -> db.transact("live nodes",
                c -> store.live(c, clock.millis() - settings.nodeTimeout().toMillis()))).subscribeOn(scheduler);
    }

    /**
     * Stops heartbeating and marks the node as left, so that the others re-balance at their next heartbeat
     * instead of after the node timeout. Blocking; idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        tasks.dispose();
        if (!started.get()) {
            return;
        }
        try {
            db.transact("leave", c -> store.leave(c, clock.millis()));
            log.info("node {} left the cluster", settings.nodeId());
        } catch (ClusterException e) {
            log.warn("node {}: leave not recorded ({}); the others drop it after {}", settings.nodeId(),
                    e.getMessage(), settings.nodeTimeout());
        }
        views.tryEmitComplete();
    }

    // ---- internals ----

    private void beat() {
        if (closed.get()) {
            return;
        }
        boolean first = beats.get() == 0;
        ClusterView view = db.transact("heartbeat", c -> {
            long now = clock.millis();
            if (first) {
                store.register(c, startedAt, now);
            }
            List<NodeInfo> live = store.live(c, now - settings.nodeTimeout().toMillis());
            List<String> members;
            Map<String, RegionShare> shares;
            if (limits != null) {
                members = limits.apply(live, held(c, live, now));
                shares = limits.shares();
            } else {
                members = live.stream().map(NodeInfo::nodeId).sorted().toList();
                shares = Map.of();
            }
            if (!store.heartbeat(c, now, Json.write(members), Json.write(shares))) {
                store.register(c, startedAt, now);
            }
            List<NodeInfo> seen = new ArrayList<>();
            boolean self = false;
            for (NodeInfo n : live) {
                if (n.nodeId().equals(settings.nodeId())) {
                    seen.add(new NodeInfo(n.nodeId(), settings.url(), n.startedAt(), Instant.ofEpochMilli(now),
                            members, shares));
                    self = true;
                } else {
                    seen.add(n);
                }
            }
            if (!self) {
                seen.add(new NodeInfo(settings.nodeId(), settings.url(), Instant.ofEpochMilli(startedAt),
                        Instant.ofEpochMilli(now), members, shares));
            }
            seen.sort(java.util.Comparator.comparing(NodeInfo::nodeId));
            lastBeatOk = now;
            return new ClusterView(settings.nodeId(), Instant.ofEpochMilli(now), seen);
        });
        if (closed.get()) {
            return;
        }
        beats.incrementAndGet();
        ClusterView before = current;
        current = view;
        if (before == null || !before.ids().equals(view.ids())) {
            log.info("node {}: live nodes {}", settings.nodeId(), view.ids());
        }
        Sinks.EmitResult result = views.tryEmitNext(view);
        if (result.isFailure() && result != Sinks.EmitResult.FAIL_TERMINATED) {
            log.debug("node {}: view not emitted: {}", settings.nodeId(), result);
        }
    }

    /**
     * The open attempts of contacts held by nodes that are not live (claimed, or orphaned when the claim expired)
     * and intended within the call hold, by Region: calls that may still be up at Chime with no node to count them.
     */
    private Map<String, Integer> held(Connection c, List<NodeInfo> live, long now) throws SQLException {
        Map<String, Integer> held = new HashMap<>();
        // The candidates first, without a join (usually none: every holder is live); then their last attempts by
        // key. Joined in one statement, the planner guesses the ledger's fast-growing tables empty and nests scans.
        Map<String, List<String>> byCampaign = store.heldByOthers(c, live.stream().map(NodeInfo::nodeId).toList());
        for (Map.Entry<String, List<String>> campaign : byCampaign.entrySet()) {
            List<String> attempts = LedgerQueries.lastAttemptsInProgress(c, campaign.getKey(), campaign.getValue());
            if (!attempts.isEmpty()) {
                LedgerQueries.openAttemptsByRegion(c, attempts, now - settings.callHold().toMillis())
                        .forEach((region, n) -> held.merge(region, n, Integer::sum));
            }
        }
        return held;
    }

    private void checkFence() {
        long last = lastBeatOk;
        if (limits == null || last == Long.MIN_VALUE || limits.fenced()) {
            return;
        }
        long silent = clock.millis() - last;
        if (silent >= settings.nodeTimeout().minus(settings.heartbeat().multipliedBy(2)).toMillis()) {
            log.error("node {}: no successful heartbeat for {} ms: fencing (no new calls) before the others take"
                    + " over its shares", settings.nodeId(), silent);
            limits.fence();
        }
    }
}
