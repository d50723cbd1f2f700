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
        long expected = (s.webhookFixedRate() * phaseSeconds + 80_000L * phaseSeconds * s.rounds()
                + 80_000L * s.warmup().toSeconds()) * 2;
        int calls = (int) Math.max(1_000, expected / 800);
        Bodies bodies = new Bodies(calls);
        LoopResources loops = LoopResources.create("bench-load", 2, true);
        DisposableServer bareServer = bareServer(json);
        RegionConfig region = new RegionConfig(OriginationsBench.REGION, OriginationsBench.SMA, 100, 1, 1_000,
                5, OriginationsBench.FROM, URI.create("http://127.0.0.1:9"));
        try (DialerRuntime runtime = DialerRuntime.start(new DialerRuntime.Options(List.of(region),
                OriginationsBench.CREDENTIALS, "jdbc:sqlite:" + work.resolve("webhook.db"), SECRET, "127.0.0.1", 0,
                null, false, null, null));
             Side bare = new Side(s, URI.create("http://127.0.0.1:" + bareServer.port()), bodies, loops, "bare handler");
             Side dialerSide = new Side(s, URI.create("http://127.0.0.1:" + runtime.port()), bodies, loops, "dialer")) {
            bodies.register(runtime.calls());
            // Both servers' JIT first, then the fixed offered load once each, then the interleaved saturation rounds.
            bare.load.closed(s.webhookConnections(), s.warmup());
            dialerSide.load.closed(s.webhookConnections(), s.warmup());
            Stats bareFixed = bare.load.open(s.webhookFixedRate(), s.webhookPhase());
            Stats dialerFixed = dialerSide.load.open(s.webhookFixedRate(), s.webhookPhase());
            for (Side side : List.of(bare, dialerSide)) {
                Stats f = side == bare ? bareFixed : dialerFixed;
                log.printf("  webhook %-12s fixed %,d/s offered: %,.0f/s p50 %.2f ms p99 %.2f ms p99.9 %.2f ms, "
                                + "%d after 1 s, %d after 5 s (%d errors)%n", side.name, s.webhookFixedRate(),
                        f.perSecond, f.p50Ms, f.p99Ms, f.p999Ms, f.over1s, f.over5s, f.errors);
            }
            Rounds rounds = new Rounds();
            long bareErrors = 0;
            long dialerErrors = 0;
            for (int i = 1; i <= s.rounds(); i++) {
                Stats b = bare.load.closed(s.webhookConnections(), s.webhookPhase());
                Stats d = dialerSide.load.closed(s.webhookConnections(), s.webhookPhase());
                log.printf("  webhook round %d: saturation bare %,.0f/s (p99 %.2f ms), dialer %,.0f/s (p99 %.2f ms)%n",
                        i, b.perSecond, b.p99Ms, d.perSecond, d.p99Ms);
                ObjectNode detail = Rounds.detail();
                detail.put("p50Ms", d.p50Ms);
                detail.put("p99Ms", d.p99Ms);
                detail.put("p999Ms", d.p999Ms);
                detail.put("errors", d.errors);
                detail.put("bareP50Ms", b.p50Ms);
                detail.put("bareP99Ms", b.p99Ms);
                detail.put("bareErrors", b.errors);
                rounds.add(b.perSecond, d.perSecond, detail);
                bareErrors += b.errors;
                dialerErrors += d.errors;
            }
            log.printf("  webhook: ratio %s%n", rounds.describeRatio());
            ObjectNode dialer = sideJson(dialerFixed, rounds, "", dialerErrors);
            dialer.put("handlerAnswered", runtime.webhook().stats().answered());
            dialer.put("handlerUnknownCalls", runtime.webhook().stats().unknownCalls());
            dialer.put("handlerUnauthorized", runtime.webhook().stats().unauthorized());
            ObjectNode bareJson = sideJson(bareFixed, rounds, "bare", bareErrors);
            bareJson.put("saturationPerSecond", rounds.medianCeiling());
            ObjectNode o = json.createObjectNode();
            rounds.writeTo(o, "perSecond");
            o.put("p50Ms", dialer.get("saturationP50Ms").asDouble());
            o.put("p99Ms", dialer.get("saturationP99Ms").asDouble());
            o.put("fixedOfferedPerSecond", s.webhookFixedRate());
            o.put("fixedPerSecond", dialerFixed.perSecond);
            o.put("fixedP50Ms", dialerFixed.p50Ms);
            o.put("fixedP99Ms", dialerFixed.p99Ms);
            o.put("fixedP999Ms", dialerFixed.p999Ms);
            o.put("fixedOver1s", dialerFixed.over1s);
            o.put("fixedOver5s", dialerFixed.over5s);
            o.put("connections", s.webhookConnections());
            o.put("bodyBytes", bodies.typicalSize());
            o.set("dialer", dialer);
            o.put("ceilingIs", "bare reactor-netty handler parsing the same JSON with Jackson, requests/s at saturation "
                    + "(median of the rounds)");
            o.set("bare", bareJson);
            return o;
        } finally {
            bareServer.disposeNow(Duration.ofSeconds(10));
            loops.disposeLater().block(Duration.ofSeconds(10));
        }
    }

    /** One server's figures: its fixed-load phase, and the medians of its saturation rounds. */
    private static ObjectNode sideJson(Stats fixed, Rounds rounds, String prefix, long saturationErrors) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("fixedPerSecond", fixed.perSecond);
        o.put("fixedP50Ms", fixed.p50Ms);
        o.put("fixedP99Ms", fixed.p99Ms);
        o.put("fixedP999Ms", fixed.p999Ms);
        o.put("fixedOver1s", fixed.over1s);
        o.put("fixedOver5s", fixed.over5s);
        o.put("fixedErrors", fixed.errors);
        String p50 = prefix.isEmpty() ? "p50Ms" : prefix + "P50Ms";
        String p99 = prefix.isEmpty() ? "p99Ms" : prefix + "P99Ms";
        o.put("saturationPerSecond", rounds.medianMeasured());
        o.put("saturationP50Ms", Rounds.median(rounds.rounds().stream()
                .mapToDouble(r -> r.detail().path(p50).asDouble()).toArray()));
        o.put("saturationP99Ms", Rounds.median(rounds.rounds().stream()
                .mapToDouble(r -> r.detail().path(p99).asDouble()).toArray()));
        o.put("saturationErrors", saturationErrors);
        return o;
    }

    /** A load generator with its own connection pool, aimed at one server. */
    private static final class Side implements AutoCloseable {
        final String name;
        final ConnectionProvider pool;
        final Load load;

        Side(BenchSettings s, URI base, Bodies bodies, LoopResources loops, String name) {
            this.name = name;
            this.pool = ConnectionProvider.builder("bench-" + name.replace(' ', '-'))
                    .maxConnections(s.webhookConnections()).pendingAcquireMaxCount(-1).build();
            this.load = new Load(HttpClient.create(pool).runOn(loops).baseUrl(base.toString()), bodies);
        }

        @Override
        public void close() {
            pool.disposeLater().block(Duration.ofSeconds(10));
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

    /** Figures of one phase. */
    record Stats(double perSecond, double p50Ms, double p99Ms, double p999Ms, long over1s, long over5s,
                 long errors) {
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

        static Stats stats(long[] latencies, int n, double perSecond, long errors) {
            if (n == 0) {
                return new Stats(perSecond, 0, 0, 0, 0, 0, errors);
            }
            long[] sorted = Arrays.copyOf(latencies, n);
            Arrays.sort(sorted);
            long over1s = 0;
            long over5s = 0;
            for (int i = n - 1; i >= 0 && sorted[i] > 1_000_000_000L; i--) {
                over1s++;
                if (sorted[i] > 5_000_000_000L) {
                    over5s++;
                }
            }
            return new Stats(perSecond, quantile(sorted, 0.50) / 1e6, quantile(sorted, 0.99) / 1e6,
                    quantile(sorted, 0.999) / 1e6, over1s, over5s, errors);
        }

        /** The value at quantile q of sorted values (nearest rank). */
        static long quantile(long[] sorted, double q) {
            int n = sorted.length;
            return sorted[(int) Math.min(n - 1, Math.max(0, Math.ceil(n * q) - 1))];
        }
    }
}
