package io.chimedialer.core.cluster;

import io.chimedialer.testkit.PostgresSchema;
import io.chimedialer.testkit.ManualClock;
import io.chimedialer.core.contacts.ClaimGuard;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.RejectKind;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerOptions;
import io.chimedialer.core.pacing.PacingSettings;
import io.chimedialer.core.pacing.RegionPacing;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Several "nodes" (separate instances with separate connection pools, in one JVM) against the real PostgreSQL
 * at {@code DIALER_TEST_POSTGRES_URL} (skipped when unset; fails when set and unreachable). Each test gets a
 * schema of its own, migrated by opening the ledger on it (the cluster's tables by the first ClusterDatabase.open),
 * all dropped at the end of the run.
 */
class ClusterIT {
    private static final List<PostgresSchema> SCHEMAS = new ArrayList<>();
    private static final String CAMPAIGN = "reminders";
    private static final Duration WAIT = Duration.ofSeconds(60);

    private String url;
    private Ledger ledger;
    private final Deque<AutoCloseable> closeables = new ArrayDeque<>();

    @AfterAll
    static void dropSchemas() throws SQLException {
        for (PostgresSchema s : SCHEMAS) {
            s.close();
        }
        SCHEMAS.clear();
    }

    @BeforeEach
    void migrate() throws SQLException {
        url = schema();
        ledger = JdbcLedger.open(LedgerOptions.of(url, Clock.systemUTC()));
    }

    @AfterEach
    void closeAll() throws Exception {
        while (!closeables.isEmpty()) {
            closeables.pop().close();
        }
        ledger.close();
    }

    private String schema() {
        PostgresSchema created = PostgresSchema.create("dialer_cluster", "cluster tests");
        SCHEMAS.add(created);
        return created.url();
    }

    private <T extends AutoCloseable> T closing(T resource) {
        closeables.push(resource);
        return resource;
    }

    private ClusterDatabase database() {
        return closing(ClusterDatabase.open(url, 3, Duration.ofSeconds(3)));
    }

    private Scheduler scheduler(String name) {
        Scheduler scheduler = Schedulers.newBoundedElastic(8, 10_000, name);
        closing(scheduler::dispose);
        return scheduler;
    }

    private static ContactRow valid(long line, String id, String number) {
        return new ContactRow.Valid(new Contact(line, id, number, "n" + line, null, Map.of("k", "v" + line)));
    }

    private static List<ContactRow> contacts(int count) {
        return IntStream.range(0, count).mapToObj(i -> valid(i + 2, "c" + i, String.format("+1206%07d", i))).toList();
    }

    private static String key(ContactRow row) {
        return row instanceof ContactRow.Valid v ? v.contact().id() : "line-" + row.line();
    }

    private Map<String, Long> states() throws SQLException {
        Map<String, Long> out = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT state, COUNT(*) FROM cluster_contacts GROUP BY state")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    private String text(String sql) throws SQLException {
        try (Connection conn = DriverManager.getConnection(url); Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private long scalar(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    /** Consumes a node's rows as a run would: each row's final state goes to the ledger (a skip, here). */
    private Flux<ContactRow> consume(ClaimingSource source, String node, Map<String, String> owner,
                                     AtomicInteger twice) {
        return source.rows()
                .doOnNext(row -> {
                    if (owner.putIfAbsent(key(row), node) != null) {
                        twice.incrementAndGet();
                    }
                })
                // never wait for a full batch: the source completes only once its rows are settled
                .bufferTimeout(250, Duration.ofMillis(50), true)
                .concatMap(batch -> Flux.fromIterable(batch)
                        .flatMap(row -> ledger.recordSkipped(CAMPAIGN, key(row),
                                row instanceof ContactRow.Valid v ? v.contact().number() : "", "SUPPRESSED", "test"), 256)
                        .thenMany(Flux.fromIterable(batch)), 1);
    }

    // ---- import ----

    @Test
    void importOnce_threeNodesAtOnce_oneImportsAndDuplicatesAreSettled() throws SQLException {
        List<ContactRow> rows = new ArrayList<>(contacts(1000));
        rows.add(valid(1002, "dup-1", "+12060000001"));   // the number of c1
        rows.add(valid(1003, "dup-2", "+12060000002"));   // the number of c2
        rows.add(new ContactRow.Rejected(1004, "12", "not a number", RejectKind.INVALID_NUMBER));
        AtomicInteger subscriptions = new AtomicInteger();
        Flux<ContactRow> list = Flux.defer(() -> {
            subscriptions.incrementAndGet();
            return Flux.fromIterable(rows);
        });
        Clock clock = Clock.systemUTC();
        List<ContactImporter> importers = List.of("a", "b", "c").stream()
                .map(n -> new ContactImporter(database(), ledger, n, clock, scheduler("import-" + n))).toList();

        List<ContactImporter.Result> results = Flux.fromIterable(importers)
                .flatMap(i -> i.importOnce(CAMPAIGN, "list.csv", list))
                .collectList().block(WAIT);

        assertThat(results).filteredOn(ContactImporter.Result::imported).singleElement()
                .satisfies(r -> {
                    assertThat(r.rowsRead()).isEqualTo(1003);
                    assertThat(r.rowsInserted()).isEqualTo(1003);
                    assertThat(r.duplicates()).isEqualTo(2);
                });
        assertThat(subscriptions).hasValue(1);
        assertThat(states()).containsExactlyInAnyOrderEntriesOf(Map.of("PENDING", 1001L, "DONE", 2L));
        assertThat(scalar("SELECT COUNT(*) FROM contact_progress WHERE status = 'DUPLICATE'")).isEqualTo(2);
        assertThat(scalar("SELECT COUNT(*) FROM cluster_contacts WHERE kind = 'REJECTED' AND contact_key = 'line-1004'"))
                .isEqualTo(1);
        assertThat(importers.get(0).isImported(CAMPAIGN).block(WAIT)).isTrue();

        ContactImporter.Result again = importers.get(1).importOnce(CAMPAIGN, "list.csv", list).block(WAIT);
        assertThat(again.imported()).isFalse();
        assertThat(subscriptions).hasValue(1);
    }

    // ---- work sharing ----

    @Test
    void claim_threeNodes30000Contacts_eachClaimedExactlyOnce() throws SQLException {
        Clock clock = Clock.systemUTC();
        new ContactImporter(database(), ledger, "a", clock, scheduler("import"))
                .importOnce(CAMPAIGN, "list.csv", Flux.fromIterable(contacts(30_000))).block(WAIT);
        Map<String, String> owner = new ConcurrentHashMap<>();
        AtomicInteger twice = new AtomicInteger();
        List<ClaimingSource> sources = new ArrayList<>();
        for (String node : List.of("a", "b", "c")) {
            ClusterSettings settings = ClusterSettings.of(node, null).withClaimBatch(100)
                    .withPollInterval(Duration.ofMillis(100));
            sources.add(closing(new ClaimingSource(database(), CAMPAIGN, settings, clock, scheduler("claim-" + node))));
        }

        long emitted = Flux.merge(List.of(consume(sources.get(0), "a", owner, twice),
                        consume(sources.get(1), "b", owner, twice), consume(sources.get(2), "c", owner, twice)))
                .count().block(Duration.ofSeconds(120));

        assertThat(twice).as("contacts emitted by two nodes").hasValue(0);
        assertThat(emitted).isEqualTo(30_000);
        assertThat(owner).hasSize(30_000);
        assertThat(sources.stream().mapToLong(ClaimingSource::claimed).sum()).isEqualTo(30_000);
        Map<String, Long> perNode = new TreeMap<>();
        owner.values().forEach(n -> perNode.merge(n, 1L, Long::sum));
        assertThat(perNode).containsOnlyKeys("a", "b", "c");
        assertThat(states()).containsExactly(Map.entry("DONE", 30_000L));
        assertThat(scalar("SELECT MAX(claims) FROM cluster_contacts")).isEqualTo(1);
        System.out.println("30,000 contacts claimed by three nodes: " + perNode);
    }

    @Test
    void claim_nodeStopsRenewing_itsClaimsPassAfterTheLeaseButNeverAContactWithAnIntent() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-02T03:00:00Z"));
        Duration lease = Duration.ofSeconds(3);
        new ContactImporter(database(), ledger, "a", clock, scheduler("import"))
                .importOnce(CAMPAIGN, "list.csv", Flux.fromIterable(contacts(500))).block(WAIT);
        ClusterSettings a = ClusterSettings.of("a", null).withClaimBatch(100).withLease(lease)
                .withPollInterval(Duration.ofMillis(100));
        Scheduler aScheduler = Schedulers.newBoundedElastic(4, 1000, "node-a");
        ClusterDatabase aDb = ClusterDatabase.open(url, 3, Duration.ofSeconds(3));
        ClaimingSource nodeA = new ClaimingSource(aDb, CAMPAIGN, a, clock, aScheduler);

        List<ContactRow> taken = nodeA.rows().take(200).collectList().block(WAIT);
        // node a dies without releasing anything (a claim it had in flight may still commit: count after)
        aScheduler.disposeGracefully().block(WAIT); // a claim round in flight finishes (and commits) first
        aDb.close();
        long aClaimed = scalar("SELECT COUNT(*) FROM cluster_contacts WHERE state = 'CLAIMED' AND claimed_by = 'a'");
        assertThat(taken).hasSize(200);
        assertThat(aClaimed).isBetween(200L, 300L);
        // before dying, node a had written intents for 20 of its contacts, and 5 of those calls had ended
        List<Attempt> intents = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Contact contact = ((ContactRow.Valid) taken.get(i)).contact();
            intents.add(new Attempt("att-" + i, CAMPAIGN, contact, 1, "us-east-1", "+12065550100"));
        }
        ledger.recordIntents(intents).block(WAIT);
        for (int i = 0; i < 5; i++) {
            ledger.recordResult(new CallResult("att-" + i, CAMPAIGN, "tx-" + i, Disposition.ANSWERED, null,
                    Duration.ofSeconds(1), Duration.ofSeconds(2), "", 3, clock.instant())).block(WAIT);
        }
        Set<String> withIntent = new HashSet<>();
        intents.forEach(i -> withIntent.add(i.contact().id()));

        ClusterSettings b = ClusterSettings.of("b", null).withClaimBatch(100).withLease(lease)
                .withPollInterval(Duration.ofMillis(100));
        ClaimingSource nodeB = closing(new ClaimingSource(database(), CAMPAIGN, b, clock, scheduler("node-b")));
        Map<String, String> owner = new ConcurrentHashMap<>();
        AtomicInteger twice = new AtomicInteger();
        List<String> bRows = new CopyOnWriteArrayList<>();
        AtomicInteger completed = new AtomicInteger();
        Disposable running = consume(nodeB, "b", owner, twice).subscribe(r -> bRows.add(key(r)), e -> { },
                completed::incrementAndGet);
        closing(running::dispose);

        await("b takes every unclaimed contact", WAIT, () -> bRows.size() == 500 - aClaimed);
        await("b's contacts settle", WAIT, () -> {
            try {
                return states().getOrDefault("DONE", 0L) == 500 - aClaimed;
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        TimeUnit.MILLISECONDS.sleep(300); // b keeps polling: a's claims are not expired, b must not take them
        assertThat(bRows).hasSize((int) (500 - aClaimed));
        assertThat(completed).as("a's claims may still come back: b waits").hasValue(0);
        Set<String> aKeys = new HashSet<>();
        taken.forEach(r -> aKeys.add(key(r)));
        assertThat(bRows).doesNotContainAnyElementsOf(aKeys);

        clock.advance(lease.plusMillis(1));
        await("b completes once a's claims passed to it", WAIT, () -> completed.get() == 1);

        assertThat(twice).hasValue(0);
        assertThat(bRows).hasSize(480).doesNotContainAnyElementsOf(withIntent);
        assertThat(nodeB.reclaimed()).isEqualTo(aClaimed - 20);
        assertThat(nodeB.orphaned()).isEqualTo(15);
        assertThat(states()).containsExactlyInAnyOrderEntriesOf(Map.of("DONE", 485L, "ORPHANED", 15L));
        assertThat(scalar("SELECT COUNT(*) FROM cluster_contacts WHERE claims = 2 AND claimed_by = 'b'"))
                .isEqualTo(aClaimed - 20);
        assertThat(scalar("SELECT COUNT(*) FROM attempts")).as("no attempt was written again").isEqualTo(20);
    }

    @Test
    void renew_liveRunsClaimsStayValidByItsLeaseRowAlone_aRestartedNodesPredecessorsClaimsLapse() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-02T03:00:00Z"));
        // Only the test renews: with a lease of an hour of real time, no timed renewal runs during the test.
        Duration lease = Duration.ofHours(1);
        new ContactImporter(database(), ledger, "a", clock, scheduler("import"))
                .importOnce(CAMPAIGN, "list.csv", Flux.fromIterable(contacts(300))).block(WAIT);
        ClusterSettings a = ClusterSettings.of("a", null).withClaimBatch(100).withLease(lease)
                .withPollInterval(Duration.ofMillis(50));
        Scheduler aScheduler = Schedulers.newBoundedElastic(4, 1000, "node-a");
        ClusterDatabase aDb = ClusterDatabase.open(url, 3, Duration.ofSeconds(3));
        ClaimingSource nodeA = new ClaimingSource(aDb, CAMPAIGN, a, clock, aScheduler);
        List<String> aKeys = nodeA.rows().take(100).map(ClusterIT::key).collectList().block(WAIT);
        long aClaimed = scalar("SELECT COUNT(*) FROM cluster_contacts WHERE state = 'CLAIMED' AND claimed_by = 'a'");
        assertThat(aClaimed).isBetween(100L, 200L);
        String versions = "SELECT string_agg(contact_key || ':' || xmin::text, ',' ORDER BY contact_key) "
                + "FROM cluster_contacts WHERE claimed_by = 'a'";
        String before = text(versions);

        // a renews for three leases: its claims stay valid though their own lease ran out long ago
        for (int i = 0; i < 9; i++) {
            clock.advance(lease.dividedBy(3));
            assertThat(nodeA.renew().block(WAIT)).isEqualTo((int) aClaimed);
        }
        assertThat(text(versions)).as("renewals rewrite no claimed row").isEqualTo(before);
        assertThat(scalar("SELECT COUNT(*) FROM cluster_leases")).as("one lease row for a's run").isEqualTo(1);
        ClaimingSource nodeB = closing(new ClaimingSource(database(), CAMPAIGN, ClusterSettings.of("b", null)
                .withClaimBatch(100).withLease(lease).withPollInterval(Duration.ofMillis(50)), clock,
                scheduler("node-b")));
        List<String> bKeys = nodeB.rows().take(300 - aClaimed).map(ClusterIT::key).collectList().block(WAIT);
        assertThat(bKeys).hasSize((int) (300 - aClaimed)).doesNotContainAnyElementsOf(aKeys);
        assertThat(nodeA.confirm(aKeys).block(WAIT).contactKeys()).containsExactlyInAnyOrderElementsOf(aKeys);

        // a dies; a new run of a (same node id) starts: it does not keep its predecessor's claims alive
        aScheduler.disposeGracefully().block(WAIT);
        aDb.close();
        ClaimingSource nodeA2 = closing(new ClaimingSource(database(), CAMPAIGN, a, clock, scheduler("node-a2")));
        nodeA2.renew().block(WAIT);
        clock.advance(lease.plusMillis(1)); // the dead run's lease row and its claims' own leases have run out
        nodeA2.renew().block(WAIT);
        nodeB.renew().block(WAIT);
        assertThat(scalar("SELECT COUNT(*) FROM cluster_contacts c WHERE state = 'CLAIMED' AND claimed_by = 'a' "
                + "AND NOT EXISTS (SELECT 1 FROM cluster_leases l WHERE l.holder = c.holder AND l.lease_until >= "
                + clock.millis() + ")")).as("the predecessor's claims lapsed").isEqualTo(aClaimed);
        ClaimingSource nodeC = closing(new ClaimingSource(database(), CAMPAIGN, ClusterSettings.of("c", null)
                .withClaimBatch(100).withLease(lease).withPollInterval(Duration.ofMillis(50)), clock,
                scheduler("node-c")));
        List<String> cKeys = nodeC.rows().take(aClaimed).map(ClusterIT::key).collectList().block(WAIT);
        assertThat(cKeys).as("a survivor takes the dead run's claims").hasSize((int) aClaimed)
                .containsAll(aKeys);
    }

    @Test
    void orphans_deadNodesOpenAttempts_endUnknownAtOnceWithoutTransactionIdElseAfterTheCallHold() throws Exception {
        // The ledger stamps intents with its clock: the test's, so that the call hold passes when the test says.
        ManualClock clock = new ManualClock(Instant.parse("2026-01-02T03:00:00Z"));
        ledger.close();
        ledger = JdbcLedger.open(LedgerOptions.of(url, clock));
        Duration lease = Duration.ofSeconds(3);
        Duration hold = Duration.ofMinutes(2);
        new ContactImporter(database(), ledger, "a", clock, scheduler("import"))
                .importOnce(CAMPAIGN, "list.csv", Flux.fromIterable(contacts(20))).block(WAIT);
        ClusterSettings a = ClusterSettings.of("a", null).withClaimBatch(10).withLease(lease);
        Scheduler aScheduler = Schedulers.newBoundedElastic(2, 100, "node-a");
        ClusterDatabase aDb = ClusterDatabase.open(url, 2, Duration.ofSeconds(3));
        List<ContactRow> taken = new ClaimingSource(aDb, CAMPAIGN, a, clock, aScheduler).rows().take(4)
                .collectList().block(WAIT);
        // node a wrote four intents and dies: att-0 ended, att-1 never placed, att-2 and att-3 placed and open
        List<Attempt> intents = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            intents.add(new Attempt("att-" + i, CAMPAIGN, ((ContactRow.Valid) taken.get(i)).contact(), 1,
                    "us-east-1", "+12065550100"));
        }
        ledger.recordIntents(intents).block(WAIT);
        ledger.recordPlaced("att-0", "tx-0", clock.instant()).block(WAIT);
        ledger.recordResult(new CallResult("att-0", CAMPAIGN, "tx-0", Disposition.ANSWERED, null, Duration.ZERO,
                Duration.ofSeconds(2), "", 3, clock.instant())).block(WAIT);
        ledger.recordPlaced("att-2", "tx-2", clock.instant()).block(WAIT);
        ledger.recordPlaced("att-3", "tx-3", clock.instant()).block(WAIT);
        aScheduler.dispose();
        aDb.close();

        ClaimingSource nodeB = closing(new ClaimingSource(database(), CAMPAIGN, ClusterSettings.of("b", null)
                .withClaimBatch(10).withLease(lease).withPollInterval(Duration.ofMillis(50)).withCallHold(hold),
                clock, scheduler("node-b")));
        List<String> bRows = new CopyOnWriteArrayList<>();
        AtomicInteger completed = new AtomicInteger();
        Disposable running = consume(nodeB, "b", new ConcurrentHashMap<>(), new AtomicInteger())
                .subscribe(r -> bRows.add(key(r)), e -> { }, completed::incrementAndGet);
        closing(running::dispose);
        clock.advance(lease.plusMillis(1));

        // The intent without a TransactionId ends UNKNOWN at once; the placed calls may still be up: b waits.
        await("a's unplaced intent ends UNKNOWN", WAIT, () -> nodeB.closedOrphans() == 1);
        await("b dials every contact without an intent", WAIT, () -> bRows.size() == 16);
        TimeUnit.MILLISECONDS.sleep(300);
        assertThat(completed).as("placed calls of a may still end").hasValue(0);
        // att-2's HANGUP reaches some node, which records its outcome; att-3's never comes.
        ledger.recordResult(new CallResult("att-2", CAMPAIGN, "tx-2", Disposition.BUSY, 486, Duration.ofSeconds(1),
                Duration.ZERO, "", 2, clock.instant())).block(WAIT);
        TimeUnit.MILLISECONDS.sleep(300);
        assertThat(completed).hasValue(0);
        clock.advance(hold.plusMillis(1)); // the intents are older than the hold now
        await("b completes once the call hold has passed", WAIT, () -> completed.get() == 1);

        assertThat(nodeB.closedOrphans()).isEqualTo(2);
        assertThat(nodeB.orphaned()).isEqualTo(3);
        Map<String, String> outcome = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT a.attempt_id, a.disposition, p.status FROM attempts a JOIN "
                     + "contact_progress p ON p.last_attempt_id = a.attempt_id")) {
            while (rs.next()) {
                outcome.put(rs.getString(1), rs.getString(2) + "/" + rs.getString(3));
            }
        }
        assertThat(outcome).containsExactlyInAnyOrderEntriesOf(Map.of("att-0", "ANSWERED/ANSWERED", "att-1", "UNKNOWN/UNKNOWN",
                "att-2", "BUSY/BUSY", "att-3", "UNKNOWN/UNKNOWN"));
        assertThat(bRows).doesNotContainAnyElementsOf(intents.stream().map(i -> i.contact().id()).toList());
        assertThat(states()).containsExactlyInAnyOrderEntriesOf(Map.of("DONE", 17L, "ORPHANED", 3L));
    }

    @Test
    void claim_deadNodesFollowUps_adoptedOnceByTwoRacingNodesAndOpenAttemptsStayOrphaned() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-02T03:00:00Z"));
        Duration lease = Duration.ofSeconds(3);
        new ContactImporter(database(), ledger, "a", clock, scheduler("import"))
                .importOnce(CAMPAIGN, "list.csv", Flux.fromIterable(contacts(20))).block(WAIT);
        ClusterSettings a = ClusterSettings.of("a", null).withClaimBatch(20).withLease(lease)
                .withPollInterval(Duration.ofMillis(100));
        Scheduler aScheduler = Schedulers.newBoundedElastic(4, 1000, "node-a");
        ClusterDatabase aDb = ClusterDatabase.open(url, 3, Duration.ofSeconds(3));
        List<Contact> taken = new ClaimingSource(aDb, CAMPAIGN, a, clock, aScheduler).rows().take(20)
                .map(row -> ((ContactRow.Valid) row).contact()).collectList().block(WAIT);
        aScheduler.dispose();
        aDb.close();
        assertThat(taken).hasSize(20);
        assertThat(scalar("SELECT COUNT(*) FROM cluster_contacts WHERE state = 'CLAIMED' AND claimed_by = 'a'"))
                .isEqualTo(20);

        // What node a left in the ledger before dying:
        Instant due = clock.instant().plus(Duration.ofMinutes(10));
        Map<String, Ledger.FollowUp> expected = new TreeMap<>();
        for (int i = 0; i < 20; i++) {
            Contact c = taken.get(i);
            if (i < 14) {
                ledger.recordIntents(List.of(attempt(c, 1))).block(WAIT);
            }
            if (i < 6 || i == 7 || i == 8 || i == 12 || i == 13) {
                ledger.recordResult(result(c, 1, i < 6 || i == 7 || i == 8 ? Disposition.BUSY : Disposition.ANSWERED,
                        clock.instant())).block(WAIT);
            }
            if (i < 6 || i == 7 || i == 8) {
                // c0-c5 BUSY, retry 2 due at different times (c0 overdue); c7 and c8 too, and they go on below
                Instant at = due.plus(Duration.ofMinutes(i)).minus(i == 0 ? Duration.ofMinutes(20) : Duration.ZERO);
                ledger.scheduleFollowUp(CAMPAIGN, c.id(), c.number(), 2, at).block(WAIT);
                if (i < 6) {
                    expected.put(c.id(), new Ledger.FollowUp(CAMPAIGN, c.id(), c.number(), 2, at));
                }
            }
        }
        Contact c5 = taken.get(5);
        Contact c7 = taken.get(7);
        Contact c8 = taken.get(8);
        // c5: the retry was made (its intent takes follow-up 2), BUSY again, retry 3 pending: adopted as attempt 3
        ledger.recordIntents(List.of(attempt(c5, 2))).block(WAIT);
        ledger.recordResult(result(c5, 2, Disposition.BUSY, clock.instant())).block(WAIT);
        Instant dueThird = due.plus(Duration.ofHours(1));
        ledger.scheduleFollowUp(CAMPAIGN, c5.id(), c5.number(), 3, dueThird).block(WAIT);
        expected.put(c5.id(), new Ledger.FollowUp(CAMPAIGN, c5.id(), c5.number(), 3, dueThird));
        // c7: its retry's call was live when a died (intent 2, no result): ORPHANED
        ledger.recordIntents(List.of(attempt(c7, 2))).block(WAIT);
        // c8: a follow-up pending while an attempt is still open: never adopted, ORPHANED
        ledger.recordIntents(List.of(attempt(c8, 2))).block(WAIT);
        ledger.scheduleFollowUp(CAMPAIGN, c8.id(), c8.number(), 3, due).block(WAIT);
        // c6, c9-c11: intent without result, no follow-up: ORPHANED; c12, c13 ANSWERED: DONE; c14-c19 never dialed
        assertThat(scalar("SELECT COUNT(*) FROM follow_ups WHERE taken_at IS NULL")).isEqualTo(7);

        clock.advance(lease.plusMillis(1)); // a's claims expire
        Map<String, List<Ledger.FollowUp>> adoptedBy = new ConcurrentHashMap<>();
        Map<String, String> owner = new ConcurrentHashMap<>();
        AtomicInteger twice = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        List<ClaimingSource> nodes = new ArrayList<>();
        for (String node : List.of("b", "c")) {
            // batches of 2: several adoption rounds on both nodes at once
            ClaimingSource source = closing(new ClaimingSource(database(), CAMPAIGN, ClusterSettings.of(node, null)
                    .withClaimBatch(2).withLease(lease).withPollInterval(Duration.ofMillis(50)), clock,
                    scheduler("node-" + node)));
            nodes.add(source);
            List<Ledger.FollowUp> adopted = new CopyOnWriteArrayList<>();
            adoptedBy.put(node, adopted);
            closing(source.adoptedFollowUps().subscribe(adopted::add)::dispose);
            closing(consume(source, node, owner, twice).subscribe(r -> { }, e -> { }, completed::incrementAndGet)
                    ::dispose);
        }

        await("b and c settle a's contacts", WAIT, () -> {
            try {
                return states().equals(Map.of("CLAIMED", 6L, "DONE", 8L, "ORPHANED", 6L));
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        List<Ledger.FollowUp> all = new ArrayList<>(adoptedBy.get("b"));
        all.addAll(adoptedBy.get("c"));
        assertThat(all).as("each pending follow-up without an open attempt adopted by exactly one node")
                .containsExactlyInAnyOrderElementsOf(expected.values());
        assertThat(nodes.get(0).adopted() + nodes.get(1).adopted()).isEqualTo(6);
        assertThat(scalar("SELECT COUNT(*) FROM cluster_contacts WHERE state = 'CLAIMED' AND claims = 2 "
                + "AND claimed_by IN ('b', 'c') AND lease_until > " + clock.millis())).isEqualTo(6);
        for (String node : List.of("b", "c")) {
            for (Ledger.FollowUp f : adoptedBy.get(node)) {
                assertThat(scalar("SELECT COUNT(*) FROM cluster_contacts WHERE contact_key = '" + f.contactKey()
                        + "' AND claimed_by = '" + node + "'")).as("%s adopted %s", node, f.contactKey()).isEqualTo(1);
            }
        }
        Set<String> orphans = new HashSet<>();
        try (Connection conn = DriverManager.getConnection(url); Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT contact_key FROM cluster_contacts WHERE state = 'ORPHANED'")) {
            while (rs.next()) {
                orphans.add(rs.getString(1));
            }
        }
        assertThat(orphans).containsExactlyInAnyOrder(taken.get(6).id(), c7.id(), c8.id(), taken.get(9).id(),
                taken.get(10).id(), taken.get(11).id());
        assertThat(owner.keySet()).as("only the never-dialed contacts are emitted as rows")
                .containsExactlyInAnyOrderElementsOf(taken.subList(14, 20).stream().map(Contact::id).toList());
        assertThat(twice).hasValue(0);
        assertThat(scalar("SELECT COUNT(*) FROM follow_ups WHERE taken_at IS NULL"))
                .as("adoption takes nothing: the follow-up's intent does").isEqualTo(7);
        assertThat(completed).as("the adopted follow-ups keep both sources open").hasValue(0);

        // the adopting nodes dial their follow-ups: each intent takes its follow-up, each result settles it
        for (Ledger.FollowUp f : all) {
            Contact c = new Contact(0, f.contactKey(), f.number(), "", null, Map.of());
            ledger.recordIntents(List.of(attempt(c, f.attemptNumber()))).block(WAIT);
            ledger.recordResult(result(c, f.attemptNumber(), Disposition.ANSWERED, clock.instant())).block(WAIT);
        }
        await("b and c complete once the adopted follow-ups are settled", WAIT, () -> completed.get() == 2);
        assertThat(states()).containsExactlyInAnyOrderEntriesOf(Map.of("DONE", 14L, "ORPHANED", 6L));
        assertThat(scalar("SELECT COUNT(*) FROM follow_ups WHERE taken_at IS NULL"))
                .as("only the orphan's follow-up is left").isEqualTo(1);
    }

    private static Attempt attempt(Contact contact, int number) {
        return new Attempt("att-" + contact.id() + "-" + number, CAMPAIGN, contact, number, "us-east-1",
                "+12065550100");
    }

    private static CallResult result(Contact contact, int number, Disposition disposition, Instant at) {
        return new CallResult("att-" + contact.id() + "-" + number, CAMPAIGN, "tx-" + contact.id() + "-" + number,
                disposition, null, Duration.ofSeconds(1), Duration.ZERO, "", 2, at);
    }

    @Test
    void confirm_contactsTakenByAnotherNodeAreNotHeld_expiredButUntakenOnesAreExtendedAndKeptFromOthers()
            throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-02T03:00:00Z"));
        Duration lease = Duration.ofSeconds(3);
        new ContactImporter(database(), ledger, "a", clock, scheduler("import"))
                .importOnce(CAMPAIGN, "list.csv", Flux.fromIterable(contacts(20))).block(WAIT);
        ClaimingSource nodeA = closing(new ClaimingSource(database(), CAMPAIGN, ClusterSettings.of("a", null)
                .withClaimBatch(10).withLease(lease), clock, scheduler("node-a")));
        ClaimingSource nodeB = closing(new ClaimingSource(database(), CAMPAIGN, ClusterSettings.of("b", null)
                .withClaimBatch(5).withLease(lease), clock, scheduler("node-b")));
        List<String> aKeys = nodeA.rows().take(10).map(ClusterIT::key).collectList().block(WAIT);
        assertThat(aKeys).hasSize(10);
        clock.advance(lease.plusSeconds(1)); // a's renewals stalled: its claims ran out

        // b claims five of a's expired claims (the lowest seq first); a keeps the other five, expired but untaken
        List<String> bKeys = nodeB.rows().take(5).map(ClusterIT::key).collectList().block(WAIT);
        assertThat(aKeys).containsAll(bKeys);
        ClaimGuard.Held held = nodeA.confirm(aKeys).block(WAIT);
        assertThat(held.contactKeys()).hasSize(5).doesNotContainAnyElementsOf(bKeys);
        assertThat(held.untilMillis()).isEqualTo(clock.millis() + lease.toMillis());
        // the confirmed claims run a full lease again: not claimable by anyone until then
        assertThat(scalar("SELECT COUNT(*) FROM cluster_contacts WHERE claimed_by = 'a' AND lease_until = "
                + held.untilMillis())).isEqualTo(5);
        assertThat(nodeA.confirm(bKeys).block(WAIT).contactKeys()).isEmpty();
        assertThat(nodeA.confirm(List.of()).block(WAIT).contactKeys()).isEmpty();
    }

    @Test
    void rows_ownClaimsRanOutWhileTheRunHeldThem_claimedAgainButNeverHandedOutTwice() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-02T03:00:00Z"));
        // Only the test's clock runs the leases out: renewals run every third of the lease of real time, so with
        // a lease of an hour none runs during the test (one would renew the claims the test lets run out).
        Duration lease = Duration.ofHours(1);
        new ContactImporter(database(), ledger, "a", clock, scheduler("import"))
                .importOnce(CAMPAIGN, "list.csv", Flux.fromIterable(contacts(40))).block(WAIT);
        ClaimingSource nodeA = closing(new ClaimingSource(database(), CAMPAIGN, ClusterSettings.of("a", null)
                .withClaimBatch(10).withLease(lease).withPollInterval(Duration.ofMillis(50)), clock,
                scheduler("node-a")));
        List<String> keys = new CopyOnWriteArrayList<>();
        AtomicReference<Subscription> upstream = new AtomicReference<>();
        nodeA.rows().subscribe(new BaseSubscriber<ContactRow>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                upstream.set(subscription);
                subscription.request(10);
            }

            @Override
            protected void hookOnNext(ContactRow row) {
                keys.add(key(row));
            }
        });
        await("the first ten rows", WAIT, () -> keys.size() == 10);
        // the source claims a batch ahead: once it has, those ten rows carry the lease that runs out below
        await("the next batch claimed ahead", WAIT, () -> nodeA.claimed() >= 20);
        clock.advance(lease.plusSeconds(1)); // the renewals stalled: every claim of a ran out
        // past the rows claimed ahead, the source's next claim finds its own expired ones first
        upstream.get().request(30);
        await("thirty more rows", WAIT, () -> keys.size() == 40);

        // 40 requested, 40 delivered: nothing more can come, so no duplicate can arrive later
        assertThat(keys).hasSize(40).doesNotHaveDuplicates();
        assertThat(nodeA.late()).as("rows handed out after their lease ran out").isGreaterThanOrEqualTo(10);
    }

    @Test
    void close_runOver_givesBackUnknownContactsAndOrphansOpenAttempts() throws SQLException {
        Clock clock = Clock.systemUTC();
        new ContactImporter(database(), ledger, "a", clock, scheduler("import"))
                .importOnce(CAMPAIGN, "list.csv", Flux.fromIterable(contacts(50))).block(WAIT);
        ClaimingSource source = new ClaimingSource(database(), CAMPAIGN,
                ClusterSettings.of("a", null).withClaimBatch(10), clock, scheduler("node-a"));
        List<ContactRow> taken = source.rows().take(10).collectList().block(WAIT);
        Contact first = ((ContactRow.Valid) taken.get(0)).contact();
        ledger.recordIntents(List.of(new Attempt("att-1", CAMPAIGN, first, 1, "us-east-1", "+12065550100")))
                .block(WAIT);
        ledger.recordSkipped(CAMPAIGN, key(taken.get(1)), "+12060000001", "SUPPRESSED", "dnc").block(WAIT);
        long claimed = scalar("SELECT COUNT(*) FROM cluster_contacts WHERE state = 'CLAIMED'");

        source.close();

        assertThat(states()).containsExactlyInAnyOrderEntriesOf(Map.of("PENDING", 50 - 2L, "DONE", 1L,
                "ORPHANED", 1L));
        assertThat(claimed).isBetween(10L, 20L);
        assertThatThrownBy(() -> source.rows().blockFirst(WAIT)).isInstanceOf(IllegalStateException.class);
    }

    // ---- membership and Region shares ----

    /** Every share change of every node, in the order they happened. */
    private static final class ShareLog {
        record Change(String node, String region, boolean cap, double value) {
        }

        final List<Object> entries = new ArrayList<>();

        synchronized void add(Object entry) {
            entries.add(entry);
        }

        ClusterLimits.Target target(String node, String region) {
            return new ClusterLimits.Target() {
                @Override
                public void rate(double callsPerSecond) {
                    add(new Change(node, region, false, callsPerSecond));
                }

                @Override
                public void cap(int maxActiveCalls) {
                    add(new Change(node, region, true, maxActiveCalls));
                }
            };
        }

        /**
         * Replays the log: the largest sum of caps, and of rates of the nodes able to call (cap above zero: a fenced
         * or unacknowledged node keeps its old rate but starts no call), per Region.
         */
        synchronized Map<String, double[]> peaks(Map<String, RegionShare> start) {
            Map<String, Map<String, double[]>> current = new HashMap<>();
            Map<String, double[]> peaks = new TreeMap<>();
            for (Object entry : entries) {
                if (entry instanceof String gone) {
                    current.remove(gone);
                    continue;
                }
                Change c = (Change) entry;
                double[] applied = current.computeIfAbsent(c.node(), n -> new HashMap<>()).computeIfAbsent(c.region(),
                        r -> new double[] {start.get(r).callsPerSecond(), start.get(r).maxActiveCalls()});
                applied[c.cap() ? 1 : 0] = c.value();
                double rate = 0;
                double cap = 0;
                for (Map<String, double[]> node : current.values()) {
                    double[] share = node.get(c.region());
                    if (share != null && share[1] > 0) {
                        rate += share[0];
                        cap += share[1];
                    }
                }
                double[] peak = peaks.computeIfAbsent(c.region(), r -> new double[2]);
                peak[0] = Math.max(peak[0], rate);
                peak[1] = Math.max(peak[1], cap);
            }
            return peaks;
        }
    }

    @Test
    void membership_nodesJoinLeaveAndAreCutOff_liveListAndSharesRebalanceWithinTheTotals() throws Exception {
        Clock clock = Clock.systemUTC();
        Map<String, RegionShare> totals = new LinkedHashMap<>();
        totals.put("us-east-1", new RegionShare(9, 10));
        totals.put("us-west-2", new RegionShare(2, 2));
        ShareLog log = new ShareLog();
        Map<String, ClusterMembership> nodes = new LinkedHashMap<>();
        Map<String, ClusterDatabase> dbs = new HashMap<>();
        for (String id : List.of("a", "b", "c")) {
            Map<String, ClusterLimits.Target> targets = new LinkedHashMap<>();
            totals.keySet().forEach(region -> targets.put(region, log.target(id, region)));
            ClusterSettings settings = ClusterSettings.of(id, "http://127.0.0.1:808" + (id.charAt(0) - 'a'))
                    .withHeartbeat(Duration.ofMillis(200), Duration.ofMillis(1000));
            ClusterDatabase db = ClusterDatabase.open(url, 3, Duration.ofSeconds(1));
            dbs.put(id, db);
            closing(db);
            nodes.put(id, closing(new ClusterMembership(db, settings, new ClusterLimits(id, targets, totals), clock,
                    scheduler("member-" + id))));
        }
        ClusterMembership a = nodes.get("a");
        ClusterMembership b = nodes.get("b");
        ClusterMembership c = nodes.get("c");

        a.start();
        await("a alone with the whole limits", WAIT, () -> a.current() != null
                && a.limits().shares().get("us-east-1").equals(new RegionShare(9, 10)));
        b.start();
        c.start();
        await("three nodes split the limits", WAIT, () -> a.limits().shares().get("us-east-1").maxActiveCalls() == 4
                && b.limits().shares().get("us-east-1").maxActiveCalls() == 3
                && c.limits().shares().get("us-east-1").maxActiveCalls() == 3
                && c.limits().shares().get("us-west-2").maxActiveCalls() == 0
                && b.limits().shares().get("us-west-2").maxActiveCalls() == 1);
        assertThat(a.limits().shares().get("us-east-1").callsPerSecond()).isEqualTo(3.0);
        await("every node sees three", WAIT, () -> nodes.values().stream()
                .allMatch(n -> n.current().ids().equals(List.of("a", "b", "c"))));
        assertThat(a.liveNodes().block(WAIT)).extracting(NodeInfo::nodeId).containsExactly("a", "b", "c");

        c.close(); // leaves gracefully
        log.add("c");
        await("two nodes split the limits after c left", WAIT,
                () -> a.limits().shares().get("us-east-1").equals(new RegionShare(4.5, 5))
                        && b.limits().shares().get("us-east-1").equals(new RegionShare(4.5, 5))
                        && a.current().ids().equals(List.of("a", "b")));

        dbs.get("b").close(); // b is cut off from the database: it fences itself, then a takes everything
        await("b fenced", WAIT, () -> b.limits().fenced());
        await("a alone again", WAIT, () -> a.limits().shares().get("us-east-1").equals(new RegionShare(9, 10))
                && a.limits().shares().get("us-west-2").equals(new RegionShare(2, 2))
                && a.current().ids().equals(List.of("a")));
        assertThat(b.failures()).isPositive();
        assertThat(a.current().ids()).containsExactly("a");
        assertThat(a.liveNodes().block(WAIT)).extracting(NodeInfo::nodeId).containsExactly("a");
        ClusterStatus status = a.status().block(WAIT);
        assertThat(status.nodes()).extracting(ClusterStatus.Node::nodeId).containsExactly("a");
        assertThat(status.nodes().get(0).shares()).containsEntry("us-east-1", new RegionShare(9, 10));

        Map<String, double[]> peaks = log.peaks(totals);
        System.out.println("peak sums of shares: east rate " + peaks.get("us-east-1")[0] + " cap "
                + peaks.get("us-east-1")[1] + "; west rate " + peaks.get("us-west-2")[0] + " cap "
                + peaks.get("us-west-2")[1]);
        assertThat(peaks.get("us-east-1")[1]).as("sum of east caps").isLessThanOrEqualTo(10);
        assertThat(peaks.get("us-west-2")[1]).as("sum of west caps").isLessThanOrEqualTo(2);
        assertThat(peaks.get("us-east-1")[0]).as("sum of east rates").isLessThanOrEqualTo(9 + 1e-9);
        assertThat(peaks.get("us-west-2")[0]).as("sum of west rates").isLessThanOrEqualTo(2 + 1e-9);
    }

    @Test
    void membership_openCallsOfANodeGone_heldBackFromTheCapUntilTheyEnd() throws Exception {
        Clock clock = Clock.systemUTC();
        new ContactImporter(database(), ledger, "a", clock, scheduler("import"))
                .importOnce(CAMPAIGN, "list.csv", Flux.fromIterable(contacts(20))).block(WAIT);
        // node "gone" claimed contacts and placed 3 calls, then vanished (it never heartbeats)
        ClaimingSource gone = new ClaimingSource(database(), CAMPAIGN, ClusterSettings.of("gone", null)
                .withClaimBatch(10), clock, scheduler("gone"));
        List<ContactRow> taken = gone.rows().take(5).collectList().block(WAIT);
        List<Attempt> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(new Attempt("gone-" + i, CAMPAIGN, ((ContactRow.Valid) taken.get(i)).contact(), 1, "us-east-1",
                    "+12065550100"));
        }
        ledger.recordIntents(calls).block(WAIT);
        ShareLog log = new ShareLog();
        Map<String, ClusterLimits.Target> targets = new LinkedHashMap<>();
        targets.put("us-east-1", log.target("a", "us-east-1"));
        ClusterLimits limits = new ClusterLimits("a", targets, Map.of("us-east-1", new RegionShare(9, 10)));
        ClusterMembership a = closing(new ClusterMembership(database(), ClusterSettings.of("a", null)
                .withHeartbeat(Duration.ofMillis(200), Duration.ofMillis(1000)), limits, clock, scheduler("a")));

        a.start();
        await("the gone node's 3 calls are held back", WAIT,
                () -> limits.shares().get("us-east-1").equals(new RegionShare(9, 7)));
        assertThat(limits.held()).containsExactly(Map.entry("us-east-1", 3));

        ledger.recordResult(new CallResult("gone-0", CAMPAIGN, "tx-0", Disposition.BUSY, 486, null, null, "", 2,
                clock.instant())).block(WAIT);
        ledger.recordResult(new CallResult("gone-1", CAMPAIGN, "tx-1", Disposition.ANSWERED, null, null, null, "", 4,
                clock.instant())).block(WAIT);

        await("ended calls released", WAIT, () -> limits.shares().get("us-east-1").equals(new RegionShare(9, 9)));
        assertThat(limits.held()).containsExactly(Map.entry("us-east-1", 1));
    }

    @Test
    void status_liveNodesWithTheirClaimsAndCampaignStates() throws Exception {
        Clock clock = Clock.systemUTC();
        new ContactImporter(database(), ledger, "a", clock, scheduler("import"))
                .importOnce(CAMPAIGN, "list.csv", Flux.fromIterable(contacts(100))).block(WAIT);
        ClusterSettings settings = ClusterSettings.of("a", "http://127.0.0.1:8081")
                .withHeartbeat(Duration.ofMillis(200), Duration.ofMillis(1000)).withClaimBatch(30);
        ClusterMembership a = closing(new ClusterMembership(database(), settings, null, clock, scheduler("a")));
        ClusterMembership b = closing(new ClusterMembership(database(), ClusterSettings.of("b", null)
                .withHeartbeat(Duration.ofMillis(200), Duration.ofMillis(1000)), null, clock, scheduler("b")));
        a.start();
        b.start();
        ClaimingSource source = closing(new ClaimingSource(database(), CAMPAIGN, settings, clock, scheduler("claims")));
        source.rows().take(10).blockLast(WAIT);
        long claimed = scalar("SELECT COUNT(*) FROM cluster_contacts WHERE state = 'CLAIMED'");
        await("b sees both", WAIT, () -> b.current() != null && b.current().ids().size() == 2);

        ClusterStatus status = b.status().block(WAIT);

        assertThat(status.self()).isEqualTo("b");
        assertThat(status.nodes()).extracting(ClusterStatus.Node::nodeId).containsExactly("a", "b");
        assertThat(status.nodes().get(0).url()).isEqualTo("http://127.0.0.1:8081");
        assertThat(status.nodes().get(0).claims()).containsExactly(Map.entry(CAMPAIGN, claimed));
        assertThat(status.nodes().get(1).claims()).isEmpty();
        assertThat(status.campaigns()).containsExactly(Map.entry(CAMPAIGN,
                Map.of("CLAIMED", claimed, "PENDING", 100 - claimed)));
        assertThat(claimed).isEqualTo(source.claimed());
        var json = status.toJson();
        assertThat(json.get("self").asText()).isEqualTo("b");
        assertThat(json.get("nodes").get(0).get("nodeId").asText()).isEqualTo("a");
        assertThat(json.get("nodes").get(0).get("url").asText()).isEqualTo("http://127.0.0.1:8081");
        assertThat(json.get("nodes").get(0).get("claims").get(CAMPAIGN).asLong()).isEqualTo(claimed);
        assertThat(json.get("nodes").get(0).get("lastSeen").asText()).isEqualTo(status.nodes().get(0).lastSeen().toString());
        assertThat(json.get("nodes").get(1).get("members").toString()).isEqualTo("[\"a\",\"b\"]");
        assertThat(json.get("campaigns").get(CAMPAIGN).get("PENDING").asLong()).isEqualTo(100 - claimed);
    }

    @Test
    void node_twoNodesWithRealPacing_sharesReachAdaptiveRateAndActivePermitsAndARateCommandReachesBoth()
            throws Exception {
        Clock clock = Clock.systemUTC();
        Map<String, ClusterNode> nodes = new LinkedHashMap<>();
        Map<String, RegionPacing> pacing = new LinkedHashMap<>();
        Map<String, SimpleMeterRegistry> registries = new LinkedHashMap<>();
        for (String id : List.of("a", "b")) {
            Scheduler io = scheduler("node-io-" + id);
            Scheduler listener = Schedulers.newSingle("node-control-" + id);
            closing(listener::dispose);
            RegionConfig config = new RegionConfig("us-east-1", "sma", 10, 1, 7, 5, List.of("+12065550100"), null);
            RegionPacing region = RegionPacing.create(config, PacingSettings.ofDefaults(), io, permit -> { });
            pacing.put(id, region);
            ClusterNode node = closing(ClusterNode.open(url, 3, ClusterSettings.of(id, null)
                            .withHeartbeat(Duration.ofMillis(200), Duration.ofMillis(1000)), Map.of("us-east-1", region),
                    ledger, clock, io, listener));
            // what the composition root does with RATE commands
            Disposable d = node.control().events()
                    .filter(e -> e.command() == ControlEvent.Command.RATE)
                    .subscribe(e -> node.limits().setTotalRate(e.region(), e.value()));
            closing(d::dispose);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            node.bindTo(registry);
            registries.put(id, registry);
            nodes.put(id, node);
        }
        RegionPacing a = pacing.get("a");
        RegionPacing b = pacing.get("b");

        nodes.values().forEach(ClusterNode::start);
        await("shares applied", WAIT, () -> a.permits().configuredCap() == 4 && b.permits().configuredCap() == 3
                && a.rate().configuredRate() == 5.0 && b.rate().configuredRate() == 5.0
                && nodes.values().stream().allMatch(n -> n.membership().current() != null
                        && n.membership().current().live().size() == 2));
        Flux.fromIterable(nodes.values()).flatMap(n -> n.control().ready()).then().block(WAIT);
        assertThat(registries.get("a").get("dialer.cluster.live.nodes").gauge().value()).isEqualTo(2);
        assertThat(registries.get("b").get("dialer.cluster.share.max.active.calls").tag("region", "us-east-1")
                .gauge().value()).isEqualTo(3);
        assertThat(registries.get("b").get("dialer.cluster.fenced").gauge().value()).isZero();

        nodes.get("b").control().setRate("us-east-1", 4).block(WAIT);

        await("the rate change reaches both nodes", Duration.ofSeconds(20),
                () -> a.rate().configuredRate() == 2.0 && b.rate().configuredRate() == 2.0);
        assertThat(nodes.get("a").limits().totals().get("us-east-1")).isEqualTo(new RegionShare(4, 7));
        ClusterStatus status = nodes.get("a").status().block(WAIT);
        assertThat(status.nodes()).extracting(ClusterStatus.Node::nodeId).containsExactly("a", "b");
        assertThat(registries.get("a").get("dialer.cluster.control.delivered").functionCounter().count()).isEqualTo(1);
    }

    // ---- control ----

    private ClusterControl control(String node, boolean listen) {
        ClusterSettings settings = ClusterSettings.of(node, null).withPollInterval(Duration.ofMillis(listen ? 1000 : 200));
        Scheduler listener = Schedulers.newSingle("control-" + node);
        ClusterControl control = new ClusterControl(database(), settings, Clock.systemUTC(), listener,
                scheduler("control-io-" + node), listen);
        closing(listener::dispose);
        return closing(control);
    }

    @Test
    void control_issuedOnOneNode_receivedByEveryNodeInOrder() throws Exception {
        Map<String, ClusterControl> controls = new LinkedHashMap<>();
        Map<String, List<ControlEvent>> received = new ConcurrentHashMap<>();
        Map<String, Long> receivedAt = new ConcurrentHashMap<>();
        for (String node : List.of("a", "b", "c")) {
            ClusterControl control = control(node, true);
            controls.put(node, control);
            received.put(node, new CopyOnWriteArrayList<>());
            Disposable d = control.events().subscribe(e -> {
                receivedAt.putIfAbsent(node + "#" + e.seq(), System.nanoTime());
                received.get(node).add(e);
            });
            closing(d::dispose);
            control.start();
        }
        Flux.fromIterable(controls.values()).flatMap(ClusterControl::ready).then().block(WAIT);

        long issuedAt = System.nanoTime();
        ControlEvent pause = controls.get("a").pause(CAMPAIGN).block(WAIT);
        await("the pause reaches every node", Duration.ofSeconds(20),
                () -> received.values().stream().allMatch(l -> l.size() == 1));
        List<Long> delays = new ArrayList<>();
        for (String node : controls.keySet()) {
            delays.add(TimeUnit.NANOSECONDS.toMillis(receivedAt.get(node + "#" + pause.seq()) - issuedAt));
        }
        System.out.println("pause delivered to a, b, c after (ms, from the publish call): " + delays);

        ControlEvent rate = controls.get("b").setRate("us-east-1", 7.5).block(WAIT);
        ControlEvent resume = controls.get("c").resume(CAMPAIGN).block(WAIT);
        ControlEvent cancel = controls.get("b").cancel(CAMPAIGN).block(WAIT);
        await("every command reaches every node", Duration.ofSeconds(20),
                () -> received.values().stream().allMatch(l -> l.size() == 4));

        for (List<ControlEvent> events : received.values()) {
            assertThat(events).containsExactly(pause, rate, resume, cancel);
        }
        assertThat(rate.value()).isEqualTo(7.5);
        assertThat(rate.region()).isEqualTo("us-east-1");
        assertThat(pause.issuedBy()).isEqualTo("a");
        assertThat(controls.get("c").notifications()).isPositive();
        assertThat(controls.values()).allSatisfy(c -> assertThat(c.delivered()).isEqualTo(4));

        assertThat(controls.get("a").latest().block(WAIT)).containsExactly(rate, cancel);
    }

    @Test
    void control_withoutNotifications_pollingStillDelivers() throws Exception {
        ClusterControl quiet = control("poller", false);
        List<ControlEvent> received = new CopyOnWriteArrayList<>();
        Disposable d = quiet.events().subscribe(received::add);
        closing(d::dispose);
        quiet.start();
        quiet.ready().block(WAIT);
        ClusterControl issuer = control("issuer", true);

        ControlEvent pause = issuer.pause(CAMPAIGN).block(WAIT);

        await("polling delivers the pause", Duration.ofSeconds(20), () -> received.size() == 1);
        assertThat(received).containsExactly(pause);
        assertThat(quiet.notifications()).isZero();
    }

    @Test
    void control_issuedBeforeStart_notReplayedButInLatest() throws Exception {
        ClusterControl issuer = control("issuer", true);
        ControlEvent early = issuer.pause(CAMPAIGN).block(WAIT);
        ClusterControl late = control("late", true);
        List<ControlEvent> received = new CopyOnWriteArrayList<>();
        Disposable d = late.events().subscribe(received::add);
        closing(d::dispose);
        late.start();
        late.ready().block(WAIT);

        ControlEvent after = issuer.resume(CAMPAIGN).block(WAIT);

        await("the later command arrives", Duration.ofSeconds(20), () -> received.size() == 1);
        assertThat(received).containsExactly(after);
        assertThat(late.latest().block(WAIT)).containsExactly(after);
        assertThat(early.seq()).isLessThan(after.seq());
    }

    @Test
    void control_launchAndOptOut_carryTheirPayloadToEveryNode() throws Exception {
        ClusterControl issuer = control("issuer", true);
        ClusterControl other = control("other", true);
        List<ControlEvent> received = new CopyOnWriteArrayList<>();
        Disposable d = other.events().subscribe(received::add);
        closing(d::dispose);
        other.start();
        other.ready().block(WAIT);
        String definition = "contacts: list.csv\nregions: { us-east-1: 1 }\n";

        ControlEvent adHoc = issuer.launch(CAMPAIGN, definition).block(WAIT);
        ControlEvent configured = issuer.launch("configured", null).block(WAIT);
        ControlEvent optOut = issuer.optOut("campaign:" + CAMPAIGN, "+14155550123").block(WAIT);

        await("the three commands arrive", Duration.ofSeconds(20), () -> received.size() == 3);
        assertThat(received).containsExactly(adHoc, configured, optOut);
        assertThat(received.get(0).command()).isEqualTo(ControlEvent.Command.LAUNCH);
        assertThat(received.get(0).payload()).isEqualTo(definition);
        assertThat(received.get(1).payload()).isNull();
        assertThat(received.get(2).optOut()).contains(new ControlEvent.OptOut("campaign:" + CAMPAIGN, "+14155550123"));
        assertThat(received.get(0).optOut()).isEmpty();
        assertThat(received.get(2).toString()).doesNotContain("4155550123");
        assertThat(ClusterControl.describe(received.get(2))).doesNotContain("4155550123").contains("0123");

        // A launch does not change whether a campaign is paused, and opt-outs are no campaign's state.
        ControlEvent pause = issuer.pause(CAMPAIGN).block(WAIT);
        assertThat(other.latest().block(WAIT)).containsExactly(pause);
        assertThat(other.launched().block(WAIT)).containsExactly(adHoc, configured);
        // A cancel ends a launch; a later launch counts again.
        issuer.cancel("configured").block(WAIT);
        assertThat(other.launched().block(WAIT)).containsExactly(adHoc);
        ControlEvent again = issuer.launch("configured", null).block(WAIT);
        assertThat(other.launched().block(WAIT)).containsExactly(adHoc, again);
    }

    // ---- opening ----

    @Test
    void open_databaseMigratedWhenTheLedgerHeldTheClusterTables_adoptedWithoutRunningThemAgain() throws Exception {
        // the state that a dialer left whose ledger migrations V2 and V4 created the cluster's tables
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (String script : List.of("V1__cluster.sql", "V2__control_payload.sql")) {
                for (String statement : statements("db/cluster/" + script)) {
                    s.execute(statement);
                }
            }
            s.execute("INSERT INTO schema_version (version, description, applied_at) VALUES "
                    + "(2, 'V2__cluster.sql', 1), (4, 'V4__control_payload.sql', 1)");
            s.execute("ALTER TABLE schema_version DROP COLUMN checksum"); // from before checksums
            s.execute("INSERT INTO cluster_nodes (node_id, started_at, last_seen) VALUES ('old', 1, 1)");
        }
        ledger.close();
        ledger = JdbcLedger.open(LedgerOptions.of(url, Clock.systemUTC()));

        database(); // would fail if it created the tables again

        assertThat(scalar("SELECT COUNT(*) FROM cluster_nodes WHERE node_id = 'old'")).isEqualTo(1);
        assertThat(scalar("SELECT COUNT(*) FROM cluster_schema_version WHERE version IN (1, 2) "
                + "AND checksum IS NOT NULL")).isEqualTo(2);
        // the ledger keeps its retired rows, and recorded the checksums of the others
        assertThat(scalar("SELECT COUNT(*) FROM schema_version")).isEqualTo(4);
        assertThat(scalar("SELECT COUNT(*) FROM schema_version WHERE checksum IS NULL")).isEqualTo(2);
        database(); // and again, now from its own history (V3 and later run once, on the first open)
        assertThat(scalar("SELECT COUNT(*) FROM cluster_schema_version")).isEqualTo(3);
    }

    @Test
    void open_freshDatabase_clusterCreatesItsTablesWithItsOwnHistory() throws Exception {
        assertThat(scalar("SELECT COUNT(*) FROM schema_version WHERE version IN (2, 4)")).isZero();

        database();

        assertThat(scalar("SELECT COUNT(*) FROM cluster_schema_version")).isEqualTo(3);
        assertThat(scalar("SELECT COUNT(*) FROM campaign_control")).isZero();
        assertThat(scalar("SELECT COUNT(*) FROM cluster_leases")).isZero();
    }

    /** A migration script's statements (its comment lines dropped). */
    private static List<String> statements(String resource) throws java.io.IOException {
        try (java.io.InputStream in = ClusterIT.class.getClassLoader().getResourceAsStream(resource)) {
            assertThat(in).as(resource).isNotNull();
            String text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            StringBuilder sql = new StringBuilder();
            text.lines().filter(line -> !line.strip().startsWith("--")).forEach(line -> sql.append(line).append('\n'));
            return java.util.Arrays.stream(sql.toString().split(";")).map(String::strip).filter(x -> !x.isEmpty())
                    .toList();
        }
    }

    @Test
    void open_schemaWithoutLedger_failsSayingToOpenTheLedgerFirst() throws SQLException {
        String bare = schema();

        assertThatThrownBy(() -> ClusterDatabase.open(bare, 2, Duration.ofSeconds(2)))
                .isInstanceOf(ClusterException.class)
                .hasMessageContaining("open the ledger on it first");
    }

    @Test
    void open_unreachableOrNotPostgres_failsWithoutLeakingThePassword() throws Exception {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        String dead = "jdbc:postgresql://127.0.0.1:" + port + "/test?user=postgres&password=s3cret";

        assertThatThrownBy(() -> ClusterDatabase.open(dead, 2, Duration.ofMillis(500)))
                .isInstanceOf(ClusterException.class)
                .hasMessageContaining("unreachable")
                .hasMessageNotContaining("s3cret");
        assertThatThrownBy(() -> ClusterDatabase.open("jdbc:sqlite:./x.db", 2, Duration.ofSeconds(1)))
                .isInstanceOf(ClusterException.class)
                .hasMessageContaining("jdbc:postgresql");
    }
}
