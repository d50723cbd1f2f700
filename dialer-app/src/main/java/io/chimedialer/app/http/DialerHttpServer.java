package io.chimedialer.app.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslContext;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

/**
 * The dialer's HTTP server: the SMA webhook, the control API, {@code /metrics}, {@code /healthz} and
 * {@code /readyz}. Built once, started with {@link #start()}, stopped with {@link #close()}.
 */
public final class DialerHttpServer implements AutoCloseable {
    /** Request bodies above this size get 413. */
    public static final int MAX_BODY_BYTES = 256 * 1024;

    /** The 413 message, naming the limit. */
    static final String BODY_TOO_LARGE = "the body is larger than the limit of " + MAX_BODY_BYTES / 1024 + " KiB ("
            + MAX_BODY_BYTES + " bytes); upload a large contact list as a text/csv body: "
            + "POST /v1/campaigns?campaign=NAME";

    /** A refused body up to this size is read and dropped after the 413 (see {@link #refuse}). */
    static final long DRAIN_LIMIT = 64L * 1024 * 1024;
    /** How long a refused body may take to read before the connection is closed anyway. */
    private static final Duration DRAIN_TIME = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(DialerHttpServer.class);
    /** Control API bodies are strict: one JSON value and nothing after it ({@code {..} }{} is refused). */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Settings settings;
    /** The operator's console over the control API, or null when this process has no control API. */
    private final io.chimedialer.app.console.OperatorConsole console;
    private DisposableServer server;

    /**
     * What the server serves.
     *
     * @param host         bind address
     * @param port         port, 0 for an ephemeral one
     * @param webhook      the invocation handler
     * @param control      the control API, or {@code null} when this process has none (demo)
     * @param controlToken the bearer token the control API requires, or {@code null} for none
     * @param registry     the registry scraped at {@code /metrics}
     * @param ready        whether {@code /readyz} says ready
     * @param tls          certificate and key for HTTPS, or {@code null} for plain HTTP
     */
    public record Settings(String host, int port, WebhookEndpoint webhook, ControlApi control, String controlToken,
                           PrometheusMeterRegistry registry, BooleanSupplier ready, Tls tls) {
        public Settings {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(webhook, "webhook");
            Objects.requireNonNull(registry, "registry");
            ready = ready == null ? () -> true : ready;
        }

        /** Plain HTTP. */
        public Settings(String host, int port, WebhookEndpoint webhook, ControlApi control, String controlToken,
                        PrometheusMeterRegistry registry, BooleanSupplier ready) {
            this(host, port, webhook, control, controlToken, registry, ready, null);
        }
    }

    /**
     * TLS material: PEM files, read when the server starts.
     *
     * @param certFile the certificate chain (PEM)
     * @param keyFile  the private key (PEM, PKCS#8, unencrypted)
     */
    public record Tls(Path certFile, Path keyFile) {
        public Tls {
            Objects.requireNonNull(certFile, "certFile");
            Objects.requireNonNull(keyFile, "keyFile");
        }
    }

    public DialerHttpServer(Settings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.console = settings.control() == null ? null : new io.chimedialer.app.console.OperatorConsole(
                settings.control(), settings.controlToken(), settings.tls() != null, java.time.Clock.systemUTC());
    }

    /**
     * Binds the server; returns this.
     *
     * @throws IllegalArgumentException when TLS is configured and its certificate or key cannot be read
     */
    public DialerHttpServer start() {
        HttpServer http = HttpServer.create()
                .host(settings.host())
                .port(settings.port())
                // reactor-netty's server meters (into Metrics.globalRegistry), with the uri tag kept bounded.
                .metrics(true, DialerHttpServer::uriTemplate)
                .route(this::routes);
        Tls tls = settings.tls();
        if (tls != null) {
            // Built here, not lazily on the first connection, so that unreadable files fail the start.
            SslContext context;
            try {
                context = Http11SslContextSpec.forServer(tls.certFile().toFile(), tls.keyFile().toFile()).sslContext();
            } catch (SSLException | RuntimeException e) {
                throw new IllegalArgumentException("server.tls: cannot use certificate " + tls.certFile() + " and key "
                        + tls.keyFile() + ": " + e.getMessage(), e);
            }
            http = http.secure(ssl -> ssl.sslContext(context));
        }
        server = http.bindNow();
        log.info("HTTP server listening on {}://{}:{}", scheme(), settings.host(), server.port());
        return this;
    }

