package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.core.chime.ChimeClientSettings;
import io.chimedialer.core.chime.ChimeClients;
import io.chimedialer.core.flow.Action;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.core.flow.FlowDecision;
import io.chimedialer.core.flow.FlowEngine;
import io.chimedialer.core.flow.FlowRequest;
import io.chimedialer.core.webhook.WebhookSignature;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import software.amazon.awssdk.services.chimesdkvoice.ChimeSdkVoiceAsyncClient;
import software.amazon.awssdk.services.chimesdkvoice.model.CreateSipMediaApplicationCallRequest;

/**
 * The fair ceiling of the end-to-end measurement: a "bare dialer" that completes the same whole calls against an
 * emulator configured like the dialer's, with the least work that can: a raw loop of the SDK client (built like
 * {@link SdkCeiling}'s) that keeps up to {@code maxActive} calls live (a call is live from its Create until its
 * HANGUP is answered, the slot then starts the next call), and a bare reactor-netty webhook on 127.0.0.1 that
 * verifies each invocation's signature with the dialer's {@link WebhookSignature} (DESIGN.md §7a), parses it with
 * Jackson and answers the action lists and TransactionAttributes the dialer's flow gives for that event. No ledger,
 * no pipeline, no registry beyond the map of live calls, no metrics.
 *
 * <p>The answers are the dialer's own: the flow's two action lists (CALL_ANSWERED: the message and the menu;
 * the menu's ACTION_SUCCESSFUL with "1": the confirmation and the Hangup) are decided once by {@link FlowEngine}
 * at construction, with a placeholder CallId and a fixed name ({@link #NAME}, as long as the bench list's
 * typical name), and each answer is a copy with the call's CallId set. NEW_OUTBOUND_CALL, RINGING, HANGUP and any
 * other event get no actions, as from the dialer; every answer carries the call's TransactionAttributes with the
 * keys the dialer's flow sets at that step, so that the emulator stores and echoes attributes of the same size.
 * Thread-safe; one {@link #run} at a time.
 */
final class BareDialer implements AutoCloseable {
    static final String PATH = "/v1/sma/invocations";
    /** The name the prompts are rendered with: as long as the bench list's typical name ("Patient 10000"). */
    static final String NAME = "Patient 10000";
    private static final String CALL_ID = "00000000-0000-4000-8000-000000000000";
    private static final String CAMPAIGN = "bench-e2e-bare";
    private static final Duration SLOT_TIMEOUT = Duration.ofSeconds(60);

    private final ObjectMapper mapper = new ObjectMapper();
    private final WebhookSignature signature;
    private final ChimeClients clients;
    private final int maxActive;
    private final DisposableServer server;
    private final ArrayNode answeredActions;
    private final ArrayNode confirmActions;
    private final Map<String, String> answeredAttributes;
    private final Map<String, String> confirmAttributes;
    private final Map<String, Sinks.Empty<Void>> live = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong();
    private final Scheduler creator = Schedulers.newSingle("bare-dialer", true);
    private final Permits createPermits = new Permits(ChimeClientSettings.ofDefaults().maxConnections());
    private final AtomicLong ended = new AtomicLong();
    private final AtomicLong createErrors = new AtomicLong();
    private final AtomicLong unauthorized = new AtomicLong();
    private final AtomicLong badRequests = new AtomicLong();
    private final AtomicLong unknownHangups = new AtomicLong();

