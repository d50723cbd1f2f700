package io.chimedialer.core.cluster;

import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.pacing.RegionPacing;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * One node's part in a cluster, for the composition root: the database pool, the Region shares, the membership
 * and the control channel, started and closed together, plus factories for the per-campaign importer and
 * claiming source.
 *
 * <p>Order: open the ledger (it migrates the schema), build the Regions' pacing, {@link #open} this, call
 * {@link #start()} before launching any campaign (it fences the Regions until the cluster acknowledges the
 * node), subscribe {@link #control()}'s events, and close it after the runs and the ledger, in that order.
 *
 * <p>Meters ({@link #bindTo}): {@code dialer.cluster.live.nodes} (gauge), {@code dialer.cluster.fenced} (gauge,
 * 1 while fenced), {@code dialer.cluster.heartbeat.failures} (counter), {@code dialer.cluster.control.delivered}
 * (counter), {@code dialer.cluster.share.calls.per.second} and {@code dialer.cluster.share.max.active.calls}
 * (gauges, tag {@code region}). Thread-safe.
 */
public final class ClusterNode implements AutoCloseable, MeterBinder {
    private final ClusterDatabase db;
    private final ClusterSettings settings;
    private final ClusterLimits limits;
    private final ClusterMembership membership;
    private final ClusterControl control;
    private final Ledger ledger;
    private final Clock clock;
    private final Scheduler io;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ClusterNode(ClusterDatabase db, ClusterSettings settings, Map<String, RegionPacing> regions, Ledger ledger,
                        Clock clock, Scheduler io, Scheduler listener) {
        this.db = db;
        this.settings = settings;
        this.ledger = ledger;
        this.clock = clock;
        this.io = io;
        this.limits = new ClusterLimits(settings.nodeId(), regions, settings.rateGuard());
        this.membership = new ClusterMembership(db, settings, limits, clock, io);
        this.control = new ClusterControl(db, settings, clock, listener, io);
    }

    /**
     * Opens the node's pool (it fails when the ledger's schema lacks the cluster tables) and builds its parts;
     * nothing runs until {@link #start()}.
     *
     * @param url      the ledger's {@code jdbc:postgresql://} URL
     * @param poolSize the cluster pool's size (&gt;= 2; 4 serves a node with a few campaigns)
     * @param settings node id, URL and timings
     * @param regions  every configured Region's pacing (their configured rate and cap are the cluster's totals)
     * @param ledger   the ledger on the same database
     * @param clock    the clock (keep the nodes' clocks in sync)
     * @param io       runs JDBC and timers: may block, several threads (e.g. {@code Schedulers.boundedElastic()})
     * @param listener a dedicated single thread for the control listener ({@code Schedulers.newSingle(...)})
     * @return the node
     */
    public static ClusterNode open(String url, int poolSize, ClusterSettings settings, Map<String, RegionPacing> regions,
                                   Ledger ledger, Clock clock, Scheduler io, Scheduler listener) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(regions, "regions");
        Objects.requireNonNull(ledger, "ledger");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(io, "io");
        Objects.requireNonNull(listener, "listener");
        ClusterDatabase db = ClusterDatabase.open(url, poolSize, Duration.ofSeconds(3));
        return new ClusterNode(db, settings, regions, ledger, clock, io, listener);
    }

    /** Fences the Regions, then starts heartbeating and listening for control commands. Idempotent. */
    public void start() {
        membership.start();
        control.start();
    }

    /** This node's id. */
    public String nodeId() {
        return settings.nodeId();
    }

    /** The settings. */
    public ClusterSettings settings() {
        return settings;
    }

    /** The Region shares (apply RATE commands with {@link ClusterLimits#setTotalRate}). */
    public ClusterLimits limits() {
        return limits;
    }

    /** The membership (live nodes, views). */
    public ClusterMembership membership() {
        return membership;
    }

    /** The control channel: publish commands, subscribe to {@link ClusterControl#events()}. */
    public ClusterControl control() {
        return control;
    }

    /** What {@code GET /v1/cluster} shows. */
    public Mono<ClusterStatus> status() {
        return membership.status();
    }

    /** Imports a campaign's list once for the whole cluster (see {@link ContactImporter#importOnce}). */
    public Mono<ContactImporter.Result> importOnce(String campaignId, String sourceName, Flux<ContactRow> rows) {
        return new ContactImporter(db, ledger, settings.nodeId(), clock, io).importOnce(campaignId, sourceName, rows);
    }

    /**
     * Whether a node that does not run the campaign should launch it: its list was imported completely (by any
     * node) and some contact is still {@code PENDING} or {@code CLAIMED}. A claiming source of a campaign without
     * such contacts would complete at once, so a node that restarts does not start runs of finished campaigns.
     */
    public Mono<Boolean> hasWork(String campaignId) {
        Objects.requireNonNull(campaignId, "campaignId");
        return Mono.fromCallable(() -> db.transact("campaign work check", c -> {
            try (PreparedStatement query = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM cluster_imports "
                    + "WHERE campaign_id = ?) AND EXISTS (SELECT 1 FROM cluster_contacts WHERE campaign_id = ? "
                    + "AND state IN ('PENDING', 'CLAIMED'))")) {
                query.setString(1, campaignId);
                query.setString(2, campaignId);
                try (ResultSet rs = query.executeQuery()) {
                    return rs.next() && rs.getBoolean(1);
                }
            }
        })).subscribeOn(io);
    }

    /**
     * One campaign over the whole cluster, from {@code cluster_contacts} and the ledger's {@code attempts} (the same
     * database): its contacts by state, and per node the contacts it holds claimed now (unexpired) and the calls in
     * progress of the contacts it holds (placed, no outcome yet; a dead node's orphans stay under its id).
     */
    public Mono<CampaignSpread> spread(String campaignId) {
        Objects.requireNonNull(campaignId, "campaignId");
        return Mono.fromCallable(() -> db.transact("campaign spread", c -> {
            long now = clock.millis();
            Map<String, Long> states = new java.util.TreeMap<>();
            try (PreparedStatement query = c.prepareStatement("SELECT state, COUNT(*) FROM cluster_contacts "
                    + "WHERE campaign_id = ? GROUP BY state")) {
                query.setString(1, campaignId);
                try (ResultSet rs = query.executeQuery()) {
                    while (rs.next()) {
                        states.put(rs.getString(1), rs.getLong(2));
                    }
                }
            }
            Map<String, long[]> byNode = new java.util.TreeMap<>();
            try (PreparedStatement query = c.prepareStatement("SELECT claimed_by, COUNT(*) FROM cluster_contacts "
                    + "WHERE campaign_id = ? AND state = 'CLAIMED' AND lease_until >= ? GROUP BY claimed_by")) {
                query.setString(1, campaignId);
                query.setLong(2, now);
                try (ResultSet rs = query.executeQuery()) {
                    while (rs.next()) {
                        byNode.computeIfAbsent(rs.getString(1), k -> new long[2])[0] = rs.getLong(2);
                    }
                }
            }
            try (PreparedStatement query = c.prepareStatement("SELECT c.claimed_by, COUNT(*) FROM attempts a "
                    + "JOIN cluster_contacts c ON c.campaign_id = a.campaign_id AND c.contact_key = a.contact_key "
                    + "WHERE a.campaign_id = ? AND a.disposition IS NULL AND a.transaction_id IS NOT NULL "
                    + "AND c.claimed_by IS NOT NULL GROUP BY c.claimed_by")) {
                query.setString(1, campaignId);
                try (ResultSet rs = query.executeQuery()) {
                    while (rs.next()) {
                        byNode.computeIfAbsent(rs.getString(1), k -> new long[2])[1] = rs.getLong(2);
                    }
                }
            }
            Map<String, Holding> nodes = new java.util.TreeMap<>();
            byNode.forEach((node, v) -> nodes.put(node, new Holding(v[0], v[1])));
            return new CampaignSpread(states, nodes);
        })).subscribeOn(io);
    }

    /**
     * A campaign over the cluster ({@link #spread}).
     *
     * @param contacts its contacts in {@code cluster_contacts} by state ({@code PENDING}, {@code CLAIMED},
     *                 {@code DONE}, {@code ORPHANED})
     * @param nodes    by node id, what each holds
     */
    public record CampaignSpread(Map<String, Long> contacts, Map<String, Holding> nodes) {
        public CampaignSpread {
            contacts = Map.copyOf(contacts);
            nodes = Map.copyOf(nodes);
        }

        /** Contacts not yet final anywhere: {@code PENDING} or {@code CLAIMED}. */
        public long remaining() {
            return contacts.getOrDefault("PENDING", 0L) + contacts.getOrDefault("CLAIMED", 0L);
        }

        /** Every contact the list put in {@code cluster_contacts}. */
        public long total() {
            return contacts.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * What one node holds of a campaign.
     *
     * @param claimed contacts it holds claimed now (unexpired lease)
     * @param live    calls in progress of the contacts it holds
     */
    public record Holding(long claimed, long live) {
    }

    /** Whether the campaign's list was imported completely by some node (see {@link ContactImporter#isImported}). */
    public Mono<Boolean> isImported(String campaignId) {
        return new ContactImporter(db, ledger, settings.nodeId(), clock, io).isImported(campaignId);
    }

    /** A new claiming source for one run of a campaign on this node; close it once the run is over. */
    public ClaimingSource source(String campaignId) {
        return new ClaimingSource(db, campaignId, settings, clock, io);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("dialer.cluster.live.nodes", membership, m -> m.current() == null ? 0 : m.current().live().size())
                .description("Live nodes in this node's last heartbeat").register(registry);
        Gauge.builder("dialer.cluster.fenced", limits, l -> l.fenced() ? 1 : 0)
                .description("1 while this node starts no call (not yet acknowledged, or cut off)").register(registry);
        FunctionCounter.builder("dialer.cluster.heartbeat.failures", membership, ClusterMembership::failures)
                .description("Heartbeats that failed").register(registry);
        FunctionCounter.builder("dialer.cluster.control.delivered", control, ClusterControl::delivered)
                .description("Control commands received").register(registry);
        for (String region : limits.totals().keySet()) {
            Gauge.builder("dialer.cluster.share.calls.per.second", limits, l -> share(l, region).callsPerSecond())
                    .tag("region", region).baseUnit("calls/s")
                    .description("This node's share of the Region's create rate").register(registry);
            Gauge.builder("dialer.cluster.share.max.active.calls", limits, l -> share(l, region).maxActiveCalls())
                    .tag("region", region).description("This node's share of the Region's active-call cap")
                    .register(registry);
        }
    }

    private static RegionShare share(ClusterLimits limits, String region) {
        RegionShare share = limits.shares().get(region);
        return share == null ? new RegionShare(0, 0) : share;
    }

    /** Stops control and membership (leaving the cluster), then closes the pool. Blocking; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        control.close();
        membership.close();
        db.close();
    }
}
