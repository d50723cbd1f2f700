package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.chimedialer.app.config.ConfigLoader;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.campaign.CampaignRun;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.Faults;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.testkit.Await;
import io.micrometer.core.instrument.Counter;
import java.io.File;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The scrape of {@code GET /metrics} after a small campaign on the embedded emulator (issue 7's first acceptance
 * item): every meter of {@link DialerMetrics.Metric}'s catalog is there with its exact name and type, and no
 * other {@code dialer_} family; the JVM, process and circuit-breaker meters of {@link DialerMetrics.ExternalMetric}
 * too; and {@code promtool check metrics} finds nothing but two findings on Micrometer's own binders.
 *
 * <p>The campaign meets injected 429s (throttles, retries, API errors), injected action failures and a tiny
 * invocation budget (budget hang-ups), beside a second campaign with a menu (confirms and opt-outs: flow results);
 * both are paused when scraped so that their per-campaign gauges are still registered.
 */
class MetricsScrapeIT {
    private static final String SECRET = "metrics-it-secret-0123456789abcdef";
    private static final Pattern TYPE_LINE = Pattern.compile("^# TYPE (\\S+) (\\S+)$", Pattern.MULTILINE);
    /** Findings promtool reports on meters of Micrometer's binders, which the dialer does not name. */
    private static final Set<String> MICROMETER_BINDER_FINDINGS = Set.of(
            "process_cpu_time_ns_total metric names should not contain abbreviated units",
            "system_cpu_count non-histogram and non-summary metrics should not have \"_count\" suffix");

    @TempDir
    Path dir;

    private ChimeEmulator emulator;
    private DialerRuntime runtime;

    @BeforeEach
    void start() throws Exception {
        List<EmulatorRegion> regions = new ArrayList<>();
        for (EmulatorRegion r : EmulatorRegion.defaults()) {
            regions.add(new EmulatorRegion(r.name(), r.sipMediaApplicationId(), r.fromNumbers(), 50, 100, 200));
        }
        emulator = ChimeEmulator.builder().regions(regions)
                .scenario(Scenario.builder().ringMs(1000, 3000).talkMs(5000, 15000).build())
                .faults(Faults.builder().create429(0.15).actionFailure(0.2).build())
                .timeScale(0.1).seed(5).start();
        StringBuilder csv = new StringBuilder("id,phone,name\n");
        for (int i = 0; i < 400; i++) {
            csv.append('c').append(i).append(",+1415").append(300 + i / 10_000)
                    .append(String.format("%04d", i % 10_000)).append(",P").append(i).append('\n');
        }
        Files.writeString(dir.resolve("contacts.csv"), csv, StandardCharsets.UTF_8);
        // A second campaign with a menu (1 confirms, 9 opts out; the emulator's callees press 1, 2 or 9): its flow
        // results are metered. The first campaign's invocation budget of 3 ends its calls before any menu.
        StringBuilder menuCsv = new StringBuilder("id,phone,name\n");
        for (int i = 0; i < 200; i++) {
            menuCsv.append('m').append(i).append(",+1415").append(400 + i / 10_000)
                    .append(String.format("%04d", i % 10_000)).append(",M").append(i).append('\n');
        }
        Files.writeString(dir.resolve("menu.csv"), menuCsv, StandardCharsets.UTF_8);
        StringBuilder yaml = new StringBuilder("server:\n  webhook-secret: ${S}\nledger:\n  url: \"jdbc:sqlite:")
                .append(dir.resolve("ledger.db")).append("\"\nregions:\n");
        for (EmulatorRegion r : regions) {
            yaml.append("  ").append(r.name()).append(":\n    sip-media-application-id: ")
                    .append(r.sipMediaApplicationId()).append("\n    calls-per-second: 10\n    max-active-calls: 60\n")
                    .append("    update-calls-per-second: 50\n    from-numbers: [\"").append(r.fromNumbers().get(0))
                    .append("\"]\n    endpoint: ${EMU}\n");
        }
        yaml.append("campaigns:\n  metered:\n    contacts: contacts.csv\n    regions: [us-east-1, us-west-2]\n")
                .append("    flow:\n      type: message\n      message: { text: \"Hello {name}.\" }\n"
                        + "      invocation-budget: 3\n      invocation-reserve: 1\n")
                .append("  menu:\n    contacts: menu.csv\n    regions: [us-east-1, us-west-2]\n")
                .append("    flow:\n      type: menu\n      message: { text: \"Hello {name}.\" }\n"
                        + "      menu:\n        prompt: { text: \"Press 1 to confirm or 9 to stop these calls.\" }\n"
                        + "        options:\n          \"1\": { action: confirm }\n"
                        + "          \"9\": { action: opt-out }\n");
        Files.writeString(dir.resolve("dialer.yaml"), yaml, StandardCharsets.UTF_8);
        DialerConfig config = ConfigLoader.load(dir.resolve("dialer.yaml"),
                Map.of("S", SECRET, "EMU", emulator.url().toString()));
        runtime = DialerRuntime.start(new DialerRuntime.Options(new ArrayList<>(config.regions().values()),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("ITACCESSKEY", "it-secret-key")),
                config.ledger().url(), SECRET, "127.0.0.1", 0, null, false, null, null));
        emulator.webhook(URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations"), SECRET);
        CampaignRun run = runtime.campaigns().launch(config.campaign("metered").orElseThrow(),
                dir.resolve("contacts.csv"), false).run();
        CampaignRun menu = runtime.campaigns().launch(config.campaign("menu").orElseThrow(),
                dir.resolve("menu.csv"), false).run();
        Await.upTo(Duration.ofSeconds(60), "a throttle, a retry, a budget hang-up, a failed action, 20 ended calls"
                        + " and a flow result metered")
                .pollEvery(Duration.ofMillis(50))
                .until(() -> count("dialer.api.throttled") > 0 && count("dialer.api.retries") > 0
                        && count("dialer.calls.budget.hangups") > 0 && count("dialer.actions.failed") > 0
                        && count("dialer.calls.ended") >= 20 && count("dialer.call.flow.results") > 0);
        run.pause();
        menu.pause();
    }

