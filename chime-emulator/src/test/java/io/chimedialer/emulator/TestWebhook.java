package io.chimedialer.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.testkit.Await;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A test SMA webhook on 127.0.0.1:0: checks every request's signature independently of the emulator's
 * signer, records the invocation bodies, and answers with a per-test responder.
 */
final class TestWebhook implements AutoCloseable {
    static final String SECRET = "test-secret";
    static final String NO_ACTIONS = "{\"SchemaVersion\":\"1.0\",\"Actions\":[]}";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final List<JsonNode> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger badSignatures = new AtomicInteger();
    private final boolean record;
    private final DisposableServer server;

    TestWebhook(Function<JsonNode, Mono<String>> responder) {
        this(responder, true);
    }

    TestWebhook(Function<JsonNode, Mono<String>> responder, boolean record) {
        this.record = record;
        this.server = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r.post("/v1/sma/invocations", (req, res) -> req.receive().aggregate().asByteArray()
                        .flatMap(body -> {
                            String ts = req.requestHeaders().get("X-Dialer-Timestamp");
                            String sig = req.requestHeaders().get("X-Dialer-Signature");
                            if (ts == null || sig == null || !sig.equals(sign(ts, body))) {
                                badSignatures.incrementAndGet();
                                return res.status(401).send().then();
                            }
                            JsonNode event;
                            try {
                                event = MAPPER.readTree(body);
                            } catch (java.io.IOException e) {
                                return res.status(400).send().then();
                            }
                            if (this.record) {
                                received.add(event);
                            }
                            return responder.apply(event)
                                    .flatMap(reply -> res.header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                                            .sendString(Mono.just(reply)).then());
                        })))
                .bindNow(Duration.ofSeconds(10));
    }

    private static String sign(String ts, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((ts + ".").getBytes(StandardCharsets.UTF_8));
            return "v1=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + ((InetSocketAddress) server.address()).getPort() + "/v1/sma/invocations");
    }

    List<JsonNode> received() {
        return List.copyOf(received);
    }

    int badSignatures() {
        return badSignatures.get();
    }

    /** Waits (bounded) until an invocation matching the predicate has arrived. */
    JsonNode await(Predicate<JsonNode> p, Duration timeout) {
        return Await.upTo(timeout, "a matching invocation").pollEvery(Duration.ofMillis(5))
                .withContext(() -> "received " + received)
                .untilValue(() -> received.stream().filter(p).findFirst().orElse(null), Objects::nonNull);
    }

    static String reply(String actionsJson) {
        return "{\"SchemaVersion\":\"1.0\",\"Actions\":" + actionsJson + "}";
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }
}
