package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.config.ConfigLoader;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.app.config.Secret;
import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.campaign.CampaignRun;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.cluster.ClusterSettings;
import io.chimedialer.core.calls.CallEvent;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.EmulatorStats;
import io.chimedialer.emulator.LambdaEndpoint;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.lambda.BridgeConfig;
import io.chimedialer.lambda.SmaBridgeHandler;
import io.chimedialer.testkit.Await;
import io.chimedialer.testkit.PostgresSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Cluster-wide launch and opt-outs through {@code serve}'s composition root: {@link DialerRuntime} nodes in one JVM
 * over one PostgreSQL schema and one emulator in Lambda mode (each call's invocations go to the node that placed
 * it). A campaign started through one node's control API runs on every node, a node started later joins it, and an
 * opt-out on one node reaches the other nodes' runs. Runs when {@code DIALER_TEST_POSTGRES_URL} is set.
 */
class ClusterLaunchIT {
    private static final String SECRET = "cluster-launch-it-secret-7d21";
    private static final String CONFIGURED = "shared";
    /** More than a node claims ahead of its dialing (its run's waiting room), so that every node gets some. */
    private static final int CONTACTS = 2_000;
    private static final double RATE = 50;
    /** A bound on waiting, not a speed requirement: a starved machine ran these at a third of their rate. */
    private static final Duration RUN_LIMIT = Duration.ofSeconds(180);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private PostgresSchema schema;
    private String url;
    private ChimeEmulator emulator;
    private LambdaEndpoint lambda;
    private NoticeReceiver receiver;
    private DialerConfig config;
    private final List<DialerRuntime> nodes = new ArrayList<>();
    /** What each node's {@code joinRunning()} launched when it started. */
    private final Map<String, List<String>> joined = new ConcurrentHashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        schema = PostgresSchema.create("dialer_launch", "cluster launch IT");
        url = schema.url();