    /**
     * The route template of a request path, for the {@code uri} tag of the server meters: path parameters become
     * {@code {id}}, {@code {action}} or {@code {region}}, and paths no route serves become {@code /other}, so that
     * neither campaign names nor scanners can grow the tag's values.
     */
    static String uriTemplate(String uri) {
        int q = uri.indexOf('?');
        String path = q >= 0 ? uri.substring(0, q) : uri;
        if (path.equals("/console") || path.startsWith("/console/")) {
            return io.chimedialer.app.console.OperatorConsole.uriTemplate(path);
        }
        return switch (path) {
            case "/", "/v1/sma/invocations", "/metrics", "/healthz", "/readyz", "/v1/campaigns", "/v1/cluster" -> path;
            default -> {
                if (path.matches("/v1/campaigns/[^/]+")) {
                    yield "/v1/campaigns/{id}";
                }
                if (path.matches("/v1/campaigns/[^/]+/[^/]+")) {
                    yield "/v1/campaigns/{id}/{action}";
                }
                if (path.matches("/v1/regions/[^/]+/rate")) {
                    yield "/v1/regions/{region}/rate";
                }
                yield "/other";
            }
        };
    }

    /** {@code https} with TLS, else {@code http}. */
    public String scheme() {
        return settings.tls() == null ? "http" : "https";
    }

    /** The bound port. */
    public int port() {
        return server.port();
    }

