package io.chimedialer.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.app.config.Secret;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A completion notice receiver on 127.0.0.1 (reactor-netty's HttpServer, port 0) for integration tests: it keeps
 * every POST to {@code /hooks/dialer} as received, and answers 503 to the first {@link #unavailableFirst} ones, then
 * 200. {@link #close()} stops it.
 */
final class NoticeReceiver implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One POST as the receiver got it: headers (case-insensitive), the raw body, and when it arrived. */
    record Received(Map<String, String> headers, byte[] body, Instant at) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger unavailable = new AtomicInteger();
    private final DisposableServer server;

    NoticeReceiver() {
        server = HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes.post("/hooks/dialer", (request, response) -> request.receive().aggregate()
                        .asByteArray().defaultIfEmpty(new byte[0])
                        .flatMap(body -> {
                            Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                            request.requestHeaders().forEach(h -> headers.put(h.getKey(), h.getValue()));
                            received.add(new Received(headers, body, Instant.now()));
                            return response.status(unavailable.getAndDecrement() > 0 ? 503 : 200).send().then();
                        })))
                .bindNow(Duration.ofSeconds(10));
    }

    /** The next {@code n} requests are answered 503. */
    NoticeReceiver unavailableFirst(int n) {
        unavailable.set(n);
        return this;
    }

    /** Every request so far, in arrival order. */
    List<Received> received() {
        return List.copyOf(received);
    }

    /**
     * Settings that send here with a short schedule (5 attempts, 200 ms doubling to 2 s, 5 s per attempt). The query
     * string stands for a receiver's token: it is sent, never logged.
     */
    DialerConfig.Notifications settings(Secret secret) {
        return new DialerConfig.Notifications(URI.create("http://127.0.0.1:" + server.port()
                + "/hooks/dialer?token=it"), secret, 5, Duration.ofMillis(200), Duration.ofSeconds(2),
                Duration.ofSeconds(5));
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(10));
    }
}
