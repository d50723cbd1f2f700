package io.chimedialer.emulator.internal;

import io.chimedialer.emulator.SmaEndpoint;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import javax.crypto.Mac;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * The SMA endpoint as an HTTP webhook: POSTs each invocation, signed, and treats any non-2xx status as
 * a failed delivery. Thread-safe; {@link #close()} releases its connection pool.
 */
public final class HttpWebhookEndpoint implements SmaEndpoint, AutoCloseable {
    private final URI url;
    private final String secret;
    private final ConnectionProvider pool;
    private final HttpClient client;
    private final ThreadLocal<Mac> macs;

    public HttpWebhookEndpoint(URI url, String secret, LoopResources loops) {
        this.url = url;
        this.secret = secret;
        this.macs = ThreadLocal.withInitial(() -> WebhookSigner.newMac(this.secret));
        this.pool = ConnectionProvider.builder("chime-emulator-webhook")
                .maxConnections(512)
                .pendingAcquireMaxCount(-1)
                .pendingAcquireTimeout(Duration.ofMinutes(5))
                .maxIdleTime(Duration.ofSeconds(30))
                .build();
        this.client = HttpClient.create(pool).runOn(loops);
    }

    public URI url() {
        return url;
    }

    @Override
    public Mono<byte[]> invoke(byte[] requestJson) {
        return Mono.defer(() -> {
            Instant now = Instant.now();
            long ts = now.getEpochSecond();
            String sig = WebhookSigner.signature(macs.get(), ts, requestJson);
            // Sent-At (milliseconds, within the signed second) lets the dialer see a wait under 1 s in this
            // client's pool and sockets, as the Lambda bridge's does.
            return client.headers(h -> h.set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                            .set(WebhookSigner.TIMESTAMP_HEADER, Long.toString(ts))
                            .set(WebhookSigner.SENT_AT_HEADER, Long.toString(now.toEpochMilli()))
                            .set(WebhookSigner.SIGNATURE_HEADER, sig))
                    .post()
                    .uri(url)
                    .send((req, out) -> out.sendByteArray(Mono.just(requestJson)))
                    .responseSingle((res, body) -> {
                        int code = res.status().code();
                        Mono<byte[]> bytes = body.asByteArray().defaultIfEmpty(new byte[0]);
                        if (code / 100 == 2) {
                            return bytes;
                        }
                        return bytes.then(Mono.error(new IllegalStateException("webhook answered HTTP " + code)));
                    });
        });
    }

    @Override
    public void close() {
        pool.dispose();
    }
}
