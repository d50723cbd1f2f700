package io.chimedialer.core.cluster;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The SQL of one node's membership on {@code cluster_nodes}, and the counts of {@code cluster_contacts} that the
 * membership reports, for {@link ClusterMembership}. Every method runs on the caller's connection, inside its
 * transaction.
 */
final class NodeStore {
    private final String nodeId;
    private final String url;

    NodeStore(String nodeId, String url) {
        this.nodeId = nodeId;
        this.url = url;
    }

    /** Inserts this node's row, or starts it afresh (members and shares cleared, not left). */
    void register(Connection c, long startedAt, long now) throws SQLException {
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO cluster_nodes (node_id, url, started_at, "
                + "last_seen, left_at, members, shares) VALUES (?, ?, ?, ?, NULL, NULL, NULL) ON CONFLICT (node_id) "
                + "DO UPDATE SET url = excluded.url, started_at = excluded.started_at, last_seen = excluded.last_seen, "
                + "left_at = NULL, members = NULL, shares = NULL")) {
            insert.setString(1, nodeId);
            insert.setString(2, url);
            insert.setLong(3, startedAt);
            insert.setLong(4, now);
            insert.executeUpdate();
        }
    }

    /** This node's heartbeat with the member set and shares it applies (JSON); false when it has no row. */
    boolean heartbeat(Connection c, long now, String members, String shares) throws SQLException {
        try (PreparedStatement update = c.prepareStatement("UPDATE cluster_nodes SET last_seen = ?, members = ?, "
                + "shares = ?, left_at = NULL WHERE node_id = ?")) {
            update.setLong(1, now);
            update.setString(2, members);
            update.setString(3, shares);
            update.setString(4, nodeId);
            return update.executeUpdate() > 0;
        }
    }

    /** Marks this node as left. */
    int leave(Connection c, long now) throws SQLException {
        try (PreparedStatement leave = c.prepareStatement("UPDATE cluster_nodes SET left_at = ? WHERE node_id = ?")) {
            leave.setLong(1, now);
            leave.setString(2, nodeId);
            return leave.executeUpdate();
        }
    }

    /** The nodes not left whose last heartbeat is at or after {@code seenSince}, by id. */
    List<NodeInfo> live(Connection c, long seenSince) throws SQLException {
        List<NodeInfo> nodes = new ArrayList<>();
        try (PreparedStatement query = c.prepareStatement("SELECT node_id, url, started_at, last_seen, members, shares "
                + "FROM cluster_nodes WHERE left_at IS NULL AND last_seen >= ? ORDER BY node_id")) {
            query.setLong(1, seenSince);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    nodes.add(new NodeInfo(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)),
                            Instant.ofEpochMilli(rs.getLong(4)), Json.list(rs.getString(5)),
                            new LinkedHashMap<>(Json.shares(rs.getString(6)))));
                }
            }
        }
        return nodes;
    }

    /** The unexpired claims at {@code now}: node to campaign to count. */
    Map<String, Map<String, Long>> unexpiredClaims(Connection c, long now) throws SQLException {
        Map<String, Map<String, Long>> claims = new HashMap<>();
        // a claim is unexpired while its own lease or its holder's lease row is not past (see ClaimStore)
        try (PreparedStatement query = c.prepareStatement("SELECT c.claimed_by, c.campaign_id, COUNT(*) FROM "
                + "cluster_contacts c WHERE c.state = 'CLAIMED' AND (c.lease_until >= ? OR EXISTS (SELECT 1 FROM "
                + "cluster_leases l WHERE l.holder = c.holder AND l.lease_until >= ?)) GROUP BY c.claimed_by, "
                + "c.campaign_id")) {
            query.setLong(1, now);
            query.setLong(2, now);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    claims.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getLong(3));
                }
            }
        }
        return claims;
    }

    /** Every campaign's contacts by state, sorted. */
    Map<String, Map<String, Long>> contactsByState(Connection c) throws SQLException {
        Map<String, Map<String, Long>> campaigns = new TreeMap<>();
        try (PreparedStatement query = c.prepareStatement("SELECT campaign_id, state, COUNT(*) FROM "
                + "cluster_contacts GROUP BY campaign_id, state");
             ResultSet rs = query.executeQuery()) {
            while (rs.next()) {
                campaigns.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getLong(3));
            }
        }
        return campaigns;
    }

    /** The contacts claimed or orphaned by nodes other than these, by campaign. */
    Map<String, List<String>> heldByOthers(Connection c, Collection<String> liveNodes) throws SQLException {
        Map<String, List<String>> byCampaign = new HashMap<>();
        try (PreparedStatement query = c.prepareStatement("SELECT campaign_id, contact_key FROM cluster_contacts "
                + "WHERE state IN ('CLAIMED', 'ORPHANED') AND NOT (claimed_by = ANY (?))")) {
            query.setArray(1, c.createArrayOf("varchar", liveNodes.toArray()));
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    byCampaign.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2));
                }
            }
        }
        return byCampaign;
    }
}
