package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.contacts.PhoneNumbers;
import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerExport;
import io.chimedialer.core.ledger.LedgerOptions;
import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.EmulatorStats;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.emulator.WebhookLatency;
import io.chimedialer.testkit.Await;
import io.chimedialer.testkit.PostgresSchema;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
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
 * Issue 5's crash test: a dialer process runs a campaign (see {@link #CONTACTS}) against the emulator (in this
 * JVM, so it outlives the dialer) at 2 Regions x 400 calls/s (at the full size; see {@link #CAP}), is killed
 * with SIGKILL at three seeded random points and restarted each time (resume),
 * and the last run completes. Then the emulator's ground truth shows no number dialed twice and every created
 * call's attempt id unique and in the ledger (intent before Create); the export has every contact in exactly
 * one final state; the UNKNOWN attempts are printed and bounded by what was in flight at the kills.
 *
 * <p>Runs on SQLite always and on PostgreSQL when {@code DIALER_TEST_POSTGRES_URL} is set (a fresh schema per
 * run; set but unreachable fails).
 */
class CrashResumeIT {
    /**
     * {@code -Dscale.crash.contacts=N}: 3,000 by default; the 50,000 in the {@code scale} Maven profile
     * (172 s on SQLite plus 197 s on PostgreSQL at a load of 18 on the 2-core build machine).
     */
    private static final int CONTACTS = Integer.getInteger("scale.crash.contacts", 3_000);
    /** The longest a run may take to reach its kill point or, the last one, to complete (at >= 10 calls/s). */
    private static final long WAIT_SECONDS = Math.max(240, CONTACTS / 10);
    /**
     * Each Region's active-call cap, and by default its rate: 400 at the full size, a twentieth of the list when
     * smaller (150 for 3,000), so that the bound on UNKNOWN attempts, which grows with the cap, stays well under
     * the list's size.
     */
    private static final int CAP = Math.max(50, Math.min(400, CONTACTS / 20));
    private static final double CPS = Double.parseDouble(System.getProperty("crash.cps", Integer.toString(CAP)));
    private static final int BATCH = 64; // DialerSettings' default batch size
    private static final long SEED = Long.getLong("crash.seed", 20261127L);
    private static final String CAMPAIGN = "c";
    private static final List<EmulatorRegion> REGIONS = List.of(
            new EmulatorRegion("us-east-1", "11111111-1111-4111-8111-111111111111",
                    List.of("+17035550100", "+17035550101"), CPS, 100, 2_000),
            new EmulatorRegion("us-west-2", "22222222-2222-4222-8222-222222222222",
                    List.of("+12065550100", "+12065550101"), CPS, 100, 2_000));

    /**
     * Short calls, fewer answered ones (fewer invocations per call), no DTMF: the guarantees under test do not
     * depend on the mix, and the machine's time goes to more calls.
     */
    private static final Scenario SCENARIO = new Scenario(new Scenario.Mix(0.25, 0.35, 0.30, 0.04, 0.03, 0.03),
            new Scenario.Range(500, 3_000), new Scenario.Range(1_000, 5_000), 5_000, 0, List.of("1"), 0, Map.of());

    private static final Map<String, Disposition> EMULATOR_OUTCOME = Map.of("answered", Disposition.ANSWERED,
            "busy", Disposition.BUSY, "noAnswer", Disposition.NO_ANSWER, "invalidNumber", Disposition.INVALID_NUMBER,
            "rejected", Disposition.REJECTED, "failed", Disposition.FAILED);

    @TempDir
    Path dir;

    private ChimeEmulator emulator;
    private Process dialer;
    private PostgresSchema schema;
    private Path logs;

    @AfterEach
    void tearDown() throws Exception {
        if (dialer != null && dialer.isAlive()) {
            dialer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (emulator != null) {
            emulator.close();
        }
        if (schema != null) {
            schema.close();
        }
    }

    @Test
    void sqlite_killedThreeTimes_resumesWithoutDoubleDialAndEveryContactFinal() throws Exception {
        crashAndResume("sqlite", "jdbc:sqlite:" + dir.resolve("ledger.db"));
    }

    @Test
    void postgres_killedThreeTimes_resumesWithoutDoubleDialAndEveryContactFinal() throws Exception {
        schema = PostgresSchema.create("crash_it", "the PostgreSQL crash run");
        crashAndResume("postgres", schema.url());
    }

    private void crashAndResume(String backend, String ledgerUrl) throws Exception {
        long started = System.nanoTime();
        // The dialer's logs stay in target/ for a look after a failure.
        logs = Files.createDirectories(Path.of("target", "crash-it", backend));
        String secret = "crash-secret-" + UUID.randomUUID();
        int port = ChildProcesses.freePort();
        emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(REGIONS).timeScale(0.01).seed(SEED)
                .scenario(SCENARIO)
                .webhook(URI.create("http://127.0.0.1:" + port + "/v1/sma/invocations"), secret)
                .start();
        Set<String> numbers = writeContacts(dir.resolve("contacts.csv"));
        Path config = writeConfig(dir.resolve("dialer.yaml"), ledgerUrl, port, emulator.url());

        // Three kill points, seeded, spread over the campaign: in created calls (the emulator's count).
        Random random = new Random(SEED ^ backend.hashCode());
        long[] killAt = new long[3];
        for (int k = 0; k < 3; k++) {
            killAt[k] = (long) (CONTACTS * (0.12 + 0.26 * k)) + random.nextInt(Math.max(1, CONTACTS / 8));
        }
        long inFlightBound = 0;
        List<String> kills = new ArrayList<>();
        long[] createdAtKill = new long[3];
        for (int run = 0; run < 3; run++) {
            long before = emulator.stats().created();
            long t0 = System.nanoTime();
            dialer = startDialer(config, secret, run);
            awaitCreated(killAt[run], run);
            System.out.printf(Locale.ROOT, "CrashResumeIT[%s]: run %d dialed %d calls in %.1f s before its kill%n",
                    backend, run, emulator.stats().created() - before, (System.nanoTime() - t0) / 1e9);
            dialer.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no flush
            EmulatorStats atKill = emulator.stats();
            assertThat(dialer.waitFor(30, TimeUnit.SECONDS)).as("killed dialer exits").isTrue();
            inFlightBound += atKill.active() + 2L * CAP + BATCH;
            kills.add("created=" + atKill.created() + " active=" + atKill.active());
            createdAtKill[run] = atKill.created();
        }
        long t3 = System.nanoTime();
        long before3 = emulator.stats().created();
        dialer = startDialer(config, secret, 3);
        if (!dialer.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
            fail("the last run did not complete in " + WAIT_SECONDS + " s; log:\n"
                    + ChildProcesses.tail(logs.resolve("dialer-3.log")));
        }
        assertThat(dialer.exitValue()).as("the last run completes; log:\n%s", ChildProcesses.tail(logs.resolve("dialer-3.log")))
                .isZero();
        System.out.printf(Locale.ROOT, "CrashResumeIT[%s]: last run dialed %d calls and completed in %.1f s%n",
                backend, emulator.stats().created() - before3, (System.nanoTime() - t3) / 1e9);
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();

        // Ground truth: no number dialed twice (no retry rules), every attempt id used for one call only.
        EmulatorStats stats = emulator.stats();
        List<CallRecord> calls = emulator.calls();
        assertThat(stats.duplicateNumbers()).isZero();
        Set<String> callAttempts = new HashSet<>();
        Set<String> callNumbers = new HashSet<>();
        for (CallRecord call : calls) {
            String attemptId = call.arguments().get(CallRegistry.ARGUMENT_ATTEMPT_ID);
            assertThat(attemptId).as("ArgumentsMap attemptId of %s", call.transactionId()).isNotNull();
            assertThat(callAttempts.add(attemptId)).as("attempt %s created once", attemptId).isTrue();
            assertThat(callNumbers.add(call.to())).as("number dialed once").isTrue();
        }
        assertThat(numbers).containsAll(callNumbers);

        // The export: one row per attempt; every contact exactly once, in a final state.
        Path export = dir.resolve("export.csv");
        Map<String, Ledger.AttemptRecord> byAttempt = new HashMap<>();
        try (Ledger ledger = JdbcLedger.open(LedgerOptions.of(ledgerUrl, Clock.systemUTC()))) {
            try (Writer out = Files.newBufferedWriter(export, StandardCharsets.UTF_8)) {
                LedgerExport.writeCsv(ledger.attempts(CAMPAIGN), out).block(Duration.ofMinutes(2));
            }
            ledger.attempts(CAMPAIGN).doOnNext(a -> byAttempt.put(a.attemptId(), a)).blockLast(Duration.ofMinutes(2));
        }
        assertThat(callAttempts).as("every created call had its intent in the ledger")
                .allMatch(byAttempt::containsKey);
        Map<String, Integer> rowsPerContact = new HashMap<>();
        Map<Disposition, Integer> outcomes = new EnumMap<>(Disposition.class);
        List<String> header;
        try (BufferedReader in = Files.newBufferedReader(export, StandardCharsets.UTF_8)) {
            header = List.of(in.readLine().split(","));
            int contactColumn = header.indexOf("contact_id");
            int dispositionColumn = header.indexOf("disposition");
            assertThat(contactColumn).isNotNegative();
            assertThat(dispositionColumn).isNotNegative();
            String line;
            while ((line = in.readLine()) != null) {
                String[] cells = line.split(",", -1);
                if ("WITHDRAWN".equals(cells[dispositionColumn])) {
                    // never sent (or refused for a reason not the contact's): not a call, and the contact was
                    // dialed again under another attempt
                    assertThat(cells[header.indexOf("transaction_id")]).as("withdrawn %s", line).isEmpty();
                    continue;
                }
                rowsPerContact.merge(cells[contactColumn], 1, Integer::sum);
                assertThat(cells[dispositionColumn]).as("final state of %s", line).isNotEmpty();
                outcomes.merge(Disposition.valueOf(cells[dispositionColumn]), 1, Integer::sum);
            }
        }
        assertThat(rowsPerContact).hasSize(CONTACTS);
        assertThat(rowsPerContact.values()).allMatch(n -> n == 1);
        Set<String> expectedIds = new HashSet<>();
        for (int i = 1; i <= CONTACTS; i++) {
            expectedIds.add("k" + i);
        }
        assertThat(rowsPerContact.keySet()).isEqualTo(expectedIds);

        // An outcome the ledger knows (not UNKNOWN) is the callee's outcome at the emulator, across the kills too.
        Map<String, String> emulatorOutcome = new HashMap<>();
        Map<String, Integer> creationIndex = new HashMap<>();
        Map<String, String> endReason = new HashMap<>();
        Set<String> hangupAcknowledged = new HashSet<>();
        for (int i = 0; i < calls.size(); i++) {
            CallRecord c = calls.get(i);
            String attemptId = c.arguments().get(CallRegistry.ARGUMENT_ATTEMPT_ID);
            emulatorOutcome.put(attemptId, c.disposition());
            creationIndex.put(attemptId, i);
            endReason.put(attemptId, c.endReason());
            if (c.invocations().stream().anyMatch(inv -> "HANGUP".equals(inv.eventType()) && "ok".equals(inv.result()))) {
                hangupAcknowledged.add(attemptId);
            }
        }
        // Where the UNKNOWN calls sit: how many creations before the nearest following kill, and why they ended.
        Map<String, Integer> unknownBySpan = new java.util.TreeMap<>();
        Map<String, Integer> unknownByEnd = new java.util.TreeMap<>();
        List<String> mismatches = new ArrayList<>();
        // Webhook mode (issue 16 section 3): a call whose HANGUP a dialer acknowledged has its outcome durable, even
        // when the dialer had closed it UNKNOWN before (lifetime guard, reconciliation grace, resume): the HANGUP's
        // outcome replaces that UNKNOWN. An UNKNOWN created at the emulator is a call whose HANGUP reached no dialer.
        List<String> unknownHangupAcknowledged = new ArrayList<>();
        int unknownCreated = 0;
        int neverCreated = 0;
        int endedWhileDown = 0;
        for (Ledger.AttemptRecord a : byAttempt.values()) {
            if (a.withdrawn()) {
                // never sent, or refused for a reason not the contact's: no result, and no call at the emulator
                assertThat(emulatorOutcome).as("withdrawn attempt %s", a.attemptId()).doesNotContainKey(a.attemptId());
                continue;
            }
            Disposition d = a.result().disposition();
            String truth = emulatorOutcome.get(a.attemptId());
            if (d == Disposition.UNKNOWN) {
                if (truth != null) {
                    unknownCreated++;
                    if (hangupAcknowledged.contains(a.attemptId())) {
                        unknownHangupAcknowledged.add(a.attemptId() + " (" + endReason.get(a.attemptId()) + ")");
                    }
                    long index = creationIndex.get(a.attemptId());
                    long before = Long.MAX_VALUE;
                    for (long k : createdAtKill) {
                        if (k > index) {
                            before = Math.min(before, k - index);
                        }
                    }
                    String span = before <= 100 ? "<=100" : before <= 500 ? "<=500" : before <= 2_000 ? "<=2000"
                            : before == Long.MAX_VALUE ? "after last kill" : ">2000";
                    unknownBySpan.merge(span, 1, Integer::sum);
                    unknownByEnd.merge(String.valueOf(endReason.get(a.attemptId())), 1, Integer::sum);
                }
            } else if (truth == null && d == Disposition.FAILED) {
                neverCreated++; // Create throttled or not sent after every retry: no call, FAILED
            } else if (truth != null && "webhookUnavailable".equals(endReason.get(a.attemptId()))) {
                // The emulator hung up because the dialer was down (e.g. its CALL_ANSWERED was lost): the dialer
                // only saw the HANGUP, so its outcome cannot match the callee's.
                endedWhileDown++;
            } else if (truth == null || !EMULATOR_OUTCOME.get(truth).equals(d)) {
                mismatches.add(a.attemptId() + ": ledger " + d + ", emulator " + truth + " (" + endReason.get(
                        a.attemptId()) + ")");
            }
        }
        assertThat(mismatches).as("ledger outcomes that differ from the emulator's").isEmpty();
        System.out.printf(Locale.ROOT, "CrashResumeIT[%s]: %d UNKNOWN attempts whose HANGUP a dialer acknowledged %s%n",
                backend, unknownHangupAcknowledged.size(), unknownHangupAcknowledged);
        assertThat(unknownHangupAcknowledged).as("UNKNOWN attempts whose HANGUP a dialer acknowledged").isEmpty();
        int unknown = outcomes.getOrDefault(Disposition.UNKNOWN, 0);
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf(Locale.ROOT, "CrashResumeIT[%s]: %d contacts, kills at %s, %d calls created, UNKNOWN %d "
                        + "(%d created at the emulator, %d intents never created; bound %d), FAILED without a call %d, "
                        + "outcomes %s, %.1f s%n", backend, CONTACTS, kills, calls.size(), unknown, unknownCreated,
                unknown - unknownCreated, inFlightBound, neverCreated, outcomes, seconds);
        System.out.printf(Locale.ROOT, "CrashResumeIT[%s]: UNKNOWN calls by creations before the next kill %s, "
                + "by end reason %s; %d calls hung up by the emulator while the dialer was down ended with the "
                + "HANGUP's outcome%n", backend, unknownBySpan, unknownByEnd, endedWhileDown);
        // Issue 16 section 5, reported, never asserted (a timed figure): how fast the webhook answered, as Chime sees it.
        WebhookLatency latency = stats.webhookLatency();
        System.out.printf(Locale.ROOT, "CrashResumeIT[%s]: webhook answers seen by the emulator: %d answered, p50 %.1f ms, "
                        + "p99 %.1f ms, p99.9 %.1f ms, max %.1f ms; %d answered after 1 s, %d after 5 s or never "
                        + "(%d timed out); %d deliveries failed (the dialer was down)%n", backend, latency.answered(),
                latency.p50Ms(), latency.p99Ms(), latency.p999Ms(), latency.maxMs(), latency.over1s(), latency.over5s(),
                latency.timedOut(), latency.failed());
        WebhookLatency hangups = stats.webhookLatencyHangup();
        System.out.printf(Locale.ROOT, "CrashResumeIT[%s]: of which HANGUP (answered once durable): %d answered, p99.9 "
                        + "%.1f ms, max %.1f ms; %d after 1 s, %d after 5 s or never%n", backend, hangups.answered(),
                hangups.p999Ms(), hangups.maxMs(), hangups.over1s(), hangups.over5s());
        assertThat(inFlightBound).as("the in-flight bound is below the list's size (or it bounds nothing)")
                .isLessThan(CONTACTS);
        assertThat(unknown).as("UNKNOWN attempts <= calls in flight at the kills").isLessThanOrEqualTo(
                (int) inFlightBound);
    }

    private Process startDialer(Path config, String secret, int run) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(ChildProcesses.java(), "-Xmx768m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", ChildProcesses.classpath(),
                "io.chimedialer.app.DialerMain", "run", "--config", config.toString(), "--campaign", CAMPAIGN);
        pb.environment().put("DIALER_WEBHOOK_SECRET", secret);
        pb.environment().put("AWS_ACCESS_KEY_ID", "CRASHTESTKEY");
        pb.environment().put("AWS_SECRET_ACCESS_KEY", "crash-test-secret");
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

    private Set<String> writeContacts(Path csv) throws IOException {
        PhoneNumbers parser = PhoneNumbers.forRegion("US");
        String[] areaCodes = {"202", "206", "212", "213", "305", "312", "415", "503", "617", "703", "713", "808"};
        Set<String> numbers = new HashSet<>();
        try (BufferedWriter out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
            out.write("id,phone,name\n");
            int i = 0;
            for (int n = 0; numbers.size() < CONTACTS; n++) {
                String area = areaCodes[n % areaCodes.length];
                int rest = n / areaCodes.length;
                String number = "+1" + area + (234 + rest / 10_000) + String.format(Locale.ROOT, "%04d", rest % 10_000);
                assertThat(parser.normalize(number).isValid()).as("generated number %s is valid", number).isTrue();
                numbers.add(number);
                out.write("k" + (++i) + "," + number + ",Contact " + i + "\n");
            }
        }
        return numbers;
    }

    private static Path writeConfig(Path file, String ledgerUrl, int port, URI endpoint) throws IOException {
        StringBuilder yaml = new StringBuilder();
        yaml.append("server:\n  host: 127.0.0.1\n  port: ").append(port)
                .append("\n  webhook-secret: ${DIALER_WEBHOOK_SECRET}\n");
        yaml.append("ledger:\n  url: \"").append(ledgerUrl).append("\"\n");
        // -Dcrash.lagThreshold=0 turns off the admission hold that follows the webhook's lag (issue 16 §5), to
        // compare the webhook's figures printed below with and without it.
        String lagThreshold = System.getProperty("crash.lagThreshold");
        if (lagThreshold != null) {
            yaml.append("pacing:\n  webhook-lag-threshold: ").append(lagThreshold).append('\n');
        }
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
        yaml.append("campaigns:\n  ").append(CAMPAIGN).append(":\n    contacts: contacts.csv\n")
                .append("    regions: { us-east-1: 1, us-west-2: 1 }\n")
                .append("    max-call-lifetime: 10s\n");
        Files.writeString(file, yaml.toString(), StandardCharsets.UTF_8);
        return file;
    }

}
