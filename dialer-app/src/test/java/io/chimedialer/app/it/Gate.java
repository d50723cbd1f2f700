package io.chimedialer.app.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.ConnectionProvider;

/**
 * A stand-in for a load balancer in front of a dialer node, on 127.0.0.1 and an ephemeral port: it forwards
 * each POST (body and signature headers unchanged) to the target and relays the answer, except while the
 * node is "down", when it answers 503 and remembers the invocation's TransactionId. Without a target it is
 * a node that is always down. The outage is driven by counts, not time: it starts once {@code downAfter}
 * requests were forwarded and ends after {@code downFor} requests were refused.
 */
final class Gate implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI target;
    private final long downAfter;
    private final long downFor;
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final Set<String> refusedTransactions = ConcurrentHashMap.newKeySet();
    private final ConnectionProvider pool = ConnectionProvider.builder("gate").maxConnections(512)
            .pendingAcquireMaxCount(-1).build();
    private final HttpClient client = HttpClient.create(pool);
    private final DisposableServer server;
    private boolean outageStarted;
    private boolean outageOver;

    /** A gate to {@code target} that never goes down ({@code downAfter} = -1), or always down (target null). */
    Gate(URI target, long downAfter, long downFor) {
        this.target = target;
        this.downAfter = downAfter;
        this.downFor = downFor;
        this.server = HttpServer.create().host("127.0.0.1").port(0)
                .handle((req, res) -> req.receive().aggregate().asByteArray().defaultIfEmpty(new byte[0])
                        .flatMap(body -> {
                            if (down()) {
                                refused.incrementAndGet();
                                refusedTransactions.add(transactionId(body));
                                return res.status(HttpResponseStatus.SERVICE_UNAVAILABLE).send().then();
                            }
                            forwarded.incrementAndGet();
                            String ts = req.requestHeaders().get("X-Dialer-Timestamp");
                            String sig = req.requestHeaders().get("X-Dialer-Signature");
                            String sentAt = req.requestHeaders().get("X-Dialer-Sent-At");
                            return client.headers(h -> {
                                        h.set("Content-Type", "application/json");
                                        if (sentAt != null) {
                                            h.set("X-Dialer-Sent-At", sentAt);
                                        }
                                        if (ts != null) {
                                            h.set("X-Dialer-Timestamp", ts);
                                        }
                                        if (sig != null) {
                                            h.set("X-Dialer-Signature", sig);
                                        }
                                    })
                                    .post().uri(target).send((r, out) -> out.sendByteArray(Mono.just(body)))
                                    .responseSingle((r, b) -> b.asByteArray().defaultIfEmpty(new byte[0])
                                            .map(bytes -> new Answer(r.status().code(), bytes)))
                                    .flatMap(a -> res.status(a.status).header("Content-Type", "application/json")
                                            .sendByteArray(Mono.just(a.body)).then());
                        }))
                .bindNow(Duration.ofSeconds(10));
    }

    private record Answer(int status, byte[] body) {
    }

    private synchronized boolean down() {
        if (target == null) {
            return true;
        }
        if (downAfter < 0 || outageOver) {
            return false;
        }
        if (!outageStarted && forwarded.get() >= downAfter) {
            outageStarted = true;
        }
        if (outageStarted && refused.get() >= downFor) {
            outageOver = true;
            return false;
        }
        return outageStarted;
    }

    private static String transactionId(byte[] body) {
        try {
            return JSON.readTree(body).path("CallDetails").path("TransactionId").asText("?");
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    /** Its webhook URL. */
    URI url() {
        return URI.create("http://127.0.0.1:" + server.port() + "/v1/sma/invocations");
    }

    long forwarded() {
        return forwarded.get();
    }

    long refused() {
        return refused.get();
    }

    /** TransactionIds of the invocations answered 503. */
    Set<String> refusedTransactions() {
        return Set.copyOf(refusedTransactions);
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
        pool.disposeLater().block(Duration.ofSeconds(5));
    }
}
