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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Measurement 5: whole calls (Create, NEW_OUTBOUND_CALL, RINGING, CALL_ANSWERED, Speak, SpeakAndGetDigits,
 * the callee's digit, the goodbye, the application's Hangup, HANGUP, the ledger's final record) per second,
 * with an in-process emulator at time scale 1e-6 (effectively 0) whose callees all answer, press 1 and never hang
 * up first. Counted over the same window as the originations, after the same warm-up, in rounds interleaved with
 * the raw SDK ceiling ({@link SdkCeiling}). The emulator, as Chime would, also times every webhook answer.
 */
final class EndToEndBench {
    private static final String SECRET = "bench-e2e-secret";
    /** Effectively 0: ringing and every action take microseconds of real time. */
    static final double TIME_SCALE = 1e-6;
    private static final long TALK_MS = 10_000_000_000L;

    private EndToEndBench() {
    }

    static ObjectNode run(BenchSettings s, Path work, ObjectMapper json, PrintStream log, SdkCeiling ceiling)
            throws Exception {
        Path csv = work.resolve("e2e.csv");
        Synthetic.write(csv, s.endToEndCalls(), false, null);
        int maxActive = 2_000;
        EmulatorRegion emulated = new EmulatorRegion(OriginationsBench.REGION, OriginationsBench.SMA,
                OriginationsBench.FROM, 1_000_000, 1_000_000, 1_000_000);
        Scenario scenario = Scenario.builder()
                .mix(new Scenario.Mix(1, 0, 0, 0, 0, 0))
                .ringMs(1_000, 2_000)
                // At a time scale of exactly 0 the callee would hang up the instant it answers, before any action
                // ran; at 1e-6 every action takes microseconds and the callee stays on for TALK_MS x 1e-6 = 10 s.
                .talkMs(TALK_MS, TALK_MS)
                .dtmf(1.0, List.of("1"))
                .hangupDuringPlaybackProbability(0)
                .build();
        FlowConfig flow = FlowConfig.menu(FlowConfig.Prompt.text("Hello {name}, this is a reminder of your appointment."),
                FlowConfig.Menu.of(FlowConfig.Prompt.text("Press 1 to confirm."),
                        Map.of("1", FlowConfig.MenuOption.of(FlowConfig.MenuOption.Action.CONFIRM))));
        // The ceiling's JIT first; the rate is then a few times the warmed-up raw ceiling, so it does not bind.
        double warmCeiling = ceiling.measure(s.warmup())[0];
        double rate = Math.max(OriginationsBench.MIN_RATE, Math.ceil(OriginationsBench.RATE_FACTOR * warmCeiling));
        try (ChimeEmulator emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(List.of(emulated))
                .scenario(scenario).timeScale(TIME_SCALE).seed(9).start()) {
            RegionConfig region = new RegionConfig(OriginationsBench.REGION, OriginationsBench.SMA, rate, 1_000,
                    maxActive, 1_000_000, OriginationsBench.FROM, emulator.url());
            try (DialerRuntime runtime = DialerRuntime.start(new DialerRuntime.Options(List.of(region),
                    OriginationsBench.CREDENTIALS, "jdbc:sqlite:" + work.resolve("e2e.db"), SECRET, "127.0.0.1", 0,
                    null, false, null, null))) {
                emulator.webhook(URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations"), SECRET);
                // The pipeline's and the flow's JIT: one round that is not counted.
                Window warm = window(s, runtime, emulator, csv, flow, 0, s.warmup());
                log.printf("  endToEnd: warm-up %,.0f calls/s (rate %,.0f/s, %,d active calls at most)%n",
                        warm.perSecond, rate, maxActive);
                EmulatorStats before = emulator.stats();
                Rounds rounds = new Rounds();
                List<Double> cpuPerCall = new java.util.ArrayList<>();
                List<Double> cpuPerCreate = new java.util.ArrayList<>();
                List<Double> cpuRatios = new java.util.ArrayList<>();
                long calls = 0;
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
                    Window w = window(s, runtime, emulator, csv, flow, i, s.originations());
                    log.printf("  endToEnd round %d: raw SDK %,.0f Creates/s, %,d calls ended in %.1f s: %,.0f/s"
                                    + " (CPU %,.0f us per call, %,.0f us per raw Create)%n", i, sdk[0], w.completed,
                            w.seconds, w.perSecond, w.cpuPerCall, createCpu);
                    ObjectNode d = Rounds.detail();
                    d.put("calls", w.completed);
                    d.put("cpuMicrosPerCall", w.cpuPerCall);
                    d.put("cpuMicrosPerRawCreate", createCpu);
                    if (w.cpuPerCall > 0 && createCpu > 0) {
                        cpuPerCall.add(w.cpuPerCall);
                        cpuPerCreate.add(createCpu);
                        cpuRatios.add(createCpu / w.cpuPerCall);
                    }
                    d.put("seconds", w.seconds);
                    d.put("campaignFinished", w.finished);
                    rounds.add(sdk[0], w.perSecond, d);
                    calls += w.completed;
                    allFinished &= w.finished;
                }
                answered = (long) answered(runtime.meterRegistry());
                EmulatorStats stats = emulator.stats();
                log.printf("  endToEnd: ratio %s%n", rounds.describeRatio());
                ObjectNode o = json.createObjectNode();
                rounds.writeTo(o, "completedPerSecond");
                o.put("calls", calls);
                o.put("answered", answered);
                o.put("campaignFinished", allFinished);
                o.put("configuredRate", rate);
                o.put("maxActiveCalls", maxActive);
                o.put("timeScale", TIME_SCALE);
                // CPU, unlike calls/s, does not depend on the share of the machine this process got: on a loaded
                // machine it tells whether a change made a call cheaper. cpuRatio = CPU per raw Create (the
                // ceiling's SDK client and emulator, in the same round) / CPU per ended call, median of the rounds.
                double callCpu = median(cpuPerCall);
                double createCpu = median(cpuPerCreate);
                double cpuRatio = median(cpuRatios);
                o.put("cpuMicrosPerCall", callCpu);
                o.put("cpuMicrosPerRawCreate", createCpu);
                o.put("cpuRatio", cpuRatio);
                log.printf("  endToEnd: CPU per ended call %,.0f us, per raw Create %,.0f us: CPU ratio %.2f (medians"
                        + " of the rounds)%n", callCpu, createCpu, cpuRatio);
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
                o.put("ceilingIs", "the raw SDK Create rate against the API-only emulator (one Create per call), "
                        + "measured right before each round");
                return o;
            }
        }
    }

    /** One counted window of calls. */
    /** ... and this process's CPU time per ended call over the window (dialer and emulator), in us; -1 unknown. */
    private record Window(double perSecond, long completed, double seconds, boolean finished, double cpuPerCall) {
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
                                 FlowConfig flow, int round, Duration window) throws Exception {
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
        long cpu0 = processCpuNanos();
        if (report == null) {
            report = await(finished, window);
        } else {
            // The list was done within the warm-up (a short list on a fast machine): the window is the
            // whole run from the first ended call, so that the figure is still a measurement.
            c0 = before;
            start = firstEnded;
            cpu0 = -1;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long cpu1 = processCpuNanos();
        long completed = (long) (ended(registry) - c0);
        started.run().pause();
        emulator.awaitIdle(Duration.ofSeconds(30));
        double cpuPerCall = cpu0 >= 0 && cpu1 >= 0 && completed > 0 ? (cpu1 - cpu0) / 1e3 / completed : -1;
        return new Window(completed / seconds, completed, seconds, report != null, cpuPerCall);
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
