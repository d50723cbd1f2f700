package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerOptions;
import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.EmulatorStats;
import io.chimedialer.emulator.LambdaEndpoint;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.lambda.BridgeConfig;
import io.chimedialer.testkit.Await;
import io.chimedialer.testkit.LocalSqs;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 §3's crash test in production's shape: the emulator in Lambda mode invokes the real bridge
 * ({@code SmaBridgeHandler}, loaded by name with its environment), which forwards to a dialer process and, while
 * that process is down or does not answer, answers Chime with its fallback and puts the invocation in the spill
 * queue (an SQS-compatible {@link LocalSqs} in this JVM). The dialer ({@code dialer run} with
 * {@code server.spill-queue}) is killed with SIGKILL twice (see {@link #KILLS}) at seeded points and restarted;
 * each start drains the queue. Against the emulator's ground truth: no number dialed twice, every contact in
 * exactly one final state (none lost), no contact FAILED without a call, every outcome the ledger knows equal to
 * the callee's at the emulator, and UNKNOWN only for intents whose Create was in flight at a kill (they have no
 * TransactionId): the calls that ended while the dialer was down got their outcome from the queue.
 *
 * <p>{@code -Dscale.spill.contacts=N}: 600 by default; the 50,000 in the {@code scale} profile.
 */
class SpillCrashIT {
    private static final int CONTACTS = Integer.getInteger("scale.spill.contacts", 600);
    private static final int KILLS = Integer.getInteger("scale.spill.kills", 2);
    private static final long WAIT_SECONDS = Math.max(240, CONTACTS / 10);
    private static final int CAP = Math.max(30, Math.min(400, CONTACTS / 20));
    private static final double CPS = CAP;
    private static final int BATCH = 64;
    private static final long SEED = Long.getLong("spill.seed", 20261206L);
    private static final String CAMPAIGN = "c";
    private static final String QUEUE = "chime-dialer-spill";
    /* Generous limits along the chain (bridge budget < function timeout < emulator's retry): correctness, not speed. */
    private static final Duration BRIDGE_BUDGET = Duration.ofSeconds(5);
    private static final Duration FUNCTION_TIMEOUT = Duration.ofSeconds(8);
    private static final Duration EMULATOR_RETRY_AFTER = Duration.ofSeconds(10);
    private static final List<EmulatorRegion> REGIONS = List.of(
            new EmulatorRegion("us-east-1", "11111111-1111-4111-8111-111111111111",
                    List.of("+17035550100", "+17035550101"), CPS, 100, 2_000),
            new EmulatorRegion("us-west-2", "22222222-2222-4222-8222-222222222222",
                    List.of("+12065550100", "+12065550101"), CPS, 100, 2_000));
    /** Calls long enough (0.5 to 3 s of ringing, 1 to 5 s of talk) that many are live at each kill. */
    private static final Scenario SCENARIO = new Scenario(new Scenario.Mix(0.25, 0.35, 0.30, 0.04, 0.03, 0.03),
            new Scenario.Range(500, 3_000), new Scenario.Range(1_000, 5_000), 5_000, 0, List.of("1"), 0, Map.of());
    private static final Map<String, Disposition> EMULATOR_OUTCOME = Map.of("answered", Disposition.ANSWERED,
            "busy", Disposition.BUSY, "noAnswer", Disposition.NO_ANSWER, "invalidNumber", Disposition.INVALID_NUMBER,
            "rejected", Disposition.REJECTED, "failed", Disposition.FAILED);

    @TempDir
    Path dir;

    private ChimeEmulator emulator;
    private LambdaEndpoint lambda;
    private LocalSqs sqs;
    private Process dialer;
    private Path logs;

    @AfterEach
    void tearDown() throws Exception {
        if (dialer != null && dialer.isAlive()) {
            dialer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (emulator != null) {
            emulator.close();
        }
        if (lambda != null) {
            lambda.close();
        }
        if (sqs != null) {
            sqs.close();
        }
    }

    @Test
    void lambdaMode_killedWhileDialing_outcomesOfCallsThatEndedWhileDownComeFromTheSpillQueue() throws Exception {
        long started = System.nanoTime();
        logs = Files.createDirectories(Path.of("target", "spill-crash-it"));
        String secret = "spill-secret-" + UUID.randomUUID();
        int port = ChildProcesses.freePort();
        sqs = LocalSqs.start();
        URI queue = sqs.createQueue(QUEUE);
        lambda = LambdaEndpoint.of(LambdaEndpoint.instantiate("io.chimedialer.lambda.SmaBridgeHandler", Map.of(
                        BridgeConfig.ENV_WEBHOOK_URL, "http://127.0.0.1:" + port + "/v1/sma/invocations",
                        BridgeConfig.ENV_WEBHOOK_SECRET, secret,
                        BridgeConfig.ENV_TIMEOUT_MS, Long.toString(BRIDGE_BUDGET.toMillis()),
                        BridgeConfig.ENV_SPILL_QUEUE_URL, queue.toString(),
                        BridgeConfig.ENV_SPILL_TIMEOUT_MS, "1500",
                        "AWS_ACCESS_KEY_ID", "SPILLBRIDGEKEY",
                        "AWS_SECRET_ACCESS_KEY", "spill-bridge-secret"),
                getClass().getClassLoader()), FUNCTION_TIMEOUT, LambdaEndpoint.DEFAULT_CONCURRENCY);
        emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(REGIONS).timeScale(0.05).seed(SEED)
                .scenario(SCENARIO).webhookTimeout(EMULATOR_RETRY_AFTER).endpoint(lambda).start();
        Set<String> numbers = ContactLists.writeDistinct(dir.resolve("contacts.csv"), CONTACTS);
        String ledgerUrl = "jdbc:sqlite:" + dir.resolve("ledger.db");
        Path config = writeConfig(dir.resolve("dialer.yaml"), ledgerUrl, port, emulator.url(), queue);

        Random random = new Random(SEED);
        long inFlightBound = 0;
        List<String> kills = new ArrayList<>();
        for (int run = 0; run < KILLS; run++) {
            long killAt = (long) (CONTACTS * (0.2 + 0.5 * run / Math.max(1, KILLS))) + random.nextInt(
                    Math.max(1, CONTACTS / 10));
            long before = emulator.stats().created();
            dialer = startDialer(config, secret, run);
            awaitCreated(killAt, run);
            dialer.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
            EmulatorStats atKill = emulator.stats();
            assertThat(dialer.waitFor(30, TimeUnit.SECONDS)).as("killed dialer exits").isTrue();
            inFlightBound += atKill.active() + 2L * CAP + BATCH;
            kills.add("created=" + atKill.created() + " active=" + atKill.active() + " queued=" + sqs.depth(QUEUE));
            System.out.printf(Locale.ROOT, "SpillCrashIT: run %d dialed %d calls before its kill (%s)%n", run,
                    atKill.created() - before, kills.get(run));
            // Down for a while: the calls live at the kill end meanwhile, their events go to the queue.
            Thread.sleep(2_000);
        }
        dialer = startDialer(config, secret, KILLS);
        if (!dialer.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
            fail("the last run did not complete in " + WAIT_SECONDS + " s; log:\n"
                    + ChildProcesses.tail(logs.resolve("dialer-" + KILLS + ".log")));
        }
        assertThat(dialer.exitValue()).as("the last run completes; log:\n%s",
                ChildProcesses.tail(logs.resolve("dialer-" + KILLS + ".log"))).isZero();
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();

        // Ground truth: no number dialed twice, every attempt id used for one call only.
        EmulatorStats stats = emulator.stats();
        List<CallRecord> calls = emulator.calls();
        assertThat(stats.duplicateNumbers()).as("double dials").isZero();
        Map<String, CallRecord> callByAttempt = new HashMap<>();
        for (CallRecord call : calls) {
            String attemptId = call.arguments().get(CallRegistry.ARGUMENT_ATTEMPT_ID);
            assertThat(attemptId).as("ArgumentsMap attemptId of %s", call.transactionId()).isNotNull();
            assertThat(callByAttempt.put(attemptId, call)).as("attempt %s created once", attemptId).isNull();
        }
        assertThat(numbers).containsAll(calls.stream().map(CallRecord::to).toList());

        // The ledger: every contact exactly once in a final state; outcomes against the emulator's.
        List<Ledger.AttemptRecord> attempts = new ArrayList<>();
        try (Ledger ledger = JdbcLedger.open(LedgerOptions.of(ledgerUrl, Clock.systemUTC()))) {
            ledger.attempts(CAMPAIGN).doOnNext(attempts::add).blockLast(Duration.ofMinutes(2));
        }
        Map<String, Integer> rowsPerContact = new HashMap<>();
        Map<Disposition, Integer> outcomes = new EnumMap<>(Disposition.class);
        List<String> unknownWithCall = new ArrayList<>();
        List<String> failedWithoutCall = new ArrayList<>();
        List<String> mismatches = new ArrayList<>();
        int unknownInFlight = 0;
        for (Ledger.AttemptRecord a : attempts) {
            if (a.withdrawn()) {
                // never sent (or refused for a reason not the contact's): the contact was dialed again
                assertThat(callByAttempt).as("withdrawn %s never reached Chime", a.attemptId())
                        .doesNotContainKey(a.attemptId());
                continue;
            }
            assertThat(a.result()).as("attempt %s has a result", a.attemptId()).isNotNull();
            Disposition d = a.result().disposition();
            rowsPerContact.merge(a.contactKey(), 1, Integer::sum);
            outcomes.merge(d, 1, Integer::sum);
            CallRecord truth = callByAttempt.get(a.attemptId());
            if (d == Disposition.UNKNOWN) {
                if (a.transactionId() != null) {
                    unknownWithCall.add(a.attemptId() + " (" + (truth == null ? "no call" : truth.endReason()) + ")");
                } else {
                    unknownInFlight++; // its Create was in flight at a kill
                }
            } else if (truth == null) {
                if (d == Disposition.FAILED) {
                    failedWithoutCall.add(a.attemptId());
                } else {
                    mismatches.add(a.attemptId() + ": ledger " + d + ", no call at the emulator");
                }
            } else if (!EMULATOR_OUTCOME.get(truth.disposition()).equals(d)) {
                mismatches.add(a.attemptId() + ": ledger " + d + ", emulator " + truth.disposition() + " ("
                        + truth.endReason() + ")");
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf(Locale.ROOT, "SpillCrashIT: %d contacts, %d kills %s, %d calls created, outcomes %s, UNKNOWN"
                        + " %d (in flight at a kill %d, bound %d; with a TransactionId %d), FAILED without a call %d,"
                        + " mismatches %d; spill queue: %d sent by the bridge, %d deleted by the dialer, %d left;"
                        + " %.1f s%n", CONTACTS, KILLS, kills, calls.size(), outcomes,
                outcomes.getOrDefault(Disposition.UNKNOWN, 0), unknownInFlight, inFlightBound, unknownWithCall.size(),
                failedWithoutCall.size(), mismatches.size(), sqs.sent(), sqs.deleted(), sqs.depth(QUEUE), seconds);
        // For a failure: what happened to the first few calls that ended UNKNOWN although they were placed.
        List<String> spilled = sqs.sentBodies();
        attempts.stream().filter(a -> !a.withdrawn() && a.result() != null
                        && a.result().disposition() == Disposition.UNKNOWN && a.transactionId() != null)
                .limit(6).forEach(a -> {
                    CallRecord truth = callByAttempt.get(a.attemptId());
                    List<String> events = new ArrayList<>();
                    for (String body : spilled) {
                        if (body.contains(a.transactionId())) {
                            int i = body.indexOf("\"InvocationEventType\":\"") + 23;
                            events.add(body.substring(i, body.indexOf('"', i)));
                        }
                    }
                    System.out.printf(Locale.ROOT, "SpillCrashIT: UNKNOWN %s tx %s placed %s ended %s; emulator %s; "
                                    + "spilled %s%n", a.attemptId(), a.transactionId(), a.placedAt(),
                            a.result().endedAt(), truth == null ? "no call" : truth.created() + ".." + truth.ended()
                                    + " " + truth.disposition() + " " + truth.endReason() + " " + truth.invocations(),
                            events);
                });
        assertThat(rowsPerContact).as("every contact once, none lost").hasSize(CONTACTS);
        assertThat(rowsPerContact.values()).allMatch(n -> n == 1);
        assertThat(failedWithoutCall).as("contacts FAILED without a call").isEmpty();
        assertThat(unknownWithCall).as("UNKNOWN only for intents whose Create was in flight at a kill").isEmpty();
        assertThat((long) unknownInFlight).isLessThanOrEqualTo(inFlightBound);
        assertThat(mismatches).as("ledger outcomes that differ from the emulator's").isEmpty();
        assertThat(sqs.sent()).as("the bridge spilled while the dialer was down").isPositive();
        assertThat(sqs.deleted()).as("the dialer drained the queue").isPositive();
    }

    private Process startDialer(Path config, String secret, int run) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(ChildProcesses.java(), "-Xmx512m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", ChildProcesses.classpath(),
                "io.chimedialer.app.DialerMain", "run", "--config", config.toString(), "--campaign", CAMPAIGN);
        pb.environment().put("DIALER_WEBHOOK_SECRET", secret);
        pb.environment().put("AWS_ACCESS_KEY_ID", "SPILLDIALERKEY");
        pb.environment().put("AWS_SECRET_ACCESS_KEY", "spill-dialer-secret");
        pb.environment().remove("DIALER_LEDGER_URL");
        pb.redirectErrorStream(true);
        pb.redirectOutput(logs.resolve("dialer-" + run + ".log").toFile());
        return pb.start();
    }

    private void awaitCreated(long target, int run) {
        Path log = logs.resolve("dialer-" + run + ".log");
        Await.upTo(Duration.ofSeconds(WAIT_SECONDS), "dialer run " + run + " to reach " + target + " created calls")
                .pollEvery(Duration.ofMillis(5))
                .failFastIf(() -> !dialer.isAlive(), () -> "it exited (" + dialer.exitValue()
                        + ") before the kill point; log:\n" + ChildProcesses.tail(log))
                .untilValue(() -> emulator.stats().created(), created -> created >= target);
    }

    private static Path writeConfig(Path file, String ledgerUrl, int port, URI endpoint, URI queue)
            throws IOException {
        StringBuilder yaml = new StringBuilder();
        yaml.append("server:\n  host: 127.0.0.1\n  port: ").append(port)
                .append("\n  webhook-secret: ${DIALER_WEBHOOK_SECRET}\n")
                .append("  spill-queue:\n    url: \"").append(queue).append("\"\n")
                .append("    poll-wait: 2s\n    visibility-timeout: 30s\n    unknown-grace: 10s\n");
        yaml.append("ledger:\n  url: \"").append(ledgerUrl).append("\"\n");
        yaml.append("regions:\n");
        for (EmulatorRegion r : REGIONS) {
            yaml.append("  ").append(r.name()).append(":\n")
                    .append("    sip-media-application-id: ").append(r.sipMediaApplicationId()).append('\n')
                    .append("    calls-per-second: ").append(CPS).append('\n')
                    .append("    burst: ").append((int) Math.max(1, CPS / 10)).append('\n')
                    .append("    max-active-calls: ").append(CAP).append('\n')
                    .append("    update-calls-per-second: 50\n")
                    .append("    from-numbers: [\"").append(String.join("\", \"", r.fromNumbers())).append("\"]\n")
                    .append("    endpoint: \"").append(endpoint).append("\"\n");
        }
        // The flow's derived max-call-lifetime (minutes), as in production: a call taken over at a restart waits for
        // its HANGUP from the queue, however slow the loaded machine, rather than ending UNKNOWN by the guard.
        yaml.append("campaigns:\n  ").append(CAMPAIGN).append(":\n    contacts: contacts.csv\n")
                .append("    regions: { us-east-1: 1, us-west-2: 1 }\n");
        Files.writeString(file, yaml.toString(), StandardCharsets.UTF_8);
        return file;
    }
}