        List<EmulatorRegion> regions = new ArrayList<>();
        for (EmulatorRegion r : EmulatorRegion.defaults()) {
            regions.add(r.withQuotas(200, 50, 1_000));
        }
        Scenario scenario = Scenario.builder().ringMs(1_000, 4_000).talkMs(2_000, 10_000).noAnswerMs(10_000).build();
        emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(regions).scenario(scenario)
                .timeScale(0.002).seed(29).webhookTimeout(Duration.ofSeconds(19)).start();
        Files.writeString(dir.resolve("shared.csv"), contacts(CONTACTS, null), StandardCharsets.UTF_8);
        Path file = dir.resolve("dialer.yaml");
        Files.writeString(file, config(regions), StandardCharsets.UTF_8);
        config = ConfigLoader.load(file, Map.of("EMU", emulator.url().toString(), "LEDGER", url));
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
        if (receiver != null) {
            receiver.close();
        }
        if (schema != null) {
            schema.close();
        }
    }

    @Test
    void adHocStartOnNodeA_nodeBLaunchesItFromTheSharedList_bothDialEachNumberOnce_oneCompletionNotice()
            throws Exception {
        DialerRuntime a = node("node-a");
        DialerRuntime b = node("node-b");
        bridge(a);
        awaitLive(2);
        // Both nodes send completion notices to one receiver: the node that records COMPLETED first sends it.
        Secret noticeSecret = Secret.of("cluster-notice-secret-0123");
        receiver = new NoticeReceiver();
        a.campaigns().notifications(receiver.settings(noticeSecret));
        b.campaigns().notifications(receiver.settings(noticeSecret));

        // An ad-hoc campaign: its definition and its list reach node A only; node B has neither.
        ObjectNode request = JSON.createObjectNode();
        request.put("campaign", "adhoc");
        request.put("definition", "regions: { us-east-1: 1, us-west-2: 1 }\nmax-call-lifetime: 2m\n");
        request.put("contacts-csv", contacts(CONTACTS, null));
        JsonNode started = post(a, "/v1/campaigns", request);
        assertThat(started.get("id").asText()).isEqualTo("adhoc");

        CampaignRun onB = b.campaigns().launched("adhoc").block(Duration.ofSeconds(10));
        assertThat(onB).as("node B launched the campaign it was told about").isNotNull();
        CampaignRun onA = a.campaigns().run("adhoc");
        awaitFinished(onA, onB);
        RunReport reportA = onA.report();
        RunReport reportB = onB.report();

        assertThat(reportA.state()).isEqualTo("COMPLETED");
        assertThat(reportB.state()).isEqualTo("COMPLETED");
        assertThat(reportA.attempts()).as("node A's attempts").isPositive();
        assertThat(reportB.attempts()).as("node B's attempts").isPositive();
        assertThat(reportA.attempts() + reportB.attempts()).isEqualTo(CONTACTS);
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        EmulatorStats stats = emulator.stats();
        assertThat(stats.created()).isEqualTo(CONTACTS);
        assertThat(stats.duplicateNumbers()).isZero();
        assertThat(a.webhook().stats().requests()).isPositive();
        assertThat(b.webhook().stats().requests()).isPositive();
        // A re-announced launch of a campaign a node runs or finished is no error and starts nothing.
        assertThat(b.campaigns().joinRunning()).isEmpty();
        a.campaigns().noticesIdle().block(Duration.ofSeconds(30));
        b.campaigns().noticesIdle().block(Duration.ofSeconds(30));
        assertThat(receiver.received()).hasSize(1);
        NoticeReceiver.Received notice = receiver.received().get(0);
        NotificationIT.assertSigned(notice, noticeSecret);
        JsonNode json = notice.json();
        assertThat(json.path("event").asText()).isEqualTo("completed");
        assertThat(json.path("nodeId").asText()).isIn("node-a", "node-b");
        long inLedger = 0;
        for (JsonNode count : json.path("ledger").path("contactsByStatus")) {
            inLedger += count.asLong();
        }
        assertThat(inLedger).as("the campaign's contacts over both nodes").isEqualTo(CONTACTS);
    }

    @Test
    void configuredStartOnNodeA_nodeStartedLaterJoinsPaused_finishedCampaignNotRejoined() throws Exception {
        DialerRuntime a = node("node-a");
        bridge(a);
        awaitLive(1);
        ObjectNode request = JSON.createObjectNode();
        request.put("campaign", CONFIGURED);
        post(a, "/v1/campaigns", request);
        CampaignRun onA = a.campaigns().run(CONFIGURED);
        await(Duration.ofSeconds(20), "calls under way", () -> emulator.stats().created() >= 20);
        post(a, "/v1/campaigns/" + CONFIGURED + "/pause", JSON.createObjectNode());
        assertThat(onA.state()).isEqualTo(CampaignRun.State.PAUSED);

        // Node B starts after the launch: what serve does once configured joins the running campaign, paused.
        DialerRuntime b = node("node-b");
        assertThat(joined.get("node-b")).containsExactly(CONFIGURED);
        CampaignRun onB = b.campaigns().run(CONFIGURED);
        assertThat(onB).isNotNull();
        assertThat(onB.state()).isEqualTo(CampaignRun.State.PAUSED);
        awaitLive(2);
        post(b, "/v1/campaigns/" + CONFIGURED + "/resume", JSON.createObjectNode());
        await(Duration.ofSeconds(20), "node A resumed", () -> onA.state() != CampaignRun.State.PAUSED);

        awaitFinished(onA, onB);
        RunReport reportA = onA.report();
        RunReport reportB = onB.report();
        assertThat(reportA.state()).isEqualTo("COMPLETED");
        assertThat(reportB.state()).isEqualTo("COMPLETED");
        assertThat(reportB.attempts()).as("the late node's attempts").isPositive();
        assertThat(reportA.attempts() + reportB.attempts()).isEqualTo(CONTACTS);
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        assertThat(emulator.stats().created()).isEqualTo(CONTACTS);
        assertThat(emulator.stats().duplicateNumbers()).isZero();

        // A node that starts once the campaign is finished does not start a run of it.
        DialerRuntime c = node("node-c");
        assertThat(joined.get("node-c")).isEmpty();
        assertThat(c.campaigns().run(CONFIGURED)).isNull();
    }

    @Test
    void optOutOnNodeA_nodeBsRunRefusesTheNumberBeforeItIsReached() throws Exception {
        DialerRuntime a = node("node-a");
        DialerRuntime b = node("node-b");
        bridge(a);
        awaitLive(2);
        // The number that opts out is the list's last contact: it is not reached before the opt-out.
        String optingOut = "+14153019999";
        Files.writeString(dir.resolve("shared.csv"), contacts(CONTACTS - 1, optingOut), StandardCharsets.UTF_8);
        ObjectNode request = JSON.createObjectNode();
        request.put("campaign", CONFIGURED);
        post(a, "/v1/campaigns", request);
        CampaignRun onB = b.campaigns().launched(CONFIGURED).block(Duration.ofSeconds(10));
        assertThat(onB).isNotNull();
        assertThat(b.campaigns().refuses(CONFIGURED, optingOut)).isFalse();

        // What the webhook does when a callee presses the opt-out key on a call that node A placed.
        long publishedAt = System.nanoTime();
        a.calls().bus().publish(new CallEvent.OptedOut(CONFIGURED, optingOut, null));
        // Bounded generously: what matters is that node B refuses the number before it is reached (checked below
        // by the emulator: it is never dialed), not how fast a busy machine delivers the announcement.
        await(Duration.ofSeconds(20), "node B's run refuses the number", () -> b.campaigns().refuses(CONFIGURED,
                optingOut));
        System.out.println("opt-out on node A refused by node B after "
                + Duration.ofNanos(System.nanoTime() - publishedAt).toMillis() + " ms");
        assertThat(a.campaigns().refuses(CONFIGURED, optingOut)).isTrue();

        CampaignRun onA = a.campaigns().run(CONFIGURED);
        awaitFinished(onA, onB);
        assertThat(onA.report().state()).isEqualTo("COMPLETED");
        assertThat(onB.report().state()).isEqualTo("COMPLETED");
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        assertThat(emulator.stats().created()).as("every contact but the one that opted out").isEqualTo(CONTACTS - 1);
        assertThat(a.ledger().dncNumbers("campaign:" + CONFIGURED).collectList().block(Duration.ofSeconds(10)))
                .containsExactly(optingOut);
    }

    // ---- set-up ----

    private DialerRuntime node(String id) {
        ClusterSettings settings = ClusterSettings.of(id, "http://127.0.0.1/" + id)
                .withHeartbeat(Duration.ofMillis(500), Duration.ofSeconds(3))
                .withLease(Duration.ofSeconds(10))
                .withPollInterval(Duration.ofMillis(200))
                .withCallHold(Duration.ofMinutes(2));
        DialerRuntime runtime = DialerRuntime.start(new DialerRuntime.Options(new ArrayList<>(config.regions().values()),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("ITACCESSKEY", "it-secret-key")),
                url, SECRET, "127.0.0.1", 0, null, true, null, null).withCluster(settings));
        nodes.add(runtime);
        // What serve does: the configuration, this node's URL for the Lambda bridge, then join (joinRunning).
        runtime.campaigns().config(config);
        runtime.campaigns().callArguments(Map.of("dialerUrl", webhook(runtime).toString()));
        joined.put(id, runtime.campaigns().joinRunning());
        return runtime;
    }

    private void bridge(DialerRuntime defaultTarget) {
        lambda = LambdaEndpoint.of(new SmaBridgeHandler(BridgeConfig.of(webhook(defaultTarget), SECRET)
                .withTimeout(Duration.ofSeconds(15))), Duration.ofSeconds(18), LambdaEndpoint.DEFAULT_CONCURRENCY);
        emulator.endpoint(lambda);
    }

    private void awaitLive(int n) {
        await(Duration.ofSeconds(20), n + " nodes live and unfenced", () -> nodes.stream().allMatch(node ->
                node.cluster().membership().current() != null
                        && node.cluster().membership().current().live().size() == n
                        && !node.cluster().limits().fenced()));
    }

    private String config(List<EmulatorRegion> regions) {
        StringBuilder yaml = new StringBuilder()
                .append("ledger:\n  url: ${LEDGER}\n")
                .append("regions:\n");
        for (EmulatorRegion r : regions) {
            yaml.append("  ").append(r.name()).append(":\n")
                    .append("    sip-media-application-id: ").append(r.sipMediaApplicationId()).append('\n')
                    .append("    calls-per-second: ").append(RATE).append('\n')
                    .append("    burst: 1\n    max-active-calls: 60\n    update-calls-per-second: 50\n")
                    .append("    from-numbers: [\"").append(r.fromNumbers().get(0)).append("\"]\n")
                    .append("    endpoint: ${EMU}\n");
        }
        return yaml.append("campaigns:\n")
                .append("  ").append(CONFIGURED).append(":\n    contacts: shared.csv\n")
                .append("    regions: { us-east-1: 1, us-west-2: 1 }\n    max-call-lifetime: 2m\n")
                .toString();
    }

    /** Distinct valid US numbers, one per row, then {@code last} (if given) as the last row. */
    private static String contacts(int n, String last) {
        StringBuilder csv = new StringBuilder("id,phone,name\n");
        for (int i = 0; i < n; i++) {
            csv.append('c').append(i).append(",+1415").append(300 + i / 10_000)
                    .append(String.format("%04d", i % 10_000)).append(",Person ").append(i).append('\n');
        }
        if (last != null) {
            csv.append("last,").append(last).append(",Last\n");
        }
        return csv.toString();
    }

    private static URI webhook(DialerRuntime runtime) {
        return URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations");
    }

    private static JsonNode post(DialerRuntime node, String path, JsonNode body) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + node.port() + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private String progress() {
        StringBuilder sb = new StringBuilder("created=" + emulator.stats().created());
        nodes.forEach(n -> n.campaigns().ids().forEach(id -> sb.append(' ').append(n.cluster().nodeId()).append(':')
                .append(CampaignManager.status(n.campaigns().run(id)))));
        return sb.toString();
    }

    private void awaitFinished(CampaignRun... runs) {
        await(RUN_LIMIT, "the runs finish", () -> Arrays.stream(runs).allMatch(r ->
                r.state() == CampaignRun.State.COMPLETED || r.state() == CampaignRun.State.CANCELLED
                        || r.state() == CampaignRun.State.FAILED));
    }

    private void await(Duration limit, String what, BooleanSupplier condition) {
        Await.upTo(limit, what).pollEvery(Duration.ofMillis(50)).withContext(this::progress)
                .until(condition::getAsBoolean);
    }
}
