package io.chimedialer.core.cluster;

import java.time.Instant;
import java.util.Objects;

/**
 * One control command issued to the cluster, as stored in {@code campaign_control}.
 *
 * @param seq        its order in the cluster (increasing)
 * @param command    what to do
 * @param campaignId the campaign, for PAUSE, RESUME and CANCEL; null for RATE
 * @param region     the Region, for RATE; null otherwise
 * @param value      the new calls per second, for RATE; null otherwise
 * @param issuedBy   the node that published it
 * @param issuedAt   when (the issuing node's clock)
 */
public record ControlEvent(long seq, Command command, String campaignId, String region, Double value, String issuedBy,
                           Instant issuedAt) {
    public ControlEvent {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(issuedBy, "issuedBy");
        Objects.requireNonNull(issuedAt, "issuedAt");
    }

    /** The commands every node applies. */
    public enum Command {
        /** Pause a campaign's run on every node. */
        PAUSE,
        /** Resume it. */
        RESUME,
        /** Cancel it. */
        CANCEL,
        /** Set a Region's configured (total) rate: {@link ClusterLimits#setTotalRate}. */
        RATE
    }
}
