package io.chimedialer.app.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.app.http.CampaignFigures;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.app.config.ConfigException;
import io.chimedialer.app.config.ConfigLoader;
import io.chimedialer.app.config.DialerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dialer status}: the campaigns of a running {@code serve}, read from its control API
 * ({@code GET /v1/campaigns}, {@code GET /v1/campaigns/{id}}), one line each, or one campaign in detail. Every figure
 * is the API's, unchanged (the answer rate is ANSWERED over the outcomes so far); a field the API does not send is
 * shown as {@code -}. With {@code --watch} it prints again every N seconds, until interrupted (130) or until every
 * campaign shown has ended (0). Exit 2 with one line when the server cannot be reached, refuses the token or does
 * not know the campaign.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the campaigns of a running `dialer serve` (one line each), or one campaign in detail.")
public final class StatusCommand implements Callable<Integer> {
    /** Exit code of a failed request (no server, a refused token, an unknown campaign). */
    static final int EXIT_FAILED = 2;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> FINAL_STATES = Set.of("COMPLETED", "CANCELLED", "ENDED", "FAILED");
    private static final String LOCAL = "http://127.0.0.1:" + DialerConfig.Server.DEFAULT_PORT;

    @Spec
    CommandSpec spec;

    @Option(names = "--url", description = "The control API's base URL (default: from --config's server host, port "
            + "and tls when --config is given, else " + LOCAL + ").")
    String url;

    @Option(names = "--config", description = "A configuration file to take the URL and the control token from "
            + "(server.host, server.port, server.tls, server.control-token).")
    String configFile;

    @Option(names = "--token", description = "The control token (default: the DIALER_CONTROL_TOKEN environment "
            + "variable, else server.control-token of --config). Prefer the environment: a flag is visible to ps.")
    String token;

    @Option(names = "--campaign", description = "Show this campaign in detail (its Regions, pause reason, outcomes).")
    String campaign;

    @Option(names = "--watch", arity = "0..1", fallbackValue = "2", paramLabel = "SECONDS",
            description = "Print again every SECONDS (default when given without a value: ${FALLBACK-VALUE}) until "
                    + "Ctrl-C, or until every campaign shown has ended.")
    Integer watch;

    /** Reads the environment; tests replace it. */
    Map<String, String> environment = System.getenv();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (watch != null && watch < 1) {
            err.println("dialer status: --watch must be at least 1 second, was " + watch);
            return EXIT_FAILED;
        }
        Target target;
        try {
            target = target();
        } catch (Failure f) {
            err.println("dialer status: " + f.getMessage());
            return EXIT_FAILED;
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        while (true) {
            String screen;
            boolean ended;
            try {
                if (campaign != null) {
                    JsonNode status = get(http, target, "/v1/campaigns/" + URLEncoder.encode(campaign,
                            StandardCharsets.UTF_8).replace("+", "%20"));
                    screen = detail(status);
                    ended = FINAL_STATES.contains(status.path("state").asText());
                } else {
                    JsonNode list = get(http, target, "/v1/campaigns");
                    screen = table(list.path("campaigns"));
                    ended = allEnded(list.path("campaigns"));
                }
            } catch (Failure f) {
                err.println("dialer status: " + f.getMessage());
                err.flush();
                return EXIT_FAILED;
            }
            if (watch != null) {
                out.println("-- " + target.base + " at " + java.time.LocalTime.now().withNano(0)
                        + " (every " + watch + " s; Ctrl-C to stop)");
            }
            out.print(screen);
            out.flush();
            if (watch == null || ended) {
                return 0;
            }
            Thread.sleep(watch * 1000L); // an interrupt ends the command with 130 (DialerMain.exitCode)
        }
    }

    /** The base URL and token to use. */
    private Target target() throws Failure {
        DialerConfig config = null;
        if (configFile != null) {
            try {
                config = ConfigLoader.load(Home.resolve(configFile));
            } catch (ConfigException e) {
                throw new Failure(e.getMessage());
            }
        }
        String base = url;
        if (base == null) {
            base = config == null ? LOCAL : baseUrl(config.server());
        }
        URI uri;
        try {
            uri = URI.create(base.trim().replaceAll("/+$", ""));
        } catch (IllegalArgumentException e) {
            throw new Failure("--url is not a URL: '" + base + "'");
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new Failure("--url must be an http:// or https:// URL with a host, was '" + base + "'");
        }
        String t = token;
        if (t == null) {
            t = environment.get("DIALER_CONTROL_TOKEN");
        }
        if ((t == null || t.isBlank()) && config != null && config.server().controlToken() != null) {
            t = config.server().controlToken().reveal();
        }
        return new Target(uri.toString(), t == null || t.isBlank() ? null : t);
    }

