package io.chimedialer.core.cluster;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What {@code GET /v1/cluster} shows: the live nodes with their claims and Region shares, and each
 * campaign's contacts by state. {@link #toJson()} gives the response body (times as ISO-8601 strings, so no
 * Jackson time module is needed).
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
     * The {@code GET /v1/cluster} body: {@code {"self", "at", "nodes": [{"nodeId", "url", "startedAt", "lastSeen",
     * "members": [...], "shares": {region: {"callsPerSecond", "maxActiveCalls"}}, "claims": {campaign: n}}],
     * "campaigns": {campaign: {state: n}}}}.
     */
    public ObjectNode toJson() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode out = f.objectNode();
        out.put("self", self);
        out.put("at", at.toString());
        var list = out.putArray("nodes");
        for (Node n : nodes) {
            ObjectNode node = list.addObject();
            node.put("nodeId", n.nodeId());
            node.put("url", n.url());
            node.put("startedAt", n.startedAt().toString());
            node.put("lastSeen", n.lastSeen().toString());
            var members = node.putArray("members");
            n.members().forEach(members::add);
            ObjectNode shares = node.putObject("shares");
            new java.util.TreeMap<>(n.shares()).forEach((region, share) -> {
                ObjectNode s = shares.putObject(region);
                s.put("callsPerSecond", share.callsPerSecond());
                s.put("maxActiveCalls", share.maxActiveCalls());
            });
            ObjectNode claims = node.putObject("claims");
            new java.util.TreeMap<>(n.claims()).forEach(claims::put);
        }
        ObjectNode campaignStates = out.putObject("campaigns");
        new java.util.TreeMap<>(campaigns).forEach((campaign, states) -> {
            ObjectNode c = campaignStates.putObject(campaign);
            new java.util.TreeMap<>(states).forEach(c::put);
        });
        return out;
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
