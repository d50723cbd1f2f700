package io.chimedialer.core.cluster;

import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.RejectKind;
import io.chimedialer.core.ledger.LedgerQueries;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The SQL of one node's claims on one campaign's rows of {@code cluster_contacts} (and {@code cluster_imports}),
 * for {@link ClaimingSource}, which holds the protocol. Every method runs on the caller's connection, inside its
 * transaction; the ledger's tables are read through {@link LedgerQueries} in the same transaction.
 */
final class ClaimStore {
    private static final String RETURNED = "c.contact_key, c.seq, c.kind, c.line, c.number, c.name, c.timezone, "
            + "c.variables, c.reason, c.reject_kind, c.claims";

    /**
     * The condition that the claim of the {@code cluster_contacts} row aliased {@code c} has lapsed at a time bound
     * twice: its own lease (set by the claim, extended by a confirmation) and its holder's lease row are both past.
     */
    private static String lapsed(String c) {
        return "(" + c + ".lease_until < ? AND NOT EXISTS (SELECT 1 FROM cluster_leases l WHERE l.holder = " + c
                + ".holder AND l.lease_until >= ?))";
    }

    private final String campaignId;
    private final String nodeId;
    private final String holder;

    /**
     * @param holder this claiming run's lease row ({@code cluster_leases.holder}): unique per run, so that a restarted
     *               node does not keep its predecessor's claims alive
     */
    ClaimStore(String campaignId, String nodeId, String holder) {
        this.campaignId = campaignId;
        this.nodeId = nodeId;
        this.holder = holder;
    }

    /** This run's lease row. */
    String holder() {
        return holder;
    }

    /** A claimed row and the lease its claim set. */
    record Held(String key, long seq, int claims, long until, ContactRow row) {
    }

    /**
     * What the ledger holds of some contacts.
     *
     * @param status  each known contact's {@code contact_progress.status}
     * @param pending contacts with a follow-up not yet taken
     * @param open    contacts with an attempt without outcome (when asked for)
     */
    record LedgerView(Map<String, String> status, Set<String> pending, Set<String> open) {
        /** The ledger has an intent or a skip of the contact. */
        boolean known(String key) {
            return status.containsKey(key);
        }

        /** Its final state: an outcome or a skip, and no follow-up to come. */
        boolean settled(String key) {
            String s = status.get(key);
            return s != null && !"IN_PROGRESS".equals(s) && !pending.contains(key);
        }

        /** A follow-up is pending and no attempt is open: another node may take it over. */
        boolean followUpDue(String key) {
            return pending.contains(key) && !open.contains(key);
        }
    }

    /** What the ledger holds of these contacts, one table at a time (see {@link LedgerQueries}). */
    LedgerView ledgerView(Connection c, Collection<String> keys, boolean withAttempts) throws SQLException {
        return new LedgerView(LedgerQueries.progress(c, campaignId, keys),
                LedgerQueries.withPendingFollowUp(c, campaignId, keys),
                withAttempts ? LedgerQueries.withOpenAttempt(c, campaignId, keys) : Set.of());
    }

    /**
     * Extends this node's claims on these contacts to at least {@code until} (their own lease, whatever the holder's
     * lease row says) and makes them this run's; returns those it still holds.
     */
    Set<String> confirm(Connection c, List<String> keys, long until) throws SQLException {
        try (PreparedStatement confirm = c.prepareStatement("UPDATE cluster_contacts SET lease_until = "
                + "GREATEST(lease_until, ?), holder = ? WHERE campaign_id = ? AND contact_key = ANY (?) "
                + "AND state = 'CLAIMED' AND claimed_by = ? RETURNING contact_key")) {
            confirm.setLong(1, until);
            confirm.setString(2, holder);
            confirm.setString(3, campaignId);
            confirm.setArray(4, array(c, keys));
            confirm.setString(5, nodeId);
            return keySet(confirm);
        }
    }

