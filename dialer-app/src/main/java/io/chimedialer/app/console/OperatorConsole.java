package io.chimedialer.app.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.http.ControlApi;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The operator's web console under {@code /console/}: server-rendered pages over the {@link ControlApi} (so they
 * show what the API shows, on any node), a little script that refreshes their figures every 2 s, and forms to
 * start, pause, resume and cancel campaigns, upload lists and change a Region's rate.
 *
 * <p>With a control token, nothing but the login page, its POST and the two static assets it uses is served
 * without a logged-in session: the login form takes the token and sets an HttpOnly, SameSite=Strict cookie holding a
 * random session id ({@link ConsoleSessions}). Without a control token the console, like the control API, is open:
 * a session is made for whoever asks, only to carry the CSRF token. Every POST needs the session's CSRF token (a
 * multipart upload before its file part), else 403; the login form's token belongs to a short session of its own,
 * replaced by a new one on login.
 */
public final class OperatorConsole {
    /** The session cookie's name. */
    static final String COOKIE = "dialer_console";
    /** URL-encoded form bodies above this size get 413. */
    static final int MAX_FORM_BYTES = 64 * 1024;
    /** How long a campaign's chart and last errors are reused before the results are read again. */
    static final Duration TIMELINE_TTL = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(OperatorConsole.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private final ControlApi api;
    private final String token;
    private final boolean secureCookie;
    private final Clock clock;
    private final ConsoleSessions sessions;
    private final Map<String, CachedTimeline> timelines = new ConcurrentHashMap<>();

    /**
     * @param api          the control API the pages read and act on
     * @param controlToken the token the login form asks for, or null/empty for an open console (as the API is then)
     * @param secureCookie whether the cookie is marked Secure (the server speaks HTTPS)
     * @param clock        the time of sessions and of the pages
     */
    public OperatorConsole(ControlApi api, String controlToken, boolean secureCookie, Clock clock) {
        this.api = Objects.requireNonNull(api, "api");
        this.token = controlToken == null || controlToken.isEmpty() ? null : controlToken;
        this.secureCookie = secureCookie;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sessions = new ConsoleSessions(clock);
    }

    /** The sessions (for tests). */
    ConsoleSessions sessions() {
        return sessions;
    }

    /** The route template of a console path, for the server meters' {@code uri} tag (never a campaign name). */
    public static String uriTemplate(String path) {
        if (path.equals("/console") || path.equals("/console/")) {
            return "/console/";
        }
        if (path.matches("/console/(login|logout|start|upload|rate|campaigns\\.json)")
                || path.matches("/console/assets/console\\.(css|js)")) {
            return path;
        }
        if (path.matches("/console/campaigns/[^/]+")) {
            return "/console/campaigns/{id}";
        }
        if (path.matches("/console/campaigns/[^/]+/[^/]+")) {
            return "/console/campaigns/{id}/{page}";
        }
        return "/other";
    }

    /** Serves one request whose path starts with {@code /console}. */
    public Publisher<Void> handle(HttpServerRequest req, HttpServerResponse res) {
        // Not decoded here: a campaign name may hold a '/' (%2F); campaignPath decodes each segment.
        String path = rawPath(req.uri());
        HttpMethod method = req.method();
        boolean get = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
        boolean post = method.equals(HttpMethod.POST);
        if (path.equals("/console")) {
            return redirect(res, "/console/");
        }
        if (get && path.startsWith("/console/assets/")) {
            return asset(res, path.substring("/console/assets/".length()));
        }
        Optional<ConsoleSessions.Session> session = sessions.find(cookie(req));
        if (path.equals("/console/login")) {
            if (get) {
                return loginPage(res, session);
            }
            if (post) {
                return login(req, res, session);
            }
            return methodNotAllowed(res, session);
        }
        if (session.isEmpty() || !session.get().authenticated()) {
            if (token == null && get) {
                // An open console, as the control API is without a token: a session only to carry the CSRF token.
                ConsoleSessions.Session opened = sessions.create(true);
                setCookie(res, opened);
                session = Optional.of(opened);
            } else if (get && !path.endsWith(".json") && !path.endsWith(".csv")) {
                return redirect(res, "/console/login");
            } else if (get) {
                return jsonError(res, 401, "log in first: /console/login");
            } else {
                return page(res, 403, Pages.error(403, token == null
                        ? "This form has no valid session: reload the page and send it again."
                        : "You are not logged in (or your session ended): log in and send the form again.",
                        null, "/console/login"));
            }
        }
        ConsoleSessions.Session s = session.get();
        Pages.Frame frame = new Pages.Frame(s.csrf(), token != null);
        if (get) {
            return serveGet(req, res, path, frame);
        }
        if (!post) {
            return methodNotAllowed(res, session);
        }
        if (path.equals("/console/upload")) {
            return upload(req, res, s, frame);
        }
        return readForm(req).flatMap(form -> {
            if (!csrfMatches(s, form.get("csrf"))) {
                return Mono.from(page(res, 403, Pages.error(403, "The form's CSRF token is missing or wrong: reload "
                        + "the page and send the form again.", frame, "/console/")));
            }
            return Mono.from(servePost(res, path, s, frame, form));
        }).onErrorResume(FormTooLarge.class, e -> Mono.from(page(res.keepAlive(false), 413,
                Pages.error(413, "The form is larger than " + MAX_FORM_BYTES / 1024 + " KiB.", frame, "/console/"))));
    }

    private Publisher<Void> serveGet(HttpServerRequest req, HttpServerResponse res, String path, Pages.Frame frame) {
        QueryStringDecoder query = new QueryStringDecoder(req.uri());
        String done = first(query.parameters(), "done");
        if (path.equals("/console/")) {
            return render(res, frame, api.list().map(list -> Pages.campaigns(list, frame, clock.instant(), done)),
                    "/console/");
        }
        if (path.equals("/console/campaigns.json")) {
            return live(res, api.list().map(list -> Map.of("campaign-rows", Pages.campaignRows(list, clock.instant()))));
        }
        if (path.equals("/console/start")) {
            return render(res, frame, api.list().map(list -> Pages.start(list, frame, api.maxUploadBytes())),
                    "/console/");
        }
        List<String> segments = campaignPath(path);
        if (segments != null && segments.size() == 1) {
            String id = segments.get(0);
            return render(res, frame, Mono.zip(api.status(id), timeline(id))
                    .map(t -> Pages.campaign(t.getT1(), t.getT2(), frame, clock.instant(), done)), "/console/");
        }
        if (segments != null && segments.size() == 2 && segments.get(1).equals("live.json")) {
            String id = segments.get(0);
            return live(res, Mono.zip(api.status(id), timeline(id)).map(t -> {
                Map<String, String> html = new java.util.LinkedHashMap<>();
                html.put("summary", Pages.summary(t.getT1(), clock.instant()));
                html.put("chart", Pages.chart(t.getT2()));
                html.put("regions", Pages.regions(t.getT1()));
                html.put("outcomes", Pages.outcomes(t.getT1()));
                html.put("errors", Pages.errors(t.getT1(), t.getT2()));
                if (t.getT1().path("cluster").isObject()) {
                    html.put("cluster", Pages.cluster(t.getT1()));
                }
                return html;
            }));
        }
        if (segments != null && segments.size() == 2 && segments.get(1).equals("results.csv")) {
            return download(res, segments.get(0), frame, api::results, "results", "text/csv", ".csv");
        }
        if (segments != null && segments.size() == 2 && segments.get(1).equals("contacts.csv")) {
            return download(res, segments.get(0), frame, api::contacts, "contacts", "text/csv", ".csv");
        }
        if (segments != null && segments.size() == 2 && segments.get(1).equals("opt-outs.txt")) {
            return download(res, segments.get(0), frame, api::optOuts, "opt-outs", "text/plain", ".txt");
        }
        return page(res, 404, Pages.error(404, "There is no console page " + shorten(path) + ".", frame, "/console/"));
    }

    private Publisher<Void> servePost(HttpServerResponse res, String path, ConsoleSessions.Session s,
                                      Pages.Frame frame, Map<String, String> form) {
        if (path.equals("/console/logout")) {
            sessions.remove(s.id());
            return redirect(res.header(HttpHeaderNames.SET_COOKIE, expiredCookie()), "/console/login");
        }
        if (path.equals("/console/start")) {
            String campaign = form.getOrDefault("campaign", "").trim();
            if (campaign.isEmpty()) {
                return page(res, 400, Pages.error(400, "Give the campaign's name.", frame, "/console/start"));
            }
            ObjectNode request = JSON.createObjectNode().put("campaign", campaign)
                    .put("resume", "true".equals(form.get("resume")));
            return act(res, frame, api.start(request), "/console/campaigns/" + Html.segment(campaign) + "?done=started",
                    "/console/start");
        }
        if (path.equals("/console/rate")) {
            String region = form.getOrDefault("region", "");
            String campaign = form.get("campaign");
            String back = campaign == null || campaign.isEmpty() ? "/console/"
                    : "/console/campaigns/" + Html.segment(campaign);
            double cps;
            try {
                cps = Double.parseDouble(form.getOrDefault("calls-per-second", "").trim());
            } catch (NumberFormatException e) {
                return page(res, 400, Pages.error(400, "Calls per second must be a number.", frame, back));
            }
            ObjectNode request = JSON.createObjectNode().put("calls-per-second", cps);
            return act(res, frame, api.setRate(region, request), back + (back.contains("?") ? "&" : "?") + "done=rate",
                    back);
        }
        List<String> segments = campaignPath(path);
        if (segments != null && segments.size() == 2 && List.of("pause", "resume", "cancel").contains(segments.get(1))) {
            String id = segments.get(0);
            String action = segments.get(1);
            String back = "/console/campaigns/" + Html.segment(id);
            return act(res, frame, api.act(id, action), back + "?done=" + action, back);
        }
        return page(res, 404, Pages.error(404, "There is no console form " + shorten(path) + ".", frame, "/console/"));
    }

    // ---- login ----

    private Publisher<Void> loginPage(HttpServerResponse res, Optional<ConsoleSessions.Session> session) {
        if (token == null || session.isPresent() && session.get().authenticated()) {
            return redirect(res, "/console/");
        }
        ConsoleSessions.Session s = session.orElseGet(() -> {
            ConsoleSessions.Session created = sessions.create(false);
            setCookie(res, created);
            return created;
        });
        return page(res, 200, Pages.login(s.csrf(), null));
    }

    private Publisher<Void> login(HttpServerRequest req, HttpServerResponse res,
                                  Optional<ConsoleSessions.Session> session) {
        if (token == null) {
            return redirect(res, "/console/");
        }
        return readForm(req).flatMap(form -> {
            if (session.isEmpty() || !csrfMatches(session.get(), form.get("csrf"))) {
                return Mono.from(page(res, 403, Pages.error(403, "The login form expired or its CSRF token is wrong: "
                        + "open the login page again.", null, "/console/login")));
            }
            ConsoleSessions.Session anonymous = session.get();
            String given = form.getOrDefault("token", "");
            if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
                log.warn("console: a login with a wrong token from {}", req.remoteAddress());
                return Mono.from(page(res, 401, Pages.login(anonymous.csrf(), "That is not the control token.")));
            }
            // A new id on login: an id known before it (fixed by someone else) is worth nothing after it.
            sessions.remove(anonymous.id());
            ConsoleSessions.Session s = sessions.create(true);
            setCookie(res, s);
            log.info("console: logged in from {}", req.remoteAddress());
            return Mono.from(redirect(res, "/console/"));
        }).onErrorResume(FormTooLarge.class, e -> Mono.from(page(res.keepAlive(false), 413,
                Pages.error(413, "The form is too large.", null, "/console/login"))));
    }

