package io.chimedialer.emulator.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.LoopResources;
import reactor.test.StepVerifier;

class HttpWebhookEndpointTest {
    private static final String SECRET = "shh";
    private final AtomicReference<String> timestamp = new AtomicReference<>();
    private final AtomicReference<String> signature = new AtomicReference<>();
    private final AtomicReference<String> sentAt = new AtomicReference<>();
    private final AtomicReference<String> contentType = new AtomicReference<>();
    private final AtomicReference<String> body = new AtomicReference<>();
    private LoopResources loops;
    private DisposableServer server;
    private HttpWebhookEndpoint endpoint;

    @BeforeEach
    void setUp() {
        loops = LoopResources.create("endpoint-test", 1, true);
        server = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r.post("/ok", (req, res) -> req.receive().aggregate().asString().flatMap(b -> {
                            timestamp.set(req.requestHeaders().get("X-Dialer-Timestamp"));
                            signature.set(req.requestHeaders().get("X-Dialer-Signature"));
                            sentAt.set(req.requestHeaders().get("X-Dialer-Sent-At"));
                            contentType.set(req.requestHeaders().get("Content-Type"));
                            body.set(b);
                            return res.sendString(Mono.just("{\"SchemaVersion\":\"1.0\"}")).then();
                        }))
                        .post("/broken", (req, res) -> req.receive().then(res.status(500).sendString(Mono.just("oops")).then())))
                .bindNow(Duration.ofSeconds(10));
    }

    @AfterEach
    void tearDown() {
        if (endpoint != null) {
            endpoint.close();
        }
        server.disposeNow(Duration.ofSeconds(5));
        loops.disposeLater(Duration.ZERO, Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + ((InetSocketAddress) server.address()).getPort() + path);
    }

    @Test
    void invoke_2xx_emitsTheBodyOfASignedPost() throws Exception {
        endpoint = new HttpWebhookEndpoint(uri("/ok"), SECRET, loops);
        byte[] request = "{\"Sequence\":1}".getBytes(StandardCharsets.UTF_8);

        StepVerifier.create(endpoint.invoke(request).map(b -> new String(b, StandardCharsets.UTF_8)))
                .expectNext("{\"SchemaVersion\":\"1.0\"}")
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(body.get()).isEqualTo("{\"Sequence\":1}");
        assertThat(contentType.get()).isEqualTo("application/json");
        long ts = Long.parseLong(timestamp.get());
        assertThat(Math.abs(ts - Instant.now().getEpochSecond())).isLessThan(300);
        // The send time in milliseconds, within the signed second.
        assertThat(Long.parseLong(sentAt.get()) / 1000).isEqualTo(ts);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String expected = "v1=" + HexFormat.of().formatHex(mac.doFinal((ts + "." + "{\"Sequence\":1}").getBytes(StandardCharsets.UTF_8)));
        assertThat(signature.get()).isEqualTo(expected);
        assertThat(WebhookSigner.signature(SECRET, ts, request)).isEqualTo(expected);
    }

    @Test
    void invoke_non2xx_failsTheDelivery() {
        endpoint = new HttpWebhookEndpoint(uri("/broken"), SECRET, loops);

        StepVerifier.create(endpoint.invoke(new byte[] {'{', '}'}))
                .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("500"))
                .verify(Duration.ofSeconds(10));
    }
}
