package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.EmulatorStats;
import io.chimedialer.emulator.Scenario;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Measurement 5: whole calls (Create, NEW_OUTBOUND_CALL, RINGING, CALL_ANSWERED, Speak, SpeakAndGetDigits,
 * the callee's digit, the goodbye, the application's Hangup, HANGUP, the ledger's final record) per second,
 * with an in-process emulator at time scale 1e-6 (effectively 0) whose callees all answer, press 1 and never hang
 * up first, at most 2,000 calls live. Its ceiling is a {@link BareDialer}: the same calls, completed against a
 * second in-process emulator of the same configuration by a raw SDK loop and a bare webhook (no ledger, no
 * pipeline). Rounds are interleaved (raw SDK Creates, bare dialer, dialer; again): each side counted over the same
 * window after the same warm-up, with this JVM's CPU time per completed call over its window. The raw SDK Create
 * rate ({@link SdkCeiling}) is still measured in each round and kept as {@code ratioToRawCreates}. The emulators,
 * as Chime would, also time every webhook answer.
 */
final class EndToEndBench {
    private static final String SECRET = "bench-e2e-secret";
    /** Effectively 0: ringing and every action take microseconds of real time. */
    static final double TIME_SCALE = 1e-6;
    private static final long TALK_MS = 10_000_000_000L;

    /** Uncounted pairs of windows (bare dialer, dialer) at most, before the counted rounds. */
    static final int MAX_WARM_UP_ROUNDS = 4;
    /** Both sides are warm when their CPU time per call moved by less than this share from the pair before. */
    static final double STEADY_CPU_CHANGE = 0.15;

    private EndToEndBench() {
    }

    static ObjectNode run(BenchSettings s, Path work, ObjectMapper json, PrintStream log, SdkCeiling ceiling)
            throws Exception {
        Path csv = work.resolve("e2e.csv");
        Synthetic.write(csv, s.endToEndCalls(), false, null);
        int maxActive = 2_000;
        EmulatorRegion emulated = emulatedRegion();
        Scenario scenario = scenario();
        FlowConfig flow = flow();
        // The ceiling's JIT first; the rate is then a few times the warmed-up raw ceiling, so it does not bind.
        double warmCeiling = ceiling.measure(s.warmup())[0];
        double rate = Math.max(OriginationsBench.MIN_RATE, Math.ceil(OriginationsBench.RATE_FACTOR * warmCeiling));
        // The dialer's emulator and the bare dialer's: two instances of the same configuration, so that each
        // side's emulator figures (invocations, validation, webhook latency) are its own.
        try (ChimeEmulator emulator = emulator(emulated, scenario);
             ChimeEmulator bareEmulator = emulator(emulated, scenario);
             BareDialer bare = new BareDialer(bareEmulator.url(), SECRET, flow, maxActive)) {
            bareEmulator.webhook(bare.webhookUrl(), SECRET);
            RegionConfig region = new RegionConfig(OriginationsBench.REGION, OriginationsBench.SMA, rate, 1_000,
                    maxActive, 1_000_000, OriginationsBench.FROM, emulator.url());
            try (DialerRuntime runtime = DialerRuntime.start(new DialerRuntime.Options(List.of(region),
                    OriginationsBench.CREDENTIALS, "jdbc:sqlite:" + work.resolve("e2e.db"), SECRET, "127.0.0.1", 0,
                    null, false, null, null))) {
                emulator.webhook(URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations"), SECRET);
                // Both sides' JIT: uncounted pairs of windows (bare, dialer), each as long as a counted one, until
                // each side's CPU time per call is within STEADY_CPU_CHANGE of the pair before (at most
                // MAX_WARM_UP_ROUNDS pairs): on a loaded machine one short window leaves both half-compiled.
                int warmUpRounds = 0;
                boolean warmedUp = false;
                double lastBare = -1;
                double lastDialer = -1;
                while (!warmedUp && warmUpRounds < MAX_WARM_UP_ROUNDS) {
                    warmUpRounds++;
                    Window bareWarm = bareWindow(s, bare, bareEmulator, s.originations(), rate);
                    Window warm = window(s, runtime, emulator, csv, flow, "warm-" + warmUpRounds, s.originations());
                    log.printf("  endToEnd warm-up %d: bare dialer %,.0f calls/s (CPU %,.0f us per call), dialer %,.0f "
                                    + "calls/s (CPU %,.0f us per call); rate %,.0f/s, %,d active calls at most%n",
                            warmUpRounds, bareWarm.perSecond, bareWarm.cpuPerCall, warm.perSecond, warm.cpuPerCall,
                            rate, maxActive);
                    warmedUp = near(bareWarm.cpuPerCall, lastBare) && near(warm.cpuPerCall, lastDialer);
                    lastBare = bareWarm.cpuPerCall;
                    lastDialer = warm.cpuPerCall;
                }
                EmulatorStats before = emulator.stats();
                EmulatorStats bareBefore = bareEmulator.stats();
                long bareEnded0 = bare.ended();
                Rounds rounds = new Rounds();
                Rounds toRaw = new Rounds();
                List<Double> cpuPerCall = new java.util.ArrayList<>();
                List<Double> bareCpuPerCall = new java.util.ArrayList<>();
                List<Double> cpuRatios = new java.util.ArrayList<>();
                List<Double> cpuPerCreate = new java.util.ArrayList<>();
                List<Double> cpuRatiosToRaw = new java.util.ArrayList<>();
                long calls = 0;
                long bareCalls = 0;
                long answered = 0;
                boolean allFinished = true;
                for (int i = 1; i <= s.rounds(); i++) {
                    long client0 = processCpuNanos();
                    double[] sdk = ceiling.measure(s.originations());
                    long client1 = processCpuNanos();
                    // The raw Create's CPU in this round: this process's (the SDK client's) over the ceiling's loop,
                    // plus the API-only emulator's (a child process: its average over the ceiling's loops so far).
                    double createCpu = client0 >= 0 && client1 >= 0 && sdk[1] > 0
                            && ceiling.emulatorCpuMicrosPerCreate() >= 0
                            ? (client1 - client0) / 1e3 / sdk[1] + ceiling.emulatorCpuMicrosPerCreate() : -1;
                    long bareErrors0 = bare.createErrors();
                    Window b = bareWindow(s, bare, bareEmulator, s.originations(), rate);
                    long bareErrors = bare.createErrors() - bareErrors0;
                    Window w = window(s, runtime, emulator, csv, flow, Integer.toString(i), s.originations());
                    log.printf("  endToEnd round %d: bare dialer %,d calls in %.1f s: %,.0f/s (CPU %,.0f us per call);"
                                    + " dialer %,d calls in %.1f s: %,.0f/s (CPU %,.0f us per call); raw SDK %,.0f "
                                    + "Creates/s (CPU %,.0f us per raw Create)%n", i, b.completed, b.seconds,
                            b.perSecond, b.cpuPerCall, w.completed, w.seconds, w.perSecond, w.cpuPerCall, sdk[0],
                            createCpu);
                    ObjectNode d = Rounds.detail();
                    d.put("calls", w.completed);
                    d.put("cpuMicrosPerCall", w.cpuPerCall);
                    d.put("seconds", w.seconds);
                    d.put("windowStart", Instant.ofEpochMilli(w.startEpochMs).toString());
                    d.put("windowEnd", Instant.ofEpochMilli(w.endEpochMs).toString());
                    d.put("campaignFinished", w.finished);
                    d.put("bareCalls", b.completed);
                    d.put("bareCpuMicrosPerCall", b.cpuPerCall);
                    d.put("bareSeconds", b.seconds);
                    // Creates of this round's bare run (its warm-up and drain included) that failed or timed out
                    d.put("bareCreateErrors", bareErrors);
                    d.put("bareWindowStart", Instant.ofEpochMilli(b.startEpochMs).toString());
                    d.put("bareWindowEnd", Instant.ofEpochMilli(b.endEpochMs).toString());
                    double cpuRatio = w.cpuPerCall > 0 && b.cpuPerCall > 0 ? b.cpuPerCall / w.cpuPerCall : -1;
                    d.put("cpuRatio", cpuRatio);
                    if (cpuRatio > 0) {
                        cpuPerCall.add(w.cpuPerCall);
                        bareCpuPerCall.add(b.cpuPerCall);
                        cpuRatios.add(cpuRatio);
                    }
                    d.put("rawCreatesPerSecond", sdk[0]);
                    d.put("ratioToRawCreates", sdk[0] > 0 ? w.perSecond / sdk[0] : 0);
                    d.put("cpuMicrosPerRawCreate", createCpu);
                    if (w.cpuPerCall > 0 && createCpu > 0) {
                        cpuPerCreate.add(createCpu);
                        cpuRatiosToRaw.add(createCpu / w.cpuPerCall);
                    }
                    rounds.add(b.perSecond, w.perSecond, d);
                    toRaw.add(sdk[0], w.perSecond, null);
                    calls += w.completed;
                    bareCalls += b.completed;
                    allFinished &= w.finished;
                }
                answered = (long) answered(runtime.meterRegistry());
                EmulatorStats stats = emulator.stats();
                EmulatorStats bareStats = bareEmulator.stats();
                log.printf("  endToEnd: ratio to the bare dialer %s; to raw SDK Creates %s%n", rounds.describeRatio(),
                        toRaw.describeRatio());
                ObjectNode o = json.createObjectNode();
                rounds.writeTo(o, "completedPerSecond");
                // The earlier figure, kept: completed calls/s over the raw SDK Create rate (one Create per call,
                // no call simulated), which a whole call cannot approach (see docs/benchmarks.md).
                o.put("ratioToRawCreates", toRaw.medianRatio());
                o.put("ratioToRawCreatesMin", toRaw.minRatio());
                o.put("ratioToRawCreatesMax", toRaw.maxRatio());
                o.put("rawCreatesPerSecond", toRaw.medianCeiling());
                o.put("calls", calls);
                o.put("answered", answered);
                o.put("campaignFinished", allFinished);
                o.put("configuredRate", rate);
                o.put("maxActiveCalls", maxActive);
                o.put("timeScale", TIME_SCALE);
                o.put("warmUpRounds", warmUpRounds);
                o.put("warmedUp", warmedUp);
                // CPU, unlike calls/s, does not depend on the share of the machine this process got: on a loaded
                // machine it tells whether a change made a call cheaper. cpuRatio = CPU per call of the bare
                // dialer / CPU per call of the dialer (this JVM over each side's window: that side and its
                // in-process emulator), median of the rounds' ratios.
                double callCpu = median(cpuPerCall);
                double bareCpu = median(bareCpuPerCall);
                double cpuRatio = median(cpuRatios);
                double createCpu = median(cpuPerCreate);
                double cpuRatioToRaw = median(cpuRatiosToRaw);
                o.put("cpuMicrosPerCall", callCpu);
                o.put("bareCpuMicrosPerCall", bareCpu);
                o.put("cpuRatio", cpuRatio);
                o.put("cpuMicrosPerRawCreate", createCpu);
                o.put("cpuRatioToRawCreates", cpuRatioToRaw);
                log.printf("  endToEnd: CPU per ended call: dialer %,.0f us, bare dialer %,.0f us: CPU ratio %.2f; per "
                        + "raw Create %,.0f us (CPU ratio to it %.2f; medians of the rounds)%n", callCpu, bareCpu,
                        cpuRatio, createCpu, cpuRatioToRaw);
                long invocations = stats.invocations() - before.invocations();
                long ended = stats.ended() - before.ended();
                o.put("invocations", invocations);
                o.put("invocationsPerCall", ended > 0 ? (double) invocations / ended : 0);
                o.put("invalidResponses", stats.invalidResponses());
                o.put("webhookFailures", stats.webhookFailures());
                o.put("applicationHangups", countEndReason(emulator, "applicationHangup"));
                o.set("webhookLatency", WebhookLatencies.json(json, stats.webhookLatency()));
                o.set("webhookLatencyHangup", WebhookLatencies.json(json, stats.webhookLatencyHangup()));
                log.printf("  endToEnd: webhook answers seen by the emulator: %s%n",
                        WebhookLatencies.describe(stats.webhookLatency()));
                log.printf("  endToEnd: of which HANGUP (answered once its outcome is durable): %s%n",
                        WebhookLatencies.describe(stats.webhookLatencyHangup()));
                // Where late answers come from: the HANGUPs (answered once their outcome is durable) or the others
                // (answered from memory); and how much of the emulator's latency the dialer saw itself (from the
                // request's receipt to its answer: the rest was spent before, in sockets and the emulator's pool).
                var all = stats.webhookLatency();
                var hangups = stats.webhookLatencyHangup();
                o.put("lateOver1sNotHangup", all.over1s() - hangups.over1s());
                o.put("lateOver5sNotHangup", all.over5s() - hangups.over5s());
                ObjectNode seen = dialerSeen(json, runtime.meterRegistry());
                o.set("webhookLatencyDialerSide", seen);
                o.put("admissionHeldSeconds", runtime.admissionHold().heldSeconds());
                o.put("admissionHolds", runtime.admissionHold().holds());
                o.put("webhookLagThresholdMs", runtime.admissionHold().threshold().toMillis());
                log.printf("  endToEnd: late answers: after 1 s %,d HANGUP, %,d others; after 5 s %,d HANGUP, %,d"
                                + " others; the dialer's own view (receipt to answer): %s%n", hangups.over1s(),
                        all.over1s() - hangups.over1s(), hangups.over5s(), all.over5s() - hangups.over5s(), seen);
                log.printf("  endToEnd: admission held %.1f s in %,d holds for the webhook's lag (threshold %d ms)%n",
                        runtime.admissionHold().heldSeconds(), runtime.admissionHold().holds(),
                        runtime.admissionHold().threshold().toMillis());
                ObjectNode bareJson = o.putObject("bare");
                long bareInvocations = bareStats.invocations() - bareBefore.invocations();
                long bareEnded = bareStats.ended() - bareBefore.ended();
                bareJson.put("completedPerSecond", rounds.medianCeiling());
                bareJson.put("calls", bareCalls);
                bareJson.put("callsEndedInRounds", bare.ended() - bareEnded0);
                bareJson.put("cpuMicrosPerCall", bareCpu);
                bareJson.put("invocationsPerCall", bareEnded > 0 ? (double) bareInvocations / bareEnded : 0);
                bareJson.put("invalidResponses", bareStats.invalidResponses());
                bareJson.put("webhookFailures", bareStats.webhookFailures());
                bareJson.put("applicationHangups", countEndReason(bareEmulator, "applicationHangup"));
                bareJson.put("emulatorCalls", bareEmulator.calls().size());
                bareJson.put("createErrors", bare.createErrors());
                bareJson.put("unauthorized", bare.unauthorized());
                bareJson.put("badRequests", bare.badRequests());
                bareJson.put("unknownHangups", bare.unknownHangups());
                if (bare.firstError() != null) {
                    bareJson.put("firstError", bare.firstError());
                }
                bareJson.set("webhookLatency", WebhookLatencies.json(json, bareStats.webhookLatency()));
                log.printf("  endToEnd: bare dialer: %.2f invocations per call, %d invalid answers, %d webhook "
                                + "failures, %d Create errors, %d unauthorized; its answers seen by its emulator: %s%n",
                        bareJson.path("invocationsPerCall").asDouble(), bareStats.invalidResponses(),
                        bareStats.webhookFailures(), bare.createErrors(), bare.unauthorized(),
                        WebhookLatencies.describe(bareStats.webhookLatency()));
                o.put("ceilingIs", "a bare dialer completing the same calls against an emulator of the same "
                        + "configuration: a raw loop of the same SDK client keeping up to maxActiveCalls calls live, "
                        + "and a bare reactor-netty webhook that verifies the HMAC, parses with Jackson and answers "
                        + "the dialer's flow's action lists; no ledger, no pipeline. Measured right before each "
                        + "dialer round (bare, dialer, bare, dialer, ...); ratioToRawCreates keeps the earlier "
                        + "ceiling, the raw SDK Create rate (one Create, no call simulated)");
                return o;
            }
        }
    }

    /** The emulated Region: its quotas out of the way (the dialer's own cap of live calls is what binds). */
    static EmulatorRegion emulatedRegion() {
        return new EmulatorRegion(OriginationsBench.REGION, OriginationsBench.SMA,
                OriginationsBench.FROM, 1_000_000, 1_000_000, 1_000_000);
    }

    /** Every callee answers, presses 1 and never hangs up first. */
    static Scenario scenario() {
        return Scenario.builder()
                .mix(new Scenario.Mix(1, 0, 0, 0, 0, 0))
                .ringMs(1_000, 2_000)
                // At a time scale of exactly 0 the callee would hang up the instant it answers, before any action
                // ran; at 1e-6 every action takes microseconds and the callee stays on for TALK_MS x 1e-6 = 10 s.
                .talkMs(TALK_MS, TALK_MS)
                .dtmf(1.0, List.of("1"))
                .hangupDuringPlaybackProbability(0)
                .build();
    }

    /** The campaign's flow: a message and a one-key menu whose 1 confirms. */
    static FlowConfig flow() {
        return FlowConfig.menu(FlowConfig.Prompt.text("Hello {name}, this is a reminder of your appointment."),
                FlowConfig.Menu.of(FlowConfig.Prompt.text("Press 1 to confirm."),
                        Map.of("1", FlowConfig.MenuOption.of(FlowConfig.MenuOption.Action.CONFIRM))));
    }

    /** An in-process emulator of the measurement's configuration. */
    static ChimeEmulator emulator(EmulatorRegion emulated, Scenario scenario) {
        return ChimeEmulator.builder().host("127.0.0.1").port(0).regions(List.of(emulated))
                .scenario(scenario).timeScale(TIME_SCALE).seed(9).start();
    }

    /**
     * One window of the bare dialer, counted like the dialer's: its loop starts, the warm-up starts at the first
     * ended call, then calls are counted over {@code window}; the loop then stops and its live calls end.
     */
    private static Window bareWindow(BenchSettings s, BareDialer bare, ChimeEmulator emulator, Duration window,
                                     double rate) throws Exception {
        AtomicBoolean keepGoing = new AtomicBoolean(true);
        long before = bare.ended();
        CompletableFuture<Void> loop = bare.start(keepGoing, 0, rate);
        try {
            for (long deadline = System.nanoTime() + 60_000_000_000L;
                 bare.ended() == before && System.nanoTime() < deadline; ) {
                Thread.sleep(20);
            }
            Thread.sleep(s.warmup().toMillis());
            long c0 = bare.ended();
            long start = System.nanoTime();
            long startMs = System.currentTimeMillis();
            long cpu0 = processCpuNanos();
            Thread.sleep(window.toMillis());
            long cpu1 = processCpuNanos();
            double seconds = (System.nanoTime() - start) / 1e9;
            long endMs = System.currentTimeMillis();
            long completed = bare.ended() - c0;
            double cpuPerCall = cpu0 >= 0 && cpu1 >= 0 && completed > 0 ? (cpu1 - cpu0) / 1e3 / completed : -1;
            return new Window(completed / seconds, completed, seconds, true, cpuPerCall, startMs, endMs);
        } finally {
            keepGoing.set(false);
            BareDialer.await(loop, Duration.ofSeconds(120));
            emulator.awaitIdle(Duration.ofSeconds(30));
        }
    }

    /** One counted window of calls. */
    /** ... and this process's CPU time per ended call over the window (dialer and emulator), in us; -1 unknown. */
    /** ... and the window's start and end (epoch ms: to cut a JFR recording by window). */
    private record Window(double perSecond, long completed, double seconds, boolean finished, double cpuPerCall,
                          long startEpochMs, long endEpochMs) {
    }

    /** This process's CPU time (every thread: the dialer, the in-process emulator, the JIT, GC), or -1. */
    private static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    }

    /**
     * One round: a new campaign on the same runtime and emulator, counted over {@code window} after a warm-up that
     * starts at its first ended call (or over its whole run, when the list is done before), then paused; returns
     * once its live calls ended.
     */
    private static Window window(BenchSettings s, DialerRuntime runtime, ChimeEmulator emulator, Path csv,
                                 FlowConfig flow, String round, Duration window) throws Exception {
        CampaignConfig campaign = new CampaignConfig("bench-e2e-" + round, csv.toString(),
                Map.of(OriginationsBench.REGION, 1), "US", null, null, flow, List.of(), Duration.ofMinutes(10), false);
        double before = ended(runtime.meterRegistry());
        CampaignManager.Started started = runtime.campaigns().launch(campaign, csv, false);
        MeterRegistry registry = runtime.meterRegistry();
        CompletableFuture<RunReport> finished = started.report().toFuture();
        RunReport report = null;
        for (long deadline = System.nanoTime() + 60_000_000_000L;
             report == null && ended(registry) == before && System.nanoTime() < deadline; ) {
            report = await(finished, Duration.ofMillis(20));
        }
        long firstEnded = System.nanoTime();
        if (report == null) {
            report = await(finished, s.warmup());
        }
        double c0 = ended(registry);
        long start = System.nanoTime();
        long startMs = System.currentTimeMillis();
        long cpu0 = processCpuNanos();
        if (report == null) {
            report = await(finished, window);
        } else {
            // The list was done within the warm-up (a short list on a fast machine): the window is the
            // whole run from the first ended call, so that the figure is still a measurement.
            c0 = before;
            start = firstEnded;
            startMs = System.currentTimeMillis() - (System.nanoTime() - firstEnded) / 1_000_000;
            cpu0 = -1;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long cpu1 = processCpuNanos();
        long endMs = System.currentTimeMillis();
        long completed = (long) (ended(registry) - c0);
        started.run().pause();
        emulator.awaitIdle(Duration.ofSeconds(30));
        double cpuPerCall = cpu0 >= 0 && cpu1 >= 0 && completed > 0 ? (cpu1 - cpu0) / 1e3 / completed : -1;
        return new Window(completed / seconds, completed, seconds, report != null, cpuPerCall, startMs, endMs);
    }

    private static boolean near(double value, double previous) {
        return value > 0 && previous > 0 && Math.abs(value - previous) <= STEADY_CPU_CHANGE * previous;
    }

    private static double median(List<Double> values) {
        if (values.isEmpty()) {
            return -1;
        }
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static RunReport await(CompletableFuture<RunReport> report, Duration d) throws Exception {
        try {
            return report.get(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        }
    }

    private static double ended(MeterRegistry registry) {
        return registry.find("dialer.calls.ended").counters().stream().mapToDouble(Counter::count).sum();
    }

    private static double answered(MeterRegistry registry) {
        return registry.find("dialer.calls.ended").tag("disposition", Disposition.ANSWERED.name()).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    /**
     * The dialer's own webhook histogram over the whole bench (from a request's receipt to its answer): answers and
     * those after 0.5, 1 and 5 s, all of them and the HANGUPs'.
     */
    private static ObjectNode dialerSeen(ObjectMapper json, MeterRegistry registry) {
        ObjectNode o = json.createObjectNode();
        double[] bounds = {0.5, 1.0, 5.0};
        String[] names = {"over500ms", "over1s", "over5s"};
        long[] count = new long[2];
        double[][] within = new double[2][bounds.length];
        for (io.micrometer.core.instrument.Timer t : registry.find("dialer.webhook.invocation.duration").timers()) {
            int k = "HANGUP".equals(t.getId().getTag("event_type")) ? 1 : 0;
            var snapshot = t.takeSnapshot();
            count[k] += snapshot.count();
            for (var bucket : snapshot.histogramCounts()) {
                for (int i = 0; i < bounds.length; i++) {
                    if (Math.abs(bucket.bucket(java.util.concurrent.TimeUnit.SECONDS) - bounds[i]) < 1e-9) {
                        within[k][i] += bucket.count();
                    }
                }
            }
        }
        o.put("answered", count[0] + count[1]);
        for (int i = 0; i < bounds.length; i++) {
            o.put(names[i], count[0] + count[1] - (long) (within[0][i] + within[1][i]));
        }
        o.put("hangupAnswered", count[1]);
        for (int i = 0; i < bounds.length; i++) {
            o.put("hangup" + Character.toUpperCase(names[i].charAt(0)) + names[i].substring(1),
                    count[1] - (long) within[1][i]);
        }
        return o;
    }

    private static long countEndReason(ChimeEmulator emulator, String reason) {
        return emulator.calls().stream().filter(c -> reason.equals(String.valueOf(c.endReason()))).count();
    }
}