    private void routes(HttpServerRoutes routes) {
        routes.post("/v1/sma/invocations", this::invocation)
                .get("/metrics", (req, res) -> res.header(HttpHeaderNames.CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8")
                        .sendString(Mono.fromCallable(() -> settings.registry().scrape())
                                .subscribeOn(Schedulers.boundedElastic())))
                .get("/healthz", (req, res) -> json(res, 200, JSON.createObjectNode().put("status", "UP")))
                .get("/readyz", (req, res) -> settings.ready().getAsBoolean()
                        ? json(res, 200, JSON.createObjectNode().put("status", "READY"))
                        : json(res, 503, JSON.createObjectNode().put("status", "NOT_READY")))
                .get("/v1/campaigns", (req, res) -> control(req, res, api -> api.list()))
                .get("/v1/cluster", (req, res) -> control(req, res, ControlApi::cluster))
                .post("/v1/campaigns", (req, res) -> isCsv(req) ? upload(req, res) : isMultipart(req)
                        ? json(res.keepAlive(false), 415, error(MULTIPART_REFUSED)) : control(req, res,
                        api -> readJson(req).flatMap(api::start)))
                .get("/v1/campaigns/{id}/results", (req, res) -> download(req, res, ControlApi::results, "results",
                        "text/csv", ".csv"))
                .get("/v1/campaigns/{id}/contacts", (req, res) -> download(req, res, ControlApi::contacts, "contacts",
                        "text/csv", ".csv"))
                .get("/v1/campaigns/{id}/opt-outs", (req, res) -> download(req, res, ControlApi::optOuts, "opt-outs",
                        "text/plain", ".txt"))
                .get("/v1/campaigns/{id}", (req, res) -> control(req, res, api -> api.status(req.param("id"))))
                .post("/v1/campaigns/{id}/{action}", (req, res) -> control(req, res,
                        api -> api.act(req.param("id"), req.param("action"))))
                .post("/v1/regions/{region}/rate", (req, res) -> control(req, res,
                        api -> readJson(req).flatMap(body -> api.setRate(req.param("region"), body))))
                // The operator's console (docs/console.md); "/" leads to it.
                .route(req -> console != null && req.method().equals(io.netty.handler.codec.http.HttpMethod.GET)
                        && pathOf(req.uri()).equals("/"), (req, res) -> res.status(HttpResponseStatus.SEE_OTHER)
                        .header(HttpHeaderNames.LOCATION, "/console/").send())
                .route(req -> isConsole(req.uri()), (req, res) -> console == null
                        ? json(res, 404, error("this process has no control API, so no console"))
                        : console.handle(req, res))
                // Last: whatever no route above serves gets a JSON 404 that says what was asked, not an empty one.
                .route(req -> true, (req, res) -> json(res, 404,
                        error("no endpoint " + req.method().name() + " " + pathOf(req.uri()))));
    }

    private static boolean isConsole(String uri) {
        String path = pathOf(uri);
        return path.equals("/console") || path.startsWith("/console/");
    }

    private static String pathOf(String uri) {
        int q = uri.indexOf('?');
        String path = q >= 0 ? uri.substring(0, q) : uri;
        return path.length() > 200 ? path.substring(0, 200) + "..." : path;
    }

    private org.reactivestreams.Publisher<Void> invocation(HttpServerRequest req, HttpServerResponse res) {
        String length = req.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null && parseLong(length) > MAX_BODY_BYTES) {
            return refuse(req, res, parseLong(length), error(BODY_TOO_LARGE));
        }
        String timestamp = req.requestHeaders().get("X-Dialer-Timestamp");
        String signature = req.requestHeaders().get("X-Dialer-Signature");
        String sentAt = req.requestHeaders().get(WebhookEndpoint.SENT_AT_HEADER);
        return readLimited(req)
                .flatMap(body -> settings.webhook().handle(timestamp, signature, sentAt, body))
                .onErrorResume(BodyTooLarge.class, e -> Mono.just(new WebhookEndpoint.Reply(413,
                        bytes(error(BODY_TOO_LARGE)))))
                .onErrorResume(e -> {
                    log.warn("webhook handler failed: {}", e.toString());
                    return Mono.just(new WebhookEndpoint.Reply(400, bytes(error("bad request"))));
                })
                .flatMap(reply -> Mono.from(res.status(reply.status())
                        .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                        .sendByteArray(Mono.just(reply.body()))));
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Reads the body, failing with {@link BodyTooLarge} as soon as it passes the limit. */
    private static Mono<byte[]> readLimited(HttpServerRequest req) {
        return req.receive()
                .reduce(new ByteArrayOutputStream(), (out, buf) -> append(out, buf))
                .map(ByteArrayOutputStream::toByteArray)
                .defaultIfEmpty(new byte[0]);
    }

    private static ByteArrayOutputStream append(ByteArrayOutputStream out, ByteBuf buf) {
        int n = buf.readableBytes();
        if (out.size() + n > MAX_BODY_BYTES) {
            throw new BodyTooLarge();
        }
        byte[] chunk = new byte[n];
        buf.getBytes(buf.readerIndex(), chunk);
        out.write(chunk, 0, n);
        return out;
    }

    private org.reactivestreams.Publisher<Void> control(HttpServerRequest req, HttpServerResponse res,
                                                          java.util.function.Function<ControlApi, Mono<JsonNode>> call) {
        ControlApi api = settings.control();
        if (api == null) {
            return json(res, 404, error("this process has no control API"));
        }
        if (!authorized(req)) {
            return json(res.header(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer"), 401,
                    error("missing or wrong bearer token"));
        }
        String length = req.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null && parseLong(length) > MAX_BODY_BYTES) {
            return refuse(req, res, parseLong(length), error(BODY_TOO_LARGE));
        }
        return Mono.defer(() -> call.apply(api))
                .flatMap(body -> Mono.from(json(res, 200, body)))
                .onErrorResume(ControlApi.ControlException.class,
                        e -> Mono.from(json(res, e.status(), error(e.getMessage()))))
                .onErrorResume(BodyTooLarge.class, e -> Mono.from(json(res.keepAlive(false), 413,
                        error(BODY_TOO_LARGE))))
                .onErrorResume(IllegalArgumentException.class, e -> Mono.from(json(res, 400,
                        error(e.getMessage() == null ? "bad request" : e.getMessage()))))
                .onErrorResume(e -> {
                    // Not the caller's fault: the log has the details, the answer a sentence without class names.
                    log.warn("control API: {} {} failed", req.method().name(), pathOf(req.uri()), e);
                    return Mono.from(json(res, 500, error("the request could not be completed"
                            + (e.getMessage() == null || e.getMessage().isBlank() ? "" : ": " + e.getMessage())
                            + " (the dialer's log has the details)")));
                });
    }

    /**
     * A form upload ({@code curl -F file=@list.csv}) of a contact list: the control API takes the list as the body
     * itself, so a form is refused with the way to send it (the console's upload form is its own route).
     */
    static final String MULTIPART_REFUSED = "a multipart/form-data upload is not accepted here: send the contact list"
            + " itself as the body, with Content-Type: text/csv, to POST /v1/campaigns?campaign=NAME (curl -H"
            + " 'Content-Type: text/csv' -T contacts.csv ...)";

    private static boolean isMultipart(HttpServerRequest req) {
        String type = req.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/");
    }

    private static boolean isCsv(HttpServerRequest req) {
        String type = req.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("text/csv");
    }

    /** The message of a list larger than {@code server.max-upload-size}. */
    static String uploadTooLarge(long limit) {
        String size = limit % (1L << 30) == 0 ? limit / (1L << 30) + " GiB" : limit % (1L << 20) == 0
                ? limit / (1L << 20) + " MiB" : limit % 1024 == 0 ? limit / 1024 + " KiB" : limit + " bytes";
        return "the list is larger than " + size + " (server.max-upload-size)";
    }

    /**
     * {@code POST /v1/campaigns?campaign=NAME[&resume=false]} with a {@code text/csv} body: the list is written to
     * a file under the control API's upload directory as it arrives (never held whole in memory), at most
     * {@link ControlApi#maxUploadBytes()} bytes, then the campaign starts with it. The file is kept for a resume,
     * and deleted when the upload or the start fails.
     */
    private org.reactivestreams.Publisher<Void> upload(HttpServerRequest req, HttpServerResponse res) {
        ControlApi api = settings.control();
        if (api == null) {
            return json(res, 404, error("this process has no control API"));
        }
        if (!authorized(req)) {
            return json(res.header(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer"), 401,
                    error("missing or wrong bearer token"));
        }
        long limit = api.maxUploadBytes();
        String length = req.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null && parseLong(length) > limit) {
            return refuse(req, res, parseLong(length), error(uploadTooLarge(limit)));
        }
        java.util.Map<String, java.util.List<String>> query =
                new io.netty.handler.codec.http.QueryStringDecoder(req.uri()).parameters();
        String campaign = query.containsKey("campaign") ? query.get("campaign").get(0) : null;
        if (campaign == null || campaign.isBlank()) {
            return json(res, 400, error("'campaign' is required: POST /v1/campaigns?campaign=NAME with the list as"
                    + " the text/csv body"));
        }
        ObjectNode request = JSON.createObjectNode().put("campaign", campaign);
        if (query.containsKey("resume")) {
            request.put("resume", !"false".equalsIgnoreCase(query.get("resume").get(0)));
        }
        String prefix = campaign.replaceAll("[^A-Za-z0-9._-]", "_") + "-";
        return Mono.fromCallable(() -> {
                    java.nio.file.Files.createDirectories(api.uploadDirectory());
                    return java.nio.file.Files.createTempFile(api.uploadDirectory(), prefix, ".csv");
                })
                .subscribeOn(Schedulers.boundedElastic())
                .flatMap(file -> writeUpload(req, file, limit)
                        .then(Mono.defer(() -> api.startWithList(request, file)))
                        .onErrorResume(e -> {
                            deleteQuietly(file);
                            return Mono.error(e);
                        }))
                .flatMap(body -> Mono.from(json(res, 200, body)))
                .onErrorResume(ControlApi.ControlException.class,
                        e -> Mono.from(json(res, e.status(), error(e.getMessage()))))
                .onErrorResume(UploadTooLarge.class, e -> Mono.from(json(res.keepAlive(false), 413,
                        error(uploadTooLarge(limit)))))
                .onErrorResume(e -> {
                    log.warn("control API: upload of a list for campaign {} failed", campaign, e);
                    return Mono.from(json(res, 500, error("the list could not be stored (the dialer's log has the "
                            + "details)")));
                });
    }

    /** Writes the request's body to {@code file} chunk by chunk, failing with {@link UploadTooLarge} past the limit. */
    private static Mono<Void> writeUpload(HttpServerRequest req, java.nio.file.Path file, long limit) {
        return Mono.using(() -> java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE),
                channel -> req.receive().asByteArray()
                        .publishOn(Schedulers.boundedElastic(), 4)
                        .doOnNext(chunk -> {
                            try {
                                if (channel.size() + chunk.length > limit) {
                                    throw new UploadTooLarge();
                                }
                                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(chunk);
                                while (buffer.hasRemaining()) {
                                    channel.write(buffer);
                                }
                            } catch (java.io.IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        })
                        .then(),
                channel -> {
                    try {
                        channel.close();
                    } catch (java.io.IOException e) {
                        log.debug("closing an uploaded list failed: {}", e.toString());
                    }
                });
    }

    private static void deleteQuietly(java.nio.file.Path file) {
        try {
            java.nio.file.Files.deleteIfExists(file);
        } catch (java.io.IOException e) {
            log.warn("an uploaded list that was not used could not be deleted: {}", e.toString());
        }
    }

    /**
     * A campaign's attempts, contacts or opt-outs, streamed from the ledger with backpressure (never held whole in
     * memory) as a download named {@code <id>-<what><extension>}.
     */
    private org.reactivestreams.Publisher<Void> download(HttpServerRequest req, HttpServerResponse res,
            java.util.function.BiFunction<ControlApi, String, Mono<reactor.core.publisher.Flux<String>>> lines,
            String what, String type, String extension) {
        ControlApi api = settings.control();
        if (api == null) {
            return json(res, 404, error("this process has no control API"));
        }
        if (!authorized(req)) {
            return json(res.header(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer"), 401,
                    error("missing or wrong bearer token"));
        }
        String id = req.param("id");
        return Mono.defer(() -> lines.apply(api, id))
                .flatMap(body -> Mono.from(res.header(HttpHeaderNames.CONTENT_TYPE, type + "; charset=utf-8")
                        .header("Content-Disposition", "attachment; filename=\"" + id.replaceAll("[^A-Za-z0-9._-]", "_")
                                + "-" + what + extension + "\"")
                        .sendString(body, StandardCharsets.UTF_8)))
                .onErrorResume(ControlApi.ControlException.class,
                        e -> Mono.from(json(res, e.status(), error(e.getMessage()))))
                .onErrorResume(e -> !(e instanceof ControlApi.ControlException), e -> {
                    log.warn("control API: {} of campaign {} failed", what, id, e);
                    return Mono.from(json(res, 500, error("the " + what + " could not be read (the dialer's log has "
                            + "the details)")));
                });
    }

    private boolean authorized(HttpServerRequest req) {
        String token = settings.controlToken();
        if (token == null || token.isEmpty()) {
            return true;
        }
        String header = req.requestHeaders().get(HttpHeaderNames.AUTHORIZATION);
        if (header == null || !header.startsWith("Bearer ")) {
            return false;
        }
        return MessageDigest.isEqual(header.substring(7).trim().getBytes(StandardCharsets.UTF_8),
                token.getBytes(StandardCharsets.UTF_8));
    }

    /** The body as a JSON object (an empty body is an empty object); 400 for anything else, 413 above the limit. */
    private static Mono<JsonNode> readJson(HttpServerRequest req) {
        return readLimited(req).map(DialerHttpServer::parseObject);
    }

    /**
     * Parses a control request's body strictly: one JSON object and nothing after it.
     *
     * @throws ControlApi.ControlException 400 with a message that says what is wrong and where
     */
    static JsonNode parseObject(byte[] body) {
        JsonNode node;
        try {
            node = isBlank(body) ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            String reason = e.getOriginalMessage() == null ? "" : e.getOriginalMessage().lines().findFirst().orElse("");
            if (reason.startsWith("Trailing token")) {
                throw new ControlApi.ControlException(400, "the body must be one JSON object and nothing after it;"
                        + " more follows it" + where);
            }
            throw new ControlApi.ControlException(400, "the body is not valid JSON" + where
                    + (reason.isEmpty() ? "" : ": " + reason));
        } catch (java.io.IOException e) {
            throw new ControlApi.ControlException(400, "the body could not be read as JSON");
        }
        if (node == null || node.isMissingNode()) {
            return JSON.createObjectNode();
        }
        if (!node.isObject()) {
            throw new ControlApi.ControlException(400, "the body must be a JSON object ({...}), not "
                    + (node.isArray() ? "an array" : "a single value"));
        }
        return node;
    }

    private static boolean isBlank(byte[] body) {
        for (byte b : body) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return false;
            }
        }
        return true;
    }