    /**
     * This run's lease row runs until at least {@code until}: every claim it holds stays valid until then. One row
     * is written, however many contacts the run holds.
     */
    void renew(Connection c, long until) throws SQLException {
        try (PreparedStatement renew = c.prepareStatement("INSERT INTO cluster_leases (holder, node_id, campaign_id, "
                + "lease_until) VALUES (?, ?, ?, ?) ON CONFLICT (holder) DO UPDATE SET lease_until = "
                + "GREATEST(cluster_leases.lease_until, excluded.lease_until)")) {
            renew.setString(1, holder);
            renew.setString(2, nodeId);
            renew.setString(3, campaignId);
            renew.setLong(4, until);
            renew.executeUpdate();
        }
    }

    /** How many claims this run holds. */
    int held(Connection c) throws SQLException {
        try (PreparedStatement query = c.prepareStatement("SELECT COUNT(*) FROM cluster_contacts "
                + "WHERE campaign_id = ? AND state = 'CLAIMED' AND holder = ?")) {
            query.setString(1, campaignId);
            query.setString(2, holder);
            try (ResultSet rs = query.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Deletes this run's lease row (its claims were given back), and the campaign's rows that lapsed a day ago. */
    void dropLease(Connection c, long now) throws SQLException {
        try (PreparedStatement drop = c.prepareStatement("DELETE FROM cluster_leases WHERE holder = ? "
                + "OR (campaign_id = ? AND lease_until < ?)")) {
            drop.setString(1, holder);
            drop.setString(2, campaignId);
            drop.setLong(3, now - 86_400_000L);
            drop.executeUpdate();
        }
    }

    /** The contacts this node has claimed (expired or not). */
    List<String> claimedByThisNode(Connection c) throws SQLException {
        try (PreparedStatement query = c.prepareStatement("SELECT contact_key FROM cluster_contacts "
                + "WHERE campaign_id = ? AND state = 'CLAIMED' AND claimed_by = ?")) {
            query.setString(1, campaignId);
            query.setString(2, nodeId);
            return keyList(query);
        }
    }

    /** This node's claims on these contacts become DONE; returns the contacts that changed. */
    List<String> doneOwn(Connection c, Collection<String> keys, long now) throws SQLException {
        try (PreparedStatement done = c.prepareStatement("UPDATE cluster_contacts SET state = 'DONE', done_at = ? "
                + "WHERE campaign_id = ? AND contact_key = ANY (?) AND state = 'CLAIMED' AND claimed_by = ? "
                + "RETURNING contact_key")) {
            done.setLong(1, now);
            done.setString(2, campaignId);
            done.setArray(3, array(c, keys));
            done.setString(4, nodeId);
            return keyList(done);
        }
    }

    /** This node's claims on these contacts go back to PENDING, for any node; returns how many. */
    int releaseOwn(Connection c, Collection<String> keys) throws SQLException {
        return leave(c, keys, "state = 'PENDING', claimed_by = NULL, lease_until = NULL, holder = NULL", null);
    }

    /** This node's claims on these contacts become ORPHANED; returns how many. */
    int orphanOwn(Connection c, Collection<String> keys, long now) throws SQLException {
        return leave(c, keys, "state = 'ORPHANED', done_at = ?", now);
    }

    private int leave(Connection c, Collection<String> keys, String assignments, Long now) throws SQLException {
        if (keys.isEmpty()) {
            return 0;
        }
        try (PreparedStatement update = c.prepareStatement("UPDATE cluster_contacts SET " + assignments
                + " WHERE campaign_id = ? AND contact_key = ANY (?) AND state = 'CLAIMED' AND claimed_by = ?")) {
            int i = 1;
            if (now != null) {
                update.setLong(i++, now);
            }
            update.setString(i++, campaignId);
            update.setArray(i++, array(c, keys));
            update.setString(i, nodeId);
            return update.executeUpdate();
        }
    }

    /** The claims of any node whose lease ran out before {@code now}: contact to the node that held it. */
    Map<String, String> expired(Connection c, long now) throws SQLException {
        Map<String, String> expired = new LinkedHashMap<>();
        try (PreparedStatement query = c.prepareStatement("SELECT c.contact_key, c.claimed_by FROM cluster_contacts c "
                + "WHERE c.campaign_id = ? AND c.state = 'CLAIMED' AND " + lapsed("c"))) {
            query.setString(1, campaignId);
            query.setLong(2, now);
            query.setLong(3, now);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    expired.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return expired;
    }

    /** These expired claims (of any node) become DONE; returns the contacts that changed. */
    List<String> doneExpired(Connection c, Collection<String> keys, long now) throws SQLException {
        try (PreparedStatement update = c.prepareStatement("UPDATE cluster_contacts c SET state = 'DONE', "
                + "done_at = ? WHERE c.campaign_id = ? AND c.contact_key = ANY (?) AND c.state = 'CLAIMED' "
                + "AND " + lapsed("c") + " RETURNING c.contact_key")) {
            update.setLong(1, now);
            update.setString(2, campaignId);
            update.setArray(3, array(c, keys));
            update.setLong(4, now);
            update.setLong(5, now);
            return keyList(update);
        }
    }

    /** These expired claims (of any node) become ORPHANED; returns how many. */
    int orphanExpired(Connection c, Collection<String> keys, long now) throws SQLException {
        try (PreparedStatement orphan = c.prepareStatement("UPDATE cluster_contacts c SET state = 'ORPHANED', "
                + "done_at = ? WHERE c.campaign_id = ? AND c.contact_key = ANY (?) AND c.state = 'CLAIMED' "
                + "AND " + lapsed("c"))) {
            orphan.setLong(1, now);
            orphan.setString(2, campaignId);
            orphan.setArray(3, array(c, keys));
            orphan.setLong(4, now);
            orphan.setLong(5, now);
            return orphan.executeUpdate();
        }
    }

    /**
     * Claims again for this node, until {@code until}, up to {@code limit} of these expired claims of other nodes,
     * locked with {@code SKIP LOCKED}; returns the contacts adopted.
     */
    List<String> adopt(Connection c, Collection<String> keys, long now, long until, int limit) throws SQLException {
        try (PreparedStatement adopt = c.prepareStatement("WITH picked AS (SELECT c.contact_key FROM cluster_contacts c "
                + "WHERE c.campaign_id = ? AND c.contact_key = ANY (?) AND c.state = 'CLAIMED' AND " + lapsed("c")
                + " AND c.claimed_by <> ? ORDER BY c.seq LIMIT ? FOR UPDATE OF c SKIP LOCKED) "
                + "UPDATE cluster_contacts u SET claimed_by = ?, holder = ?, claimed_at = ?, lease_until = ?, "
                + "claims = u.claims + 1 FROM picked WHERE u.campaign_id = ? AND u.contact_key = picked.contact_key "
                + "RETURNING u.contact_key")) {
            int i = 1;
            adopt.setString(i++, campaignId);
            adopt.setArray(i++, array(c, keys));
            adopt.setLong(i++, now);
            adopt.setLong(i++, now);
            adopt.setString(i++, nodeId);
            adopt.setInt(i++, limit);
            adopt.setString(i++, nodeId);
            adopt.setString(i++, holder);
            adopt.setLong(i++, now);
            adopt.setLong(i++, until);
            adopt.setString(i, campaignId);
            return keyList(adopt);
        }
    }

    /** Claims up to {@code limit} of these contacts whose claim expired before {@code now}, in list order. */
    List<Held> claimExpired(Connection c, Collection<String> keys, long now, int limit, long claimedAt, long until)
            throws SQLException {
        return claim(c, "c2.contact_key = ANY (?) AND c2.state = 'CLAIMED' AND " + lapsed("c2"), keys, now, limit,
                claimedAt, until);
    }

    /** Claims up to {@code limit} pending contacts, in list order. */
    List<Held> claimPending(Connection c, int limit, long claimedAt, long until) throws SQLException {
        return claim(c, "c2.state = 'PENDING'", null, null, limit, claimedAt, until);
    }

    private List<Held> claim(Connection c, String condition, Collection<String> keys, Long now, int limit,
                             long claimedAt, long until) throws SQLException {
        try (PreparedStatement claim = c.prepareStatement("WITH picked AS (SELECT c2.contact_key FROM cluster_contacts c2 "
                + "WHERE c2.campaign_id = ? AND " + condition + " ORDER BY c2.seq LIMIT ? FOR UPDATE OF c2 SKIP LOCKED) "
                + "UPDATE cluster_contacts c SET state = 'CLAIMED', claimed_by = ?, holder = ?, claimed_at = ?, "
                + "lease_until = ?, claims = c.claims + 1 FROM picked WHERE c.campaign_id = ? "
                + "AND c.contact_key = picked.contact_key "
                + "RETURNING " + RETURNED)) {
            int i = 1;
            claim.setString(i++, campaignId);
            if (keys != null) {
                claim.setArray(i++, array(c, keys));
            }
            if (now != null) {
                claim.setLong(i++, now);
                claim.setLong(i++, now);
            }
            claim.setInt(i++, limit);
            claim.setString(i++, nodeId);
            claim.setString(i++, holder);
            claim.setLong(i++, claimedAt);
            claim.setLong(i++, until);
            claim.setString(i, campaignId);
            List<Held> rows = new ArrayList<>();
            try (ResultSet rs = claim.executeQuery()) {
                while (rs.next()) {
                    rows.add(held(rs, until));
                }
            }
            return rows;
        }
    }

    /** These contacts become DONE whatever their state (an earlier run settled them). */
    void done(Connection c, Collection<String> keys, long now) throws SQLException {
        try (PreparedStatement done = c.prepareStatement("UPDATE cluster_contacts SET state = 'DONE', done_at = ? "
                + "WHERE campaign_id = ? AND contact_key = ANY (?)")) {
            done.setLong(1, now);
            done.setString(2, campaignId);
            done.setArray(3, array(c, keys));
            done.executeUpdate();
        }
    }

    /** The campaign's ORPHANED contacts. */
    List<String> orphaned(Connection c) throws SQLException {
        try (PreparedStatement query = c.prepareStatement("SELECT contact_key FROM cluster_contacts "
                + "WHERE campaign_id = ? AND state = 'ORPHANED'")) {
            query.setString(1, campaignId);
            return keyList(query);
        }
    }

    /** The import is complete and no contact is pending or claimed by any node. */
    boolean importedAndIdle(Connection c) throws SQLException {
        try (PreparedStatement query = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM cluster_imports "
                + "WHERE campaign_id = ?), EXISTS (SELECT 1 FROM cluster_contacts WHERE campaign_id = ? "
                + "AND state IN ('PENDING', 'CLAIMED'))")) {
            query.setString(1, campaignId);
            query.setString(2, campaignId);
            try (ResultSet rs = query.executeQuery()) {
                rs.next();
                return rs.getBoolean(1) && !rs.getBoolean(2);
            }
        }
    }

    private static Held held(ResultSet rs, long until) throws SQLException {
        String key = rs.getString(1);
        long seq = rs.getLong(2);
        String kind = rs.getString(3);
        long line = rs.getLong(4);
        String number = rs.getString(5);
        ContactRow row;
        if ("REJECTED".equals(kind)) {
            row = new ContactRow.Rejected(line, number, rs.getString(9), RejectKind.valueOf(rs.getString(10)));
        } else {
            String zone = rs.getString(7);
            row = new ContactRow.Valid(new Contact(line, key, number, rs.getString(6),
                    zone == null ? null : ZoneId.of(zone), Json.strings(rs.getString(8))));
        }
        return new Held(key, seq, rs.getInt(11), until, row);
    }

    private static List<String> keyList(PreparedStatement statement) throws SQLException {
        List<String> keys = new ArrayList<>();
        try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                keys.add(rs.getString(1));
            }
        }
        return keys;
    }

    private static Set<String> keySet(PreparedStatement statement) throws SQLException {
        return new HashSet<>(keyList(statement));
    }

    private static Array array(Connection c, Collection<String> values) throws SQLException {
        return c.createArrayOf("varchar", values.toArray());
    }
}