    private static boolean csrfMatches(ConsoleSessions.Session s, String given) {
        return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                s.csrf().getBytes(StandardCharsets.UTF_8));
    }

    private static String cookie(HttpServerRequest req) {
        String header = req.requestHeaders().get(HttpHeaderNames.COOKIE);
        if (header == null) {
            return null;
        }
        for (Cookie c : ServerCookieDecoder.STRICT.decode(header)) {
            if (COOKIE.equals(c.name())) {
                return c.value();
            }
        }
        return null;
    }

    private void setCookie(HttpServerResponse res, ConsoleSessions.Session s) {
        res.header(HttpHeaderNames.SET_COOKIE, COOKIE + "=" + s.id() + "; Path=/console; Max-Age="
                + s.maxAge(s.created()).toSeconds() + "; HttpOnly; SameSite=Strict" + (secureCookie ? "; Secure" : ""));
    }

    private String expiredCookie() {
        return COOKIE + "=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict" + (secureCookie ? "; Secure" : "");
    }

    // ---- the control API's answers ----

    private Publisher<Void> render(HttpServerResponse res, Pages.Frame frame, Mono<String> html, String back) {
        return html.flatMap(body -> Mono.from(page(res, 200, body)))
                .onErrorResume(e -> Mono.from(failure(res, frame, e, back)));
    }

    /** A form's action: on success a redirect (303) to {@code then}, else the API's error as a page. */
    private Publisher<Void> act(HttpServerResponse res, Pages.Frame frame, Mono<JsonNode> call, String then,
                                String back) {
        return Mono.defer(() -> call).flatMap(ok -> Mono.from(redirect(res, then)))
                .onErrorResume(e -> Mono.from(failure(res, frame, e, back)));
    }

    private Publisher<Void> failure(HttpServerResponse res, Pages.Frame frame, Throwable e, String back) {
        if (e instanceof ControlApi.ControlException c) {
            return page(res, c.status(), Pages.error(c.status(), c.getMessage(), frame, back));
        }
        if (e instanceof IllegalArgumentException) {
            return page(res, 400, Pages.error(400, e.getMessage() == null ? "bad request" : e.getMessage(), frame, back));
        }
        log.warn("console: a request failed", e);
        return page(res, 500, Pages.error(500, "The request could not be completed (the dialer's log has the "
                + "details).", frame, back));
    }

    private Publisher<Void> live(HttpServerResponse res, Mono<Map<String, String>> html) {
        return html.flatMap(parts -> {
            ObjectNode body = JSON.createObjectNode();
            body.put("updated", java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss 'UTC'", Locale.ROOT)
                    .withZone(java.time.ZoneOffset.UTC).format(clock.instant()));
            ObjectNode fragments = body.putObject("html");
            parts.forEach(fragments::put);
            return Mono.from(json(res, 200, body));
        }).onErrorResume(ControlApi.ControlException.class, e -> Mono.from(jsonError(res, e.status(), e.getMessage())))
                .onErrorResume(e -> !(e instanceof ControlApi.ControlException), e -> {
                    log.warn("console: live figures failed", e);
                    return Mono.from(jsonError(res, 500, "the figures could not be read"));
                });
    }

    /** The chart and last errors of a campaign, read from its results at most every {@link #TIMELINE_TTL}. */
    private Mono<Timeline> timeline(String id) {
        Instant now = clock.instant();
        CachedTimeline cached = timelines.compute(id, (k, old) -> old != null && old.at.plus(TIMELINE_TTL).isAfter(now)
                ? old : new CachedTimeline(now, Mono.defer(() -> api.results(id)).flatMap(Timeline::of)
                        .onErrorResume(e -> {
                            log.debug("console: the timeline of campaign {} could not be read: {}", id, e.toString());
                            return Mono.just(Timeline.EMPTY);
                        }).cache()));
        if (timelines.size() > 1000) {
            timelines.entrySet().removeIf(e -> !e.getValue().at.plus(TIMELINE_TTL).isAfter(now));
        }
        return cached.timeline;
    }

    private record CachedTimeline(Instant at, Mono<Timeline> timeline) {
    }

    /** A campaign's attempts, contacts or opt-outs as the control API streams them, as a download. */
    private Publisher<Void> download(HttpServerResponse res, String id, Pages.Frame frame,
                                     Function<String, Mono<Flux<String>>> lines, String what, String type,
                                     String extension) {
        return Mono.defer(() -> lines.apply(id))
                .flatMap(body -> Mono.from(securityHeaders(res)
                        .header(HttpHeaderNames.CONTENT_TYPE, type + "; charset=utf-8")
                        .header("Content-Disposition", "attachment; filename=\""
                                + id.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + what + extension + "\"")
                        .sendString(body, StandardCharsets.UTF_8)))
                .onErrorResume(e -> Mono.from(failure(res, frame, e, "/console/campaigns/" + Html.segment(id))));
    }

    // ---- uploads ----

    /**
     * {@code POST /console/upload}: a multipart form (csrf, campaign, resume, then the file) parsed as it arrives; the
     * file is written under the control API's upload directory chunk by chunk (at most
     * {@link ControlApi#maxUploadBytes()}), never held whole in memory, then the campaign starts with it. Nothing is
     * stored before the form's CSRF token has been checked. The file is deleted when the upload or the start fails.
     */
    private Publisher<Void> upload(HttpServerRequest req, HttpServerResponse res, ConsoleSessions.Session s,
                                   Pages.Frame frame) {
        long limit = api.maxUploadBytes();
        String length = req.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
        // The form's other fields and its boundaries come on top of the list: a little room for them.
        if (length != null && parseLong(length) > limit + MAX_FORM_BYTES) {
            return page(res.keepAlive(false), 413, Pages.error(413, tooLarge(limit), frame, "/console/start"));
        }
        String boundary = MultipartParser.boundary(req.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE));
        if (boundary == null) {
            return page(res, 400, Pages.error(400, "The upload must be a multipart/form-data form.", frame,
                    "/console/start"));
        }
        UploadForm form = new UploadForm(s.csrf(), api.uploadDirectory(), limit);
        MultipartParser parser = new MultipartParser(boundary, form);
        return req.receive().asByteArray()
                .publishOn(Schedulers.boundedElastic(), 4)
                .doOnNext(parser::feed)
                .then(Mono.fromCallable(() -> {
                    parser.finish();
                    return form.finish();
                }).subscribeOn(Schedulers.boundedElastic()))
                .flatMap(file -> Mono.defer(() -> api.startWithList(form.request(), file)))
                .doOnError(e -> form.discard())
                .doFinally(signal -> form.close())
                .flatMap(ok -> Mono.from(redirect(res, "/console/campaigns/" + Html.segment(form.campaign())
                        + "?done=started")))
                .onErrorResume(UploadForm.Refused.class, e -> Mono.from(page(res.keepAlive(false), e.status,
                        Pages.error(e.status, e.getMessage(), frame, "/console/start"))))
                .onErrorResume(UploadForm.TooLarge.class, e -> Mono.from(page(res.keepAlive(false), 413,
                        Pages.error(413, tooLarge(limit), frame, "/console/start"))))
                .onErrorResume(MultipartParser.MalformedForm.class, e -> Mono.from(page(res.keepAlive(false), 400,
                        Pages.error(400, "The upload could not be read: " + e.getMessage() + ".", frame,
                                "/console/start"))))
                .onErrorResume(e -> !(e instanceof UploadForm.Refused || e instanceof UploadForm.TooLarge
                        || e instanceof MultipartParser.MalformedForm), e -> {
                    if (e instanceof ControlApi.ControlException || e instanceof IllegalArgumentException) {
                        return Mono.from(failure(res, frame, e, "/console/start"));
                    }
                    log.warn("console: an upload for campaign {} failed", form.campaign(), e);
                    return Mono.from(page(res.keepAlive(false), 500, Pages.error(500, "The list could not be stored "
                            + "(the dialer's log has the details).", frame, "/console/start")));
                });
    }

    private static String tooLarge(long limit) {
        return "The list is larger than " + Pages.size(limit) + " (server.max-upload-size).";
    }

    /** The upload form's fields and file, as the parser finds them. Used on one thread at a time. */
    static final class UploadForm implements MultipartParser.Handler {
        private final String csrf;
        private final Path directory;
        private final long limit;
        private final Map<String, String> fields = new HashMap<>();
        private boolean csrfChecked;
        private Path file;
        private FileChannel channel;
        private long written;
        private boolean fileEnded;

        UploadForm(String csrf, Path directory, long limit) {
            this.csrf = csrf;
            this.directory = directory;
            this.limit = limit;
        }

        @Override
        public void field(String name, String value) {
            fields.putIfAbsent(name, value);
            if (name.equals("csrf")) {
                if (!MessageDigest.isEqual(value.getBytes(StandardCharsets.UTF_8), csrf.getBytes(StandardCharsets.UTF_8))) {
                    throw new Refused(403, "The form's CSRF token is missing or wrong: reload the page and send the "
                            + "form again.");
                }
                csrfChecked = true;
            }
        }

        @Override
        public void fileStart(String name, String filename) {
            if (!csrfChecked) {
                throw new Refused(403, "The form's CSRF token is missing or wrong (it must come before the file): "
                        + "reload the page and send the form again.");
            }
            if (file != null) {
                throw new Refused(400, "The form holds more than one file: upload one list.");
            }
            String campaign = campaign();
            if (campaign.isEmpty()) {
                throw new Refused(400, "Give the campaign's name (before the file).");
            }
            try {
                Files.createDirectories(directory);
                file = Files.createTempFile(directory, campaign.replaceAll("[^A-Za-z0-9._-]", "_") + "-", ".csv");
                channel = FileChannel.open(file, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void fileData(byte[] data, int offset, int length) {
            written += length;
            if (written > limit) {
                throw new TooLarge();
            }
            try {
                ByteBuffer buffer = ByteBuffer.wrap(data, offset, length);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void fileEnd() {
            fileEnded = true;
            close();
        }

        /** The stored list, once the form is complete. */
        Path finish() {
            if (!csrfChecked) {
                throw new Refused(403, "The form's CSRF token is missing: reload the page and send the form again.");
            }
            if (file == null || !fileEnded) {
                throw new Refused(400, "The form holds no contact list: choose a CSV file.");
            }
            return file;
        }

        String campaign() {
            return fields.getOrDefault("campaign", "").trim();
        }

        JsonNode request() {
            return JSON.createObjectNode().put("campaign", campaign()).put("resume", "true".equals(fields.get("resume")));
        }

        void close() {
            FileChannel c = channel;
            channel = null;
            if (c != null) {
                try {
                    c.close();
                } catch (IOException e) {
                    log.debug("closing an uploaded list failed: {}", e.toString());
                }
            }
        }

        void discard() {
            close();
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    log.warn("an uploaded list that was not used could not be deleted: {}", e.toString());
                }
            }
        }

        /** The form was refused (a status and a sentence for the operator). */
        static final class Refused extends RuntimeException {
            private static final long serialVersionUID = 1L;
            final int status;

            Refused(int status, String message) {
                super(message, null, false, false);
                this.status = status;
            }
        }

        /** The list passed the limit. */
        static final class TooLarge extends RuntimeException {
            private static final long serialVersionUID = 1L;

            TooLarge() {
                super(null, null, false, false);
            }
        }
    }

    // ---- plumbing ----

    /** An URL-encoded form's fields (the first value of each); {@link FormTooLarge} past {@link #MAX_FORM_BYTES}. */
    private static Mono<Map<String, String>> readForm(HttpServerRequest req) {
        String length = req.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null && parseLong(length) > MAX_FORM_BYTES) {
            return Mono.error(new FormTooLarge());
        }
        return req.receive().asByteArray()
                .reduce(new java.io.ByteArrayOutputStream(), (out, chunk) -> {
                    if (out.size() + chunk.length > MAX_FORM_BYTES) {
                        throw new FormTooLarge();
                    }
                    out.write(chunk, 0, chunk.length);
                    return out;
                })
                .map(out -> out.toString(StandardCharsets.UTF_8))
                .defaultIfEmpty("")
                .map(body -> {
                    Map<String, String> out = new HashMap<>();
                    new QueryStringDecoder("?" + body, StandardCharsets.UTF_8).parameters()
                            .forEach((k, v) -> out.put(k, v.isEmpty() ? "" : v.get(0)));
                    return out;
                });
    }

    private static final class FormTooLarge extends RuntimeException {
        private static final long serialVersionUID = 1L;

        FormTooLarge() {
            super(null, null, false, false);
        }
    }

    /** The decoded segments after {@code /console/campaigns/}, or null for another path. */
    private static List<String> campaignPath(String path) {
        String prefix = "/console/campaigns/";
        if (!path.startsWith(prefix) || path.length() == prefix.length()) {
            return null;
        }
        String[] parts = path.substring(prefix.length()).split("/", -1);
        if (parts.length > 2) {
            return null;
        }
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        for (String p : parts) {
            if (p.isEmpty()) {
                return null;
            }
            out.add(QueryStringDecoder.decodeComponent(p, StandardCharsets.UTF_8));
        }
        return out;
    }

    private Publisher<Void> asset(HttpServerResponse res, String name) {
        String type = switch (name) {
            case "console.css" -> "text/css; charset=utf-8";
            case "console.js" -> "text/javascript; charset=utf-8";
            default -> null;
        };
        if (type == null) {
            return res.status(404).send();
        }
        return Mono.fromCallable(() -> {
            try (InputStream in = OperatorConsole.class.getResourceAsStream("/console/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("the console's " + name + " is missing from the jar");
                }
                return in.readAllBytes();
            }
        }).subscribeOn(Schedulers.boundedElastic())
                .flatMap(bytes -> Mono.from(securityHeaders(res).header(HttpHeaderNames.CONTENT_TYPE, type)
                        .header(HttpHeaderNames.CACHE_CONTROL, "max-age=300").sendByteArray(Mono.just(bytes))));
    }

    private Publisher<Void> methodNotAllowed(HttpServerResponse res, Optional<ConsoleSessions.Session> session) {
        return page(res.header(HttpHeaderNames.ALLOW, "GET, POST"), 405, Pages.error(405, "Only GET and POST are "
                + "served here.", null, "/console/"));
    }

    private static HttpServerResponse securityHeaders(HttpServerResponse res) {
        return res.header("Content-Security-Policy", CSP)
                .header("X-Content-Type-Options", "nosniff")
                .header("X-Frame-Options", "DENY")
                .header("Referrer-Policy", "no-referrer");
    }

    private static Publisher<Void> page(HttpServerResponse res, int status, String html) {
        return securityHeaders(res).status(HttpResponseStatus.valueOf(status))
                .header(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8")
                .header(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .sendString(Mono.just(html), StandardCharsets.UTF_8);
    }

    private static Publisher<Void> redirect(HttpServerResponse res, String location) {
        return securityHeaders(res).status(HttpResponseStatus.SEE_OTHER)
                .header(HttpHeaderNames.LOCATION, location)
                .header(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .send();
    }

    private static Publisher<Void> json(HttpServerResponse res, int status, JsonNode body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return securityHeaders(res).status(HttpResponseStatus.valueOf(status))
                .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .header(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .sendByteArray(Mono.just(bytes));
    }

    private static Publisher<Void> jsonError(HttpServerResponse res, int status, String message) {
        return json(res, status, JSON.createObjectNode().put("error", message));
    }

    private static String first(Map<String, List<String>> params, String name) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String rawPath(String uri) {
        int q = uri.indexOf('?');
        return q >= 0 ? uri.substring(0, q) : uri;
    }

    private static String shorten(String path) {
        return path.length() > 200 ? path.substring(0, 200) + "..." : path;
    }
}
