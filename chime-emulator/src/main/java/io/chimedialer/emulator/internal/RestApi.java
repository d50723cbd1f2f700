package io.chimedialer.emulator.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.emulator.Faults;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

/**
 * The HTTP surface: CreateSipMediaApplicationCall and UpdateSipMediaApplicationCall on the rest-json
 * wire format of CHIME.md §1, and the ground-truth endpoints under {@code /emulator/v1}. Stateless
 * apart from the shared {@link Engine}; handlers never block.
 */
public final class RestApi {
    static final Pattern E164 = Pattern.compile("^\\+?[1-9]\\d{1,14}$");
    private static final Pattern SIGV4 = Pattern.compile(
            "^AWS4-HMAC-SHA256\\s+Credential=([^/,\\s]+)/(\\d{8})/([^/,\\s]+)/([^/,\\s]+)/aws4_request\\s*,"
                    + "\\s*SignedHeaders=([a-z0-9;\\-]+)\\s*,\\s*Signature=([0-9a-fA-F]{64})\\s*$");
    private static final int MAX_MAP_ENTRIES = 20;
    private static final int MAX_SIP_HEADER_CHARS = 2048;

    private final Engine engine;
    private final Supplier<String> webhookUrl;

    public RestApi(Engine engine, Supplier<String> webhookUrl) {
        this.engine = engine;
        this.webhookUrl = webhookUrl;
    }

    public void routes(HttpServerRoutes routes) {
        routes.post("/sip-media-applications/{smaId}/calls", (req, res) -> withLatency(() -> create(req, res)))
                .post("/sip-media-applications/{smaId}/calls/{transactionId}", (req, res) -> withLatency(() -> update(req, res)))
                .get("/sip-media-applications/{smaId}", (req, res) -> withLatency(() -> getSma(req, res)))
                .get("/emulator/v1/calls", (req, res) -> json(res, 200, engine.calls()))
                .get("/emulator/v1/calls/{transactionId}", (req, res) -> {
                    CallEntry call = engine.call(req.param("transactionId"));
                    return call == null
                            ? error(res, ApiError.NOT_FOUND, "Transaction " + req.param("transactionId") + " not found")
                            : json(res, 200, call.snapshot());
                })
                .get("/emulator/v1/stats", (req, res) -> json(res, 200, engine.stats()))
                .get("/emulator/v1/config", (req, res) -> json(res, 200, engine.configView(webhookUrl.get())));
    }

    private Mono<Void> withLatency(Supplier<Mono<Void>> handler) {
        Faults f = engine.config().faults();
        if (engine.chance(f.latency())) {
            engine.countFault("latency");
            return Mono.delay(f.latencyAmount()).then(Mono.defer(handler));
        }
        return Mono.defer(handler);
    }

    // ---------------------------------------------------------------- Create

    private Mono<Void> create(HttpServerRequest req, HttpServerResponse res) {
        return authorized(req, res, "CreateSipMediaApplicationCall", (region, bytes) -> {
            if (!region.creates.tryAcquire()) {
                engine.throttled.increment();
                region.throttled.increment();
                return error(res, ApiError.THROTTLED, "Rate exceeded for CreateSipMediaApplicationCall in " + region.config.name());
            }
            List<String> problems = new ArrayList<>();
            JsonNode root = parse(bytes, problems);
            String from = null;
            String to = null;
            Map<String, String> args = Map.of();
            Map<String, String> headers = Map.of();
            if (root != null) {
                from = phone(root, "FromPhoneNumber", problems);
                to = phone(root, "ToPhoneNumber", problems);
                args = stringMap(root, "ArgumentsMap", false, problems);
                headers = stringMap(root, "SipHeaders", false, problems);
                sipHeaderRules(headers, problems);
                if (from != null && !region.config.fromNumbers().contains(plus(from))) {
                    problems.add("FromPhoneNumber is not in the phone number inventory of " + region.config.name());
                }
            }
            if (!problems.isEmpty()) {
                engine.rejected.increment();
                return error(res, ApiError.BAD_REQUEST, String.join("; ", problems));
            }
            Faults f = engine.config().faults();
            if (engine.chance(f.create429())) {
                engine.countFault("create429");
                engine.throttled.increment();
                region.throttled.increment();
                return error(res, ApiError.THROTTLED, "Rate exceeded");
            }
            if (engine.chance(f.create5xxBeforeCreate())) {
                engine.countFault("create5xxBeforeCreate");
                return serverError(res);
            }
            boolean reset = engine.chance(f.connectionReset());
            if (reset && engine.chance(0.5)) {
                engine.countFault("connectionResetBeforeCreate");
                return resetConnection(res);
            }
            if (engine.config().simulateCalls() && !engine.reserveActive(region)) {
                engine.resourceLimited.increment();
                region.resourceLimited.increment();
                return error(res, ApiError.of(engine.config().activeCallLimitError()),
                        "The SIP media application active call limit of " + region.config.maxActiveCalls() + " in "
                                + region.config.name() + " is reached");
            }
            String tx = engine.createCall(region, from, to, args, headers);
            if (reset) {
                engine.countFault("connectionResetAfterCreate");
                return resetConnection(res);
            }
            if (engine.chance(f.create5xxAfterCreate())) {
                engine.countFault("create5xxAfterCreate");
                return serverError(res);
            }
            return json(res, engine.config().createStatus(), Map.of("SipMediaApplicationCall", Map.of("TransactionId", tx)));
        });
    }

