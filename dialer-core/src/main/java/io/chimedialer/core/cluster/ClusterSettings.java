package io.chimedialer.core.cluster;

import java.time.Duration;
import java.util.Objects;

/**
 * How one node takes part in a cluster. Immutable; the {@code with*} methods return copies.
 *
 * @param nodeId       this node's id, unique in the cluster and stable across its restarts (e.g. the host name)
 * @param url          the node's base URL as other nodes and the Lambda bridge reach it, or null
 * @param heartbeat    how often the node refreshes its {@code cluster_nodes} row and re-balances its shares
 *                     (default 2 s)
 * @param nodeTimeout  a node whose last heartbeat is older than this is no longer live (default 10 s; at least
 *                     three heartbeats)
 * @param lease        how long a contact claim lasts without renewal; renewed every third of it (default 30 s)
 * @param claimBatch   contacts claimed per statement (default 100)
 * @param pollInterval how long an idle claiming source or control listener waits before looking again
 *                     (default 1 s)
 * @param callHold     how long the open calls of a node that is no longer live are held back from the Region
 *                     caps (they may still be live at Chime): the campaigns' maximum call lifetime (default 30 min)
 * @param rateGuard    how much longer than 1 s each node's window of Creates is when it paces its share of a rate
 *                     (default {@link #DEFAULT_RATE_GUARD}): Creates of several nodes that reach Chime up to this much
 *                     later or earlier than sent still hold the Region's rate in every 1 s there (see
 *                     {@link io.chimedialer.core.pacing.internal.RegionRateLimiter#setSendGuard})
 */
public record ClusterSettings(String nodeId, String url, Duration heartbeat, Duration nodeTimeout, Duration lease,
                              int claimBatch, Duration pollInterval, Duration callHold, Duration rateGuard) {

    /** Default {@code rateGuard}: 50 ms, about 5% of a saturated rate. */
    public static final Duration DEFAULT_RATE_GUARD = Duration.ofMillis(50);

    public ClusterSettings {
        Objects.requireNonNull(nodeId, "nodeId");
        if (nodeId.isBlank() || nodeId.length() > 200) {
            throw new IllegalArgumentException("nodeId must be 1 to 200 characters, was '" + nodeId + "'");
        }
        heartbeat = positive(heartbeat, Duration.ofSeconds(2), "heartbeat");
        nodeTimeout = positive(nodeTimeout, Duration.ofSeconds(10), "nodeTimeout");
        if (nodeTimeout.compareTo(heartbeat.multipliedBy(3)) < 0) {
            throw new IllegalArgumentException("nodeTimeout must be at least three heartbeats (3 x " + heartbeat
                    + "), was " + nodeTimeout);
        }
        lease = positive(lease, Duration.ofSeconds(30), "lease");
        if (lease.toMillis() < 300) {
            throw new IllegalArgumentException("lease must be >= 300ms, was " + lease);
        }
        if (claimBatch < 1 || claimBatch > 10_000) {
            throw new IllegalArgumentException("claimBatch must be 1..10000, was " + claimBatch);
        }
        pollInterval = positive(pollInterval, Duration.ofSeconds(1), "pollInterval");
        callHold = positive(callHold, Duration.ofMinutes(30), "callHold");
        rateGuard = rateGuard == null ? DEFAULT_RATE_GUARD : rateGuard;
        if (rateGuard.isNegative() || rateGuard.compareTo(Duration.ofSeconds(1)) > 0) {
            throw new IllegalArgumentException("rateGuard must be 0 to 1s, was " + rateGuard);
        }
    }

    /** The defaults for a node. */
    public static ClusterSettings of(String nodeId, String url) {
        return new ClusterSettings(nodeId, url, null, null, null, 100, null, null, null);
    }

    /** @return a copy with this heartbeat period and node timeout */
    public ClusterSettings withHeartbeat(Duration period, Duration timeout) {
        return new ClusterSettings(nodeId, url, period, timeout, lease, claimBatch, pollInterval, callHold, rateGuard);
    }

    /** @return a copy with this claim lease */
    public ClusterSettings withLease(Duration value) {
        return new ClusterSettings(nodeId, url, heartbeat, nodeTimeout, value, claimBatch, pollInterval, callHold,
                rateGuard);
    }

    /** @return a copy with this claim batch size */
    public ClusterSettings withClaimBatch(int value) {
        return new ClusterSettings(nodeId, url, heartbeat, nodeTimeout, lease, value, pollInterval, callHold,
                rateGuard);
    }

    /** @return a copy with this poll interval */
    public ClusterSettings withPollInterval(Duration value) {
        return new ClusterSettings(nodeId, url, heartbeat, nodeTimeout, lease, claimBatch, value, callHold, rateGuard);
    }

    /** @return a copy with this call hold (the campaigns' maximum call lifetime) */
    public ClusterSettings withCallHold(Duration value) {
        return new ClusterSettings(nodeId, url, heartbeat, nodeTimeout, lease, claimBatch, pollInterval, value,
                rateGuard);
    }

    /** @return a copy with this rate guard */
    public ClusterSettings withRateGuard(Duration value) {
        return new ClusterSettings(nodeId, url, heartbeat, nodeTimeout, lease, claimBatch, pollInterval, callHold,
                value);
    }

    private static Duration positive(Duration value, Duration fallback, String field) {
        Duration d = value == null ? fallback : value;
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(field + " must be > 0, was " + d);
        }
        return d;
    }
}
