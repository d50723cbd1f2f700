package io.chimedialer.app.http;

import static org.assertj.core.api.Assertions.assertThat;

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

/** What the HTTP server hands the webhook endpoint of a delivery, over real HTTP on port 0. */
class DialerHttpServerWebhookTest {

    private record Seen(String timestamp, String signature, String sentAt, String body) {
    }

    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private PrometheusMeterRegistry registry;
    private DialerHttpServer server;

    @BeforeEach
    void start() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        WebhookEndpoint webhook = new WebhookEndpoint() {
            @Override
            public Mono<Reply> handle(String timestamp, String signature, byte[] body) {
                return handle(timestamp, signature, null, body);
            }

            @Override
            public Mono<Reply> handle(String timestamp, String signature, String sentAt, byte[] body) {
                seen.add(new Seen(timestamp, signature, sentAt, new String(body, StandardCharsets.UTF_8)));
                return Mono.just(new Reply(200, "{}".getBytes(StandardCharsets.UTF_8)));
            }
        };
        server = new DialerHttpServer(new DialerHttpServer.Settings("127.0.0.1", 0, webhook, null, "token",
                registry, () -> true)).start();
    }

    @AfterEach
    void stop() {
        server.close();
        registry.close();
    }

    private int post(String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/v1/sma/invocations"))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString("{\"Sequence\":1}"));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void delivery_signingHeadersAndSentAt_reachTheEndpoint() throws Exception {
        assertThat(post("X-Dialer-Timestamp", "1765033690", "X-Dialer-Signature", "v1=ab",
                "X-Dialer-Sent-At", "1765033690123")).isEqualTo(200);
        assertThat(post()).isEqualTo(200);

        assertThat(seen).containsExactly(
                new Seen("1765033690", "v1=ab", "1765033690123", "{\"Sequence\":1}"),
                new Seen(null, null, null, "{\"Sequence\":1}"));
    }
}