    @AfterEach
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
        if (emulator != null) {
            emulator.close();
        }
    }

    private double count(String name) {
        return runtime.meterRegistry().find(name).counters().stream().mapToDouble(Counter::count).sum();
    }

    private String scrape() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + runtime.port() + "/metrics")).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/plain"));
        return response.body();
    }

    private static Set<String> typeLines(String scrape) {
        Set<String> lines = new TreeSet<>();
        Matcher m = TYPE_LINE.matcher(scrape);
        while (m.find()) {
            lines.add(m.group(1) + " " + m.group(2));
        }
        return lines;
    }

    @Test
    void scrape_afterSmallCampaign_everyCatalogMeterWithExactNameAndType() throws Exception {
        String scrape = scrape();
        Set<String> types = typeLines(scrape);

        Set<String> expected = new TreeSet<>();
        for (DialerMetrics.Metric metric : DialerMetrics.Metric.values()) {
            metric.families().forEach(f -> expected.add(f.name() + " " + f.prometheusType()));
            for (String series : metric.seriesNames()) {
                assertThat(scrape).as(metric.name()).containsPattern("(?m)^" + Pattern.quote(series) + "[{ ]");
            }
        }
        Set<String> dialerTypes = new TreeSet<>(types);
        dialerTypes.removeIf(line -> !line.startsWith("dialer_"));
        assertThat(dialerTypes).as("the dialer_ families of the scrape").isEqualTo(expected);

        for (DialerMetrics.ExternalMetric metric : DialerMetrics.ExternalMetric.values()) {
            metric.families().forEach(f -> assertThat(types).as(metric.name())
                    .contains(f.name() + " " + f.prometheusType()));
        }
        // reactor-netty's server meters, with the uri tag as a route template.
        assertThat(types).anyMatch(line -> line.startsWith("reactor_netty_http_server_"));
        assertThat(scrape).contains("uri=\"/v1/sma/invocations\"");
        // Bounded tags: the campaign and both Regions, never a number.
        assertThat(scrape).contains("dialer_calls_originated_total{campaign=\"metered\",region=\"us-east-1\"}")
                .contains("dialer_calls_originated_total{campaign=\"metered\",region=\"us-west-2\"}")
                .doesNotContainPattern("\\+?1415\\d{7}");
    }

    @Test
    void promtoolCheckMetrics_scrape_onlyMicrometersOwnFindings() throws Exception {
        String scrape = scrape();

        List<String> findings = Arrays.stream(promtool(scrape).split("\n")).map(String::strip)
                .filter(line -> !line.isEmpty()).toList();

        assertThat(findings).isSubsetOf(MICROMETER_BINDER_FINDINGS);
    }

    /** Runs {@code promtool check metrics} on the text; fails (does not skip) when promtool is missing. */
    private static String promtool(String stdin) throws Exception {
        Path promtool = null;
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(d.isEmpty() ? "." : d, "promtool");
            if (Files.isExecutable(candidate)) {
                promtool = candidate;
                break;
            }
        }
        if (promtool == null) {
            fail("promtool is not on PATH: install Debian's `prometheus` package (.ci/run does)");
        }
        Process process = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (OutputStream in = process.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("promtool did not finish in 60 s");
        }
        return output.get(60, TimeUnit.SECONDS);
    }
}
