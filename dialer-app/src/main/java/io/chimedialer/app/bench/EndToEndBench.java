package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.campaign.Disposition;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.config.CampaignConfig;
import io.chimedialer.core.config.RegionConfig;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.Scenario;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Measurement 5: whole calls (Create, NEW_OUTBOUND_CALL, RINGING, CALL_ANSWERED, Speak, SpeakAndGetDigits,
 * the callee's digit, the goodbye, the application's Hangup, HANGUP, the ledger's final record) per second,
 * with an in-process emulator at time scale 0 whose callees all answer and press 1.
 */
final class EndToEndBench {
    private static final String SECRET = "bench-e2e-secret";

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
                .talkMs(600_000, 600_000)
                .dtmf(1.0, List.of("1"))
                .hangupDuringPlaybackProbability(0)
                .build();
        FlowConfig flow = FlowConfig.menu(FlowConfig.Prompt.text("Hello {name}, this is a reminder of your appointment."),
                FlowConfig.Menu.of(FlowConfig.Prompt.text("Press 1 to confirm."),
                        Map.of("1", FlowConfig.MenuOption.of(FlowConfig.MenuOption.Action.CONFIRM))));
        try (ChimeEmulator emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(List.of(emulated))
                .scenario(scenario).timeScale(0).seed(9).start()) {
            RegionConfig region = new RegionConfig(OriginationsBench.REGION, OriginationsBench.SMA, 1_000_000, 1_000,
                    maxActive, 1_000_000, OriginationsBench.FROM, emulator.url());
            try (DialerRuntime runtime = DialerRuntime.start(new DialerRuntime.Options(List.of(region),
                    OriginationsBench.CREDENTIALS, "jdbc:sqlite:" + work.resolve("e2e.db"), SECRET, "127.0.0.1", 0,
                    null, false, null, null))) {
                emulator.webhook(URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations"), SECRET);
                CampaignConfig campaign = new CampaignConfig("bench-e2e", csv.toString(),
                        Map.of(OriginationsBench.REGION, 1), "US", null, null, flow, List.of(), Duration.ofMinutes(10),
                        false);
                long start = System.nanoTime();
                CampaignManager.Started started = runtime.campaigns().launch(campaign, csv, false);
                RunReport report = started.report().block(Duration.ofMinutes(30));
                double seconds = (System.nanoTime() - start) / 1e9;
                if (report == null) {
                    throw new IllegalStateException("end-to-end campaign produced no report");
                }
                emulator.awaitIdle(Duration.ofSeconds(30));
                JsonNode stats = OriginationsBench.fetch(emulator.url().resolve("/emulator/v1/stats"), json);
                long completed = report.outcomes().values().stream().mapToLong(Long::longValue).sum();
                long answered = report.outcomes().getOrDefault(Disposition.ANSWERED, 0L);
                double perSecond = completed / seconds;
                log.printf("  endToEnd: %,d calls (%,d answered) in %.1f s: %,.0f/s%n", completed, answered, seconds,
                        perSecond);
                ObjectNode o = json.createObjectNode();
                o.put("completedPerSecond", perSecond);
                o.put("calls", completed);
                o.put("answered", answered);
                o.put("seconds", seconds);
                o.put("state", report.state());
                o.put("maxActiveCalls", maxActive);
                o.put("invocations", stats.path("invocations").asLong());
                o.put("invocationsPerCall", completed > 0 ? stats.path("invocations").asDouble() / completed : 0);
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

    private static long countEndReason(ChimeEmulator emulator, String reason) {
        return emulator.calls().stream().filter(c -> reason.equals(String.valueOf(c.endReason()))).count();
    }
}
