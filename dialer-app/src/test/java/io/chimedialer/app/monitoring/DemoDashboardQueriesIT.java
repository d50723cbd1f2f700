package io.chimedialer.app.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.app.cli.DemoCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * A real Prometheus scrapes a real {@code dialer demo --hold} run in-process (the demo's own DialerRuntime on a
 * fixed port), then every PromQL expression of the dashboard and the alert rules is evaluated through its HTTP
 * API at the last scrape while the campaign was still running (its per-campaign gauges leave the scrape when it
 * ends).
 *
 * <p>The demo runs config/campaigns/demo.yaml with two test-only changes so that every panel has data: the
 * emulator answers 5% of Creates with 429 ({@code --fault-create-429}: throttles, retries, API errors) and the
 * flow's invocation budget is 6, so that calls whose callee answers the menu at once confirm or opt out (flow
 * results) while those that hear it a second time are hung up by the budget (budget hang-ups). The emulator runs at
 * time scale 0.02 instead of the demo's 0.002, so that callees stay on the line through the message and the menu
 * (at 0.002 a few milliseconds of webhook latency are seconds of a call, and callees hung up before the menu), its
 * message is one short sentence and the no-answers' follow-up comes after 10 minutes (12 s) instead of 2 hours.
 */
class DemoDashboardQueriesIT {
    private static final String WINDOW = "5m";

    private static Path dir;
    private static DemoCommand demo;
    private static CompletableFuture<Integer> exit;
    private static PrometheusRunner prometheus;
    private static double whileRunning;

