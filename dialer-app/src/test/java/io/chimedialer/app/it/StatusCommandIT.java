package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.app.DialerMain;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.testkit.Await;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code dialer status} against {@code serve} in-process (as ServeControlIT builds it: the control API behind a
 * token, the loaded configuration) and the embedded emulator: its lines carry the numbers of the API's JSON, its
 * {@code --watch} follows a campaign to its end (0) or stops on an interrupt (130), and a server that is not there,
 * a wrong token and an unknown campaign are one line and exit 2.
 */
class StatusCommandIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "status-it-token";
    private static final String SECRET = "status-it-webhook-secret-0123456789";

    @TempDir
    Path dir;

    private ChimeEmulator emulator;
    private DialerRuntime runtime;
    private HttpClient http;
    private String base;

    @BeforeEach
    void start() throws Exception {
        List<EmulatorRegion> regions = new ArrayList<>();
        for (EmulatorRegion r : EmulatorRegion.defaults()) {
            regions.add(new EmulatorRegion(r.name(), r.sipMediaApplicationId(), r.fromNumbers(), 50, 100, 200));
        }
        Scenario scenario = Scenario.builder().ringMs(1000, 3000).talkMs(2000, 6000).noAnswerMs(5000).build();
        emulator = ChimeEmulator.builder().regions(regions).scenario(scenario).timeScale(0.2).seed(7).start();
        Files.writeString(dir.resolve("alpha.csv"), contacts(40, 0), StandardCharsets.UTF_8);
        StringBuilder yaml = ServedDialer.header(dir);
        for (EmulatorRegion r : regions) {
            ServedDialer.region(yaml, r, "calls-per-second: 5\nburst: 1\nmax-active-calls: 60\n");
        }
        yaml.append("campaigns:\n")
                .append("  alpha:\n    contacts: alpha.csv\n    regions: { us-east-1: 1, us-west-2: 1 }\n")
                .append("  beta:\n    regions: [us-west-2]\n")
                .append("    retry:\n      NO_ANSWER: { after: 1h, max-attempts: 2 }\n")
                .append("      BUSY: { after: 1h, max-attempts: 2 }\n");
        runtime = ServedDialer.start(ServedDialer.load(dir, yaml.toString(), emulator, SECRET, TOKEN), emulator);
        base = "http://127.0.0.1:" + runtime.port();
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** Contact lists uploaded before the test: those it uploads (under the working directory) are deleted after. */
    private final java.util.Set<Path> uploadsBefore = uploads();

    private static java.util.Set<Path> uploads() {
        try (java.util.stream.Stream<Path> files = Files.list(io.chimedialer.app.runtime.CampaignManager.UPLOADS)) {
            return files.collect(java.util.stream.Collectors.toSet());
        } catch (IOException e) {
            return java.util.Set.of();
        }
    }

    @AfterEach
    void stop() throws IOException {
        for (Path upload : uploads()) {
            if (!uploadsBefore.contains(upload)) {
                Files.deleteIfExists(upload);
            }
        }
        if (runtime != null) {
            runtime.close();
        }
        if (emulator != null) {
            emulator.close();
        }
    }

    @Test
    void status_listAndDetail_sameNumbersAsTheApi_watchEndsOrIsInterrupted_errorsExit2() throws Exception {
        api("POST", "/v1/campaigns", "{\"campaign\":\"alpha\"}");

        // --watch on one campaign: a frame every second until the campaign has ended, then exit 0.
        Run watched = status("--url", base, "--token", TOKEN, "--campaign", "alpha", "--watch", "1");
        assertThat(watched.code).as(watched.err).isZero();
        String[] frames = watched.out.split("(?m)^-- " + java.util.regex.Pattern.quote(base) + " at ");
        assertThat(frames.length - 1).as("frames:%n%s", watched.out).isGreaterThanOrEqualTo(2);
        assertThat(frames[frames.length - 1]).contains("campaign alpha: COMPLETED");
        assertThat(api("GET", "/v1/campaigns/alpha", null).path("state").asText()).isEqualTo("COMPLETED");

        // beta: an uploaded list, paused while it dials; its no-answers and busies wait an hour for a follow-up.
        StringBuilder csv = new StringBuilder(contacts(300, 1000));
        api("POST", "/v1/campaigns", JSON.createObjectNode().put("campaign", "beta")
                .put("contacts-csv", csv.toString()).toString());
        Await.upTo(Duration.ofSeconds(60), "beta dialing").until(() -> poll("/v1/campaigns/beta")
                .path("attempts").asLong() >= 10);
        api("POST", "/v1/campaigns/beta/pause", null);
        Await.upTo(Duration.ofSeconds(60), "beta's live calls ended").until(() -> poll("/v1/campaigns/beta")
                .path("live").asLong(-1) == 0);
        Thread.sleep(500); // the last outcomes and follow-ups are counted

        // The list: one line per campaign with the API's numbers.
        Run list = status("--url", base + "/", "--token", TOKEN);
        JsonNode campaigns = api("GET", "/v1/campaigns", null).path("campaigns");
        assertThat(list.code).as(list.err).isZero();
        Map<String, Map<String, String>> rows = parseTable(list.out);
        assertThat(rows).containsOnlyKeys("alpha", "beta");
        for (JsonNode c : campaigns) {
            Map<String, String> row = rows.get(c.path("id").asText());
            long total = c.path("contacts").path("total").asLong();
            long remaining = c.path("remaining").asLong();
            long answered = c.path("outcomes").path("ANSWERED").asLong();
            long ended = 0;
            for (JsonNode n : c.path("outcomes")) {
                ended += n.asLong();
            }
            assertThat(row.get("STATE")).isEqualTo(c.path("state").asText());
            assertThat(row.get("DONE")).isEqualTo((total - remaining) + "/" + total);
            assertThat(row.get("PROGRESS")).isEqualTo(Math.round(100.0 * (total - remaining) / total) + "%");
            assertThat(row.get("ANSWERED")).isEqualTo(Long.toString(answered));
            assertThat(row.get("ANSWER-RATE")).isEqualTo(String.format(java.util.Locale.ROOT, "%.1f%%",
                    100.0 * answered / ended));
            assertThat(row.get("LIVE")).isEqualTo(c.path("live").asText());
            assertThat(row.get("REMAINING")).isEqualTo(Long.toString(remaining));
            assertThat(row.get("WAITING")).isEqualTo(c.path("contacts").path("waiting").asText());
            assertThat(row.get("FOLLOW-UPS")).isEqualTo(c.path("followUpsPending").asText());
            assertThat(c.path("regions").size()).isPositive();
            assertThat(row.get("REGIONS")).isEqualTo("up");
        }
        assertThat(rows.get("alpha").get("DONE")).isEqualTo("40/40");
        assertThat(rows.get("beta").get("STATE")).isEqualTo("PAUSED");
        assertThat(Long.parseLong(rows.get("beta").get("REMAINING"))).isPositive();

        // One campaign in detail: its Regions' figures and outcomes, as the API has them.
        Run detail = status("--url", base, "--token", TOKEN, "--campaign", "alpha");
        JsonNode alpha = api("GET", "/v1/campaigns/alpha", null);
        assertThat(detail.code).as(detail.err).isZero();
        assertThat(detail.out).contains("campaign alpha: COMPLETED")
                .contains("attempts " + alpha.path("attempts").asLong() + ", live 0")
                .contains("ANSWERED " + alpha.path("outcomes").path("ANSWERED").asLong());
        for (String region : List.of("us-east-1", "us-west-2")) {
            JsonNode r = alpha.path("regions").path(region);
            assertThat(detail.out).contains("region " + region + ": attempts " + r.path("attempts").asLong()
                    + ", throttled " + r.path("throttled").asLong());
        }
        assertThat(alpha.path("regions").path("us-east-1").path("attempts").asLong()
                + alpha.path("regions").path("us-west-2").path("attempts").asLong())
                .isEqualTo(alpha.path("attempts").asLong());

        // --watch over the list does not end while beta is paused: an interrupt ends it with 130, as Ctrl-C does.
        StringWriter out = new StringWriter();
        AtomicInteger code = new AtomicInteger(-1);
        Thread watcher = new Thread(() -> {
            CommandLine cli = DialerMain.commandLine();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(new StringWriter(), true));
            code.set(cli.execute("status", "--url", base, "--token", TOKEN, "--watch", "1"));
        }, "status-watch");
        watcher.start();
        Await.upTo(Duration.ofSeconds(20), "two frames").until(() -> out.toString().split("\n-- ").length >= 2);
        watcher.interrupt();
        watcher.join(10_000);
        assertThat(code.get()).isEqualTo(130);

        // Errors: one line each, exit 2.
        Run unknown = status("--url", base, "--token", TOKEN, "--campaign", "gamma");
        assertThat(unknown.code).isEqualTo(2);
        assertThat(unknown.err.strip()).isEqualTo("dialer status: no campaign 'gamma' at " + base
                + " (known: alpha, beta)");
        Run wrongToken = status("--url", base, "--token", "not-the-token");
        assertThat(wrongToken.code).isEqualTo(2);
        assertThat(wrongToken.err.strip()).startsWith("dialer status: the control API at " + base
                + " refused the token (401)").doesNotContain("not-the-token").doesNotContain("\n");
        Run noToken = status("--url", base);
        assertThat(noToken.code).isEqualTo(2);
        assertThat(noToken.err).contains("needs a token (401)");
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Run refused = status("--url", "http://127.0.0.1:" + closed, "--token", TOKEN);
        assertThat(refused.code).isEqualTo(2);
        assertThat(refused.err.strip()).isEqualTo("dialer status: cannot connect to http://127.0.0.1:" + closed
                + " (connection refused); is `dialer serve` running there? Give its address with --url");
    }

    /** The table's rows by campaign, each column by its header. */
    private static Map<String, Map<String, String>> parseTable(String text) {
        List<String> lines = text.lines().toList();
        List<String> header = Arrays.asList(lines.get(0).trim().split("\\s+"));
        Map<String, Map<String, String>> rows = new HashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.trim().split("\\s+");
            assertThat(cells).as(line).hasSize(header.size());
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < cells.length; i++) {
                row.put(header.get(i), cells[i]);
            }
            rows.put(cells[0], row);
        }
        return rows;
    }

    private record Run(int code, String out, String err) {
    }

    private static Run status(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = DialerMain.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = "status";
        System.arraycopy(args, 0, all, 1, args.length);
        int code = cli.execute(all);
        return new Run(code, out.toString(), err.toString());
    }

    private JsonNode api(String method, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(30));
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** A GET while waiting: a request that times out on a loaded machine is one more poll, not a failure. */
    private JsonNode poll(String path) throws Exception {
        try {
            return api("GET", path, null);
        } catch (java.net.http.HttpTimeoutException slow) {
            return JSON.createObjectNode();
        }
    }

    /** Distinct valid US numbers, one per row. */
    private static String contacts(int n, int offset) {
        StringBuilder csv = new StringBuilder("id,phone,name\n");
        for (int i = offset; i < offset + n; i++) {
            csv.append('c').append(i).append(",+1312").append(300 + i / 10_000)
                    .append(String.format("%04d", i % 10_000)).append(",Person ").append(i).append('\n');
        }
        return csv.toString();
    }
}
