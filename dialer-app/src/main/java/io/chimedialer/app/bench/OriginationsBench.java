package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.core.ledger.LedgerStats;
import io.chimedialer.core.pacing.PacingSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Measurement 1: Creates per second through the whole pipeline (CampaignRun: CSV, validation, dedupe,
 * ledger intents on SQLite, pacing at a few times the raw ceiling, the resilience chain, metrics) against an
 * API-only emulator in another process, beside a bare loop of the same SDK client (retries off, a bounded number
 * of requests in flight) against the same emulator ({@link SdkCeiling}), in interleaved rounds.
 */
final class OriginationsBench {
    static final String REGION = "us-east-1";
    static final String SMA = "11111111-1111-4111-8111-111111111111";
    static final List<String> FROM = List.of("+17035550100", "+17035550101", "+17035550102");
    static final StaticCredentialsProvider CREDENTIALS =
            StaticCredentialsProvider.create(AwsBasicCredentials.create("BENCHACCESSKEY", "bench-secret-key"));

    private OriginationsBench() {
    }

    /** How far above the round's raw ceiling the pipeline's rate is configured (so that pacing never binds). */
    static final double RATE_FACTOR = 3;
    /** Warm-up rounds are numbered from here (their ledgers and campaigns), apart from the counted rounds. */
    private static final int WARM_ROUND_BASE = 1000;
    /** The pipeline's rate is never configured below this, calls per second. */
    static final double MIN_RATE = 1_000;

    /** The result, and the raw SDK ceiling (median of the rounds, creates per second) for the end-to-end ratio. */
    record Result(ObjectNode json, double sdkCeiling) {
    }

