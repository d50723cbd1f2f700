package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.calls.CallContext;
import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.webhook.WebhookSignature;
import io.chimedialer.core.flow.FlowConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * Measurement 2: signed SMA invocations (CALL_ANSWERED, then ACTION_SUCCESSFUL, for calls the registry
 * knows, so the whole handler runs: signature, parsing, correlation, the flow, metrics) against the
 * dialer's HTTP server, beside a bare reactor-netty handler that parses the same JSON with Jackson and
 * answers a constant. Each server gets the same two phases from an in-process load generator with a fixed
 * connection pool: a fixed offered load (open model: latency counts from each request's intended send time,
 * so a stall is not hidden) and saturation (closed model: every connection sends its next request as soon as
 * the previous answer arrives).
 */
final class WebhookBench {
    private static final String PATH = "/v1/sma/invocations";
    private static final String SECRET = "bench-webhook-secret";
    private static final String CAMPAIGN = "bench-webhook";
    private static final byte[] BARE_REPLY = "{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"Speak\",\"Parameters\":{\"Text\":\"Hello\",\"CallId\":\"c\"}}]}"
            .getBytes(StandardCharsets.UTF_8);

    private WebhookBench() {
    }

    static ObjectNode run(BenchSettings s, Path work, ObjectMapper json, PrintStream log) throws Exception {
        long phaseSeconds = Math.max(1, s.webhookPhase().toSeconds());
        long expected = (s.webhookFixedRate() + 80_000L) * phaseSeconds * 2 + 80_000L * s.warmup().toSeconds();
        int calls = (int) Math.max(1_000, expected / 800);
        Bodies bodies = new Bodies(calls);
        LoopResources loops = LoopResources.create("bench-load", 2, true);
        try {
            ObjectNode bare;
            DisposableServer bareServer = bareServer(json);
            try {
                bare = phases(s, URI.create("http://127.0.0.1:" + bareServer.port()), bodies, loops, log, "bare handler");
            } finally {
                bareServer.disposeNow(Duration.ofSeconds(10));
            }
            RegionConfig region = new RegionConfig(OriginationsBench.REGION, OriginationsBench.SMA, 100, 1, 1_000,
                    5, OriginationsBench.FROM, URI.create("http://127.0.0.1:9"));
            ObjectNode dialer;
            try (DialerRuntime runtime = DialerRuntime.start(new DialerRuntime.Options(List.of(region),
                    OriginationsBench.CREDENTIALS, "jdbc:sqlite:" + work.resolve("webhook.db"), SECRET, "127.0.0.1", 0,
                    null, false, null, null))) {
                bodies.register(runtime.calls());
                dialer = phases(s, URI.create("http://127.0.0.1:" + runtime.port()), bodies, loops, log, "dialer");
                dialer.put("handlerAnswered", runtime.webhook().stats().answered());
                dialer.put("handlerUnknownCalls", runtime.webhook().stats().unknownCalls());
                dialer.put("handlerUnauthorized", runtime.webhook().stats().unauthorized());
            }
            ObjectNode o = json.createObjectNode();
            o.put("perSecond", dialer.get("saturationPerSecond").asDouble());
            o.put("p50Ms", dialer.get("saturationP50Ms").asDouble());
            o.put("p99Ms", dialer.get("saturationP99Ms").asDouble());
            o.put("fixedOfferedPerSecond", s.webhookFixedRate());
            o.put("fixedPerSecond", dialer.get("fixedPerSecond").asDouble());
            o.put("fixedP50Ms", dialer.get("fixedP50Ms").asDouble());
            o.put("fixedP99Ms", dialer.get("fixedP99Ms").asDouble());
            o.put("connections", s.webhookConnections());
            o.put("bodyBytes", bodies.typicalSize());
            o.set("dialer", dialer);
            o.put("ceiling", bare.get("saturationPerSecond").asDouble());
            o.put("ceilingIs", "bare reactor-netty handler parsing the same JSON with Jackson, requests/s at saturation");
            o.set("bare", bare);
            double ceiling = bare.get("saturationPerSecond").asDouble();
            o.put("ratio", ceiling > 0 ? dialer.get("saturationPerSecond").asDouble() / ceiling : 0);
            return o;
        } finally {
            loops.disposeLater().block(Duration.ofSeconds(10));
        }
    }