    // ---------------------------------------------------------------- GetSipMediaApplication

    /**
     * The SIP media application of a Region, as GetSipMediaApplication describes it (the dialer reads it at start to
     * check its configuration and to warm its client). Not rate-limited here: its quota is not the Creates'.
     */
    private Mono<Void> getSma(HttpServerRequest req, HttpServerResponse res) {
        String smaId = req.param("smaId");
        return authorized(req, res, "GetSipMediaApplication", (region, ignored) -> {
            String name = region.config.name();
            Map<String, Object> sma = new LinkedHashMap<>();
            sma.put("SipMediaApplicationId", smaId);
            sma.put("AwsRegion", name);
            sma.put("Name", "chime-emulator-" + name);
            sma.put("Endpoints", List.of(Map.of("LambdaArn",
                    "arn:aws:lambda:" + name + ":" + Engine.ACCOUNT_ID + ":function:chime-emulator")));
            sma.put("CreatedTimestamp", engine.startedAt().toString());
            sma.put("UpdatedTimestamp", engine.startedAt().toString());
            sma.put("SipMediaApplicationArn", "arn:aws:chime:" + name + ":" + Engine.ACCOUNT_ID + ":sma/" + smaId);
            return json(res, 200, Map.of("SipMediaApplication", sma));
        });
    }

    // ---------------------------------------------------------------- Update

    private Mono<Void> update(HttpServerRequest req, HttpServerResponse res) {
        String smaId = req.param("smaId");
        String tx = req.param("transactionId");
        return authorized(req, res, "UpdateSipMediaApplicationCall", (region, bytes) -> {
            if (!region.updates.tryAcquire()) {
                engine.updatesThrottled.increment();
                region.updatesThrottled.increment();
                return error(res, ApiError.THROTTLED, "Rate exceeded for UpdateSipMediaApplicationCall in " + region.config.name());
            }
            List<String> problems = new ArrayList<>();
            JsonNode root = parse(bytes, problems);
            Map<String, String> args = Map.of();
            if (root != null) {
                args = stringMap(root, "Arguments", true, problems);
            }
            if (!problems.isEmpty()) {
                engine.rejected.increment();
                return error(res, ApiError.BAD_REQUEST, String.join("; ", problems));
            }
            CallEntry call = engine.call(tx);
            if (call == null || !call.smaId().equals(smaId) || call.ended()) {
                return error(res, ApiError.NOT_FOUND, "Transaction " + tx + " not found");
            }
            call.requestUpdate(args);
            engine.updates.increment();
            region.updatesAccepted.increment();
            return json(res, 202, Map.of("SipMediaApplicationCall", Map.of("TransactionId", tx)));
        });
    }

    // ---------------------------------------------------------------- checks

    /** Reads the body, then runs {@code handler} with the request's Region unless {@link #authorize} refuses it. */
    private Mono<Void> authorized(HttpServerRequest req, HttpServerResponse res, String operation,
                                  java.util.function.BiFunction<Engine.RegionState, byte[], Mono<Void>> handler) {
        String smaId = req.param("smaId");
        return body(req).flatMap(bytes -> {
            Engine.RegionState region = engine.regionOfSma(smaId);
            Mono<Void> denied = authorize(req, res, region, smaId, operation);
            return denied != null ? denied : handler.apply(region, bytes);
        });
    }

    /**
     * Null when the request may proceed, else the error response: 401 without SigV4, 404 unknown SMA, 403
     * ForbiddenException for a wrong scope, 403 AccessDeniedException in a Region the faults deny.
     */
    private Mono<Void> authorize(HttpServerRequest req, HttpServerResponse res, Engine.RegionState region, String smaId,
                                 String operation) {
        String auth = req.requestHeaders().get(HttpHeaderNames.AUTHORIZATION);
        if (auth == null || auth.isBlank()) {
            return error(res, ApiError.UNAUTHORIZED, "Missing Authentication Token: a SigV4 Authorization header is required");
        }
        Matcher m = SIGV4.matcher(auth.trim());
        if (!m.matches()) {
            return error(res, ApiError.UNAUTHORIZED, "The Authorization header is not a valid AWS4-HMAC-SHA256 signature");
        }
        if (region == null) {
            return error(res, ApiError.NOT_FOUND, "SIP media application " + smaId + " not found");
        }
        if (!"chime".equals(m.group(4))) {
            return error(res, ApiError.FORBIDDEN, "Credential should be scoped to correct service: 'chime'.");
        }
        if (!region.config.name().equals(m.group(3))) {
            return error(res, ApiError.FORBIDDEN, "Credential should be scoped to a valid region: SIP media application "
                    + smaId + " is in " + region.config.name() + ", not '" + m.group(3) + "'.");
        }
        if (engine.config().faults().authDenied(region.config.name())) {
            // IAM decides before any quota or input check, so a denied request takes no token. A denied read of the
            // SMA (the dialer's check at start) is counted apart from the denied calls.
            engine.countFault("GetSipMediaApplication".equals(operation) ? "authRead" : "auth");
            return error(res, ApiError.ACCESS_DENIED, accessDeniedMessage(operation, region.config.name(), smaId));
        }
        return null;
    }