    static Result run(BenchSettings s, Path work, ObjectMapper json, PrintStream log, SdkCeiling ceiling)
            throws Exception {
        URI url = ceiling.url();
        Path csv = work.resolve("originations.csv");
        Synthetic.write(csv, s.originationContacts(), false, null);
        // The pipeline's own JIT (the SDK's code is warm from the raw loop): uncounted rounds, each as long as a
        // counted one, at the rate the warmed-up ceiling calls for, until the pipeline is steady (its CPU time per
        // Create within 15% of the round before, and this JVM compiling for less than the raw loop's quiet share of
        // the round, as the ceiling's warm-up requires) or the settings' pipelineWarmRounds ran. A counted round on
        // half-compiled pipeline code was seen to spend a fifth of its CPU in the JIT's compiler threads.
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
        Duration warmWindow = s.warmup().compareTo(s.originations()) > 0 ? s.warmup() : s.originations();
        int warmRounds = 0;
        double lastCpu = -1;
        boolean steady = false;
        while (!steady && warmRounds < s.pipelineWarmRounds()) {
            warmRounds++;
            double[] warm = ceiling.measure(s.warmup());
            long jit0 = jitTimed ? jit.getTotalCompilationTime() : 0;
            long wall0 = System.nanoTime();
            Pipeline w = pipeline(s, url, work, csv, WARM_ROUND_BASE + warmRounds, warm[0], warmWindow, ceiling);
            double compileShare = jitTimed
                    ? (jit.getTotalCompilationTime() - jit0) / ((System.nanoTime() - wall0) / 1e6) : 0;
            steady = lastCpu > 0 && w.cpuMicros > 0 && Math.abs(w.cpuMicros - lastCpu) <= 0.15 * lastCpu
                    && compileShare < SdkCeiling.QUIET_COMPILE_SHARE;
            lastCpu = w.cpuMicros;
            log.printf("  originations: pipeline warm-up round %d: %,.0f Creates/s (rate %,.0f/s, cap %,d), CPU per "
                    + "Create %.0f us, compiling %.0f%% of the round%s%n", warmRounds, w.perSecond, w.rate, w.cap,
                    w.cpuMicros, 100 * compileShare, steady ? ", steady" : "");
        }
        Rounds rounds = new Rounds();
        long ceilingErrors = 0;
        for (int i = 1; i <= s.rounds(); i++) {
            double[] sdk = ceiling.measure(s.originations());
            Map<String, Double> ceilingThreads = ceiling.lastThreadMicros();
            ceilingErrors += (long) sdk[2];
            Pipeline p = pipeline(s, url, work, csv, i, sdk[0], s.originations(), ceiling);
            log.printf("  originations round %d: raw SDK %,.0f Creates/s (%d in flight), pipeline %,.0f Creates/s "
                            + "(rate %,.0f/s, cap %,d; ledger: %d commits, %.1f writes per commit, mean write %.1f ms; "
                            + "CPU per Create: this process %.0f us, emulator %.0f us)%n",
                    i, sdk[0], s.sdkInFlight(), p.perSecond, p.rate, p.cap, p.commits,
                    p.commits > 0 ? (double) p.writes / p.commits : 0, p.meanWriteMs, p.cpuMicros,
                    p.emulatorCpuMicros);
            ObjectNode d = Rounds.detail();
            d.put("ceilingCreated", (long) sdk[1]);
            d.put("ceilingErrors", (long) sdk[2]);
            d.put("created", p.created);
            d.put("seconds", p.seconds);
            d.put("configuredRate", p.rate);
            d.put("maxActiveCalls", p.cap);
            d.put("ledgerCommits", p.commits);
            d.put("ledgerWrites", p.writes);
            d.put("ledgerWritesPerCommit", p.commits > 0 ? (double) p.writes / p.commits : 0);
            d.put("ledgerMeanWriteMs", p.meanWriteMs);
            d.put("ledgerMaxCommitMs", p.maxCommitMs);
            d.put("pipelineCpuMicrosPerCreate", p.cpuMicros);
            d.put("emulatorCpuMicrosPerPipelineCreate", p.emulatorCpuMicros);
            ObjectNode byThread = d.putObject("pipelineCpuMicrosPerCreateByThread");
            p.threadMicros.forEach(byThread::put);
            ObjectNode rawByThread = d.putObject("clientCpuMicrosPerCreateByThread");
            ceilingThreads.forEach(rawByThread::put);
            d.put("pipelineContextSwitchesPerCreate", p.switchesPerCreate);
            d.put("clientContextSwitchesPerCreate", ceiling.lastSwitchesPerCreate());
            d.put("pipelineCpuSystemShare", p.systemShare);
            d.put("clientCpuSystemShare", ceiling.lastSystemShare());
            log.printf("    CPU per Create by thread, us: raw loop: %s (context switches per Create %.2f, kernel %.0f%%)%n"
                            + "    pipeline: %s (context switches per Create %.2f, kernel %.0f%%)%n",
                    ThreadCpu.describe(ceilingThreads), ceiling.lastSwitchesPerCreate(), 100 * ceiling.lastSystemShare(),
                    ThreadCpu.describe(p.threadMicros), p.switchesPerCreate, 100 * p.systemShare);
            rounds.add(sdk[0], p.perSecond, d);
        }
        JsonNode stats = fetch(url.resolve("/emulator/v1/stats"), json);
        log.printf("  originations: ratio %s; CPU per raw Create: emulator %.0f us, SDK client %.0f us%n",
                rounds.describeRatio(), ceiling.emulatorCpuMicrosPerCreate(), ceiling.clientCpuMicrosPerCreate());

        ObjectNode o = json.createObjectNode();
        rounds.writeTo(o, "perSecond");
        List<Rounds.Round> all = rounds.rounds();
        Rounds.Round last = all.get(all.size() - 1);
        long created = 0;
        long commits = 0;
        long writes = 0;
        for (Rounds.Round r : all) {
            created += r.detail().path("created").asLong();
            commits += r.detail().path("ledgerCommits").asLong();
            writes += r.detail().path("ledgerWrites").asLong();
        }
        o.put("created", created);
        o.put("sdkInFlight", s.sdkInFlight());
        o.put("rateFactor", RATE_FACTOR);
        o.put("configuredRate", last.detail().path("configuredRate").asDouble());
        o.put("maxActiveCalls", last.detail().path("maxActiveCalls").asLong());
        o.put("ledgerCommits", commits);
        o.put("ledgerWrites", writes);
        o.put("ledgerWritesPerCommit", commits > 0 ? (double) writes / commits : 0);
        o.put("ledgerMeanWriteMs", Rounds.median(all.stream()
                .mapToDouble(r -> r.detail().path("ledgerMeanWriteMs").asDouble()).toArray()));
        o.put("ceilingIs", "bare ChimeSdkVoiceAsyncClient loop, same emulator, Creates/s (median of the rounds)");
        o.put("ceilingErrors", ceilingErrors);
        o.put("emulatorCpuMicrosPerCreate", ceiling.emulatorCpuMicrosPerCreate());
        o.put("clientCpuMicrosPerCreate", ceiling.clientCpuMicrosPerCreate());
        o.put("pipelineCpuMicrosPerCreate", Rounds.median(all.stream()
                .mapToDouble(r -> r.detail().path("pipelineCpuMicrosPerCreate").asDouble()).toArray()));
        o.put("emulatorCpuMicrosPerPipelineCreate", Rounds.median(all.stream()
                .mapToDouble(r -> r.detail().path("emulatorCpuMicrosPerPipelineCreate").asDouble()).toArray()));
        o.put("warmUpSeconds", ceiling.warmUpSeconds());
        o.put("warmUpCreates", ceiling.warmUpCreates());
        o.put("warmedUp", ceiling.warmedUp());
        o.put("pipelineWarmUpRounds", warmRounds);
        o.put("pipelineWarmedUp", steady);
        o.put("emulatorCreated", stats.path("created").asLong());
        o.put("emulatorThrottled", stats.path("throttled").asLong());
        return new Result(o, rounds.medianCeiling());
    }

