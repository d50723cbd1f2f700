package io.chimedialer.lambda;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * A stand-in for the dialer's webhook on 127.0.0.1, port 0: records every request and answers with a
 * scripted reply per request number (1-based). A delayed reply waits on a latch that {@link #close()}
 * releases, so a slow stub never holds a test up.
 */
final class StubDialer implements AutoCloseable {

    /** One request as received. */
    record Received(String method, String path, Headers headers, byte[] body, int remotePort) {
        String header(String name) {
            return headers.getFirst(name);
        }
    }

    /** A scripted reply; {@code status < 0} closes the connection without answering. */
    record Reply(int status, byte[] body, Duration delay) {
        static Reply ok(String json) {
            return new Reply(200, json.getBytes(StandardCharsets.UTF_8), Duration.ZERO);
        }

        static Reply ok(byte[] json) {
            return new Reply(200, json, Duration.ZERO);
        }

        static Reply status(int status, String body) {
            return new Reply(status, body.getBytes(StandardCharsets.UTF_8), Duration.ZERO);
        }

        static Reply slow(Duration delay) {
            return new Reply(200, "{\"SchemaVersion\":\"1.0\",\"Actions\":[]}".getBytes(StandardCharsets.UTF_8),
                    delay);
        }

        static Reply drop() {
            return new Reply(-1, new byte[0], Duration.ZERO);
        }
    }

    static final String DEFAULT_ANSWER = "{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"Pause\","
            + "\"Parameters\":{\"DurationInMilliseconds\":\"100\"}}]}";

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final CountDownLatch released = new CountDownLatch(1);
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final IntFunction<Reply> script;

    private StubDialer(IntFunction<Reply> script) throws IOException {
        this.script = script;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** A stub answering every request with {@code reply}. */
    static StubDialer answering(Reply reply) throws IOException {
        return new StubDialer(n -> reply);
    }

    /** A stub answering request {@code n} (1-based) with {@code script.apply(n)}. */
    static StubDialer scripted(IntFunction<Reply> script) throws IOException {
        return new StubDialer(script);
    }

    /** The webhook URL of this stub. */
    URI url() {
        return URI.create(base() + BridgeConfig.INVOCATIONS_PATH);
    }

    /** {@code http://127.0.0.1:<port>}. */
    String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    List<Received> received() {
        return List.copyOf(received);
    }

    /** A URL on 127.0.0.1 where nothing listens (the port was just free). */
    static URI refusedUrl() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = socket.getLocalPort();
        }
        return URI.create("http://127.0.0.1:" + port + BridgeConfig.INVOCATIONS_PATH);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            Headers copy = new Headers();
            copy.putAll(exchange.getRequestHeaders());
            received.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), copy, body,
                    exchange.getRemoteAddress().getPort()));
            Reply reply = script.apply(received.size());
            if (!reply.delay().isZero()) {
                try {
                    released.await(reply.delay().toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (reply.status() < 0) {
                return; // closing the exchange unanswered drops the connection
            }
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(reply.status(), reply.body().length == 0 ? -1 : reply.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(reply.body());
            }
        }
    }

    @Override
    public void close() {
        released.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
