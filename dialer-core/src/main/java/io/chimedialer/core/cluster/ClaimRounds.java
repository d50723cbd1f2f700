package io.chimedialer.core.cluster;

import io.chimedialer.core.cluster.ClaimStore.Held;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerQueries;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transactional half of {@link ClaimingSource}: one claim round, the settling of this node's claims, and their
 * release on close, each inside the caller's transaction (see the protocol in docs/scale-out.md). Expired claims
 * are settled against the ledger before anything is claimed, in the same transaction. Thread-safe as far as
 * {@link ClaimingSource} needs: it runs rounds and renewals one at a time; the counters are atomic.
 */
final class ClaimRounds {
    private static final Logger log = LoggerFactory.getLogger(ClaimRounds.class);

    private final ClaimStore store;
    private final String campaignId;
    private final ClusterSettings settings;
    private final Clock clock;
    /** Shared with {@link ClaimingSource}: the contacts handed to the run and not yet seen settled. */
    private final Set<String> outstanding;
    private final AtomicLong claimed = new AtomicLong();
    private final AtomicLong reclaimed = new AtomicLong();
    private final AtomicLong settled = new AtomicLong();
    private final AtomicLong orphaned = new AtomicLong();
    private final AtomicLong closedOrphans = new AtomicLong();

    ClaimRounds(ClaimStore store, String campaignId, ClusterSettings settings, Clock clock, Set<String> outstanding) {
        this.store = store;
        this.campaignId = campaignId;
        this.settings = settings;
        this.clock = clock;
        this.outstanding = outstanding;
    }

    /** One claim round: the rows it claimed, or none and whether the campaign is finished. */
    record Step(List<Held> held, boolean finished) {
    }

    long claimed() {
        return claimed.get();
    }

    long reclaimed() {
        return reclaimed.get();
    }

    long settled() {
        return settled.get();
    }

    long orphaned() {
        return orphaned.get();
    }

    long closedOrphans() {
        return closedOrphans.get();
    }

    /**
     * Settles the expired claims, ends the orphans' attempts that nothing else can end, and claims a batch: the
     * expired claims that the ledger does not know first, then pending contacts.
     *
     * @param adoptedNow receives the follow-ups of the contacts adopted from other nodes in this round
     */
    Step round(Connection c, List<Ledger.FollowUp> adoptedNow) throws SQLException {
        long now = clock.millis();
        long until = now + settings.lease().toMillis();
        // the expired claims that the ledger does not know (never dialed): the only ones claimed again
        List<String> expired = settleExpired(c, now, until, adoptedNow);
        closeOrphans(c, now);
        List<Held> rows = expired.isEmpty() ? new ArrayList<>()
                : store.claimExpired(c, expired, now, settings.claimBatch(), clock.millis(), until);
        if (rows.size() < settings.claimBatch()) {
            rows.addAll(store.claimPending(c, settings.claimBatch() - rows.size(), clock.millis(), until));
        }
        if (!rows.isEmpty()) {
            // this node's own expired claims that its run still holds: the claim renewed them, nothing more
            rows.removeIf(held -> outstanding.contains(held.key()));
            rows = dropKnown(c, rows, now);
            rows.sort(Comparator.comparingLong(Held::seq));
            return new Step(rows, false);
        }
        markDone(c, now);
        return new Step(List.of(), isFinished(c));
    }

    /**
     * Gives this node's claims back on close: DONE when the ledger settled them, ORPHANED when it knows them
     * (an attempt may be open), else PENDING for the other nodes.
     *
     * @return how many became DONE, PENDING and ORPHANED
     */
    int[] leave(Connection c) throws SQLException {
        long now = clock.millis();
        List<String> held = store.claimedByThisNode(c);
        if (held.isEmpty()) {
            return new int[] {0, 0, 0};
        }
        ClaimStore.LedgerView ledger = store.ledgerView(c, held, false);
        List<String> done = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        List<String> open = new ArrayList<>();
        for (String key : held) {
            (ledger.settled(key) ? done : ledger.known(key) ? open : unknown).add(key);
        }
        int doneCount = done.isEmpty() ? 0 : store.doneOwn(c, done, now).size();
        return new int[] {doneCount, store.releaseOwn(c, unknown), store.orphanOwn(c, open, now)};
    }

