package io.chimedialer.core.chime;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link ChimeClients} builds each Region's SDK client. Immutable; validated at construction.
 *
 * @param eventLoopThreads          threads of each client's own Netty event-loop group (default 1: one
 *                                  loop per Region measured faster than more on a 2-core host)
 * @param minConnections            lower bound of a client's connection pool (default 8)
 * @param maxConnections            upper bound of a client's connection pool (default 256); between the
 *                                  two bounds the pool is sized to the Region's max-active-calls
 * @param connectionTimeout         TCP connect timeout (default 2 s)
 * @param connectionAcquireTimeout  how long a request may wait for a pooled connection (default 5 s);
 *                                  such a failure means the request was never sent
 * @param apiCallTimeout            the whole call's deadline, after which the outcome is UNKNOWN (default 10 s)
 */
public record ChimeClientSettings(int eventLoopThreads, int minConnections, int maxConnections,
                                  Duration connectionTimeout, Duration connectionAcquireTimeout,
                                  Duration apiCallTimeout) {

    public ChimeClientSettings {
        if (eventLoopThreads < 1) {
            throw new IllegalArgumentException("eventLoopThreads must be >= 1, was " + eventLoopThreads);
        }
        if (minConnections < 1) {
            throw new IllegalArgumentException("minConnections must be >= 1, was " + minConnections);
        }
        if (maxConnections < minConnections) {
            throw new IllegalArgumentException("maxConnections must be >= minConnections (" + minConnections
                    + "), was " + maxConnections);
        }
        requirePositive(connectionTimeout, "connectionTimeout");
        requirePositive(connectionAcquireTimeout, "connectionAcquireTimeout");
        requirePositive(apiCallTimeout, "apiCallTimeout");
    }

    /** The defaults listed on the record's components. */
    public static ChimeClientSettings ofDefaults() {
        return new ChimeClientSettings(1, 8, 256, Duration.ofSeconds(2), Duration.ofSeconds(5),
                Duration.ofSeconds(10));
    }

    /** A copy with another API call timeout. */
    public ChimeClientSettings withApiCallTimeout(Duration timeout) {
        return new ChimeClientSettings(eventLoopThreads, minConnections, maxConnections, connectionTimeout,
                connectionAcquireTimeout, timeout);
    }

    /** A copy with another number of event-loop threads per Region. */
    public ChimeClientSettings withEventLoopThreads(int threads) {
        return new ChimeClientSettings(threads, minConnections, maxConnections, connectionTimeout,
                connectionAcquireTimeout, apiCallTimeout);
    }

    /** The connection pool size for a Region with this active-call cap. */
    int poolSizeFor(int maxActiveCalls) {
        return Math.max(minConnections, Math.min(maxConnections, maxActiveCalls));
    }

    private static void requirePositive(Duration d, String field) {
        Objects.requireNonNull(d, field);
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(field + " must be > 0, was " + d);
        }
    }
}