    private static DisposableServer bareServer(ObjectMapper json) {
        return HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes.post(PATH, (req, res) -> req.receive().aggregate().asByteArray()
                        .flatMap(body -> {
                            try {
                                JsonNode tree = json.readTree(body);
                                if (!tree.path("CallDetails").has("TransactionId")) {
                                    return Mono.from(res.status(400).send());
                                }
                            } catch (IOException e) {
                                return Mono.from(res.status(400).send());
                            }
                            return Mono.from(res.header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                                    .sendByteArray(Mono.just(BARE_REPLY)));
                        })))
                .bindNow(Duration.ofSeconds(10));
    }

    private static ObjectNode phases(BenchSettings s, URI base, Bodies bodies, LoopResources loops, PrintStream log,
                                     String name) throws InterruptedException {
        ConnectionProvider pool = ConnectionProvider.builder("bench-" + name.replace(' ', '-'))
                .maxConnections(s.webhookConnections()).pendingAcquireMaxCount(-1).build();
        try {
            HttpClient client = HttpClient.create(pool).runOn(loops).baseUrl(base.toString());
            Load load = new Load(client, bodies);
            load.closed(s.webhookConnections(), s.warmup());
            Stats fixed = load.open(s.webhookFixedRate(), s.webhookPhase());
            Stats saturation = load.closed(s.webhookConnections(), s.webhookPhase());
            log.printf("  webhook %-12s fixed %,d/s offered: %,.0f/s p50 %.2f ms p99 %.2f ms (%d errors); "
                            + "saturation %,.0f/s p50 %.2f ms p99 %.2f ms (%d errors)%n", name, s.webhookFixedRate(),
                    fixed.perSecond, fixed.p50Ms, fixed.p99Ms, fixed.errors, saturation.perSecond, saturation.p50Ms,
                    saturation.p99Ms, saturation.errors);
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("fixedPerSecond", fixed.perSecond);
            o.put("fixedP50Ms", fixed.p50Ms);
            o.put("fixedP99Ms", fixed.p99Ms);
            o.put("fixedErrors", fixed.errors);
            o.put("saturationPerSecond", saturation.perSecond);
            o.put("saturationP50Ms", saturation.p50Ms);
            o.put("saturationP99Ms", saturation.p99Ms);
            o.put("saturationErrors", saturation.errors);
            return o;
        } finally {
            pool.disposeLater().block(Duration.ofSeconds(10));
        }
    }

    /** Figures of one phase. */
    record Stats(double perSecond, double p50Ms, double p99Ms, long errors) {
    }

    /** Invocation bodies for a fixed set of calls; request n goes to call n mod calls with a fresh Sequence. */
    static final class Bodies {
        private final int calls;
        private final String[] tx;
        private final String[] to;
        private final AtomicLong next = new AtomicLong();
        private final WebhookSignature signature = new WebhookSignature(SECRET, Clock.systemUTC());

        Bodies(int calls) {
            this.calls = calls;
            this.tx = new String[calls];
            this.to = new String[calls];
            for (int i = 0; i < calls; i++) {
                tx[i] = String.format("%08x-bbbb-4ccc-8ddd-%012x", i, i * 7919L);
                to[i] = Synthetic.number(i);
            }
        }

        /** Registers every call as placed, as CampaignRun would before its events arrive. */
        void register(CallRegistry registry) {
            FlowConfig flow = FlowConfig.DEFAULT;
            for (int i = 0; i < calls; i++) {
                Attempt attempt = new Attempt("bench-attempt-" + i, CAMPAIGN, new Contact(i, "c" + i, to[i],
                        "Patient " + i, null, Map.of("clinic", "Harbor Clinic")), 1, OriginationsBench.REGION,
                        OriginationsBench.FROM.get(0));
                registry.expect(attempt, CallContext.of(attempt, flow, Duration.ofHours(1)));
                registry.placed(attempt.attemptId(), tx[i]);
            }
        }

        int typicalSize() {
            return body(calls + 5L).length;
        }

        /** The next request: {body, timestamp header, signature header}. */
        Object[] next() {
            byte[] body = body(next.getAndIncrement());
            long ts = signature.nowSeconds();
            return new Object[] {body, Long.toString(ts), signature.sign(ts, body)};
        }

        private byte[] body(long n) {
            int c = (int) (n % calls);
            long k = n / calls;
            boolean answered = k == 0;
            String callId = "c0ffee00-0000-4000-8000-" + tx[c].substring(24);
            StringBuilder sb = new StringBuilder(1100);
            sb.append("{\"SchemaVersion\":\"1.0\",\"Sequence\":").append(k + 3)
                    .append(",\"InvocationEventType\":\"").append(answered ? "CALL_ANSWERED" : "ACTION_SUCCESSFUL")
                    .append("\",");
            if (!answered) {
                sb.append("\"ActionData\":{\"Type\":\"Speak\",\"Parameters\":{\"Text\":\"Hello Patient ").append(c)
                        .append(", this is a reminder call from an automated reminder service. Goodbye.\",\"CallId\":\"")
                        .append(callId).append("\",\"Engine\":\"standard\",\"LanguageCode\":\"en-US\",\"TextType\":\"text\","
                                + "\"VoiceId\":\"Joanna\"}},");
            }
            sb.append("\"CallDetails\":{\"TransactionId\":\"").append(tx[c])
                    .append("\",\"AwsAccountId\":\"123456789012\",\"AwsRegion\":\"us-east-1\",\"SipMediaApplicationId\":\"")
                    .append(OriginationsBench.SMA).append("\",\"Participants\":[{\"CallId\":\"").append(callId)
                    .append("\",\"ParticipantTag\":\"LEG-A\",\"To\":\"").append(to[c])
                    .append("\",\"From\":\"+17035550100\",\"Direction\":\"Outbound\",\"StartTimeInMilliseconds\":\"")
                    .append(1_764_000_000_000L + c).append("\",\"Status\":\"Connected\"}]}}");
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }
    }

    /** The load generator. */
    static final class Load {
        private final HttpClient client;
        private final Bodies bodies;

        Load(HttpClient client, Bodies bodies) {
            this.client = client;
            this.bodies = bodies;
        }

        private Mono<Integer> send() {
            return Mono.defer(() -> send(bodies.next()));
        }

        /** Sends one prepared request ({body, timestamp, signature}). */
        private Mono<Integer> send(Object[] r) {
            return Mono.defer(() -> {
                byte[] body = (byte[]) r[0];
                return client.post().uri(PATH)
                        .send((req, out) -> {
                            req.header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                                    .header(WebhookSignature.TIMESTAMP_HEADER, (String) r[1])
                                    .header(WebhookSignature.SIGNATURE_HEADER, (String) r[2]);
                            return out.sendByteArray(Mono.just(body));
                        })
                        .responseSingle((res, content) -> content.asByteArray().defaultIfEmpty(new byte[0])
                                .map(b -> res.status().code()));
            });
        }

        /** Open model: {@code rate} requests per second for {@code duration}, latency from the intended send time. */
        Stats open(int rate, Duration duration) throws InterruptedException {
            int total = (int) Math.max(1, rate * duration.toNanos() / 1_000_000_000L);
            // Built and signed beforehand, so the pacing thread only sends (signing costs microseconds each).
            Object[][] prepared = new Object[total][];
            for (int k = 0; k < total; k++) {
                prepared[k] = bodies.next();
            }
            long[] latencies = new long[total];
            AtomicInteger done = new AtomicInteger();
            AtomicLong errors = new AtomicLong();
            double interval = 1e9 / rate;
            long start = System.nanoTime();
            // One chain for the whole phase: the pacing loop below only emits the index of each request when
            // its time comes, and flatMap sends it at once with no bound on the number in flight (an open
            // model does not wait for answers). The phase is done when every send has ended.
            Sinks.Many<Integer> due = Sinks.many().unicast().onBackpressureBuffer();
            CompletableFuture<Void> finished = due.asFlux()
                    .flatMap(k -> {
                        long intended = start + (long) (k * interval);
                        return send(prepared[k]).doOnNext(status -> {
                            if (status == 200) {
                                latencies[done.getAndIncrement()] = System.nanoTime() - intended;
                            } else {
                                errors.incrementAndGet();
                            }
                        }).onErrorResume(e -> {
                            errors.incrementAndGet();
                            return Mono.empty();
                        });
                    }, Integer.MAX_VALUE)
                    .then()
                    .toFuture();
            int i = 0;
            while (i < total) {
                long now = System.nanoTime();
                while (i < total && start + (long) (i * interval) <= now) {
                    // Only this thread emits, so the emission cannot fail for concurrent use.
                    due.tryEmitNext(i).orThrow();
                    i++;
                }
                LockSupport.parkNanos(Math.min(1_000_000L, Math.max(20_000L, (long) interval)));
            }
            due.tryEmitComplete().orThrow();
            try {
                finished.get(duration.toSeconds() + 60, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                finished.cancel(true);
                throw new IllegalStateException("open-model phase did not finish", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("open-model phase failed", e.getCause());
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            int n = done.get();
            return stats(latencies, n, n / seconds, errors.get());
        }

        /** Closed model: {@code connections} loops, each sending its next request when its answer arrives. */
        Stats closed(int connections, Duration duration) {
            long[] latencies = new long[4_000_000];
            AtomicInteger done = new AtomicInteger();
            AtomicLong errors = new AtomicLong();
            long start = System.nanoTime();
            long end = start + duration.toNanos();
            Flux.range(0, connections)
                    .flatMap(w -> Mono.defer(() -> {
                        long t = System.nanoTime();
                        return send().doOnNext(status -> {
                            if (status == 200) {
                                int k = done.getAndIncrement();
                                if (k < latencies.length) {
                                    latencies[k] = System.nanoTime() - t;
                                }
                            } else {
                                errors.incrementAndGet();
                            }
                        }).onErrorResume(e -> {
                            errors.incrementAndGet();
                            return Mono.empty();
                        });
                    }).repeat(() -> System.nanoTime() < end), connections)
                    .then()
                    .block(duration.plusSeconds(60));
            double seconds = (System.nanoTime() - start) / 1e9;
            int n = done.get();
            return stats(latencies, Math.min(n, latencies.length), n / seconds, errors.get());
        }

        private static Stats stats(long[] latencies, int n, double perSecond, long errors) {
            if (n == 0) {
                return new Stats(perSecond, 0, 0, errors);
            }
            long[] sorted = Arrays.copyOf(latencies, n);
            Arrays.sort(sorted);
            return new Stats(perSecond, sorted[(int) Math.min(n - 1, Math.floor(n * 0.50))] / 1e6,
                    sorted[(int) Math.min(n - 1, Math.floor(n * 0.99))] / 1e6, errors);
        }
    }
}
