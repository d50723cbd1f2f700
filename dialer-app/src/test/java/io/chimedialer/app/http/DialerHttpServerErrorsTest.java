package io.chimedialer.app.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The HTTP server's answers to bad requests: strict JSON on the control API, the body limit named in words, and
 * every error a JSON object whose message is a sentence (no class name), over real HTTP on port 0.
 */
class DialerHttpServerErrorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "errors-test-token";

    private final List<JsonNode> rates = new CopyOnWriteArrayList<>();
    private PrometheusMeterRegistry registry;
    private DialerHttpServer server;
    private HttpClient http;
    private URI base;
    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path uploadDir;
    private volatile long uploadLimit = 8L * 1024 * 1024;
    private final List<java.nio.file.Path> uploads = new CopyOnWriteArrayList<>();
    private final List<JsonNode> uploadRequests = new CopyOnWriteArrayList<>();
    /** What the fake control API's list() fails with, when set. */
    private volatile RuntimeException listFailure;

    @BeforeEach
    void start() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        WebhookEndpoint webhook = (timestamp, signature, body) ->
                Mono.just(new WebhookEndpoint.Reply(200, "{}".getBytes(StandardCharsets.UTF_8)));
        server = new DialerHttpServer(new DialerHttpServer.Settings("127.0.0.1", 0, webhook, new FakeControl(), TOKEN,
                registry, () -> true)).start();
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        base = URI.create("http://127.0.0.1:" + server.port());
    }

    @AfterEach
    void stop() {
        server.close();
        registry.close();
    }

    @Test
    void controlBody_trailingGarbage_400AndNothingApplied() throws Exception {
        HttpResponse<String> r = post("/v1/regions/us-east-1/rate", "{\"calls-per-second\": 0.5} }{");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).isEqualTo("the body is not valid JSON at line 1, column 27: Unexpected close marker"
                + " '}': no open Object to close");
        assertThat(rates).isEmpty();
    }

    @Test
    void controlBody_secondObjectAfterTheFirst_400() throws Exception {
        HttpResponse<String> r = post("/v1/regions/us-east-1/rate", "{\"calls-per-second\": 0.5}\n{\"x\": 1}");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).isEqualTo("the body must be one JSON object and nothing after it; more follows it at"
                + " line 2, column 1");
        assertThat(rates).isEmpty();
    }

    @Test
    void controlBody_notJson_400SaysWhere() throws Exception {
        HttpResponse<String> r = post("/v1/campaigns", "{not json");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).isEqualTo("the body is not valid JSON at line 1, column 2: Unexpected character ('n'"
                + " (code 110)): was expecting double-quote to start field name");
    }

    @Test
    void controlBody_arrayOrScalar_400() throws Exception {
        HttpResponse<String> array = post("/v1/regions/us-east-1/rate", "[{\"calls-per-second\": 1}]");
        HttpResponse<String> scalar = post("/v1/regions/us-east-1/rate", "2");

        assertThat(array.statusCode()).isEqualTo(400);
        assertThat(error(array)).isEqualTo("the body must be a JSON object ({...}), not an array");
        assertThat(scalar.statusCode()).isEqualTo(400);
        assertThat(error(scalar)).isEqualTo("the body must be a JSON object ({...}), not a single value");
        assertThat(rates).isEmpty();
    }

    @Test
    void controlBody_validObject_reachesTheApi() throws Exception {
        HttpResponse<String> r = post("/v1/regions/us-east-1/rate", " {\"calls-per-second\": 0.5}\n");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(rates).hasSize(1);
        assertThat(rates.get(0).path("calls-per-second").asDouble()).isEqualTo(0.5);
    }

    @Test
    void controlBody_overTheLimit_413NamesTheLimit() throws Exception {
        byte[] big = ("{\"calls-per-second\": 1, \"pad\": \"" + "x".repeat(DialerHttpServer.MAX_BODY_BYTES) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> r = send(request("/v1/regions/us-east-1/rate")
                .POST(HttpRequest.BodyPublishers.ofByteArray(big)).build());

        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(error(r)).startsWith("the body is larger than the limit of 256 KiB (262144 bytes); upload a large"
                + " contact list as a text/csv body: POST /v1/campaigns?campaign=NAME");
        assertThat(rates).isEmpty();
    }

    @Test
    void webhookBody_overTheLimit_413NamesTheLimit() throws Exception {
        byte[] big = new byte[DialerHttpServer.MAX_BODY_BYTES + 1];
        HttpResponse<String> r = send(HttpRequest.newBuilder(base.resolve("/v1/sma/invocations"))
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofByteArray(big)).build());

        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(error(r)).startsWith("the body is larger than the limit of 256 KiB (262144 bytes)");
    }

    @Test
    void webhookBody_declaredOverTheLimit_sentWholeBeforeReading_noResetDestroysThe413() throws Exception {
        // A client that sends its whole (too large) body before reading: 4 MiB is more than the sockets' buffers
        // hold, so a server that answered and closed without reading the body reset the connection, and the client
        // lost the answer (a failed write or "connection reset" instead of the 413).
        byte[] body = new byte[4 * 1024 * 1024];
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(30_000);
            var out = socket.getOutputStream();
            out.write(("POST /v1/sma/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            String answer = readResponse(new java.io.DataInputStream(socket.getInputStream()));

            assertThat(answer).startsWith("HTTP/1.1 413 ");
            assertThat(answer).contains("the body is larger than the limit of 256 KiB (262144 bytes)");
        }
    }

    @Test
    void webhookBody_declaredOverTheLimit_answeredBeforeTheBodyIsSent_thenTheConnectionServesTheNextRequest()
            throws Exception {
        // A client that waits for the answer after the headers and a first part of the body gets it then, not once
        // the rest comes; once the whole body is sent, the same connection takes the next request. A server that
        // waited for the body before answering would wait until its drain timed out (30 s, the rest never comes
        // before the answer) and then close the connection: the next request fails. The read timeout is only a
        // bound on a hang, well above that drain.
        int declared = 1024 * 1024;
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(90_000);
            var out = socket.getOutputStream();
            var in = new java.io.DataInputStream(socket.getInputStream());
            out.write(("POST /v1/sma/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + declared + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[8192]);
            out.flush();

            String refused = readResponse(in);
            assertThat(refused).startsWith("HTTP/1.1 413 ")
                    .contains("the body is larger than the limit of 256 KiB (262144 bytes)");

            out.write(new byte[declared - 8192]);
            byte[] small = "{}".getBytes(StandardCharsets.US_ASCII);
            out.write(("POST /v1/sma/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + small.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(small);
            out.flush();
            assertThat(readResponse(in)).startsWith("HTTP/1.1 200 ");
        }
    }

    /** One HTTP/1.1 response with a Content-Length: its head and body. */
    private static String readResponse(java.io.DataInputStream in) throws java.io.IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.EOFException("connection closed after: " + head);
            }
            head.append((char) b);
        }
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)")
                .matcher(head);
        byte[] body = new byte[length.find() ? Integer.parseInt(length.group(1)) : 0];
        in.readFully(body);
        return head + new String(body, StandardCharsets.UTF_8);
    }

    @Test
    void controlApi_unexpectedFailureWithoutMessage_500WithASentence() throws Exception {
        listFailure = new IllegalStateException();

        HttpResponse<String> r = send(request("/v1/campaigns").GET().build());

        assertThat(r.statusCode()).isEqualTo(500);
        assertThat(error(r)).isEqualTo("the request could not be completed (the dialer's log has the details)");
    }

    @Test
    void controlApi_illegalArgument_400WithItsMessage() throws Exception {
        listFailure = new IllegalArgumentException("'limit' must be a whole number");

        HttpResponse<String> r = send(request("/v1/campaigns").GET().build());

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).isEqualTo("'limit' must be a whole number");
    }

    @Test
    void unknownPath_json404NamingTheRequest() throws Exception {
        HttpResponse<String> r = send(request("/v2/nothing?x=1").GET().build());

        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(error(r)).isEqualTo("no endpoint GET /v2/nothing");
    }

    @Test
    void upload_csvFarLargerThanAJsonBody_streamedToAFileUnderTheUploads_campaignStartedWithIt() throws Exception {
        StringBuilder csv = new StringBuilder("id,phone\n");
        for (int i = 0; csv.length() < 3 * 1024 * 1024; i++) {
            csv.append('c').append(i).append(",+1212555").append(String.format("%04d", i % 10_000)).append('\n');
        }
        byte[] body = csv.toString().getBytes(StandardCharsets.UTF_8);

        // Chunked (no Content-Length), as curl -T - sends a list it reads from a pipe.
        HttpResponse<String> r = send(csvRequest("/v1/campaigns?campaign=big&resume=false")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))).build());

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(uploads).singleElement().satisfies(file -> {
            assertThat(file.getParent()).isEqualTo(uploadDir);
            assertThat(file.getFileName().toString()).startsWith("big-").endsWith(".csv");
            assertThat(java.nio.file.Files.readAllBytes(file)).isEqualTo(body);
        });
        assertThat(uploadRequests).singleElement().satisfies(q -> {
            assertThat(q.path("campaign").asText()).isEqualTo("big");
            assertThat(q.path("resume").asBoolean(true)).isFalse();
        });
    }

    @Test
    void upload_overMaxUploadSize_413NamesTheSetting_noFileLeft() throws Exception {
        uploadLimit = 1024 * 1024;
        byte[] body = ("id,phone\n" + "c,+12125550101\n".repeat(150_000)).getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> declared = send(csvRequest("/v1/campaigns?campaign=big")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertThat(declared.statusCode()).isEqualTo(413);
        assertThat(error(declared)).isEqualTo("the list is larger than 1 MiB (server.max-upload-size)");

        try {
            HttpResponse<String> streamed = send(csvRequest("/v1/campaigns?campaign=big")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body)))
                    .build());
            assertThat(streamed.statusCode()).isEqualTo(413);
            assertThat(error(streamed)).isEqualTo("the list is larger than 1 MiB (server.max-upload-size)");
        } catch (java.io.IOException closedMidUpload) {
            // The server may close the connection before the client has sent the rest: also a refusal.
        }
        assertThat(uploads).isEmpty();
        try (var left = java.nio.file.Files.list(uploadDir)) {
            assertThat(left).as("no partial upload is left").isEmpty();
        }
    }

    @Test
    void upload_withoutCampaign_400SaysHow() throws Exception {
        HttpResponse<String> r = send(csvRequest("/v1/campaigns")
                .POST(HttpRequest.BodyPublishers.ofString("id,phone\n")).build());

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).isEqualTo("'campaign' is required: POST /v1/campaigns?campaign=NAME with the list as the"
                + " text/csv body");
    }

    @Test
    void upload_asMultipartForm_415SaysHowToSendTheList_nothingStarted() throws Exception {
        String boundary = "----v18boundary";
        String form = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.csv\"\r\n"
                + "Content-Type: text/csv\r\n\r\nid,phone\nc1,+12125550101\n\r\n--" + boundary + "--\r\n";
        HttpResponse<String> r = send(HttpRequest.newBuilder(base.resolve("/v1/campaigns?campaign=big"))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(form)).build());

        assertThat(r.statusCode()).isEqualTo(415);
        assertThat(error(r)).isEqualTo(DialerHttpServer.MULTIPART_REFUSED).contains("Content-Type: text/csv");
        assertThat(uploads).isEmpty();
        assertThat(uploadRequests).isEmpty();
    }

    private HttpRequest.Builder csvRequest(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "text/csv");
    }

    @Test
    void everyErrorAbove_namesNoClass() throws Exception {
        listFailure = new UnsupportedOperationException();
        List<HttpResponse<String>> responses = List.of(
                post("/v1/campaigns", "{\"campaign\": \"x\"} ]"),
                post("/v1/campaigns", "\u0000"),
                send(request("/v1/campaigns").GET().build()),
                send(HttpRequest.newBuilder(base.resolve("/v1/campaigns")).GET().build()));

        for (HttpResponse<String> r : responses) {
            assertThat(r.statusCode()).isGreaterThanOrEqualTo(400);
            assertThat(error(r)).as(r.body()).doesNotContain("io.chimedialer", "java.", "com.fasterxml", "$",
                    "Exception");
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json");
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return send(request(path).POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build());
    }

    private HttpResponse<String> send(HttpRequest request) throws Exception {
        return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static String error(HttpResponse<String> r) throws Exception {
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        return JSON.readTree(r.body()).path("error").asText();
    }

    /** A control API that records rate changes and fails list() when told to. */
    private final class FakeControl implements ControlApi {
        @Override
        public Mono<JsonNode> start(JsonNode request) {
            return Mono.just(request);
        }

        @Override
        public Mono<JsonNode> startWithList(JsonNode request, java.nio.file.Path contacts) {
            uploads.add(contacts);
            uploadRequests.add(request);
            return Mono.just(request);
        }

        @Override
        public java.nio.file.Path uploadDirectory() {
            return uploadDir;
        }

        @Override
        public long maxUploadBytes() {
            return uploadLimit;
        }

        @Override
        public Mono<JsonNode> list() {
            RuntimeException failure = listFailure;
            return failure == null ? Mono.just(JSON.createObjectNode()) : Mono.error(failure);
        }

        @Override
        public Mono<JsonNode> status(String campaignId) {
            return Mono.just(JSON.createObjectNode());
        }

        @Override
        public Mono<JsonNode> act(String campaignId, String action) {
            return Mono.just(JSON.createObjectNode());
        }

        @Override
        public Mono<JsonNode> setRate(String region, JsonNode request) {
            rates.add(request);
            return Mono.just(request);
        }
    }
}