    /** One pipeline round's figures. */
    private record Pipeline(double perSecond, long created, double seconds, double rate, int cap, long commits,
                            long writes, double meanWriteMs, double maxCommitMs, double cpuMicros,
                            double emulatorCpuMicros, Map<String, Double> threadMicros, double switchesPerCreate,
                            double systemShare) {
    }

    /**
     * One pipeline round as a user would run it: a fresh runtime and ledger, one campaign, the Region's rate
     * {@link #RATE_FACTOR} times the raw ceiling just measured (so pacing does not bind, yet the rate limiter
     * is sized as for a real rate), and a cap of active calls sized to what the round creates (API-only calls
     * never end, so every Create keeps its permit): never reached. Creates are counted over {@code window}
     * after a warm-up that starts at the first Create.
     */
    private static Pipeline pipeline(BenchSettings s, URI url, Path work, Path csv, int round, double rawCeiling,
                                     Duration window, SdkCeiling ceiling) throws Exception {
        double rate = Math.max(MIN_RATE, Math.ceil(RATE_FACTOR * rawCeiling));
        double seconds = s.warmup().plus(window).toNanos() / 1e9 + 5;
        int cap = (int) Math.min(50_000_000L, Math.max(10_000L, (long) Math.ceil(rate * seconds)));
        RegionConfig region = new RegionConfig(REGION, SMA, rate, 1_000, cap, 1_000_000, FROM, url);
        // The admission hold that follows the webhook's lag is off: API-only calls send no invocation, so it has
        // nothing to follow, and its slow start (a live-call limit from 10, doubling each second while it nearly
        // binds) would bound a measurement whose calls never end (each Create keeps its permit).
        PacingSettings pacing = PacingSettings.ofDefaults().withWebhookLagThreshold(Duration.ZERO);
        DialerRuntime.Options options = new DialerRuntime.Options(List.of(region), CREDENTIALS,
                "jdbc:sqlite:" + work.resolve("originations-" + round + ".db"), "bench-webhook-secret", "127.0.0.1", 0,
                null, false, pacing, null);
        try (DialerRuntime runtime = DialerRuntime.start(options)) {
            CampaignConfig campaign = new CampaignConfig("bench-originations-" + round, csv.toString(),
                    Map.of(REGION, 1), "US", null, null, FlowConfig.DEFAULT, List.of(), Duration.ofHours(1), false);
            CampaignManager.Started started = runtime.campaigns().launch(campaign, csv, false);
            MeterRegistry registry = runtime.meterRegistry();
            // The warm-up starts at the first Create, so start-up time (counting the list, the ledger) is not counted.
            for (long deadline = System.nanoTime() + 60_000_000_000L;
                 originated(registry) == 0 && System.nanoTime() < deadline; ) {
                Thread.sleep(5);
            }
            Thread.sleep(s.warmup().toMillis());
            double c0 = originated(registry);
            LedgerStats l0 = runtime.ledger().stats();
            long cpu0 = SdkCeiling.clientCpuNanos();
            Map<String, long[]> threads0 = ThreadCpu.snapshot();
            long emulator0 = ceiling.emulatorCpuNanos();
            long t0 = System.nanoTime();
            Thread.sleep(window.toMillis());
            double c1 = originated(registry);
            long cpu1 = SdkCeiling.clientCpuNanos();
            Map<String, long[]> threads1 = ThreadCpu.snapshot();
            long emulator1 = ceiling.emulatorCpuNanos();
            LedgerStats l1 = runtime.ledger().stats();
            double measured = (System.nanoTime() - t0) / 1e9;
            started.run().pause();
            // Let the Creates already sent come back before the runtime (and its SDK client) closes.
            Thread.sleep(500);
            long batches = l1.batches() - l0.batches();
            long ops = l1.opsCommitted() - l0.opsCommitted();
            double writeNanos = l1.totalWriteLatency().toNanos() - l0.totalWriteLatency().toNanos();
            double creates = c1 - c0;
            // CPU time per counted Create of this process (the whole pipeline) and of the emulator, in the window.
            double cpuMicros = creates > 0 && cpu0 >= 0 && cpu1 >= 0 ? (cpu1 - cpu0) / 1e3 / creates : -1;
            double emulatorMicros = creates > 0 && emulator0 >= 0 && emulator1 >= 0
                    ? (emulator1 - emulator0) / 1e3 / creates : -1;
            return new Pipeline(creates / measured, (long) creates, measured, rate, cap, batches, ops,
                    ops > 0 ? writeNanos / ops / 1e6 : 0, l1.maxCommitLatency().toNanos() / 1e6, cpuMicros,
                    emulatorMicros, ThreadCpu.microsPer(threads0, threads1, creates),
                    ThreadCpu.switchesPer(threads0, threads1, creates), ThreadCpu.systemShare(threads0, threads1));
        }
    }

    private static double originated(MeterRegistry registry) {
        return registry.find("dialer.calls.originated").counters().stream().mapToDouble(Counter::count).sum();
    }

    static JsonNode fetch(URI uri, ObjectMapper json) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET()
                .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return json.readTree(response.body());
    }
}
