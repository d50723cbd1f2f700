package io.chimedialer.app.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.http.ControlApi;
import io.chimedialer.app.http.DialerHttpServer;
import io.chimedialer.app.http.WebhookEndpoint;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The console's login, sessions, CSRF checks, escaping and upload over real HTTP on port 0, in front of a fake
 * control API that records what it was asked.
 */
class OperatorConsoleTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "console-test-token";
    private static final String EVIL = "<script>alert(1)</script>";

    @TempDir
    Path uploadDir;

    private final List<String> calls = new CopyOnWriteArrayList<>();
    private final List<String> uploadedContents = new CopyOnWriteArrayList<>();
    private volatile long uploadLimit = 64 * 1024;
    private PrometheusMeterRegistry registry;
    private DialerHttpServer server;
    private HttpClient http;
    private URI base;

    private void start(String token) {
        start(token, new FakeControl());
    }

    private void start(String token, ControlApi control) {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        WebhookEndpoint webhook = (timestamp, signature, body) ->
                Mono.just(new WebhookEndpoint.Reply(200, "{}".getBytes(StandardCharsets.UTF_8)));
        server = new DialerHttpServer(new DialerHttpServer.Settings("127.0.0.1", 0, webhook, control, token,
                registry, () -> true)).start();
        // Redirects are not followed: the tests look at them.
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER)
                .build();
        base = URI.create("http://127.0.0.1:" + server.port());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
            registry.close();
        }
    }

    @Test
    void pages_withoutSession_redirectToLoginAndServeNothingElse() throws Exception {
        start(TOKEN);

        assertThat(get("/", null).headers().firstValue("Location")).hasValue("/console/");
        for (String path : List.of("/console/", "/console/start", "/console/campaigns/alpha")) {
            HttpResponse<String> r = get(path, null);
            assertThat(r.statusCode()).as(path).isEqualTo(303);
            assertThat(r.headers().firstValue("Location")).as(path).hasValue("/console/login");
            assertThat(r.body()).as(path).doesNotContain("alpha");
        }
        assertThat(get("/console/campaigns.json", null).statusCode()).isEqualTo(401);
        assertThat(get("/console/campaigns/alpha/results.csv", null).statusCode()).isEqualTo(401);
        HttpResponse<String> pause = post("/console/campaigns/alpha/pause", null, Map.of("csrf", "x"));
        assertThat(pause.statusCode()).isEqualTo(403);
        assertThat(calls).isEmpty();
        HttpResponse<String> login = get("/console/login", null);
        assertThat(login.statusCode()).isEqualTo(200);
        assertThat(login.body()).contains("<label for=\"token\">").contains("name=\"csrf\"");
    }

    @Test
    void login_wrongToken_401PageAndNoAccess() throws Exception {
        start(TOKEN);
        HttpResponse<String> form = get("/console/login", null);
        String anonymous = cookie(form);

        HttpResponse<String> wrong = post("/console/login", anonymous, Map.of("csrf", csrf(form.body()),
                "token", "not-the-token"));

        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).contains("That is not the control token.").doesNotContain("not-the-token");
        assertThat(wrong.headers().firstValue("Set-Cookie")).isEmpty();
        assertThat(get("/console/", anonymous).headers().firstValue("Location")).hasValue("/console/login");
    }

    @Test
    void login_withoutOrWithWrongCsrf_403() throws Exception {
        start(TOKEN);
        HttpResponse<String> form = get("/console/login", null);
        String anonymous = cookie(form);

        assertThat(post("/console/login", anonymous, Map.of("token", TOKEN)).statusCode()).isEqualTo(403);
        assertThat(post("/console/login", anonymous, Map.of("csrf", "forged", "token", TOKEN)).statusCode())
                .isEqualTo(403);
        assertThat(post("/console/login", null, Map.of("csrf", csrf(form.body()), "token", TOKEN)).statusCode())
                .isEqualTo(403);
    }

    @Test
    void login_rightToken_setsHttpOnlySameSiteStrictCookieWithANewId() throws Exception {
        start(TOKEN);
        HttpResponse<String> form = get("/console/login", null);
        String anonymous = cookie(form);
        assertThat(form.headers().firstValue("Set-Cookie").orElseThrow()).contains("HttpOnly")
                .contains("SameSite=Strict");

        HttpResponse<String> ok = post("/console/login", anonymous, Map.of("csrf", csrf(form.body()), "token", TOKEN));

        assertThat(ok.statusCode()).isEqualTo(303);
        assertThat(ok.headers().firstValue("Location")).hasValue("/console/");
        String setCookie = ok.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).startsWith(OperatorConsole.COOKIE + "=").contains("; Path=/console")
                .contains("; HttpOnly").contains("; SameSite=Strict")
                .contains("; Max-Age=" + ConsoleSessions.LIFETIME.toSeconds()).doesNotContain("Secure");
        String session = cookie(ok);
        assertThat(session).isNotEqualTo(anonymous);
        HttpResponse<String> list = get("/console/", session);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.body()).contains(">alpha</a>");
        assertThat(list.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("script-src 'self'");
        // The session id known before the login is worth nothing after it.
        assertThat(get("/console/", anonymous).statusCode()).isEqualTo(303);
    }

    @Test
    void post_csrfMissingOrWrong_403AndNothingDone_right_actsAndRedirects() throws Exception {
        start(TOKEN);
        String session = login();
        String csrf = csrf(get("/console/campaigns/alpha", session).body());

        HttpResponse<String> missing = post("/console/campaigns/alpha/pause", session, Map.of());
        HttpResponse<String> wrong = post("/console/campaigns/alpha/pause", session, Map.of("csrf", csrf + "x"));
        HttpResponse<String> rate = post("/console/rate", session, Map.of("region", "us-east-1",
                "calls-per-second", "2"));

        assertThat(missing.statusCode()).isEqualTo(403);
        assertThat(wrong.statusCode()).isEqualTo(403);
        assertThat(rate.statusCode()).isEqualTo(403);
        assertThat(calls).isEmpty();

        HttpResponse<String> paused = post("/console/campaigns/alpha/pause", session, Map.of("csrf", csrf));
        assertThat(paused.statusCode()).isEqualTo(303);
        assertThat(paused.headers().firstValue("Location")).hasValue("/console/campaigns/alpha?done=pause");
        HttpResponse<String> rated = post("/console/rate", session, Map.of("csrf", csrf, "region", "us-east-1",
                "calls-per-second", "2.5", "campaign", "alpha"));
        assertThat(rated.statusCode()).isEqualTo(303);
        assertThat(calls).containsExactly("act alpha pause", "rate us-east-1 {\"calls-per-second\":2.5}");
        // The API's refusal is shown with its status and sentence.
        HttpResponse<String> refused = post("/console/campaigns/alpha/resume", session, Map.of("csrf", csrf));
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.body()).contains("campaign alpha cannot resume: it has completed");
    }

    @Test
    void logout_endsTheSession() throws Exception {
        start(TOKEN);
        String session = login();
        String csrf = csrf(get("/console/", session).body());

        HttpResponse<String> out = post("/console/logout", session, Map.of("csrf", csrf));

        assertThat(out.statusCode()).isEqualTo(303);
        assertThat(out.headers().firstValue("Set-Cookie").orElseThrow()).contains("Max-Age=0");
        assertThat(get("/console/", session).headers().firstValue("Location")).hasValue("/console/login");
    }

    @Test
    void campaignName_withScriptTag_isEscapedOnEveryPage() throws Exception {
        start(TOKEN);
        String session = login();
        String escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";

        String list = get("/console/", session).body();
        String rows = get("/console/campaigns.json", session).body();
        HttpResponse<String> page = get("/console/campaigns/" + URLEncoder.encode(EVIL, StandardCharsets.UTF_8)
                .replace("+", "%20"), session);
        String live = get("/console/campaigns/" + URLEncoder.encode(EVIL, StandardCharsets.UTF_8) + "/live.json",
                session).body();

        assertThat(list).contains(escaped).doesNotContain(EVIL);
        assertThat(JSON.readTree(rows).path("html").path("campaign-rows").asText()).contains(escaped)
                .doesNotContain(EVIL);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<h1>Campaign " + escaped + "</h1>").doesNotContain(EVIL)
                // the pause reason and the Region failure come from the API too
                .contains("&lt;b&gt;quota&lt;/b&gt;").doesNotContain("<b>quota</b>");
        assertThat(JSON.readTree(live).path("html").path("summary").asText()).contains("&lt;b&gt;quota&lt;/b&gt;");
    }

    @Test
    void upload_csrfFirst_streamsTheListToDiskAndStarts() throws Exception {
        start(TOKEN);
        String session = login();
        String csrf = csrf(get("/console/start", session).body());
        String list = "id,phone\n" + "c1,+13125550100\n".repeat(2000);

        HttpResponse<String> r = multipart(session, List.of(new Part("csrf", null, csrf),
                new Part("campaign", null, "alpha"), new Part("resume", null, "true"),
                new Part("contacts", "list.csv", list)));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(303);
        assertThat(r.headers().firstValue("Location")).hasValue("/console/campaigns/alpha?done=started");
        assertThat(calls).containsExactly("startWithList {\"campaign\":\"alpha\",\"resume\":true}");
        assertThat(uploadedContents).containsExactly(list);
    }

    @Test
    void upload_csrfAfterTheFileOrWrong_403AndNothingStored() throws Exception {
        start(TOKEN);
        String session = login();
        String csrf = csrf(get("/console/start", session).body());

        HttpResponse<String> late = multipart(session, List.of(new Part("campaign", null, "alpha"),
                new Part("contacts", "list.csv", "id,phone\nc1,+13125550100\n"), new Part("csrf", null, csrf)));
        HttpResponse<String> wrong = multipart(session, List.of(new Part("csrf", null, "forged"),
                new Part("campaign", null, "alpha"), new Part("contacts", "list.csv", "id,phone\n")));

        assertThat(late.statusCode()).isEqualTo(403);
        assertThat(wrong.statusCode()).isEqualTo(403);
        assertThat(calls).isEmpty();
        try (var files = Files.list(uploadDir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void upload_largerThanTheLimit_413AndTheFileDeleted() throws Exception {
        start(TOKEN);
        uploadLimit = 1000;
        String session = login();
        String csrf = csrf(get("/console/start", session).body());

        HttpResponse<String> r = multipart(session, List.of(new Part("csrf", null, csrf),
                new Part("campaign", null, "alpha"), new Part("contacts", "list.csv", "x".repeat(5000))));

        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(r.body()).contains("The list is larger than 1000 bytes (server.max-upload-size).");
        assertThat(calls).isEmpty();
        try (var files = Files.list(uploadDir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void downloads_loggedIn_theApisResultsContactsAndOptOuts() throws Exception {
        start(TOKEN);
        String session = login();

        HttpResponse<String> r = get("/console/campaigns/alpha/results.csv", session);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/csv; charset=utf-8");
        assertThat(r.headers().firstValue("Content-Disposition")).hasValue("attachment; filename=\"alpha-results.csv\"");
        assertThat(r.body()).isEqualTo(String.join("", csvLines()));
        HttpResponse<String> contacts = get("/console/campaigns/alpha/contacts.csv", session);
        assertThat(contacts.headers().firstValue("Content-Disposition"))
                .hasValue("attachment; filename=\"alpha-contacts.csv\"");
        assertThat(contacts.body()).isEqualTo("contact_id,status\r\nc1,ANSWERED\r\n");
        HttpResponse<String> optOuts = get("/console/campaigns/alpha/opt-outs.txt", session);
        assertThat(optOuts.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
        assertThat(optOuts.body()).isEqualTo("# opt-outs\n+13125550100\n");
        HttpResponse<String> unknown = get("/console/campaigns/gamma/opt-outs.txt", session);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("no campaign &#39;gamma&#39;");
    }

    @Test
    void noControlToken_consoleOpenAsTheApi_butPostsStillNeedTheCsrfToken() throws Exception {
        start(null);

        HttpResponse<String> list = get("/console/", null);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.body()).contains(">alpha</a>").doesNotContain("Log out");
        assertThat(get("/console/login", null).headers().firstValue("Location")).hasValue("/console/");
        String session = cookie(list);
        String csrf = csrf(get("/console/campaigns/alpha", session).body());
        assertThat(post("/console/campaigns/alpha/pause", session, Map.of()).statusCode()).isEqualTo(403);
        assertThat(post("/console/campaigns/alpha/pause", null, Map.of("csrf", csrf)).statusCode()).isEqualTo(403);
        assertThat(calls).isEmpty();
        assertThat(post("/console/campaigns/alpha/pause", session, Map.of("csrf", csrf)).statusCode())
                .isEqualTo(303);
        assertThat(calls).containsExactly("act alpha pause");
    }

    @Test
    void noControlApi_likeTheDemo_noConsole404() throws Exception {
        start(TOKEN, null);

        HttpResponse<String> console = get("/console/", null);
        assertThat(console.statusCode()).isEqualTo(404);
        assertThat(console.body()).contains("this process has no control API, so no console");
        assertThat(get("/", null).statusCode()).isEqualTo(404);
    }

    @Test
    void serverMeters_consolePaths_boundedTemplates() {
        assertThat(OperatorConsole.uriTemplate("/console/campaigns/"
                + URLEncoder.encode(EVIL, StandardCharsets.UTF_8))).isEqualTo("/console/campaigns/{id}");
        assertThat(OperatorConsole.uriTemplate("/console/campaigns/a/live.json"))
                .isEqualTo("/console/campaigns/{id}/{page}");
        assertThat(OperatorConsole.uriTemplate("/console/login")).isEqualTo("/console/login");
        assertThat(OperatorConsole.uriTemplate("/console/whatever/else/here")).isEqualTo("/other");
    }

    // ---- helpers ----

    private String login() throws Exception {
        HttpResponse<String> form = get("/console/login", null);
        HttpResponse<String> ok = post("/console/login", cookie(form), Map.of("csrf", csrf(form.body()),
                "token", TOKEN));
        assertThat(ok.statusCode()).isEqualTo(303);
        return cookie(ok);
    }

    private static String cookie(HttpResponse<String> r) {
        String header = r.headers().firstValue("Set-Cookie").orElseThrow();
        return header.substring(header.indexOf('=') + 1, header.indexOf(';'));
    }

    private static String csrf(String html) {
        Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(html);
        assertThat(m.find()).as("a csrf field in %s", html).isTrue();
        return m.group(1);
    }

    private HttpResponse<String> get(String path, String session) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).GET();
        if (session != null) {
            b.header("Cookie", OperatorConsole.COOKIE + "=" + session);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String session, Map<String, String> form) throws Exception {
        String body = form.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (session != null) {
            b.header("Cookie", OperatorConsole.COOKIE + "=" + session);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private record Part(String name, String filename, String value) {
    }

    private HttpResponse<String> multipart(String session, List<Part> parts) throws Exception {
        String boundary = "----consoletest" + System.nanoTime();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Part p : parts) {
            out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name() + "\""
                    + (p.filename() == null ? "" : "; filename=\"" + p.filename() + "\"\r\nContent-Type: text/csv")
                    + "\r\n\r\n" + p.value() + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        out.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/console/upload")).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .header("Cookie", OperatorConsole.COOKIE + "=" + session)
                .POST(HttpRequest.BodyPublishers.ofByteArray(out.toByteArray())).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> csvLines() {
        return List.of("attempt_id,disposition\r\n", "a1,ANSWERED\r\n", "a2,BUSY\r\n");
    }

    /** A control API with campaign {@code alpha} (completed) and one named {@link #EVIL}; records its calls. */
    private final class FakeControl implements ControlApi {
        @Override
        public Mono<JsonNode> start(JsonNode request) {
            calls.add("start " + request);
            return Mono.just(request);
        }

        @Override
        public Mono<JsonNode> startWithList(JsonNode request, Path contacts) {
            return Mono.fromCallable(() -> {
                calls.add("startWithList " + request);
                uploadedContents.add(Files.readString(contacts));
                return request;
            });
        }

        @Override
        public Path uploadDirectory() {
            return uploadDir;
        }

        @Override
        public long maxUploadBytes() {
            return uploadLimit;
        }

        @Override
        public Mono<JsonNode> list() {
            ObjectNode out = JSON.createObjectNode();
            out.putArray("campaigns").add(campaign("alpha")).add(campaign(EVIL));
            return Mono.just(out);
        }

        @Override
        public Mono<JsonNode> status(String campaignId) {
            return Mono.just(campaign(campaignId));
        }

        @Override
        public Mono<JsonNode> act(String campaignId, String action) {
            if (action.equals("resume")) {
                return Mono.error(new ControlException(409, "campaign " + campaignId + " cannot resume: it has "
                        + "completed; start it again with POST /v1/campaigns"));
            }
            calls.add("act " + campaignId + " " + action);
            return Mono.just(campaign(campaignId));
        }

        @Override
        public Mono<Flux<String>> results(String campaignId) {
            return Mono.just(Flux.fromIterable(csvLines()));
        }

        @Override
        public Mono<Flux<String>> contacts(String campaignId) {
            return Mono.just(Flux.just("contact_id,status\r\n", "c1,ANSWERED\r\n"));
        }

        @Override
        public Mono<Flux<String>> optOuts(String campaignId) {
            return campaignId.equals("alpha") ? Mono.just(Flux.just("# opt-outs\n", "+13125550100\n"))
                    : Mono.error(new ControlException(404, "no campaign '" + campaignId + "'"));
        }

        @Override
        public Mono<JsonNode> setRate(String region, JsonNode request) {
            calls.add("rate " + region + " " + request);
            return Mono.just(request);
        }

        private ObjectNode campaign(String id) {
            ObjectNode c = JSON.createObjectNode().put("id", id).put("campaign", id).put("state", "COMPLETED")
                    .put("attempts", 3).put("live", 0).put("remaining", 0).put("followUpsPending", 0);
            c.putObject("contacts").put("total", 3).put("dialed", 3).put("waiting", 0);
            c.putObject("outcomes").put("ANSWERED", 2).put("BUSY", 1);
            c.putObject("regions").putObject("us-east-1").put("attempts", 3).put("failure", "<b>quota</b>");
            c.put("pauseReason", "<b>quota</b>");
            return c;
        }
    }
}
