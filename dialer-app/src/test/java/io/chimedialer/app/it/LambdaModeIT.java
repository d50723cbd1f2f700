package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.contacts.CallingWindowConfig;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.campaign.RetryConfig;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.core.flow.FlowConfig.Menu;
import io.chimedialer.core.flow.FlowConfig.MenuOption;
import io.chimedialer.core.flow.FlowConfig.Prompt;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.pacing.RegionPacing;
import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.EmulatorStats;
import io.chimedialer.emulator.LambdaEndpoint;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.emulator.Scenario.Callee;
import io.chimedialer.emulator.Scenario.Outcome;
import io.chimedialer.lambda.BridgeConfig;
import io.chimedialer.lambda.SmaBridgeHandler;
import io.chimedialer.testkit.Await;
import java.io.IOException;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The production path end to end, on one machine: the emulated SIP media application invokes the real Lambda
 * bridge ({@link SmaBridgeHandler}) in-process (the emulator's Lambda mode), which forwards each invocation,
 * signed, over HTTP to the dialer's webhook ({@link DialerRuntime}) and returns its answer. Checked against
 * the emulator's ground truth, as issue 4's IT checks the direct webhook path.
 */
class LambdaModeIT {
    private static final String SECRET = "lambda-mode-it-secret-7f3a9c";
    private static final double TIME_SCALE = 0.002;
    private static final Duration RUN_LIMIT = Duration.ofMinutes(2);
    private static final String CONFIRM = "1";
    private static final String REPEAT = "2";
    private static final String OPT_OUT = "9";
    /*
     * Generous time limits, consistent along the chain (bridge budget < function timeout < emulator's retry
     * timeout): the machine may be loaded, and these tests are about correctness, not latency. A bridge that
     * timed out would answer with its fallback and, on NEW_OUTBOUND_CALL, hide the call from the dialer.
     */
    private static final Duration BRIDGE_BUDGET = Duration.ofSeconds(15);
    private static final Duration FUNCTION_TIMEOUT = Duration.ofSeconds(18);
    private static final Duration EMULATOR_RETRY_AFTER = Duration.ofSeconds(19);

    @TempDir
    Path dir;

    private ChimeEmulator emulator;
    private DialerRuntime runtime;
    private LambdaEndpoint lambda;
    private final List<Gate> gates = new ArrayList<>();
    /** Scripted callees: number to the digits they press. */
    private final Map<String, String> scripted = new LinkedHashMap<>();

    @AfterEach
    void tearDown() {
        if (emulator != null) {
            emulator.close();
        }
        if (lambda != null) {
            lambda.close();
        }
        if (runtime != null) {
            runtime.close();
        }
        gates.forEach(Gate::close);
    }

    @Test
    void campaign_emulatorInLambdaModeThroughTheRealBridge_matchesGroundTruth() throws Exception {
        Path contacts = start(1_000);
        // Loaded by class name, configured through its environment, as the Lambda runtime would.
        lambda = LambdaEndpoint.of(LambdaEndpoint.instantiate("io.chimedialer.lambda.SmaBridgeHandler", Map.of(
                        BridgeConfig.ENV_WEBHOOK_URL, dialerWebhook().toString(),
                        BridgeConfig.ENV_WEBHOOK_SECRET, SECRET,
                        BridgeConfig.ENV_TIMEOUT_MS, Long.toString(BRIDGE_BUDGET.toMillis())),
                getClass().getClassLoader()), FUNCTION_TIMEOUT, LambdaEndpoint.DEFAULT_CONCURRENCY);
        emulator.endpoint(lambda);

        RunReport report = run(campaign("lambda-mode", Duration.ofMinutes(5)), contacts);

        assertThat(report.state()).isEqualTo("COMPLETED");
        assertThat(report.attempts()).isEqualTo(1_000);
        assertThat(report.contacts().dialed()).isEqualTo(1_000);
        EmulatorStats stats = emulator.stats();
        assertClean(stats);
        assertThat(stats.created()).isEqualTo(1_000);
        assertThat(stats.duplicateNumbers()).isZero();
        assertThat(stats.redeliveries()).isZero();
        // Every invocation went through the bridge to the dialer exactly once: no fallback answered any.
        assertThat(runtime.webhook().stats().requests()).isEqualTo(stats.invocations());
        assertThat(runtime.webhook().stats().unauthorized()).isZero();

        Map<String, String> truthDigits = assertGroundTruth("lambda-mode", 1_000, Set.of());
        assertScriptedDigits(truthDigits);
        Set<String> expectedOptOuts = new HashSet<>();
        for (CallRecord call : emulator.calls()) {
            if (truthDigits.get(call.transactionId()).startsWith(OPT_OUT)) {
                expectedOptOuts.add(call.to());
            }
        }
        assertThat(expectedOptOuts).hasSizeGreaterThanOrEqualTo(90);
        assertThat(awaitDnc("campaign:lambda-mode", expectedOptOuts.size()))
                .containsExactlyInAnyOrderElementsOf(expectedOptOuts);
        assertPermitsReleased();
    }

    @Test
    void campaign_severalNodes_bridgeFollowsTheDialerUrlOfEachCall() throws Exception {
        Path contacts = start(300);
        // The bridge's default URL is a node that is down; only the per-call dialerUrl reaches a live one.
        Gate otherNode = gate(new Gate(null, -1, 0));
        runtime.campaigns().callArguments(Map.of("dialerUrl", dialerWebhook().toString()));
        lambda = bridge(otherNode.url());
        emulator.endpoint(lambda);

        RunReport report = run(campaign("nodes", Duration.ofMinutes(5)), contacts);

        assertThat(report.state()).isEqualTo("COMPLETED");
        assertThat(report.attempts()).isEqualTo(300);
        EmulatorStats stats = emulator.stats();
        assertClean(stats);
        assertThat(emulator.calls()).hasSize(300).allSatisfy(call ->
                assertThat(call.arguments()).containsEntry("dialerUrl", dialerWebhook().toString()));
        // NEW_OUTBOUND_CALL found the URL in its Arguments, every later invocation in TransactionAttributes.
        assertThat(otherNode.refused()).isZero();
        assertThat(runtime.webhook().stats().requests()).isEqualTo(stats.invocations());
        assertScriptedDigits(assertGroundTruth("nodes", 300, Set.of()));
        assertPermitsReleased();
    }

    @Test
    void campaign_dialerDownForPartOfTheRun_bridgeFallsBackAndEveryCallStillEnds() throws Exception {
        Path contacts = start(400);
        // A load balancer in front of the dialer answers 503 for 250 invocations once 400 went through.
        Gate balancer = gate(new Gate(dialerWebhook(), 400, 250));
        lambda = bridge(balancer.url());
        emulator.endpoint(lambda);

        // Calls whose HANGUP never reached the dialer are closed by their lifetime, and their permits returned.
        RunReport report = run(campaign("outage", Duration.ofSeconds(20)), contacts);

        assertThat(report.state()).isEqualTo("COMPLETED");
        assertThat(report.attempts()).isEqualTo(400);
        assertThat(balancer.refused()).isGreaterThanOrEqualTo(250);
        EmulatorStats stats = emulator.stats();
        assertClean(stats); // the bridge answered every invocation: no call ended for want of an answer
        Set<String> refused = balancer.refusedTransactions();
        // The flow starts with SpeakAndGetDigits, so a call whose first action is a Speak got the fallback.
        List<CallRecord> fellBack = emulator.calls().stream()
                .filter(c -> !c.actions().isEmpty() && c.actions().get(0).type().equals("Speak")).toList();
        assertThat(fellBack).isNotEmpty().allSatisfy(c -> {
            assertThat(refused).contains(c.transactionId());
            assertThat(c.disposition()).isEqualTo("answered");
            if (c.endReason().equals("applicationHangup")) {
                assertThat(c.actions()).extracting(CallRecord.Action::type).containsExactly("Speak", "Hangup");
            } else { // the callee hung up during the fallback's Speak
                assertThat(c.actions()).extracting(CallRecord.Action::result).containsExactly("CANCELLED");
            }
        });
        assertThat(fellBack).anySatisfy(c -> assertThat(c.endReason()).isEqualTo("applicationHangup"));
        // Calls the outage did not touch are exact; the others still have an outcome.
        assertGroundTruth("outage", 400, refused);
        assertPermitsReleased();
    }

    // ---- set-up ----

    /** The real bridge with the test's budget, run in-process. */
    private static LambdaEndpoint bridge(URI defaultUrl) {
        return LambdaEndpoint.of(new SmaBridgeHandler(BridgeConfig.of(defaultUrl, SECRET).withTimeout(BRIDGE_BUDGET)),
                FUNCTION_TIMEOUT, LambdaEndpoint.DEFAULT_CONCURRENCY);
    }

    private Gate gate(Gate g) {
        gates.add(g);
        return g;
    }

    /** Starts the emulator and the dialer (two Regions) and writes {@code n} contacts; returns the CSV. */
    private Path start(int n) throws IOException {
        List<String> numbers = new ArrayList<>();
        Scenario.Builder scenario = Scenario.builder().ringMs(2_000, 8_000).talkMs(5_000, 30_000)
                .noAnswerMs(30_000).dtmf(0.6, List.of(CONFIRM, REPEAT, OPT_OUT));
        for (int i = 0; i < n; i++) {
            String number = String.format("+1415%03d%04d", 200 + i / 10_000, i % 10_000);
            numbers.add(number);
            String digits = i % 11 == 0 ? OPT_OUT : i % 7 == 0 ? REPEAT : i % 5 == 0 ? CONFIRM : null;
            if (digits != null) {
                scripted.put(number, digits);
                // Talks far longer than the flow (60 s real): the dialer hangs up first, even on a loaded machine.
                scenario.number(number, new Callee(Outcome.ANSWERED, 1_000L, 30_000_000L, digits, false));
            }
        }
        List<EmulatorRegion> emulated = new ArrayList<>();
        for (EmulatorRegion r : EmulatorRegion.defaults()) {
            emulated.add(r.withQuotas(100, 50, 400));
        }
        emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(emulated).scenario(scenario.build())
                .timeScale(TIME_SCALE).seed(11).webhookTimeout(EMULATOR_RETRY_AFTER).start();
        List<RegionConfig> regions = new ArrayList<>();
        for (EmulatorRegion r : emulated) {
            regions.add(new RegionConfig(r.name(), r.sipMediaApplicationId(), 50, 5, 150, 5, r.fromNumbers(),
                    emulator.url()));
        }
        runtime = DialerRuntime.start(new DialerRuntime.Options(regions,
                StaticCredentialsProvider.create(AwsBasicCredentials.create("ITACCESSKEY", "it-secret-key")),
                "jdbc:sqlite:" + dir.resolve("ledger.db"), SECRET, "127.0.0.1", 0, null, false, null, null));
        Path csv = dir.resolve("contacts.csv");
        try (Writer out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
            out.write("id,phone,name\n");
            for (int i = 0; i < numbers.size(); i++) {
                out.write("c" + i + "," + numbers.get(i) + ",Patient " + i + "\n");
            }
        }
        return csv;
    }

    private URI dialerWebhook() {
        return URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations");
    }

    /** A menu whose first action is SpeakAndGetDigits: 1 confirms, 2 repeats, 9 opts out. */
    private static CampaignConfig campaign(String name, Duration maxCallLifetime) {
        Map<String, MenuOption> options = new LinkedHashMap<>();
        options.put(CONFIRM, MenuOption.of(MenuOption.Action.CONFIRM));
        options.put(REPEAT, MenuOption.of(MenuOption.Action.REPEAT));
        options.put(OPT_OUT, MenuOption.of(MenuOption.Action.OPT_OUT));
        FlowConfig flow = FlowConfig.menu(null, Menu.of(
                Prompt.text("Hello {name}. Press 1 to confirm, 2 to hear this again, or 9 to opt out."), options));
        Map<String, Integer> regions = new LinkedHashMap<>();
        regions.put("us-east-1", 1);
        regions.put("us-west-2", 1);
        return new CampaignConfig(name, null, regions, "US", CallingWindowConfig.ALWAYS, RetryConfig.NONE, flow,
                List.of(), maxCallLifetime, false);
    }

    private RunReport run(CampaignConfig campaign, Path contacts) throws IOException {
        CampaignManager.Started started = runtime.campaigns().launch(campaign, contacts, false);
        RunReport report = started.report().block(RUN_LIMIT);
        assertThat(report).isNotNull();
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        return report;
    }

    // ---- checks ----

    private static void assertClean(EmulatorStats stats) {
        assertThat(stats.active()).isZero();
        assertThat(stats.ended()).isEqualTo(stats.created());
        assertThat(stats.endedTwice()).isZero();
        assertThat(stats.invalidResponses()).isZero(); // no response had more than 10 actions, or anything else wrong
        assertThat(stats.budgetExhausted()).isZero();
        assertThat(stats.webhookFailures()).isZero();
        assertThat(stats.throttled()).isZero();
    }

    /**
     * Each emulated call has exactly one attempt in the ledger, with the call's number; unless skipped, its
     * disposition is the emulator's and its digits are those the callee pressed at the menu.
     *
     * @return the ground truth digits by TransactionId
     */
    private Map<String, String> assertGroundTruth(String campaign, int expected, Set<String> skip) {
        List<Ledger.AttemptRecord> attempts = awaitResults(campaign, expected);
        Map<String, Ledger.AttemptRecord> byTransaction = new HashMap<>();
        for (Ledger.AttemptRecord a : attempts) {
            assertThat(a.transactionId()).as("attempt %s placed", a.attemptId()).isNotNull();
            assertThat(byTransaction.put(a.transactionId(), a)).as("one attempt per call").isNull();
        }
        List<CallRecord> calls = emulator.calls();
        assertThat(calls).hasSize(expected);
        Map<String, String> truthDigits = new HashMap<>();
        List<String> mismatches = new ArrayList<>();
        for (CallRecord call : calls) {
            Ledger.AttemptRecord a = byTransaction.get(call.transactionId());
            assertThat(a).as("ledger attempt of call %s", call.transactionId()).isNotNull();
            assertThat(a.number()).isEqualTo(call.to());
            String digits = pressed(call);
            truthDigits.put(call.transactionId(), digits);
            if (skip.contains(call.transactionId())) {
                continue;
            }
            Disposition want = disposition(call.disposition());
            if (a.result().disposition() != want || !a.result().digits().equals(digits)) {
                mismatches.add(call.to() + ": emulator " + want + " '" + digits + "' (" + call.endReason()
                        + "), ledger " + a.result().disposition() + " '" + a.result().digits() + "'");
            }
        }
        assertThat(mismatches).isEmpty();
        assertThat(expected - skip.size()).isPositive();
        return truthDigits;
    }

    /** Digits the callee pressed at GetDigits actions that succeeded, in order. */
    private static String pressed(CallRecord call) {
        StringBuilder sb = new StringBuilder();
        for (CallRecord.Action action : call.actions()) {
            if (action.type().endsWith("GetDigits") && "ACTION_SUCCESSFUL".equals(action.result())
                    && action.receivedDigits() != null) {
                sb.append(action.receivedDigits());
            }
        }
        return sb.toString();
    }

    private void assertScriptedDigits(Map<String, String> truthDigits) {
        int checked = 0;
        for (CallRecord call : emulator.calls()) {
            String script = scripted.get(call.to());
            if (script == null) {
                continue;
            }
            assertThat(call.disposition()).isEqualTo("answered");
            String recorded = truthDigits.get(call.transactionId());
            switch (script) {
                case CONFIRM, OPT_OUT -> assertThat(recorded).as(call.to()).isEqualTo(script);
                // "2" repeats the menu until its attempts run out (3 by default).
                default -> assertThat(recorded).as(call.to()).isEqualTo("222");
            }
            checked++;
        }
        assertThat(checked).isEqualTo(scripted.size());
    }

    private static Disposition disposition(String emulated) {
        return switch (emulated) {
            case "answered" -> Disposition.ANSWERED;
            case "busy" -> Disposition.BUSY;
            case "noAnswer" -> Disposition.NO_ANSWER;
            case "invalidNumber" -> Disposition.INVALID_NUMBER;
            case "rejected" -> Disposition.REJECTED;
            case "failed" -> Disposition.FAILED;
            default -> throw new AssertionError("unexpected emulator disposition " + emulated);
        };
    }

    /** The campaign's attempts once every one has its result (the ledger writes behind). */
    private List<Ledger.AttemptRecord> awaitResults(String campaign, int expected) {
        return Await.upTo(Duration.ofSeconds(20), expected + " attempts of " + campaign + ", each with its result")
                .pollEvery(Duration.ofMillis(100))
                .untilValue(() -> runtime.ledger().attempts(campaign).collectList().block(Duration.ofSeconds(10)),
                        attempts -> attempts != null && attempts.size() == expected
                                && attempts.stream().allMatch(a -> a.result() != null));
    }

    private List<String> awaitDnc(String list, int expected) {
        return Await.upTo(Duration.ofSeconds(20), expected + " numbers on DNC list " + list)
                .pollEvery(Duration.ofMillis(100))
                .untilValue(() -> runtime.ledger().dncNumbers(list).collectList().block(Duration.ofSeconds(10)),
                        numbers -> numbers != null && numbers.size() >= expected);
    }

    private void assertPermitsReleased() {
        Await.upTo(Duration.ofSeconds(10), "every Region's permits released").pollEvery(Duration.ofMillis(50))
                .until(() -> runtime.regions().values().stream().allMatch(p -> p.permits().inUse() == 0));
        for (RegionPacing p : runtime.regions().values()) {
            assertThat(p.permits().inUse()).as("permits in use in %s", p.name()).isZero();
        }
        assertThat(runtime.campaigns().liveCalls()).isZero();
    }
}
