package io.chimedialer.core.chime;

import io.chimedialer.core.config.RegionConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 * own event-loop group, with the SDK's retries turned off (Create has no idempotency token, so an SDK
 * retry after a 5xx or a timeout could dial a callee twice; retrying is the pipeline's decision).
 *
 * <p>Thread-safe. {@link #close()} closes every client, its HTTP client and its event loop.
 */
public final class ChimeClients implements AutoCloseable {

    private final Map<String, ChimeSdkVoiceAsyncClient> clients;

    private ChimeClients(Map<String, ChimeSdkVoiceAsyncClient> clients) {
        this.clients = clients;
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
        try {
            for (RegionConfig region : regions) {
                if (built.containsKey(region.name())) {
                    throw new IllegalArgumentException("duplicate Region " + region.name());
                }
                built.put(region.name(), build(region, credentials, settings));
            }
        } catch (RuntimeException e) {
            built.values().forEach(ChimeSdkVoiceAsyncClient::close);
            throw e;
        }
        return new ChimeClients(Map.copyOf(built));
    }

    private static ChimeSdkVoiceAsyncClient build(RegionConfig region, AwsCredentialsProvider credentials,
                                                  ChimeClientSettings settings) {
        int pool = settings.poolSizeFor(region.maxActiveCalls());
        NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder()
                // A builder (not a group): the HTTP client then owns its group and shuts it down on close.
                .eventLoopGroupBuilder(SdkEventLoopGroup.builder().numberOfThreads(settings.eventLoopThreads()))
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
        if (first != null) {
            throw first;
        }
    }
}
