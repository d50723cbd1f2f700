package io.chimedialer.core.cluster;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A node as its {@code cluster_nodes} row shows it.
 *
 * @param nodeId    its id
 * @param url       its base URL, or null
 * @param startedAt when it (last) joined
 * @param lastSeen  its last heartbeat
 * @param members   the live node ids it computed its shares from at its last heartbeat (sorted)
 * @param shares    its applied Region shares at its last heartbeat, by Region
 */
public record NodeInfo(String nodeId, String url, Instant startedAt, Instant lastSeen, List<String> members,
                       Map<String, RegionShare> shares) {
    public NodeInfo {
        members = members == null ? List.of() : List.copyOf(members);
        shares = shares == null ? Map.of() : Map.copyOf(shares);
    }
}