    @BeforeAll
    static void runDemoAndScrape() throws Exception {
        dir = Files.createTempDirectory("demo-dashboard-it-");
        Path config = writeConfig(dir);
        int port = freePort();
        prometheus = PrometheusRunner.start(URI.create("http://127.0.0.1:" + port + "/metrics"),
                List.of(RepoFiles.ALERTS));
        demo = new DemoCommand();
        CommandLine cli = new CommandLine(demo);
        exit = CompletableFuture.supplyAsync(() -> cli.execute("--config", config.toString(), "--hold",
                "--port", Integer.toString(port), "--fault-create-429", "0.05", "--time-scale", "0.02",
                "--report", dir.resolve("report.json").toString(), "--results", dir.resolve("results.csv").toString()));
        int held = demo.awaitHolding(Duration.ofSeconds(120));
        assertThat(held).as("the demo holds its server").isEqualTo(port);
        // Two more scrapes: the campaign gauges' disappearance is seen, the counters' final values too.
        double scrapes = scrapes();
        prometheus.awaitScrapes((int) scrapes + 2, Duration.ofSeconds(30));
        // The last scrape that holds every campaign gauge: the gauges are removed one by one when the campaign ends,
        // and a scrape taken meanwhile holds some of them (seen: remaining without waiting and read). Each gauge's
        // last sample is at or after the last whole scrape, so the earliest of them is that scrape.
        whileRunning = Stream.of("dialer_campaign_contacts_remaining", "dialer_campaign_contacts_waiting",
                        "dialer_campaign_state", "dialer_campaign_contacts_read", "dialer_campaign_contacts_dialed",
                        "dialer_campaign_calls_live")
                .mapToDouble(DemoDashboardQueriesIT::lastSampleTime).min().orElseThrow();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (demo != null) {
                demo.release();
                if (exit != null) {
                    assertThat(exit.get(30, TimeUnit.SECONDS)).as("demo exit code").isZero();
                }
            }
        } finally {
            if (prometheus != null) {
                prometheus.close();
            }
        }
    }

    private static double scrapes() {
        JsonNode r = prometheus.query("sum_over_time(up{job=\"" + PrometheusRunner.JOB + "\"}[10m])")
                .path("data").path("result");
        return r.isEmpty() ? 0 : r.get(0).path("value").get(1).asDouble();
    }

    /** The time of the last raw sample of a series in the last ten minutes. */
    private static double lastSampleTime(String metric) {
        JsonNode result = prometheus.query(metric + "[10m]").path("data").path("result");
        assertThat(result).as(metric + " was scraped while the campaign ran").isNotEmpty();
        double last = 0;
        for (JsonNode series : result) {
            for (JsonNode value : series.path("values")) {
                last = Math.max(last, value.get(0).asDouble());
            }
        }
        return last;
    }

    private static Path writeConfig(Path dir) throws IOException {
        Path repo = RepoFiles.ROOT;
        Path campaigns = Files.createDirectories(dir.resolve("campaigns"));
        Files.copy(repo.resolve("config/dialer.yaml"), dir.resolve("dialer.yaml"));
        String demoYaml = Files.readString(repo.resolve("config/campaigns/demo.yaml"), StandardCharsets.UTF_8)
                .replace("../samples/", repo.resolve("config/samples").toString() + "/");
        // flow: is the file's last block; these two keys join it.
        // Budget 6 - reserve 1: the first menu answer (invocation 4: NEW_OUTBOUND_CALL, RINGING, CALL_ANSWERED, then
        // SpeakAndGetDigits' result) is heard, confirms and opt-outs included; a second round of the menu (2 pressed,
        // or no input) is cut short by the budget at invocation 5.
        demoYaml = demoYaml.stripTrailing() + "\n  invocation-budget: 6\n  invocation-reserve: 1\n";
        // At time scale 0.02 the no-answers' 2 h follow-up would take 144 s: 10 min (12 s) like the busies'.
        String noAnswer = "NO_ANSWER: { after: 2h, max-attempts: 2 }";
        assertThat(demoYaml).contains(noAnswer);
        demoYaml = demoYaml.replace(noAnswer, "NO_ANSWER: { after: 10m, max-attempts: 2 }");
        // A one-second message instead of the nine-second reminder: callees who heard the menu once stay for its
        // second round often enough that the budget cuts some calls short.
        String shortened = demoYaml.replaceFirst("(?m)^(    text: )\"Hello \\{name\\}, this is [^\n]*$",
                "$1\"Hello {name}.\"");
        assertThat(shortened).as("the demo's message line").isNotEqualTo(demoYaml);
        demoYaml = shortened;
        Files.writeString(campaigns.resolve("demo.yaml"), demoYaml, StandardCharsets.UTF_8);
        return dir.resolve("dialer.yaml");
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void dashboardExpressions_atTheDemosLastRunningScrape_eachReturnsAtLeastOneSeries() {
        List<String> exprs = RepoFiles.dashboardExpressions(RepoFiles.json(RepoFiles.DASHBOARD));
        assertThat(exprs).hasSizeGreaterThan(30);

        List<String> failures = new ArrayList<>();
        for (String expr : exprs) {
            String promql = PromQl.substituteGrafanaVariables(expr, WINDOW);
            JsonNode response = prometheus.query(promql, whileRunning);
            if (!"success".equals(response.path("status").asText())) {
                failures.add(promql + " -> " + response.path("errorType").asText() + ": "
                        + response.path("error").asText());
            } else if (response.path("data").path("result").isEmpty()) {
                failures.add(promql + " -> no series");
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void alertExpressions_atTheDemosLastRunningScrape_eachWithoutError() {
        List<String> exprs = RepoFiles.ruleExpressions(RepoFiles.yaml(RepoFiles.ALERTS));
        assertThat(exprs).hasSize(8);

        List<String> failures = new ArrayList<>();
        for (String expr : exprs) {
            JsonNode response = prometheus.query(expr, whileRunning);
            if (!"success".equals(response.path("status").asText())) {
                failures.add(expr + " -> " + response.path("error").asText());
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void answerRatio_promql_equalsTheDemosReport() throws Exception {
        JsonNode report = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("report.json")
                .toFile());
        long answered = report.path("outcomes").path("ANSWERED").asLong();
        long ended = 0;
        for (JsonNode n : report.path("outcomes")) {
            ended += n.asLong();
        }
        // Evaluated now: the counters hold the final values of the finished campaign.
        JsonNode result = prometheus.query("sum(dialer_calls_ended_total{disposition=\"ANSWERED\",campaign=\"demo\"})"
                + " / sum(dialer_calls_ended_total{campaign=\"demo\"})").path("data").path("result");

        assertThat(ended).isPositive();
        assertThat(result).hasSize(1);
        assertThat(result.get(0).path("value").get(1).asDouble())
                .isCloseTo((double) answered / ended, org.assertj.core.api.Assertions.within(1e-9));
    }
}
