package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.campaign.CampaignRun;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.cluster.ClusterSettings;
import io.chimedialer.core.contacts.CallingWindowConfig;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.campaign.RetryConfig;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.core.flow.FlowConfig.Menu;
import io.chimedialer.core.flow.FlowConfig.MenuOption;
import io.chimedialer.core.flow.FlowConfig.Prompt;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.EmulatorStats;
import io.chimedialer.emulator.LambdaEndpoint;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.lambda.BridgeConfig;
import io.chimedialer.lambda.SmaBridgeHandler;
import io.chimedialer.testkit.Await;
import io.chimedialer.testkit.PostgresSchema;
import io.micrometer.core.instrument.Timer;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Issue 10 through {@code serve}'s composition root: two {@link DialerRuntime} nodes in one JVM (own ports, own
 * cluster nodes) share one campaign over one PostgreSQL schema and one emulator in Lambda mode, whose bridge sends
 * each call's invocations to the node that placed it ({@code dialerUrl}). Checked against the emulator's ground
 * truth. Runs when {@code DIALER_TEST_POSTGRES_URL} is set; fails when it is set and unreachable.
 */
class ClusterServeIT {
    private static final String SECRET = "cluster-serve-it-secret-51c0";
    private static final String CAMPAIGN = "cluster-serve";
    /** 3,000 in the {@code scale} profile; the run takes CONTACTS / (2 Regions x RATE) seconds at least. */
    private static final int CONTACTS = Integer.getInteger("scale.clusterserve.contacts", 1_200);
    private static final double RATE = 30;
    private static final int CAP = 120;
    private static final Duration RUN_LIMIT = Duration.ofSeconds(180);
    /** The three-node run: 3,000 in the {@code scale} profile. */
    private static final int THREE_NODE_CONTACTS = Integer.getInteger("scale.clusterserve.threenode.contacts", 450);
    private static final int THREE_NODE_CAP = 30;
    /** Shorter than the run would take if permits were held for a call's lifetime. */
    private static final Duration THREE_NODE_LIFETIME = Duration.ofSeconds(45);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private PostgresSchema schema;
    private String url;
    private ChimeEmulator emulator;
    private LambdaEndpoint lambda;
    private final List<DialerRuntime> nodes = new ArrayList<>();

    @BeforeEach
    void freshSchema() {
        schema = PostgresSchema.create("dialer_serve", "cluster serve IT");
        url = schema.url();
    }

    @AfterEach
    void tearDown() throws SQLException {
        if (emulator != null) {
            emulator.close();
        }
        if (lambda != null) {
            lambda.close();
        }
        nodes.forEach(DialerRuntime::close);
        if (schema != null) {
            schema.close();
        }
    }

