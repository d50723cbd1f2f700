package io.chimedialer.core.cluster;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What {@code GET /v1/cluster} shows: the live nodes with their claims and Region shares, and each
 * campaign's contacts by state. A plain record: serialize it with Jackson as it is.
 *
 * @param self      the node that answered
 * @param at        when (its clock)
 * @param nodes     the live nodes, by id
 * @param campaigns per campaign, its shared contacts by state ({@code PENDING}, {@code CLAIMED}, {@code DONE},
 *                  {@code ORPHANED})
 */
public record ClusterStatus(String self, Instant at, List<Node> nodes, Map<String, Map<String, Long>> campaigns) {
    public ClusterStatus {
        nodes = List.copyOf(nodes);
        campaigns = Map.copyOf(campaigns);
    }

    /**
     * One live node.
     *
     * @param nodeId    its id
     * @param url       its base URL, or null
     * @param startedAt when it joined
     * @param lastSeen  its last heartbeat
     * @param members   the member set its shares are split by
     * @param shares    its applied shares, by Region
     * @param claims    the contacts it holds claimed now (unexpired), by campaign
     */
    public record Node(String nodeId, String url, Instant startedAt, Instant lastSeen, List<String> members,
                       Map<String, RegionShare> shares, Map<String, Long> claims) {
        public Node {
            members = List.copyOf(members);
            shares = Map.copyOf(shares);
            claims = Map.copyOf(claims);
        }
    }
}
