package io.chimedialer.app.notifications;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * {@link NoticeTransport} over reactor-netty's HttpClient with a small pool of its own, released by
 * {@link #close()}. Redirects are not followed (a 3xx is the receiver's answer); {@code https} URLs use the JVM's
 * trust store.
 */
final class NettyTransport implements NoticeTransport, AutoCloseable {
    private final ConnectionProvider pool;
    private final HttpClient client;

    NettyTransport(Duration timeout) {
        // Notices are rare: a handful of connections, closed when idle rather than held open between campaigns.
        pool = ConnectionProvider.builder("dialer-notifications").maxConnections(8)
                .pendingAcquireMaxCount(1000).maxIdleTime(Duration.ofSeconds(30)).build();
        client = HttpClient.create(pool)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .responseTimeout(timeout)
                .followRedirect(false);
    }

    @Override
    public Mono<Integer> post(URI url, Map<String, String> headers, byte[] body) {
        return client.headers(h -> headers.forEach(h::set))
                .post()
                .uri(url)
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body)))
                // The answer's body is read and released; only its status matters.
                .responseSingle((response, content) -> content.asString().defaultIfEmpty("")
                        .thenReturn(response.status().code()));
    }

    @Override
    public void close() {
        pool.disposeLater().block(Duration.ofSeconds(5));
    }
}