    @Test
    void campaignOnTwoNodes_sharedThroughPostgres_eachNumberOnceWithinRegionLimitsAndPauseStopsAll()
            throws Exception {
        List<EmulatorRegion> emulated = new ArrayList<>();
        for (EmulatorRegion r : EmulatorRegion.defaults()) {
            emulated.add(r.withQuotas(200, 50, 1_000));
        }
        Scenario scenario = Scenario.builder().ringMs(1_000, 4_000).talkMs(2_000, 10_000).noAnswerMs(10_000)
                .dtmf(0.6, List.of("1")).build();
        emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(emulated).scenario(scenario)
                .timeScale(0.002).seed(23).webhookTimeout(Duration.ofSeconds(19)).start();
        List<RegionConfig> regions = new ArrayList<>();
        for (EmulatorRegion r : emulated) {
            // burst 1: each node's limiter may start `burst` calls at once after an idle time (docs/scale-out.md).
            regions.add(new RegionConfig(r.name(), r.sipMediaApplicationId(), RATE, 1, CAP, 5, r.fromNumbers(),
                    emulator.url()));
        }
        DialerRuntime a = node("node-a", regions);
        DialerRuntime b = node("node-b", regions);
        // The bridge's default target is node A; each call's dialerUrl takes its invocations to its own node.
        lambda = LambdaEndpoint.of(new SmaBridgeHandler(BridgeConfig.of(webhook(a), SECRET)
                .withTimeout(Duration.ofSeconds(15))), Duration.ofSeconds(18), LambdaEndpoint.DEFAULT_CONCURRENCY);
        emulator.endpoint(lambda);
        await(Duration.ofSeconds(20), "both nodes live and unfenced", () -> nodes.stream().allMatch(n ->
                n.cluster().membership().current() != null && n.cluster().membership().current().live().size() == 2
                        && !n.cluster().limits().fenced()));

        JsonNode status = get(a, "/v1/cluster");
        assertThat(status.get("nodes")).hasSize(2);
        assertThat(status.get("self").asText()).isEqualTo("node-a");

        // A node without a run of the campaign passes the command on; every node receives it.
        JsonNode published = b.campaigns().act("elsewhere", "pause").block(Duration.ofSeconds(10));
        assertThat(published.get("published").asText()).isEqualTo("PAUSE");
        await(Duration.ofSeconds(20), "node A received the pause", () -> a.cluster().control().latest()
                .block(Duration.ofSeconds(5)).stream().anyMatch(e -> "elsewhere".equals(e.campaignId())));

        Path contacts = contacts();
        CampaignConfig campaign = campaign();
        CampaignManager.Started onA = a.campaigns().launch(campaign, contacts, true);
        CampaignManager.Started onB = b.campaigns().launch(campaign, contacts, true);

        // A pause sent to node A stops node B's Creates too.
        await(Duration.ofSeconds(30), "calls under way", () -> emulator.stats().created() >= CONTACTS / 5);
        // Each node holds half of each Region's rate and cap.
        for (DialerRuntime n : nodes) {
            n.cluster().limits().shares().forEach((region, share) -> {
                assertThat(share.callsPerSecond()).as("%s's rate share in %s", n.cluster().nodeId(), region)
                        .isEqualTo(RATE / 2);
                assertThat(share.maxActiveCalls()).isEqualTo(CAP / 2);
            });
        }
        a.campaigns().act(CAMPAIGN, "pause").block(Duration.ofSeconds(10));
        await(Duration.ofSeconds(20), "node B paused", () -> onB.run().state() == CampaignRun.State.PAUSED);
        assertThat(onA.run().state()).isEqualTo(CampaignRun.State.PAUSED);
        // The Creates already on the wire are answered: both nodes' request metrics count what the emulator created,
        // and every intent in the shared ledger is withdrawn (the pause kept it from its Create) or has its answer (a
        // batch whose intents committed just before the pause is still sent, a few ms later: its intents are open
        // without a TransactionId until then; an equal count alone once caught the gap before it).
        long createdWhenPaused = Await.upTo(Duration.ofSeconds(30), "the Creates sent before the pause answered")
                .untilValue(() -> {
                    List<Ledger.AttemptRecord> intents = a.ledger().attempts(CAMPAIGN).collectList()
                            .block(Duration.ofSeconds(10));
                    boolean onTheWire = intents == null || intents.stream().anyMatch(r -> !r.withdrawn()
                            && r.transactionId() == null && r.result() == null);
                    long answered = nodes.stream().mapToLong(ClusterServeIT::createsAnswered).sum();
                    long created = emulator.stats().created();
                    return !onTheWire && answered == created ? created : -1;
                }, created -> created >= 0);
        Await.holdsFor(Duration.ofSeconds(2), "no Create while paused (" + createdWhenPaused + " before)",
                () -> emulator.stats().created() == createdWhenPaused);
        assertThat(createdWhenPaused).isLessThan(CONTACTS);
        b.campaigns().act(CAMPAIGN, "resume").block(Duration.ofSeconds(10));

        RunReport reportA = onA.report().block(RUN_LIMIT);
        RunReport reportB = onB.report().block(RUN_LIMIT);
        assertThat(reportA).isNotNull();
        assertThat(reportB).isNotNull();
        assertThat(reportA.state()).isEqualTo("COMPLETED");
        assertThat(reportB.state()).isEqualTo("COMPLETED");
        assertThat(reportA.attempts()).isPositive();
        assertThat(reportB.attempts()).isPositive();
        assertThat(reportA.attempts() + reportB.attempts()).isEqualTo(CONTACTS);
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();

        EmulatorStats stats = emulator.stats();
        assertThat(stats.created()).isEqualTo(CONTACTS);
        assertThat(stats.duplicateNumbers()).isZero();
        assertThat(stats.active()).isZero();
        assertThat(stats.webhookFailures()).isZero();
        assertThat(stats.regions()).hasSize(2);
        stats.regions().forEach((region, r) -> {
            assertThat(r.created()).as("Creates in %s", region).isPositive();
            assertThat(r.peakActive()).as("peak active calls in %s", region).isLessThanOrEqualTo(CAP);
            // The documented bound over the cluster is the rate (each node checks its share at send time). The
            // emulator counts arrivals, which bunch up after a stall of a loaded machine (a 1 s window once held 45 at
            // 30/s in CI: half a second's Creates arriving late), so the rate is judged over 10 s windows, with 2 s
            // of the rate allowed for such a bunch: 1.2 times the rate. Unsplit shares (each node at the full rate)
            // would show twice the rate. ClusterPacingIT checks the 1 s windows of the nodes' own sends.
            List<Instant> created = emulator.calls().stream().filter(c -> region.equals(c.region()))
                    .map(io.chimedialer.emulator.CallRecord::created).sorted().toList();
            assertThat(maxInWindow(created, Duration.ofSeconds(10))).as("Creates in 10 s in %s (1 s max %d)", region,
                    r.maxCreatesInOneSecond()).isLessThanOrEqualTo((long) (RATE * 10 + nodes.size() + RATE * 2));
        });
        // Every invocation reached its own node: the webhooks together answered each at most once. The bridge answers
        // an invocation itself (its fallback, logged) when it cannot connect to any node in time, which a starved
        // machine showed for 5 of 4,340; more than 1 % would be a routing fault, not load.
        long answered = a.webhook().stats().requests() + b.webhook().stats().requests();
        assertThat(answered).isLessThanOrEqualTo(stats.invocations())
                .isGreaterThanOrEqualTo(stats.invocations() - stats.invocations() / 100);
        assertThat(a.webhook().stats().requests()).isPositive();
        assertThat(b.webhook().stats().requests()).isPositive();

        List<Ledger.AttemptRecord> all = a.ledger().attempts(CAMPAIGN).collectList()
                .block(Duration.ofSeconds(30));
        // Attempts the pause kept from their Create are withdrawn (never sent, no TransactionId): not calls.
        assertThat(all).filteredOn(Ledger.AttemptRecord::withdrawn)
                .allSatisfy(r -> assertThat(r.transactionId()).isNull());
        List<Ledger.AttemptRecord> attempts = all.stream().filter(r -> !r.withdrawn()).toList();
        assertThat(attempts).hasSize(CONTACTS).allSatisfy(r -> assertThat(r.result()).isNotNull());
        Set<String> numbers = new HashSet<>();
        attempts.forEach(r -> numbers.add(r.number()));
        assertThat(numbers).hasSize(CONTACTS);
        try (Connection connection = DriverManager.getConnection(url);
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT count(*), count(DISTINCT contact_key), "
                     + "count(*) FILTER (WHERE status = 'IN_PROGRESS') FROM contact_progress WHERE campaign_id = '"
                     + CAMPAIGN + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).as("contacts with a state").isEqualTo(CONTACTS);
            assertThat(rs.getLong(2)).as("distinct contacts").isEqualTo(CONTACTS);
            assertThat(rs.getLong(3)).as("contacts not final").isZero();
        }
        // The claims' churn (issue 16: renewals rewrote every claimed row every third of the lease).
        try (Connection connection = DriverManager.getConnection(url);
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT n_live_tup, n_dead_tup, n_tup_upd FROM pg_stat_user_tables "
                     + "WHERE relname = 'cluster_contacts' AND schemaname = current_schema()")) {
            if (rs.next()) {
                System.out.printf("cluster_contacts: %d live rows, %d dead tuples, %d row updates%n", rs.getLong(1),
                        rs.getLong(2), rs.getLong(3));
            }
        }
    }

    /**
     * Issue 18: three nodes, and Chime's invocations all go to node A (the emulator's webhook points at it; no
     * bridge routes them). Node A answers the other nodes' calls from the ledger and tells them each call's end
     * through the control channel, so every permit comes back when its call ends: no call of any node reaches its
     * lifetime (without the relay, nodes B and C would hold each permit for that lifetime and crawl). The
     * campaign's view is the same on every node and adds up to the emulator's ground truth; the ledger says
     * COMPLETED; its results come from any node.
     */
    @Test
    void threeNodes_eventsToOneNodeOnly_permitsReleasedAndOneViewEverywhere() throws Exception {
        ThreeNodeRun run = threeNodeRun(false);
        int contactCount = run.contacts();
        EmulatorStats stats = run.stats();
        List<RunReport> reports = run.reports();
        DialerRuntime a = run.nodes().get(0);
        DialerRuntime b = run.nodes().get(1);
        DialerRuntime c = run.nodes().get(2);

        // Only node A heard Chime; nodes B and C heard of their calls' ends from it.
        assertThat(b.webhook().stats().requests()).isZero();
        assertThat(c.webhook().stats().requests()).isZero();
        assertThat(foreign(a, "answered")).isPositive();
        assertThat(foreign(a, "relayed")).isPositive();
        assertThat(foreign(b, "released") + foreign(c, "released")).isPositive();
        // No permit was held past its call: no call ran into its lifetime, none ended UNKNOWN, every permit is back.
        for (DialerRuntime n : nodes) {
            String id = n.cluster().nodeId();
            assertThat(n.calls().expiredCalls()).as("%s's calls closed by their lifetime", id).isZero();
            assertThat(n.calls().liveCalls()).as("%s's live calls", id).isZero();
            n.regions().forEach((region, pacing) -> assertThat(pacing.permits().inUse())
                    .as("%s's permits in use in %s", id, region).isZero());
        }
        reports.forEach(r -> assertThat(r.outcomes().getOrDefault(io.chimedialer.core.domain.Disposition.UNKNOWN,
                0L)).isZero());
        assertThat(a.ledger().attempts(CAMPAIGN).filter(Ledger.AttemptRecord::open).count()
                .block(Duration.ofSeconds(30))).as("attempts left open").isZero();

        // One view: the cluster-wide figures are the same on every node and add up to the ground truth.
        List<JsonNode> views = new ArrayList<>();
        for (DialerRuntime n : nodes) {
            JsonNode status = get(n, "/v1/campaigns/" + CAMPAIGN);
            assertThat(status.get("remaining").asLong()).isZero();
            assertThat(status.at("/ledger/state").asText()).as("the ledger's state").isEqualTo("COMPLETED");
            views.add(comparable(status.get("cluster")));
        }
        assertThat(views.get(1)).isEqualTo(views.get(0));
        assertThat(views.get(2)).isEqualTo(views.get(0));
        JsonNode view = views.get(0);
        assertThat(view.at("/contacts/total").asLong()).isEqualTo(contactCount);
        assertThat(view.at("/contacts/DONE").asLong()).isEqualTo(contactCount);
        assertThat(view.get("remaining").asLong()).isZero();
        assertThat(view.get("live").asLong()).isZero();
        assertThat(view.get("attempts").asLong()).isEqualTo(stats.created());
        long outcomes = 0;
        for (JsonNode n : view.get("outcomes")) {
            outcomes += n.asLong();
        }
        assertThat(outcomes).isEqualTo(stats.created());
        assertThat(view.at("/outcomes/ANSWERED").asLong()).isEqualTo(stats.dispositions().getOrDefault("answered", 0L));
        long byRegion = 0;
        for (Map.Entry<String, EmulatorStats.RegionStats> r : stats.regions().entrySet()) {
            assertThat(view.at("/regions/" + r.getKey() + "/attempts").asLong()).as("attempts in %s", r.getKey())
                    .isEqualTo(r.getValue().created());
            byRegion += view.at("/regions/" + r.getKey() + "/attempts").asLong();
        }
        assertThat(byRegion).isEqualTo(stats.created());

        // Issue 19: `dialer status` against any node prints the same line, with the cluster's figures (the API's).
        List<String> lines = new ArrayList<>();
        for (DialerRuntime n : nodes) {
            java.io.StringWriter out = new java.io.StringWriter();
            java.io.StringWriter err = new java.io.StringWriter();
            picocli.CommandLine cli = io.chimedialer.app.DialerMain.commandLine();
            cli.setOut(new java.io.PrintWriter(out, true));
            cli.setErr(new java.io.PrintWriter(err, true));
            assertThat(cli.execute("status", "--url", "http://127.0.0.1:" + n.port())).as("status: %s", err).isZero();
            lines.add(out.toString().lines().filter(l -> l.startsWith(CAMPAIGN + " ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no line for the campaign in:\n" + out)));
        }
        assertThat(lines).as("the status line on every node").containsOnly(lines.get(0));
        List<String> cells = List.of(lines.get(0).trim().split("\\s+"));
        assertThat(cells.get(1)).isEqualTo("COMPLETED");
        assertThat(cells.get(3)).isEqualTo(contactCount + "/" + contactCount);
        assertThat(cells.get(4)).isEqualTo(Long.toString(view.at("/outcomes/ANSWERED").asLong()));
        assertThat(cells.get(6)).as("live").isEqualTo("0");

        // Results from any node: every attempt, one CSV row each after the header.
        for (DialerRuntime n : nodes) {
            HttpResponse<String> results = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + n.port() + "/v1/campaigns/" + CAMPAIGN + "/results"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(results.statusCode()).isEqualTo(200);
            assertThat(results.body().lines().count() - 1).as("result rows from %s", n.cluster().nodeId())
                    .isEqualTo(view.get("attempts").asLong() + view.get("withdrawn").asLong());
        }
    }

    /**
     * The same three-node run with the Lambda bridge routing each call's invocations to the node that placed it: the
     * baseline of the run above. Its duration is printed beside the other's (issue 18 asks that a run whose events
     * reach one node only completes within twice the routed run's time; a timed assertion would be a speed figure of
     * this machine, so the mechanism is asserted above and the two durations are printed). Only in the scale profile
     * ({@code -Dscale.clusterserve.baseline=true}): it asserts no more than the run above and the bridge's own ITs, and
     * the default build must stay under 10 minutes.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "scale.clusterserve.baseline", matches = "true")
    void threeNodes_eventsRoutedByTheBridge_baselineDuration() throws Exception {
        ThreeNodeRun run = threeNodeRun(true);
        // Each node that placed calls heard Chime about them itself (node A, launched last, may have placed none).
        for (int i = 0; i < 3; i++) {
            DialerRuntime n = run.nodes().get(i);
            if (run.reports().get(i).attempts() > 0) {
                assertThat(n.webhook().stats().requests()).as("invocations %s answered", n.cluster().nodeId())
                        .isPositive();
            }
            assertThat(n.calls().expiredCalls()).as("%s's calls closed by their lifetime", n.cluster().nodeId())
                    .isZero();
        }
        // Printed, not asserted: the bridge falls back to node A for an invocation whose own node it cannot reach in
        // time (a loaded machine), and node A then relays that call's end.
        System.out.printf("three nodes, events routed: node A relayed %.0f call ends%n",
                foreign(run.nodes().get(0), "relayed"));
    }

    private record ThreeNodeRun(List<DialerRuntime> nodes, List<RunReport> reports, EmulatorStats stats,
                                int contacts, long millis) {
    }

    /** Three nodes run one campaign to COMPLETED; Chime's invocations routed to each call's node, or all to node A. */
    private ThreeNodeRun threeNodeRun(boolean routed) throws Exception {
        int contactCount = THREE_NODE_CONTACTS;
        Scenario scenario = Scenario.builder().ringMs(1_000, 4_000).talkMs(2_000, 10_000).noAnswerMs(10_000)
                .dtmf(0.6, List.of("1")).build();
        List<EmulatorRegion> emulated = new ArrayList<>();
        for (EmulatorRegion r : EmulatorRegion.defaults()) {
            emulated.add(r.withQuotas(200, 50, 1_000));
        }
        emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(emulated).scenario(scenario)
                .timeScale(0.002).seed(29).webhookTimeout(Duration.ofSeconds(19)).start();
        List<RegionConfig> regions = new ArrayList<>();
        for (EmulatorRegion r : emulated) {
            // A small cap (10 per node and Region): a node whose permits were held for a call's lifetime would stall.
            regions.add(new RegionConfig(r.name(), r.sipMediaApplicationId(), RATE, 1, THREE_NODE_CAP, 5,
                    r.fromNumbers(), emulator.url()));
        }
        DialerRuntime a = node("node-a", regions);
        DialerRuntime b = node("node-b", regions);
        DialerRuntime c = node("node-c", regions);
        if (routed) {
            lambda = LambdaEndpoint.of(new SmaBridgeHandler(BridgeConfig.of(webhook(a), SECRET)
                    .withTimeout(Duration.ofSeconds(15))), Duration.ofSeconds(18), LambdaEndpoint.DEFAULT_CONCURRENCY);
            emulator.endpoint(lambda);
        } else {
            emulator.webhook(webhook(a), SECRET);
        }
        await(Duration.ofSeconds(20), "three nodes live and unfenced", () -> nodes.stream().allMatch(n ->
                n.cluster().membership().current() != null && n.cluster().membership().current().live().size() == 3
                        && !n.cluster().limits().fenced()));

        Path contacts = contacts(contactCount);
        CampaignConfig campaign = campaign(THREE_NODE_LIFETIME);
        // Nodes C and B claim first, so that most calls are theirs while all of their invocations reach node A.
        List<CampaignManager.Started> runs = new ArrayList<>(List.of(c.campaigns().launch(campaign, contacts, true),
                b.campaigns().launch(campaign, contacts, true), a.campaigns().launch(campaign, contacts, true)));
        java.util.Collections.reverse(runs);
        long launchedAt = System.nanoTime();
        // While it runs, a node's view never says -1 remaining, and names the nodes that hold contacts.
        await(Duration.ofSeconds(30), "calls under way", () -> emulator.stats().created() >= contactCount / 4);
        JsonNode midway = get(c, "/v1/campaigns/" + CAMPAIGN);
        assertThat(midway.get("node").asText()).isEqualTo("node-c");
        assertThat(midway.get("remaining").asLong()).isBetween(0L, (long) contactCount);
        assertThat(midway.at("/cluster/contacts/total").asLong()).isEqualTo(contactCount);

        List<RunReport> reports = new ArrayList<>();
        for (CampaignManager.Started started : runs) {
            RunReport report = started.report().block(RUN_LIMIT);
            assertThat(report).isNotNull();
            assertThat(report.state()).isEqualTo("COMPLETED");
            reports.add(report);
        }
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        EmulatorStats stats = emulator.stats();
        assertThat(stats.created()).isEqualTo(contactCount);
        assertThat(stats.duplicateNumbers()).isZero();
        assertThat(reports.stream().mapToLong(RunReport::attempts).sum()).isEqualTo(contactCount);
        assertThat(reports.get(1).attempts() + reports.get(2).attempts()).as("calls placed by nodes B and C")
                .isPositive();
        long millis = Duration.ofNanos(System.nanoTime() - launchedAt).toMillis();
        System.out.printf("three nodes, events %s: %d contacts in %d ms; attempts by node %d/%d/%d%n",
                routed ? "routed by the bridge to each call's node" : "to node A only", contactCount, millis,
                reports.get(0).attempts(), reports.get(1).attempts(), reports.get(2).attempts());
        return new ThreeNodeRun(List.of(a, b, c), reports, stats, contactCount, millis);
    }

    /** The most of these (sorted) instants in any window of this length. */
    private static long maxInWindow(List<Instant> sorted, Duration window) {
        long max = 0;
        int from = 0;
        for (int to = 0; to < sorted.size(); to++) {
            while (!sorted.get(from).plus(window).isAfter(sorted.get(to))) {
                from++;
            }
            max = Math.max(max, to - from + 1);
        }
        return max;
    }

    /** A cluster view without its time-dependent figures (Creates per second over the last minute). */
    private static JsonNode comparable(JsonNode view) {
        assertThat(view).as("the cluster view").isNotNull();
        com.fasterxml.jackson.databind.node.ObjectNode copy = view.deepCopy();
        copy.get("regions").forEach(r -> ((com.fasterxml.jackson.databind.node.ObjectNode) r).remove("callsPerSecond"));
        return copy;
    }

    private static double foreign(DialerRuntime node, String kind) {
        var counter = node.meterRegistry().find("dialer.foreign.calls").tag("kind", kind).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void clusterStatus_nodeWithoutClustering_is404() throws Exception {
        List<RegionConfig> regions = List.of(new RegionConfig("us-east-1", "sma-1", 5, 5, 5, 5,
                List.of("+14155550100"), URI.create("http://127.0.0.1:9")));
        DialerRuntime alone = DialerRuntime.start(new DialerRuntime.Options(regions,
                StaticCredentialsProvider.create(AwsBasicCredentials.create("ITACCESSKEY", "it-secret-key")),
                "jdbc:sqlite:" + dir.resolve("alone.db"), SECRET, "127.0.0.1", 0, null, true, null, null));
        nodes.add(alone);
        assertThat(alone.cluster()).isNull();
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + alone.port() + "/v1/cluster")).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).contains("clustering is off");
    }

    // ---- set-up ----

    private DialerRuntime node(String id, List<RegionConfig> regions) {
        // The node's own webhook is known once its port is bound: the calls carry it (dialerUrl) from launch on;
        // the cluster settings' URL is only shown in the membership.
        ClusterSettings settings = ClusterSettings.of(id, "http://127.0.0.1/" + id)
                .withHeartbeat(Duration.ofMillis(500), Duration.ofSeconds(3))
                .withLease(Duration.ofSeconds(10))
                .withPollInterval(Duration.ofMillis(200))
                .withCallHold(Duration.ofMinutes(2));
        DialerRuntime runtime = DialerRuntime.start(new DialerRuntime.Options(regions,
                StaticCredentialsProvider.create(AwsBasicCredentials.create("ITACCESSKEY", "it-secret-key")),
                url, SECRET, "127.0.0.1", 0, null, true, null, null).withCluster(settings));
        nodes.add(runtime);
        runtime.campaigns().callArguments(Map.of("dialerUrl", webhook(runtime).toString()));
        return runtime;
    }

    private static URI webhook(DialerRuntime runtime) {
        return URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations");
    }

    private Path contacts() throws Exception {
        return contacts(CONTACTS);
    }

    private Path contacts(int count) throws Exception {
        Path csv = dir.resolve("contacts.csv");
        try (Writer out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
            out.write("id,phone,name\n");
            for (int i = 0; i < count; i++) {
                out.write("c" + i + "," + String.format("+1415%03d%04d", 300 + i / 10_000, i % 10_000) + ",Person "
                        + i + "\n");
            }
        }
        return csv;
    }

    private static CampaignConfig campaign() {
        return campaign(Duration.ofMinutes(2));
    }

    private static CampaignConfig campaign(Duration lifetime) {
        Map<String, MenuOption> options = new LinkedHashMap<>();
        options.put("1", MenuOption.of(MenuOption.Action.CONFIRM));
        FlowConfig flow = FlowConfig.menu(null, Menu.of(Prompt.text("Hello {name}. Press 1 to confirm."), options));
        Map<String, Integer> weights = new LinkedHashMap<>();
        weights.put("us-east-1", 1);
        weights.put("us-west-2", 1);
        return new CampaignConfig(CAMPAIGN, null, weights, "US", CallingWindowConfig.ALWAYS, RetryConfig.NONE, flow,
                List.of(), lifetime, false);
    }

    private static JsonNode get(DialerRuntime node, String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private String progress() {
        if (emulator == null) {
            return "";
        }
        EmulatorStats stats = emulator.stats();
        StringBuilder sb = new StringBuilder("created=" + stats.created() + " active=" + stats.active());
        nodes.forEach(n -> n.campaigns().ids().forEach(id -> sb.append(' ').append(n.cluster().nodeId()).append(':')
                .append(CampaignManager.status(n.campaigns().run(id)))));
        return sb.toString();
    }

    private void await(Duration limit, String what, BooleanSupplier condition) {
        Await.upTo(limit, what).pollEvery(Duration.ofMillis(50)).withContext(this::progress)
                .until(condition::getAsBoolean);
    }

    /** Create requests a node has had an answer to, any outcome, by its own metrics. */
    private static long createsAnswered(DialerRuntime node) {
        return node.meterRegistry().find("dialer.api.request.duration")
                .tag("operation", "CreateSipMediaApplicationCall").timers().stream().mapToLong(Timer::count).sum();
    }
}