    private static ObjectNode error(String message) {
        return JSON.createObjectNode().put("error", message);
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Refuses with 413 a body whose declared length is over a limit: the answer goes at once, then the body is read
     * and dropped, and the connection serves the next request. Closed with the body unread, a socket sends RST, and
     * the RST can destroy the answer in the client's buffer before the client reads it: the client saw "connection
     * reset" instead of the 413 that names the limit. A client that waits for {@code 100 Continue} never sends the body,
     * and a body over {@link #DRAIN_LIMIT} is not read: both are answered and closed at once. A body that does not
     * arrive within {@link #DRAIN_TIME} is not waited for.
     */
    private static org.reactivestreams.Publisher<Void> refuse(HttpServerRequest req, HttpServerResponse res,
                                                              long declared, JsonNode message) {
        if (declared > DRAIN_LIMIT || req.requestHeaders().containsValue(HttpHeaderNames.EXPECT,
                io.netty.handler.codec.http.HttpHeaderValues.CONTINUE, true)) {
            return json(res.keepAlive(false), 413, message);
        }
        // Answered on a connection that stays open: with keepAlive(false), or a "Connection: close" header, the
        // server closes it as soon as the answer is written, the body unread. Once the body is read the connection
        // is clean and serves the next request; one whose body does not come in time is closed.
        return Mono.from(json(res, 413, message))
                .then(req.receive().then().timeout(DRAIN_TIME))
                .onErrorResume(e -> Mono.fromRunnable(
                        () -> res.withConnection(connection -> connection.channel().close())));
    }

    private static org.reactivestreams.Publisher<Void> json(HttpServerResponse res, int status, JsonNode body) {
        return res.status(HttpResponseStatus.valueOf(status))
                .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .sendByteArray(Mono.just(bytes(body)));
    }

    @Override
    public void close() {
        if (server != null) {
            server.disposeNow(java.time.Duration.ofSeconds(5));
            server = null;
        }
    }

    /** An uploaded list passed {@code server.max-upload-size}. */
    private static final class UploadTooLarge extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UploadTooLarge() {
            super(null, null, false, false);
        }
    }

    /** The body passed {@link #MAX_BODY_BYTES}. */
    private static final class BodyTooLarge extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BodyTooLarge() {
            super(null, null, false, false);
        }
    }
}
