package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
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
 * up first. Counted over the same
 * window as the originations, after the same warm-up.
 */
final class EndToEndBench {
    private static final String SECRET = "bench-e2e-secret";
    /** Effectively 0: ringing and every action take microseconds of real time. */
    static final double TIME_SCALE = 1e-6;
    private static final long TALK_MS = 10_000_000_000L;

    private EndToEndBench() {
    }

    static ObjectNode run(BenchSettings s, Path work, ObjectMapper json, PrintStream log, double sdkCeiling)
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
        try (ChimeEmulator emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(List.of(emulated))
                .scenario(scenario).timeScale(TIME_SCALE).seed(9).start()) {
            RegionConfig region = new RegionConfig(OriginationsBench.REGION, OriginationsBench.SMA, 1_000_000, 1_000,
                    maxActive, 1_000_000, OriginationsBench.FROM, emulator.url());
            try (DialerRuntime runtime = DialerRuntime.start(new DialerRuntime.Options(List.of(region),
                    OriginationsBench.CREDENTIALS, "jdbc:sqlite:" + work.resolve("e2e.db"), SECRET, "127.0.0.1", 0,
                    null, false, null, null))) {
                emulator.webhook(URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations"), SECRET);
                CampaignConfig campaign = new CampaignConfig("bench-e2e", csv.toString(),
                        Map.of(OriginationsBench.REGION, 1), "US", null, null, flow, List.of(), Duration.ofMinutes(10),
                        false);
                CampaignManager.Started started = runtime.campaigns().launch(campaign, csv, false);
                // Counted in a window after a warm-up (like the originations), or until the list is done.
                MeterRegistry registry = runtime.meterRegistry();
                CompletableFuture<RunReport> finished = started.report().toFuture();
                // The warm-up starts at the first ended call, so start-up time is not counted.
                RunReport report = null;
                for (long deadline = System.nanoTime() + 60_000_000_000L;
                     report == null && ended(registry) == 0 && System.nanoTime() < deadline; ) {
                    report = await(finished, Duration.ofMillis(20));
                }
                long firstEnded = System.nanoTime();
                if (report == null) {
                    report = await(finished, s.warmup());
                }
                double c0 = ended(registry);
                long start = System.nanoTime();
                if (report == null) {
                    report = await(finished, s.originations());
                } else {
                    // The list was done within the warm-up (a short list on a fast machine): the window is the
                    // whole run from the first ended call, so that the figure is still a measurement.
                    c0 = 0;
                    start = firstEnded;
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                long completed = (long) (ended(registry) - c0);
                started.run().pause();
                JsonNode stats = OriginationsBench.fetch(emulator.url().resolve("/emulator/v1/stats"), json);
                long answered = (long) answered(registry);
                double perSecond = completed / seconds;
                log.printf("  endToEnd: %,d calls ended (%,d answered in all) in %.1f s: %,.0f/s%n", completed, answered, seconds,
                        perSecond);
                ObjectNode o = json.createObjectNode();
                o.put("completedPerSecond", perSecond);
                o.put("calls", completed);
                o.put("answered", answered);
                o.put("seconds", seconds);
                o.put("campaignFinished", report != null);
                o.put("maxActiveCalls", maxActive);
                o.put("timeScale", TIME_SCALE);
                o.put("invocations", stats.path("invocations").asLong());
                long emulatedEnded = stats.path("ended").asLong();
                o.put("invocationsPerCall", emulatedEnded > 0 ? stats.path("invocations").asDouble() / emulatedEnded : 0);
                o.put("invalidResponses", stats.path("invalidResponses").asLong());
                o.put("webhookFailures", stats.path("webhookFailures").asLong());
                o.put("applicationHangups", countEndReason(emulator, "applicationHangup"));
                o.put("ceiling", sdkCeiling);
                o.put("ceilingIs", "the raw SDK Create rate of the originations measurement (one Create per call)");
                o.put("ratio", sdkCeiling > 0 ? perSecond / sdkCeiling : 0);
                return o;
            }
        }
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

    private static long countEndReason(ChimeEmulator emulator, String reason) {
        return emulator.calls().stream().filter(c -> reason.equals(String.valueOf(c.endReason()))).count();
    }
}
