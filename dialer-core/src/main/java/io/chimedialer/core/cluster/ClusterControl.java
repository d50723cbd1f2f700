package io.chimedialer.core.cluster;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * Control commands (launch, pause, resume, cancel, rate, opt-out, a call's end) that reach every node: {@link #publish} inserts the command in
 * {@code campaign_control} and sends {@code NOTIFY dialer_control} in the same transaction; every node's
 * listener, on a dedicated connection, wakes on the notification and reads the new rows in order.
 *
 * <p>Polling is the fallback: the listener also reads the table every poll interval, so a notification lost
 * with a broken connection delays a command by at most that interval, and while the dedicated connection is
 * down (reconnected every poll interval) the pool is polled. Commands issued before {@link #start()} are not
 * replayed ({@link #latest()} gives the last ones). A command is delivered once per node, in sequence order,
 * including to the node that issued it: apply commands from {@link #events()} only, on every node alike.
 *
 * <p>Thread-safe. The listener loop blocks: give it a dedicated single thread
 * ({@code Schedulers.newSingle("cluster-control")}); publishing and {@link #latest()} run JDBC on the other
 * scheduler (one that may block).
 */
public final class ClusterControl implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterControl.class);
    static final String CHANNEL = "dialer_control";
    /** A sequence gap (a transaction that committed late) is waited for this long before it is given up. */
    private static final long SETTLE_MILLIS = 30_000;
    private static final String COLUMNS = "seq, command, campaign_id, region, value, issued_by, issued_at, payload";

    private final ClusterDatabase db;
    private final ClusterSettings settings;
    private final Clock clock;
    private final Scheduler listener;
    private final Scheduler io;
    private final boolean listen;
    private final Sinks.Many<ControlEvent> events = Sinks.many().multicast().onBackpressureBuffer(1024, false);
    private final Sinks.Empty<Void> ready = Sinks.empty();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong notifications = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    /** Sequence numbers above {@link #floor} already delivered, with their issue time (listener thread only). */
    private final TreeMap<Long, Long> seen = new TreeMap<>();
    private long floor;
    private Connection connection;
    private volatile Disposable next;

    /**
     * @param db       the cluster database
     * @param settings this node's id and the poll interval
     * @param clock    stamps the commands
     * @param listener a dedicated thread for the blocking listener loop
     * @param io       runs publishing (may block)
     */
    public ClusterControl(ClusterDatabase db, ClusterSettings settings, Clock clock, Scheduler listener, Scheduler io) {
        this(db, settings, clock, listener, io, true);
    }

    /** For tests: {@code listen = false} leaves out LISTEN/NOTIFY so that only polling delivers. */
    ClusterControl(ClusterDatabase db, ClusterSettings settings, Clock clock, Scheduler listener, Scheduler io,
                   boolean listen) {
        this.db = Objects.requireNonNull(db, "db");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.io = Objects.requireNonNull(io, "io");
        this.listen = listen;
    }

    /**
     * The commands issued by any node after {@link #start()}, in sequence order, each once. Hot: subscribe before
     * starting. Up to 1,024 undelivered commands are buffered for slow subscribers; beyond, they are dropped and
     * counted ({@link #dropped()}).
     */
    public Flux<ControlEvent> events() {
        return events.asFlux();
    }

    /** Starts the listener loop: it remembers the latest command so far, then listens. Idempotent. */
    public void start() {
        if (closed.get() || !started.compareAndSet(false, true)) {
            return;
        }
        next = listener.schedule(this::begin);
    }

    /**
     * Completes once the listener took its starting point (commands committed from then on are delivered) and,
     * unless only polling, listens.
     */
    public Mono<Void> ready() {
        return ready.asMono();
    }

    /**
     * Announces a campaign's launch to every node; its list must be imported already (a node that does not run the
     * campaign launches it from {@code cluster_contacts}).
     *
     * @param campaignId the campaign
     * @param definition its definition (YAML) when the nodes' shared configuration does not hold it, else null
     */
    public Mono<ControlEvent> launch(String campaignId, String definition) {
        return publish(ControlEvent.Command.LAUNCH, Objects.requireNonNull(campaignId, "campaignId"), null, null,
                definition);
    }

    /**
     * Tells every node that a number opted out, so that each run whose opt-outs go to this list refuses it. The
     * ledger's {@code dnc} table stays the record (runs launched later load it from there).
     *
     * @param list   the DNC list the opt-out is recorded under
     * @param number the number (E.164)
     */
    public Mono<ControlEvent> optOut(String list, String number) {
        return publish(ControlEvent.Command.DNC, null, null, null, new ControlEvent.OptOut(list, number).toJson());
    }

    /**
     * Tells every node that a call ended here although another node placed it (Chime sent its invocations here):
     * the node that holds the call ends it with this outcome and releases its permit at once, instead of holding
     * it for the call's lifetime. Logged at DEBUG only (one per such call).
     *
     * @param campaignId  the call's campaign
     * @param attemptId   its attempt
     * @param disposition its disposition's name
     * @param sipCode     its SIP code, or null
     */
    public Mono<ControlEvent> callEnded(String campaignId, String attemptId, String disposition, Integer sipCode) {
        return publish(ControlEvent.Command.ENDED, Objects.requireNonNull(campaignId, "campaignId"), null, null,
                new ControlEvent.CallEnd(attemptId, disposition, sipCode).toJson());
    }

    /** Issues a pause of a campaign to every node. */
    public Mono<ControlEvent> pause(String campaignId) {
        return publish(ControlEvent.Command.PAUSE, Objects.requireNonNull(campaignId, "campaignId"), null, null);
    }

    /** Issues a resume of a campaign to every node. */
    public Mono<ControlEvent> resume(String campaignId) {
        return publish(ControlEvent.Command.RESUME, Objects.requireNonNull(campaignId, "campaignId"), null, null);
    }

    /** Issues a cancel of a campaign to every node. */
    public Mono<ControlEvent> cancel(String campaignId) {
        return publish(ControlEvent.Command.CANCEL, Objects.requireNonNull(campaignId, "campaignId"), null, null);
    }

    /** Issues a Region's new total rate to every node. */
    public Mono<ControlEvent> setRate(String region, double callsPerSecond) {
        if (!(callsPerSecond > 0)) {
            return Mono.error(new IllegalArgumentException("calls per second must be > 0, was " + callsPerSecond));
        }
        return publish(ControlEvent.Command.RATE, null, Objects.requireNonNull(region, "region"), callsPerSecond);
    }

    /**
     * Stores a command and notifies every node, in one transaction.
     *
     * @return the stored command (with its sequence number), once committed
     */
    public Mono<ControlEvent> publish(ControlEvent.Command command, String campaignId, String region, Double value) {
        return publish(command, campaignId, region, value, null);
    }

    /**
     * Stores a command with its payload and notifies every node, in one transaction.
     *
     * @return the stored command (with its sequence number), once committed
     */
    public Mono<ControlEvent> publish(ControlEvent.Command command, String campaignId, String region, Double value,
                                      String payload) {
        Objects.requireNonNull(command, "command");
        return Mono.fromCallable(() -> db.transact("control publish", c -> {
            long now = clock.millis();
            long seq;
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO campaign_control (campaign_id, command, "
                    + "region, value, issued_by, issued_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq")) {
                insert.setString(1, campaignId);
                insert.setString(2, command.name());
                insert.setString(3, region);
                if (value == null) {
                    insert.setNull(4, Types.DOUBLE);
                } else {
                    insert.setDouble(4, value);
                }
                insert.setString(5, settings.nodeId());
                insert.setLong(6, now);
                insert.setString(7, payload);
                try (ResultSet rs = insert.executeQuery()) {
                    rs.next();
                    seq = rs.getLong(1);
                }
            }
            try (PreparedStatement notify = c.prepareStatement("SELECT pg_notify(?, ?)")) {
                notify.setString(1, CHANNEL);
                notify.setString(2, Long.toString(seq));
                notify.execute();
            }
            ControlEvent event = new ControlEvent(seq, command, campaignId, region, value, payload, settings.nodeId(),
                    Instant.ofEpochMilli(now));
            if (command == ControlEvent.Command.ENDED) {
                log.debug("node {} issued control #{} {} {}", settings.nodeId(), seq, command, describe(event));
            } else {
                log.info("node {} issued control #{} {} {}", settings.nodeId(), seq, command, describe(event));
            }
            return event;
        })).subscribeOn(io);
    }

    /**
     * The last PAUSE/RESUME/CANCEL of each campaign and the last RATE of each Region, from the whole history: what a
     * node that starts late applies before following {@link #events()}. LAUNCH and DNC are left out: a launch does
     * not change whether a campaign is paused ({@link #launched()} gives the launches).
     */
    public Mono<List<ControlEvent>> latest() {
        return Mono.fromCallable(() -> db.transact("control history", c -> {
            Map<String, ControlEvent> last = new LinkedHashMap<>();
            try (Statement query = c.createStatement();
                 ResultSet rs = query.executeQuery("SELECT " + COLUMNS + " FROM campaign_control "
                         + "WHERE command IN ('PAUSE', 'RESUME', 'CANCEL', 'RATE') ORDER BY seq")) {
                while (rs.next()) {
                    ControlEvent e = event(rs);
                    String key = e.command() == ControlEvent.Command.RATE ? "region:" + e.region()
                            : "campaign:" + e.campaignId();
                    last.remove(key);
                    last.put(key, e);
                }
            }
            return List.copyOf(last.values());
        })).subscribeOn(io);
    }

    /**
     * The last LAUNCH of each campaign that no CANCEL followed, in sequence order: the campaigns a node that starts
     * late may join (whether their lists still hold work is for the caller to check).
     */
    public Mono<List<ControlEvent>> launched() {
        return Mono.fromCallable(() -> db.transact("control launches", c -> {
            Map<String, ControlEvent> last = new LinkedHashMap<>();
            try (Statement query = c.createStatement();
                 ResultSet rs = query.executeQuery("SELECT " + COLUMNS + " FROM campaign_control "
                         + "WHERE command IN ('LAUNCH', 'CANCEL') ORDER BY seq")) {
                while (rs.next()) {
                    ControlEvent e = event(rs);
                    last.remove(e.campaignId());
                    if (e.command() == ControlEvent.Command.LAUNCH) {
                        last.put(e.campaignId(), e);
                    }
                }
            }
            return List.copyOf(last.values());
        })).subscribeOn(io);
    }

    /** What a log line shows of a command: never the number of a DNC, nor a LAUNCH's definition. */
    static String describe(ControlEvent e) {
        return switch (e.command()) {
            case RATE -> e.region() + "=" + e.value();
            case DNC -> String.valueOf(e.optOut().orElse(null));
            case LAUNCH -> e.campaignId() + (e.payload() == null ? " (configured)" : " (definition attached)");
            case ENDED -> e.campaignId() + " " + e.callEnd().map(end -> end.attemptId() + "=" + end.disposition())
                    .orElse("?");
            default -> e.campaignId();
        };
    }

    /** Commands delivered to {@link #events()} so far. */
    public long delivered() {
        return delivered.get();
    }

    /** Notifications received on the LISTEN connection so far. */
    public long notifications() {
        return notifications.get();
    }

    /** Commands dropped because subscribers did not keep up. */
    public long dropped() {
        return dropped.get();
    }

    /** Stops the listener and closes its connection. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Disposable d = next;
        if (d != null) {
            d.dispose();
        }
        // the loop closes the connection when it sees closed; this closes it if the loop is not running
        try {
            listener.schedule(this::closeConnection);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the listener thread is gone already, and with it the loop; the server drops the session
            log.debug("node {}: control listener already stopped", settings.nodeId());
        }
        events.tryEmitComplete();
    }

    // ---- the listener loop (listener thread only) ----

    private void begin() {
        try {
            floor = db.transact("control start", c -> {
                try (Statement query = c.createStatement();
                     ResultSet rs = query.executeQuery("SELECT COALESCE(MAX(seq), 0) FROM campaign_control")) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
        } catch (ClusterException e) {
            log.warn("node {}: control listener cannot start yet: {}", settings.nodeId(), e.getMessage());
            if (!closed.get()) {
                next = listener.schedule(this::begin, settings.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
            }
            return;
        }
        loop();
    }

    private void loop() {
        if (closed.get()) {
            closeConnection();
            return;
        }
        try {
            if (listen && connection == null) {
                connection = db.dedicated();
                try (Statement statement = connection.createStatement()) {
                    statement.execute("LISTEN " + CHANNEL);
                }
                log.debug("node {}: listening on {}", settings.nodeId(), CHANNEL);
            }
            ready.tryEmitEmpty();
            if (listen) {
                // Blocks until a notification arrives or the poll interval passes: either way, read the table.
                PGNotification[] received = connection.unwrap(PGConnection.class)
                        .getNotifications((int) Math.max(1, settings.pollInterval().toMillis()));
                if (received != null && received.length > 0) {
                    notifications.addAndGet(received.length);
                }
                fetch(connection);
                schedule(Duration.ZERO);
            } else {
                db.transact("control poll", c -> {
                    fetch(c);
                    return null;
                });
                schedule(settings.pollInterval());
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("node {}: control listener failed ({}); polling, reconnecting in {}", settings.nodeId(),
                    e.getMessage(), settings.pollInterval());
            closeConnection();
            try {
                db.transact("control poll", c -> {
                    fetch(c);
                    return null;
                });
            } catch (RuntimeException pollFailure) {
                log.debug("node {}: control poll failed too: {}", settings.nodeId(), pollFailure.getMessage());
            }
            schedule(settings.pollInterval());
        }
    }

    private void schedule(Duration delay) {
        if (closed.get()) {
            closeConnection();
            return;
        }
        next = delay.isZero() ? listener.schedule(this::loop)
                : listener.schedule(this::loop, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void fetch(Connection c) throws SQLException {
        List<ControlEvent> fresh = new ArrayList<>();
        try (PreparedStatement query = c.prepareStatement("SELECT " + COLUMNS + " FROM campaign_control "
                + "WHERE seq > ? ORDER BY seq")) {
            query.setLong(1, floor);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    ControlEvent e = event(rs);
                    if (!seen.containsKey(e.seq())) {
                        fresh.add(e);
                    }
                }
            }
        }
        for (ControlEvent e : fresh) {
            seen.put(e.seq(), e.issuedAt().toEpochMilli());
            Sinks.EmitResult result = events.tryEmitNext(e);
            if (result.isSuccess()) {
                delivered.incrementAndGet();
            } else if (result != Sinks.EmitResult.FAIL_ZERO_SUBSCRIBER) {
                dropped.incrementAndGet();
                log.error("node {}: control #{} {} not delivered: {}", settings.nodeId(), e.seq(), e.command(), result);
            } else {
                delivered.incrementAndGet();
            }
        }
        // Raise the floor past commands old enough that no earlier sequence number can still commit.
        long settledBefore = clock.millis() - SETTLE_MILLIS;
        while (!seen.isEmpty() && seen.firstEntry().getValue() < settledBefore) {
            floor = Math.max(floor, seen.pollFirstEntry().getKey());
        }
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // the connection is dropped either way
            }
            connection = null;
        }
    }

    private static ControlEvent event(ResultSet rs) throws SQLException {
        double value = rs.getDouble(5);
        Double boxed = rs.wasNull() ? null : value;
        return new ControlEvent(rs.getLong(1), ControlEvent.Command.valueOf(rs.getString(2)), rs.getString(3),
                rs.getString(4), boxed, rs.getString(8), rs.getString(6), Instant.ofEpochMilli(rs.getLong(7)));
    }
}