    /** The message of an IAM denial, in AWS's words for an identity-based policy that does not allow the action. */
    static String accessDeniedMessage(String operation, String region, String smaId) {
        String action = "chime:" + operation;
        return "User: arn:aws:iam::" + Engine.ACCOUNT_ID + ":user/dialer is not authorized to perform: " + action
                + " on resource: arn:aws:chime:" + region + ":" + Engine.ACCOUNT_ID + ":sma/" + smaId
                + " because no identity-based policy allows the " + action + " action";
    }

    private JsonNode parse(byte[] bytes, List<String> problems) {
        try {
            JsonNode root = bytes.length == 0 ? null : engine.mapper().readTree(bytes);
            if (root == null || !root.isObject()) {
                problems.add("The request body must be a JSON object");
                return null;
            }
            return root;
        } catch (IOException e) {
            problems.add("The request body is not valid JSON");
            return null;
        }
    }

    private static String phone(JsonNode root, String field, List<String> problems) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            problems.add(field + " is required");
            return null;
        }
        if (!n.isTextual() || !E164.matcher(n.textValue()).matches()) {
            problems.add(field + " must match ^\\+?[1-9]\\d{1,14}$");
            return null;
        }
        return n.textValue();
    }

    private static Map<String, String> stringMap(JsonNode root, String field, boolean required, List<String> problems) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                problems.add(field + " is required");
            }
            return Map.of();
        }
        if (!n.isObject()) {
            problems.add(field + " must be a map of strings");
            return Map.of();
        }
        if (n.size() > MAX_MAP_ENTRIES) {
            problems.add(field + " has " + n.size() + " entries; at most " + MAX_MAP_ENTRIES + " are allowed");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            if (!e.getValue().isTextual()) {
                problems.add(field + "." + e.getKey() + " must be a string");
            } else {
                out.put(e.getKey(), e.getValue().textValue());
            }
        }
        return out;
    }

    /** Header names start with x- or are User-to-User / Diversion; X-AMZN is reserved (CHIME.md §1.2). */
    static void sipHeaderRules(Map<String, String> headers, List<String> problems) {
        for (Map.Entry<String, String> e : headers.entrySet()) {
            String name = e.getKey();
            String lower = name.toLowerCase(Locale.ROOT);
            boolean allowed = (lower.startsWith("x-") && lower.length() > 2)
                    || lower.equals("user-to-user") || lower.equals("diversion");
            if (!allowed) {
                problems.add("SipHeaders: '" + name + "' is not allowed (use x-..., User-to-User or Diversion)");
            } else if (lower.startsWith("x-amzn")) {
                problems.add("SipHeaders: '" + name + "' uses the reserved X-AMZN prefix");
            } else if (!name.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
                problems.add("SipHeaders: '" + name + "' is not a valid header name");
            }
            if (e.getValue().length() > MAX_SIP_HEADER_CHARS) {
                problems.add("SipHeaders: '" + name + "' is longer than " + MAX_SIP_HEADER_CHARS + " characters");
            }
        }
    }

    private static String plus(String e164) {
        return e164.startsWith("+") ? e164 : "+" + e164;
    }

    // ---------------------------------------------------------------- responses

    private static Mono<byte[]> body(HttpServerRequest req) {
        return req.receive().aggregate().asByteArray().defaultIfEmpty(new byte[0]);
    }

    private Mono<Void> serverError(HttpServerResponse res) {
        return engine.chance(0.5)
                ? error(res, ApiError.SERVICE_FAILURE, "The service encountered an unexpected error.")
                : error(res, ApiError.SERVICE_UNAVAILABLE, "The service is currently unavailable.");
    }

    private static Mono<Void> resetConnection(HttpServerResponse res) {
        res.withConnection(c -> {
            // SO_LINGER 0 makes close() send a TCP RST instead of a FIN.
            c.channel().config().setOption(ChannelOption.SO_LINGER, 0);
            c.channel().close();
        });
        return Mono.empty();
    }

    private Mono<Void> error(HttpServerResponse res, ApiError error, String message) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("Code", error.code);
        body.put("Message", message);
        res.header("x-amzn-ErrorType", error.type);
        return json(res, error.status, body);
    }

    private Mono<Void> json(HttpServerResponse res, int status, Object body) {
        byte[] bytes;
        try {
            bytes = engine.mapper().writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            return Mono.error(e);
        }
        return res.status(status)
                .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                // Not UUID.randomUUID(): its SecureRandom is one lock that every Create of every event loop would queue on.
                .header("x-amzn-RequestId", Engine.uuid())
                .sendByteArray(Mono.just(bytes))
                .then();
    }

}