    /** Where a server with this configuration is reached from this host. */
    static String baseUrl(DialerConfig.Server server) {
        String host = server.host();
        if ("0.0.0.0".equals(host) || "::".equals(host) || "[::]".equals(host)) {
            host = "127.0.0.1";
        } else if (host.contains(":") && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        return (server.tls() == null ? "http" : "https") + "://" + host + ":" + server.port();
    }

    private JsonNode get(HttpClient http, Target target, String path) throws Failure, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(target.base + path))
                .timeout(Duration.ofSeconds(30)).header("Accept", "application/json").GET();
        if (target.token != null) {
            request.header("Authorization", "Bearer " + target.token);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new Failure("cannot connect to " + target.base + " (" + (e instanceof ConnectException
                    ? "connection refused" : "connect timed out") + "); is `dialer serve` running there? "
                    + "Give its address with --url");
        } catch (IOException e) {
            throw new Failure("request to " + target.base + path + " failed: " + e);
        }
        int code = response.statusCode();
        if (code == 401) {
            throw new Failure(target.token == null
                    ? "the control API at " + target.base + " needs a token (401): set DIALER_CONTROL_TOKEN or "
                    + "--token to the server's server.control-token"
                    : "the control API at " + target.base + " refused the token (401): DIALER_CONTROL_TOKEN or "
                    + "--token must be the server's server.control-token");
        }
        if (code == 404 && campaign != null && path.startsWith("/v1/campaigns/")) {
            throw new Failure("no campaign '" + campaign + "' at " + target.base + knownCampaigns(http, target));
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            body = null;
        }
        if (code != 200 || body == null || !body.isObject()) {
            String error = body != null && body.hasNonNull("error") ? body.get("error").asText()
                    : "HTTP " + code + (code == 200 ? " with a body that is not a JSON object" : "");
            throw new Failure(target.base + path + ": " + error);
        }
        return body;
    }

    /** " (known: a, b)" from the campaign list, or "" when it cannot be read. */
    private String knownCampaigns(HttpClient http, Target target) throws InterruptedException {
        String saved = campaign;
        campaign = null;
        try {
            List<String> names = new ArrayList<>();
            get(http, target, "/v1/campaigns").path("campaigns").forEach(c -> names.add(name(c)));
            return names.isEmpty() ? " (it knows none)" : " (known: " + String.join(", ", names) + ")";
        } catch (Failure f) {
            return "";
        } finally {
            campaign = saved;
        }
    }

    /** Every campaign listed has ended; false for none (a watch waits for the first one). */
    private static boolean allEnded(JsonNode campaigns) {
        if (campaigns.isEmpty()) {
            return false;
        }
        for (JsonNode c : campaigns) {
            if (!FINAL_STATES.contains(c.path("state").asText())) {
                return false;
            }
        }
        return true;
    }

    // ---- formatting ----

    static final String[] COLUMNS = {"CAMPAIGN", "STATE", "PROGRESS", "DONE", "ANSWERED", "ANSWER-RATE", "LIVE",
            "REMAINING", "WAITING", "FOLLOW-UPS", "REGIONS"};

    /** One line per campaign under a header; columns separated by spaces, {@code -} where the API sent nothing. */
    static String table(JsonNode campaigns) {
        List<String[]> rows = new ArrayList<>();
        rows.add(COLUMNS);
        for (JsonNode c : campaigns) {
            rows.add(row(c));
        }
        if (rows.size() == 1) {
            return "no campaigns (start one with POST /v1/campaigns)\n";
        }
        int[] width = new int[COLUMNS.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder text = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format(Locale.ROOT, "%-" + width[i] + "s  ", row[i]));
            }
            text.append(line.toString().stripTrailing()).append('\n');
        }
        return text.toString();
    }

    /** A campaign's cells, in the order of {@link #COLUMNS}. */
    static String[] row(JsonNode c) {
        CampaignFigures f = CampaignFigures.of(c);
        return new String[]{name(c), c.path("state").asText("-"), f.progress(), f.done(),
                CampaignFigures.text(f.answered()), f.answerRate(), CampaignFigures.text(f.live()),
                CampaignFigures.text(f.remaining()), num(c.path("contacts").get("waiting")),
                num(c.get("followUpsPending")), CampaignFigures.regionsSummary(c.path("regions"), ",")};
    }

    /** One campaign in detail. */
    static String detail(JsonNode c) {
        CampaignFigures f = CampaignFigures.of(c);
        StringBuilder s = new StringBuilder();
        s.append("campaign ").append(name(c)).append(": ").append(c.path("state").asText("-"));
        if (c.has("running")) {
            s.append(c.path("running").asBoolean() ? " (running on this node)" : " (not running on this node)");
        }
        s.append('\n');
        if (c.hasNonNull("pauseReason")) {
            s.append("  paused because: ").append(c.get("pauseReason").asText()).append('\n');
        }
        JsonNode schedule = c.path("schedule");
        if (schedule.isObject()) {
            s.append("  schedule    start ").append(schedule.path("start").asText("-")).append(", end ")
                    .append(schedule.path("end").asText("-")).append('\n');
            if (schedule.hasNonNull("endReason")) {
                s.append("  ").append(schedule.get("endReason").asText()).append('\n');
            }
        }
        s.append("  progress    ").append(f.progress()).append(", ").append(f.done()).append(" done, remaining ")
                .append(CampaignFigures.text(f.remaining())).append('\n');
        JsonNode contacts = c.path("contacts");
        if (contacts.isObject()) {
            s.append("  contacts   ");
            contacts.properties().forEach(e -> s.append(' ').append(e.getKey()).append(' ')
                    .append(num(e.getValue())));
            s.append('\n');
        }
        s.append("  calls       attempts ").append(num(c.get("attempts"))).append(", live ").append(num(c.get("live")))
                .append(", withdrawn ").append(num(c.get("withdrawn"))).append(", follow-ups pending ")
                .append(num(c.get("followUpsPending"))).append('\n');
        JsonNode outcomes = c.path("outcomes");
        if (outcomes.isObject() && outcomes.size() > 0) {
            s.append("  outcomes   ");
            outcomes.properties().forEach(e -> s.append(' ').append(e.getKey()).append(' ')
                    .append(num(e.getValue())));
            s.append(" | answer rate ").append(f.answerRate()).append('\n');
        }
        JsonNode regions = c.path("regions");
        for (Map.Entry<String, JsonNode> e : regions.properties()) {
            JsonNode r = e.getValue();
            s.append("  region ").append(e.getKey()).append(": attempts ").append(num(r.get("attempts")))
                    .append(", throttled ").append(num(r.get("throttled")))
                    .append(", calls/s configured ").append(dec(r.get("configuredCps")))
                    .append(" effective ").append(dec(r.get("effectiveCps")))
                    .append(" achieved ").append(dec(r.get("achievedCps")))
                    .append(", peak active ").append(num(r.get("peakActive"))).append(" of ")
                    .append(num(r.get("maxActive")));
            if (r.hasNonNull("failure")) {
                s.append(", FAILED: ").append(r.get("failure").asText());
            } else {
                s.append(", up");
            }
            s.append('\n');
        }
        JsonNode ledger = c.path("ledger");
        if (ledger.isObject()) {
            s.append("  ledger      state ").append(ledger.path("state").asText("-"));
            JsonNode byStatus = ledger.path("contactsByStatus");
            if (byStatus.isObject() && byStatus.size() > 0) {
                s.append(", contacts");
                byStatus.properties().forEach(e -> s.append(' ').append(e.getKey()).append(' ')
                        .append(num(e.getValue())));
            }
            if (ledger.hasNonNull("updatedAt")) {
                s.append(", updated ").append(ledger.get("updatedAt").asText());
            }
            s.append('\n');
        }
        return s.toString();
    }

    private static String name(JsonNode c) {
        return c.hasNonNull("id") ? c.get("id").asText() : c.path("campaign").asText("-");
    }

    /** "up" when every Region is, else the failed ones ("FAILED:us-east-1,us-west-2"); "-" without Region figures. */

    private static String num(JsonNode v) {
        return v == null || v.isNull() || !v.isNumber() ? "-" : Long.toString(v.asLong());
    }

    private static String num(long v) {
        return v < 0 ? "-" : Long.toString(v);
    }

    private static String dec(JsonNode v) {
        return v == null || !v.isNumber() ? "-" : String.format(Locale.ROOT, "%.1f", v.asDouble());
    }

    private record Target(String base, String token) {
    }

    /** A failed request: its message is the one line printed. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message);
        }
    }
}
