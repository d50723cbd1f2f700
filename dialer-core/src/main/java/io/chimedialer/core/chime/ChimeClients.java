package io.chimedialer.core.chime;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.chimesdkvoice.ChimeSdkVoiceAsyncClient;
import software.amazon.awssdk.services.chimesdkvoice.ChimeSdkVoiceAsyncClientBuilder;

/**
 * One {@link ChimeSdkVoiceAsyncClient} per Region, each on its own {@link NettyNioAsyncHttpClient} and its
 * own event-loop group (owned and shut down here), with the SDK's retries turned off (Create has no idempotency token, so an SDK
 * retry after a 5xx or a timeout could dial a callee twice; retrying is the pipeline's decision).
 *
 * <p>Thread-safe. {@link #close()} closes every client, its HTTP client and its event loop.
 */
public final class ChimeClients implements AutoCloseable {

    private static final long QUIET_SHUTDOWN_SECONDS = 5;

    private final Map<String, ChimeSdkVoiceAsyncClient> clients;
    private final List<EventLoopGroup> groups;

    private ChimeClients(Map<String, ChimeSdkVoiceAsyncClient> clients, List<EventLoopGroup> groups) {
        this.clients = clients;
        this.groups = groups;
    }

    /**
     * Builds the clients.
     *
     * @param regions     the Regions; a Region's {@code endpoint}, when set, overrides the AWS endpoint
     * @param credentials {@code DefaultCredentialsProvider} for AWS, a static provider for the emulator
     * @param settings    pool, event-loop and timeout settings
     */
    public static ChimeClients create(Collection<RegionConfig> regions, AwsCredentialsProvider credentials,
                                      ChimeClientSettings settings) {
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(settings, "settings");
        Map<String, ChimeSdkVoiceAsyncClient> built = new LinkedHashMap<>();
        List<EventLoopGroup> groups = new ArrayList<>();
        ChimeClients result = new ChimeClients(built, groups);
        try {
            for (RegionConfig region : regions) {
                if (built.containsKey(region.name())) {
                    throw new IllegalArgumentException("duplicate Region " + region.name());
                }
                // Each Region gets its own event loop, so one Region's traffic never delays another's.
                // Owned here (not by the SDK) so that close() can shut it down without Netty's 2 s quiet period.
                EventLoopGroup group = newGroup(settings.eventLoopThreads(), region.name());
                groups.add(group);
                built.put(region.name(), build(region, credentials, settings, group));
            }
        } catch (RuntimeException e) {
            try {
                result.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new ChimeClients(Map.copyOf(built), List.copyOf(groups));
    }

    // NioEventLoopGroup is deprecated in Netty 4.2, but the SDK (built against 4.1) recognizes only its
    // known group classes (it rejects MultiThreadIoEventLoopGroup); it creates this same class itself.
    @SuppressWarnings("deprecation")
    private static EventLoopGroup newGroup(int threads, String region) {
        return new io.netty.channel.nio.NioEventLoopGroup(threads, new DefaultThreadFactory("chime-" + region, true));
    }

    private static ChimeSdkVoiceAsyncClient build(RegionConfig region, AwsCredentialsProvider credentials,
                                                  ChimeClientSettings settings, EventLoopGroup group) {
        int pool = settings.poolSizeFor(region.maxActiveCalls());
        NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder()
                .eventLoopGroup(SdkEventLoopGroup.create(group, NioSocketChannel::new))
                .maxConcurrency(pool)
                // Waiters beyond the pool fail fast as NotSent instead of queueing without bound.
                .maxPendingConnectionAcquires(pool * 4)
                .connectionTimeout(settings.connectionTimeout())
                .connectionAcquisitionTimeout(settings.connectionAcquireTimeout());
        ClientOverrideConfiguration override = ClientOverrideConfiguration.builder()
                .retryStrategy(AwsRetryStrategy.doNotRetry())
                .apiCallTimeout(settings.apiCallTimeout())
                .build();
        ChimeSdkVoiceAsyncClientBuilder builder = ChimeSdkVoiceAsyncClient.builder()
                .region(Region.of(region.name()))
                .credentialsProvider(credentials)
                .httpClientBuilder(http)
                .overrideConfiguration(override);
        if (region.endpoint() != null) {
            builder.endpointOverride(region.endpoint());
        }
        return builder.build();
    }

    /**
     * The client of a Region.
     *
     * @throws IllegalArgumentException when the Region was not configured
     */
    public ChimeSdkVoiceAsyncClient client(String region) {
        ChimeSdkVoiceAsyncClient client = clients.get(region);
        if (client == null) {
            throw new IllegalArgumentException("no Chime client for Region " + region);
        }
        return client;
    }

    /** The configured Region names. */
    public List<String> regions() {
        return new ArrayList<>(clients.keySet());
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (ChimeSdkVoiceAsyncClient client : clients.values()) {
            try {
                client.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        for (EventLoopGroup group : groups) {
            // Called by the composition root on shutdown, never on an event loop: a bounded wait is fine.
            group.shutdownGracefully(0, QUIET_SHUTDOWN_SECONDS, TimeUnit.SECONDS)
                    .awaitUninterruptibly(QUIET_SHUTDOWN_SECONDS, TimeUnit.SECONDS);
        }
        if (first != null) {
            throw first;
        }
    }
}
