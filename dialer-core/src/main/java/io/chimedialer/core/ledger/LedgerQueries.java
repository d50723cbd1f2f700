package io.chimedialer.core.ledger;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The narrow reads and writes of the ledger's tables that the cluster needs, on the caller's connection, so that
 * they share a transaction with the caller's own tables (claims settled against the ledger in one commit). The
 * ledger owns its tables; no other package writes SQL on them.
 *
 * <p>PostgreSQL only (keys are passed as arrays). Each reads one table by key, never a join: while a campaign fills
 * the ledger faster than autovacuum analyzes it, the planner guesses its tables empty and nests full scans.
 */
public final class LedgerQueries {
    private LedgerQueries() {
    }

    /**
     * The versions recorded in the ledger's migration history.
     *
     * @throws SQLException when the database has no ledger schema (the ledger was never opened on it)
     */
    public static Set<Integer> appliedMigrations(Connection c) throws SQLException {
        return MigrationRunner.appliedVersions(c);
    }

    /** Each contact's {@code contact_progress.status}, for those the ledger knows (an intent or a skip). */
    public static Map<String, String> progress(Connection c, String campaignId, Collection<String> keys)
            throws SQLException {
        Map<String, String> status = new HashMap<>();
        try (PreparedStatement query = c.prepareStatement("SELECT contact_key, status FROM contact_progress "
                + "WHERE campaign_id = ? AND contact_key = ANY (?)")) {
            query.setString(1, campaignId);
            query.setArray(2, array(c, keys));
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    status.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return status;
    }

    /** Of these contacts, those with a follow-up not yet taken. */
    public static Set<String> withPendingFollowUp(Connection c, String campaignId, Collection<String> keys)
            throws SQLException {
        return keys(c, "SELECT contact_key FROM follow_ups WHERE campaign_id = ? AND contact_key = ANY (?) "
                + "AND taken_at IS NULL", campaignId, keys);
    }

    /** Of these contacts, those with an attempt without outcome. */
    public static Set<String> withOpenAttempt(Connection c, String campaignId, Collection<String> keys)
            throws SQLException {
        return keys(c, "SELECT contact_key FROM attempts WHERE campaign_id = ? AND disposition IS NULL "
                + "AND contact_key = ANY (?)", campaignId, keys);
    }

    /** The follow-ups not yet taken of these contacts, by due time, contact and attempt number. */
    public static List<Ledger.FollowUp> pendingFollowUps(Connection c, String campaignId, Collection<String> keys)
            throws SQLException {
        List<Ledger.FollowUp> followUps = new ArrayList<>();
        try (PreparedStatement query = c.prepareStatement("SELECT campaign_id, contact_key, number, attempt_number, "
                + "due_at FROM follow_ups WHERE campaign_id = ? AND contact_key = ANY (?) AND taken_at IS NULL "
                + "ORDER BY due_at, contact_key, attempt_number")) {
            query.setString(1, campaignId);
            query.setArray(2, array(c, keys));
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    followUps.add(new Ledger.FollowUp(rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getInt(4), Instant.ofEpochMilli(rs.getLong(5))));
                }
            }
        }
        return followUps;
    }

    /** The last attempts of those of these contacts still {@code IN_PROGRESS} (their attempt may be open). */
    public static List<String> lastAttemptsInProgress(Connection c, String campaignId, Collection<String> keys)
            throws SQLException {
        return new ArrayList<>(keys(c, "SELECT last_attempt_id FROM contact_progress WHERE campaign_id = ? "
                + "AND contact_key = ANY (?) AND status = 'IN_PROGRESS' AND last_attempt_id IS NOT NULL",
                campaignId, keys));
    }

    /** Whether any of these contacts is still {@code IN_PROGRESS}. */
    public static boolean anyInProgress(Connection c, String campaignId, Collection<String> keys)
            throws SQLException {
        if (keys.isEmpty()) {
            return false;
        }
        try (PreparedStatement query = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM contact_progress "
                + "WHERE campaign_id = ? AND contact_key = ANY (?) AND status = 'IN_PROGRESS')")) {
            query.setString(1, campaignId);
            query.setArray(2, array(c, keys));
            try (ResultSet rs = query.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Ends these attempts as {@code UNKNOWN}, with their contacts' progress, when still open and either without a
     * TransactionId or intended before {@code intendedBefore}.
     *
     * @return the contacts whose attempt was ended
     */
    public static List<String> endUnknown(Connection c, String campaignId, Collection<String> attemptIds, long now,
                                          long intendedBefore) throws SQLException {
        List<String> keys = new ArrayList<>();
        try (PreparedStatement unknown = c.prepareStatement("UPDATE attempts SET disposition = 'UNKNOWN', "
                + "ended_at = ? WHERE attempt_id = ANY (?) AND disposition IS NULL "
                + "AND (transaction_id IS NULL OR intended_at < ?) RETURNING contact_key")) {
            unknown.setLong(1, now);
            unknown.setArray(2, array(c, attemptIds));
            unknown.setLong(3, intendedBefore);
            try (ResultSet rs = unknown.executeQuery()) {
                while (rs.next()) {
                    keys.add(rs.getString(1));
                }
            }
        }
        if (keys.isEmpty()) {
            return keys;
        }
        try (PreparedStatement progress = c.prepareStatement("UPDATE contact_progress SET status = 'UNKNOWN', "
                + "reason = NULL, updated_at = ? WHERE campaign_id = ? AND contact_key = ANY (?) "
                + "AND status = 'IN_PROGRESS'")) {
            progress.setLong(1, now);
            progress.setString(2, campaignId);
            progress.setArray(3, array(c, keys));
            progress.executeUpdate();
        }
        return keys;
    }

    /** Of these attempts, the open ones intended since {@code intendedSince}, counted by Region. */
    public static Map<String, Integer> openAttemptsByRegion(Connection c, Collection<String> attemptIds,
                                                           long intendedSince) throws SQLException {
        Map<String, Integer> byRegion = new HashMap<>();
        try (PreparedStatement query = c.prepareStatement("SELECT region, COUNT(*) FROM attempts "
                + "WHERE attempt_id = ANY (?) AND disposition IS NULL AND intended_at >= ? AND region IS NOT NULL "
                + "GROUP BY region")) {
            query.setArray(1, array(c, attemptIds));
            query.setLong(2, intendedSince);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    byRegion.merge(rs.getString(1), rs.getInt(2), Integer::sum);
                }
            }
        }
        return byRegion;
    }

    private static Set<String> keys(Connection c, String sql, String campaignId, Collection<String> keys)
            throws SQLException {
        Set<String> found = new HashSet<>();
        try (PreparedStatement query = c.prepareStatement(sql)) {
            query.setString(1, campaignId);
            query.setArray(2, array(c, keys));
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getString(1));
                }
            }
        }
        return found;
    }

    private static Array array(Connection c, Collection<String> values) throws SQLException {
        return c.createArrayOf("varchar", values.toArray());
    }
}