    /**
     * @param emulatorApi the emulator's REST API (the SDK client's endpoint)
     * @param secret      the webhook secret the emulator signs with
     * @param flow        the flow the dialer's campaign runs (its answers are copied)
     * @param maxActive   the most calls live at once (the dialer's Region cap)
     */
    BareDialer(URI emulatorApi, String secret, FlowConfig flow, int maxActive) {
        this.signature = new WebhookSignature(secret, Clock.systemUTC());
        this.maxActive = maxActive;
        FlowEngine engine = new FlowEngine();
        Map<String, String> variables = Map.of("name", NAME);
        String from = OriginationsBench.FROM.get(0);
        FlowDecision answered = engine.decide(new FlowRequest(flow, FlowRequest.Kind.ANSWERED,
                Map.of(FlowEngine.ATTR_ATTEMPT, "x"), variables, CALL_ID, null, null, null, null, 3, from));
        FlowDecision confirm = engine.decide(new FlowRequest(flow, FlowRequest.Kind.ACTION_SUCCESSFUL,
                answered.attributes(), variables, CALL_ID, lastType(answered.actions()), "1", null, null, 4, from));
        if (!"Hangup".equals(lastType(confirm.actions()))) {
            throw new IllegalArgumentException("the flow does not end with a Hangup after the digit 1: "
                    + confirm.actions());
        }
        this.answeredActions = mapper.valueToTree(answered.actions());
        this.confirmActions = mapper.valueToTree(confirm.actions());
        this.answeredAttributes = stepAttributes(answered.attributes());
        this.confirmAttributes = stepAttributes(confirm.attributes());
        this.clients = SdkCeiling.rawClients(emulatorApi);
        this.server = HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes.post(PATH, (req, res) -> req.receive().aggregate().asByteArray()
                        .flatMap(body -> {
                            if (!signature.verify(req.requestHeaders().get(WebhookSignature.TIMESTAMP_HEADER),
                                    req.requestHeaders().get(WebhookSignature.SIGNATURE_HEADER), body)) {
                                unauthorized.incrementAndGet();
                                return Mono.from(res.status(401).send());
                            }
                            Reply reply;
                            try {
                                reply = answer(body);
                            } catch (RuntimeException e) {
                                firstError(e);
                                return Mono.from(res.status(500).send());
                            }
                            if (reply == null) {
                                badRequests.incrementAndGet();
                                return Mono.from(res.status(400).send());
                            }
                            Mono<Void> sent = Mono.from(res.header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                                    .sendByteArray(Mono.just(reply.body)));
                            // The call's slot is free once its HANGUP is answered.
                            return reply.endedAttempt == null ? sent
                                    : sent.doOnSuccess(v -> ended(reply.endedAttempt));
                        })
                        .doOnError(this::firstError)))
                .bindNow(Duration.ofSeconds(10));
    }

    /** The webhook's URL (what the emulator invokes). */
    URI webhookUrl() {
        InetSocketAddress a = (InetSocketAddress) server.address();
        return URI.create("http://127.0.0.1:" + a.getPort() + PATH);
    }

    private static String lastType(List<Action> actions) {
        return actions.isEmpty() ? null : actions.get(actions.size() - 1).type();
    }

    /** The attributes a step sets, the attempt and the answer time left out (those are per call). */
    private static Map<String, String> stepAttributes(Map<String, String> all) {
        Map<String, String> m = new LinkedHashMap<>(all);
        m.remove(FlowEngine.ATTR_ATTEMPT);
        m.remove(FlowEngine.ATTR_ANSWERED_AT);
        return Map.copyOf(m);
    }

    private record Reply(byte[] body, String endedAttempt) {
    }

    /** The answer to one verified invocation, or null when it is not an invocation. */
    Reply answer(byte[] body) {
        JsonNode tree;
        try {
            tree = mapper.readTree(body);
        } catch (IOException e) {
            return null;
        }
        JsonNode details = tree.path("CallDetails");
        if (!details.has("TransactionId")) {
            return null;
        }
        String type = tree.path("InvocationEventType").asText("");
        ObjectNode attributes = mapper.createObjectNode();
        JsonNode incoming = details.path("TransactionAttributes");
        if (incoming.isObject()) {
            attributes.setAll((ObjectNode) incoming);
        }
        ArrayNode actions = null;
        String endedAttempt = null;
        switch (type) {
            case "NEW_OUTBOUND_CALL" -> {
                JsonNode attempt = tree.path("ActionData").path("Parameters").path("Arguments").path("attemptId");
                if (attempt.isTextual()) {
                    attributes.put(FlowEngine.ATTR_ATTEMPT, attempt.textValue());
                }
            }
            case "CALL_ANSWERED" -> {
                attributes.put(FlowEngine.ATTR_ANSWERED_AT, Long.toString(System.currentTimeMillis()));
                answeredAttributes.forEach(attributes::put);
                actions = withCallId(answeredActions, legA(details));
            }
            case "ACTION_SUCCESSFUL" -> {
                JsonNode data = tree.path("ActionData");
                if ("1".equals(data.path("ReceivedDigits").asText(null))
                        && lastType(answeredActions).equals(data.path("Type").asText(""))) {
                    confirmAttributes.forEach(attributes::put);
                    actions = withCallId(confirmActions, legA(details));
                }
            }
            case "HANGUP" -> endedAttempt = attributes.path(FlowEngine.ATTR_ATTEMPT).asText(null);
            default -> {
                // RINGING and anything else: no actions, as from the dialer
            }
        }
        ObjectNode reply = mapper.createObjectNode();
        reply.put("SchemaVersion", tree.path("SchemaVersion").asText("1.0"));
        reply.set("Actions", actions == null ? mapper.createArrayNode() : actions);
        reply.set("TransactionAttributes", attributes);
        try {
            return new Reply(mapper.writeValueAsBytes(reply), endedAttempt);
        } catch (IOException e) {
            return null;
        }
    }

    private static String lastType(ArrayNode actions) {
        return actions.isEmpty() ? "" : actions.get(actions.size() - 1).path("Type").asText("");
    }

    private static String legA(JsonNode details) {
        for (JsonNode p : details.path("Participants")) {
            if ("LEG-A".equals(p.path("ParticipantTag").asText())) {
                return p.path("CallId").asText(null);
            }
        }
        return null;
    }

    private static ArrayNode withCallId(ArrayNode template, String callId) {
        ArrayNode actions = template.deepCopy();
        if (callId != null) {
            for (JsonNode a : actions) {
                ((ObjectNode) a.get("Parameters")).put("CallId", callId);
            }
        }
        return actions;
    }

    private final java.util.concurrent.atomic.AtomicReference<String> firstError =
            new java.util.concurrent.atomic.AtomicReference<>();

    /** Keeps the first error (a failed Create, a handler error) for the report. */
    private void firstError(Throwable e) {
        firstError.compareAndSet(null, e.toString());
    }

    /** The first error seen (a failed or timed-out Create, a handler error), or null. */
    String firstError() {
        return firstError.get();
    }

    private void ended(String attemptId) {
        Sinks.Empty<Void> slot = live.remove(attemptId);
        if (slot == null) {
            unknownHangups.incrementAndGet();
            return;
        }
        ended.incrementAndGet();
        slot.tryEmitEmpty();
    }

    /** Calls ended so far (HANGUP answered). */
    long ended() {
        return ended.get();
    }

    long createErrors() {
        return createErrors.get();
    }

    long unauthorized() {
        return unauthorized.get();
    }

    long badRequests() {
        return badRequests.get();
    }

    /** HANGUPs of calls this loop did not start (or that ended twice). */
    long unknownHangups() {
        return unknownHangups.get();
    }

    /**
     * Starts the loop: {@code maxActive} slots, each placing a call and, once its HANGUP is answered, the next,
     * for as long as {@code keepGoing} holds (or up to {@code limit} calls in all, when positive); the slots'
     * first calls are spread at {@code rate} per second.
     *
     * @return completes once every slot stopped and its last call ended
     */
    CompletableFuture<Void> start(AtomicBoolean keepGoing, long limit, double rate) {
        ChimeSdkVoiceAsyncClient client = clients.client(OriginationsBench.REGION);
        AtomicLong started = new AtomicLong();
        // The slots' first calls start at the dialer's configured Region rate (slot w after w / rate seconds), as
        // the dialer's first Creates are paced: not all at once, which only queues Creates behind each other.
        return Flux.range(0, maxActive)
                .flatMap(w -> Mono.delay(Duration.ofNanos((long) (w * 1e9 / rate)), creator).thenMany(Mono.defer(() -> {
                    if (limit > 0 && started.incrementAndGet() > limit) {
                        return Mono.empty();
                    }
                    long n = seq.getAndIncrement();
                    String attemptId = UUID.randomUUID().toString();
                    Sinks.Empty<Void> slot = Sinks.empty();
                    live.put(attemptId, slot);
                    CreateSipMediaApplicationCallRequest request = CreateSipMediaApplicationCallRequest.builder()
                            .sipMediaApplicationId(OriginationsBench.SMA)
                            .fromPhoneNumber(OriginationsBench.FROM.get((int) (n % OriginationsBench.FROM.size())))
                            .toPhoneNumber(Synthetic.number(n))
                            .argumentsMap(Map.of("campaignId", CAMPAIGN, "attemptId", attemptId))
                            .build();
                    // At most a connection pool's worth of Creates in flight (the client's pool; beyond it the
                    // SDK fails waiters as NotSent): the 2,000 slots would otherwise all send at once.
                    // Creates are issued from one thread of their own (as the dialer's from its pipeline thread),
                    // never from the webhook's event loop, whose answers would otherwise wait behind the SDK's
                    // marshalling and signing of the next call's Create.
                    return createPermits.acquire()
                            .publishOn(creator)
                            .then(Mono.fromFuture(() -> client.createSipMediaApplicationCall(request))
                                    .doFinally(signal -> createPermits.release()))
                            .then(slot.asMono())
                            // a call whose HANGUP never comes frees its slot all the same (counted as an error)
                            .timeout(SLOT_TIMEOUT)
                            .onErrorResume(e -> {
                                live.remove(attemptId);
                                firstError(e);
                                createErrors.incrementAndGet();
                                return Mono.empty();
                            });
                }).repeat(() -> keepGoing.get() && (limit <= 0 || started.get() < limit))), maxActive)
                .then()
                .toFuture();
    }

    /** Waits for a loop from {@link #start} to end. */
    static void await(CompletableFuture<Void> loop, Duration timeout) throws Exception {
        loop.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(10));
        clients.close();
        creator.dispose();
    }

    /** A non-blocking counting semaphore: {@link #acquire} completes once a permit is free. Thread-safe. */
    static final class Permits {
        private final AtomicInteger available;
        private final ConcurrentLinkedQueue<Runnable> waiters = new ConcurrentLinkedQueue<>();

        Permits(int permits) {
            this.available = new AtomicInteger(permits);
        }

        Mono<Void> acquire() {
            return Mono.create(sink -> {
                if (take()) {
                    sink.success();
                } else {
                    waiters.add(sink::success);
                    drain();
                }
            });
        }

        void release() {
            available.incrementAndGet();
            drain();
        }

        /** Hands free permits to waiters; each side calls it after changing its own state, so none is missed. */
        private void drain() {
            while (!waiters.isEmpty() && take()) {
                Runnable waiter = waiters.poll();
                if (waiter == null) {
                    available.incrementAndGet();
                } else {
                    waiter.run();
                }
            }
        }

        private boolean take() {
            for (int a = available.get(); a > 0; a = available.get()) {
                if (available.compareAndSet(a, a - 1)) {
                    return true;
                }
            }
            return false;
        }

        int available() {
            return available.get();
        }
    }
}