    /**
     * Expired claims that the ledger knows: DONE when settled; adopted (claimed by this node until {@code until},
     * their follow-ups added to {@code adoptedNow}) when another node's contact has a follow-up pending and no
     * open attempt; else ORPHANED (see {@link #closeOrphans}).
     *
     * @return the contacts whose claim had expired when this began and the ledger does not know (some may be
     *         claimed below)
     */
    private List<String> settleExpired(Connection c, long now, long until, List<Ledger.FollowUp> adoptedNow)
            throws SQLException {
        Map<String, String> expired = store.expired(c, now); // contact -> the node whose claim expired
        if (expired.isEmpty()) {
            return List.of();
        }
        ClaimStore.LedgerView ledger = store.ledgerView(c, expired.keySet(), true);
        List<String> done = new ArrayList<>();
        List<String> adoptable = new ArrayList<>();
        List<String> orphans = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        expired.forEach((key, node) -> {
            if (!ledger.known(key)) {
                unknown.add(key);
            } else if (ledger.settled(key)) {
                done.add(key);
            } else if (ledger.followUpDue(key) && !node.equals(settings.nodeId())) {
                adoptable.add(key); // one whose row another node holds right now is left for a later round
            } else {
                orphans.add(key);
            }
        });
        if (!done.isEmpty()) {
            store.doneExpired(c, done, now).forEach(outstanding::remove);
        }
        if (!adoptable.isEmpty()) {
            // SKIP LOCKED: two nodes never adopt the same contact, and the new lease keeps the others off it
            List<String> keys = store.adopt(c, adoptable, now, until, settings.claimBatch());
            if (!keys.isEmpty()) {
                outstanding.addAll(keys); // this node's claims now, settled through markDone like the rest
                adoptedNow.addAll(LedgerQueries.pendingFollowUps(c, campaignId, keys));
            }
        }
        if (!orphans.isEmpty()) {
            int n = store.orphanExpired(c, orphans, now);
            if (n > 0) {
                orphaned.addAndGet(n);
                log.warn("campaign {}: {} expired claims have an open attempt: ORPHANED (never dialed again, "
                        + "outcome UNKNOWN unless its HANGUP arrives)", campaignId, n);
            }
        }
        return unknown;
    }

    /** Claimed contacts that an earlier run already recorded: DONE, not emitted. */
    private List<Held> dropKnown(Connection c, List<Held> rows, long now) throws SQLException {
        Set<String> known = LedgerQueries.progress(c, campaignId, rows.stream().map(Held::key).toList()).keySet();
        if (known.isEmpty()) {
            count(rows);
            return rows;
        }
        store.done(c, known, now);
        settled.addAndGet(known.size());
        List<Held> kept = new ArrayList<>(rows.size());
        for (Held row : rows) {
            if (!known.contains(row.key())) {
                kept.add(row);
            }
        }
        count(kept);
        return kept;
    }

    private void count(List<Held> rows) {
        claimed.addAndGet(rows.size());
        rows.stream().filter(r -> r.claims() > 1).forEach(r -> reclaimed.incrementAndGet());
    }

    /** This node's claims whose contact the ledger has settled become DONE: those it handed out or adopted. */
    int markDone(Connection c, long now) throws SQLException {
        if (outstanding.isEmpty()) {
            return 0;
        }
        List<String> keys = new ArrayList<>(outstanding);
        ClaimStore.LedgerView ledger = store.ledgerView(c, keys, false);
        keys.removeIf(key -> !ledger.settled(key));
        if (keys.isEmpty()) {
            return 0;
        }
        List<String> done = store.doneOwn(c, keys, now);
        done.forEach(outstanding::remove);
        return done.size();
    }

    /**
     * Ends the open attempts of ORPHANED contacts (their node died with the attempt open) as UNKNOWN, per the
     * at-most-once policy, once nothing else can end them: at once when the attempt has no TransactionId (no
     * invocation can be correlated with it), else once the call hold has passed since its intent. Until then its
     * HANGUP, which the Lambda bridge hands to any node when the placing node is gone, may record its real outcome.
     */
    private void closeOrphans(Connection c, long now) throws SQLException {
        List<String> orphans = store.orphaned(c);
        if (orphans.isEmpty()) {
            return;
        }
        List<String> open = LedgerQueries.lastAttemptsInProgress(c, campaignId, orphans);
        if (open.isEmpty()) {
            return;
        }
        List<String> keys = LedgerQueries.endUnknown(c, campaignId, open, now, now - settings.callHold().toMillis());
        if (keys.isEmpty()) {
            return;
        }
        closedOrphans.addAndGet(keys.size());
        log.warn("campaign {}: {} attempts of a node that is gone ended UNKNOWN (never dialed again)", campaignId,
                keys.size());
    }

    /**
     * Finished: the import is complete, no contact is pending or claimed by any node, and no ORPHANED contact
     * has an attempt that may still end (see {@link #closeOrphans}).
     */
    private boolean isFinished(Connection c) throws SQLException {
        return store.importedAndIdle(c) && !LedgerQueries.anyInProgress(c, campaignId, store.orphaned(c));
    }

}
