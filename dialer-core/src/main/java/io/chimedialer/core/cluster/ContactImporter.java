package io.chimedialer.core.cluster;

import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.Deduplicator;
import io.chimedialer.core.ledger.Ledger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Copies a campaign's contact list into the shared {@code cluster_contacts} table, once for the whole cluster.
 *
 * <p>Every node may call {@link #importOnce}: the first takes a PostgreSQL advisory lock for the campaign and
 * imports; the others wait on the lock and then find the import done. Rows are inserted with
 * {@code ON CONFLICT DO NOTHING} keyed by (campaign, contact key), so an import cut short by a crash is simply
 * run again by the next node. A contact's key is its id ({@link Contact#id()}; "line-N" without an id column),
 * a rejected row's key is "line-N", as the engine records them in the ledger: keys must be unique in a list.
 *
 * <p>Numbers are de-duplicated here, in file order, because no single node sees the whole list afterwards: a
 * repeated number is stored as settled ({@code DUPLICATE}, state {@code DONE}) and recorded in the ledger as a
 * {@code DUPLICATE} skip. Thread-safe; JDBC runs on the given scheduler (one that may block).
 */
public final class ContactImporter {
    private static final Logger log = LoggerFactory.getLogger(ContactImporter.class);
    /** The first key of the advisory locks this class takes (the second is the campaign's hash). */
    private static final int LOCK_SPACE = 0x64696d70;
    private static final int BATCH = 500;

    private final ClusterDatabase db;
    private final Ledger ledger;
    private final String nodeId;
    private final Clock clock;
    private final Scheduler scheduler;

    /**
     * @param db        the cluster database
     * @param ledger    records the duplicates' skips (the same database's ledger)
     * @param nodeId    this node, recorded as the importer
     * @param clock     stamps the import
     * @param scheduler runs the JDBC work (may block)
     */
    public ContactImporter(ClusterDatabase db, Ledger ledger, String nodeId, Clock clock, Scheduler scheduler) {
        this.db = Objects.requireNonNull(db, "db");
        this.ledger = Objects.requireNonNull(ledger, "ledger");
        this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    /**
     * What an import did.
     *
     * @param campaignId      the campaign
     * @param imported        whether this call imported (false: another node had already done it)
     * @param rowsRead        rows read from the list by this call
     * @param rowsInserted    rows this call inserted (fewer than read when an earlier import was cut short)
     * @param duplicates      numbers found again in the list by this call, settled as DUPLICATE
     */
    public record Result(String campaignId, boolean imported, long rowsRead, long rowsInserted, long duplicates) {
    }

    /** Whether the campaign's list was imported completely (by any node). Blocking-free: runs on the scheduler. */
    public Mono<Boolean> isImported(String campaignId) {
        return Mono.fromCallable(() -> db.transact("import check", c -> imported(c, campaignId)))
                .subscribeOn(scheduler);
    }

    /**
     * Imports the list unless some node already did. The rows are subscribed only by the node that imports.
     *
     * @param campaignId the campaign
     * @param sourceName the list's name (recorded, e.g. the file path)
     * @param rows       the list (subscribed at most once)
     * @return what was done; fails with {@link ClusterException} when the database fails (safe to call again)
     */
    public Mono<Result> importOnce(String campaignId, String sourceName, Flux<ContactRow> rows) {
        Objects.requireNonNull(campaignId, "campaignId");
        Objects.requireNonNull(rows, "rows");
        return Mono.usingWhen(
                Mono.fromCallable(() -> lock(campaignId)).subscribeOn(scheduler),
                connection -> Mono.fromCallable(() -> imported(connection, campaignId)).subscribeOn(scheduler)
                        .flatMap(done -> done
                                ? Mono.just(new Result(campaignId, false, 0, 0, 0))
                                : copy(connection, campaignId, sourceName, rows)),
                connection -> Mono.fromRunnable(() -> unlock(connection, campaignId)).subscribeOn(scheduler),
                (connection, error) -> Mono.fromRunnable(() -> unlock(connection, campaignId)).subscribeOn(scheduler),
                connection -> Mono.fromRunnable(() -> unlock(connection, campaignId)).subscribeOn(scheduler))
                .onErrorMap(e -> !(e instanceof ClusterException), e -> db.failure("import of " + campaignId, e));
    }

    private Mono<Result> copy(Connection connection, String campaignId, String sourceName, Flux<ContactRow> rows) {
        Deduplicator dedupe = new Deduplicator();
        long[] totals = new long[3]; // read, inserted, duplicates
        return rows.buffer(BATCH)
                .concatMap(batch -> Mono.fromCallable(() -> insert(connection, campaignId, batch, dedupe, totals))
                        .subscribeOn(scheduler)
                        .flatMap(duplicates -> Flux.fromIterable(duplicates)
                                .concatMap(c -> ledger.recordSkipped(campaignId, c.id(), c.number(), "DUPLICATE",
                                        "number already in this campaign"))
                                .then()), 1)
                .then(Mono.fromCallable(() -> {
                    finish(connection, campaignId, sourceName, totals[0], totals[1]);
                    log.info("campaign {}: contact list {} imported by {}: {} rows read, {} inserted, {} duplicates",
                            campaignId, sourceName, nodeId, totals[0], totals[1], totals[2]);
                    return new Result(campaignId, true, totals[0], totals[1], totals[2]);
                }).subscribeOn(scheduler));
    }

    private Connection lock(String campaignId) {
        try {
            Connection connection = db.connection();
            try {
                connection.setAutoCommit(true);
                try (PreparedStatement lock = connection.prepareStatement("SELECT pg_advisory_lock(?, hashtext(?))")) {
                    lock.setInt(1, LOCK_SPACE);
                    lock.setString(2, campaignId);
                    lock.execute();
                }
                connection.setAutoCommit(false);
                return connection;
            } catch (SQLException | RuntimeException e) {
                connection.close();
                throw e;
            }
        } catch (SQLException e) {
            throw db.failure("import lock", e);
        }
    }

    private void unlock(Connection connection, String campaignId) {
        try (connection) {
            connection.rollback();
            connection.setAutoCommit(true);
            try (PreparedStatement unlock = connection.prepareStatement("SELECT pg_advisory_unlock(?, hashtext(?))")) {
                unlock.setInt(1, LOCK_SPACE);
                unlock.setString(2, campaignId);
                unlock.execute();
            }
        } catch (SQLException e) {
            // closing the session releases its advisory locks anyway
            log.debug("campaign {}: import unlock failed: {}", campaignId, e.toString());
        }
    }

    private static boolean imported(Connection connection, String campaignId) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(
                "SELECT 1 FROM cluster_imports WHERE campaign_id = ?")) {
            query.setString(1, campaignId);
            try (ResultSet rows = query.executeQuery()) {
                return rows.next();
            }
        }
    }

    private List<Contact> insert(Connection connection, String campaignId, List<ContactRow> batch,
                                 Deduplicator dedupe, long[] totals) throws SQLException {
        List<Contact> duplicates = new ArrayList<>();
        long now = clock.millis();
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO cluster_contacts (campaign_id, "
                + "contact_key, seq, kind, line, number, name, timezone, variables, reason, reject_kind, state, done_at) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, contact_key) DO NOTHING")) {
            for (ContactRow row : batch) {
                insert.setString(1, campaignId);
                insert.setLong(3, row.line());
                insert.setLong(5, row.line());
                if (row instanceof ContactRow.Valid valid) {
                    Contact c = valid.contact();
                    boolean first = dedupe.firstSeen(c.number());
                    insert.setString(2, c.id());
                    insert.setString(4, first ? "VALID" : "DUPLICATE");
                    insert.setString(6, c.number());
                    insert.setString(7, c.name());
                    insert.setString(8, c.timezone() == null ? null : c.timezone().getId());
                    insert.setString(9, c.variables().isEmpty() ? null : Json.write(c.variables()));
                    insert.setString(10, first ? null : "number already in this campaign");
                    insert.setString(11, null);
                    insert.setString(12, first ? "PENDING" : "DONE");
                    if (first) {
                        insert.setNull(13, java.sql.Types.BIGINT);
                    } else {
                        insert.setLong(13, now);
                        duplicates.add(c);
                    }
                } else {
                    ContactRow.Rejected r = (ContactRow.Rejected) row;
                    insert.setString(2, "line-" + r.line());
                    insert.setString(4, "REJECTED");
                    insert.setString(6, r.rawNumber());
                    insert.setString(7, null);
                    insert.setString(8, null);
                    insert.setString(9, null);
                    insert.setString(10, r.reason());
                    insert.setString(11, r.kind().name());
                    insert.setString(12, "PENDING");
                    insert.setNull(13, java.sql.Types.BIGINT);
                }
                insert.addBatch();
            }
            int[] counts = insert.executeBatch();
            connection.commit();
            totals[0] += batch.size();
            for (int count : counts) {
                if (count > 0 || count == Statement.SUCCESS_NO_INFO) {
                    totals[1]++;
                }
            }
            totals[2] += duplicates.size();
            return duplicates;
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        }
    }

    private void finish(Connection connection, String campaignId, String sourceName, long read, long inserted)
            throws SQLException {
        try (PreparedStatement done = connection.prepareStatement("INSERT INTO cluster_imports (campaign_id, source, "
                + "imported_by, rows_read, rows_inserted, completed_at) VALUES (?, ?, ?, ?, ?, ?) "
                + "ON CONFLICT (campaign_id) DO NOTHING")) {
            done.setString(1, campaignId);
            done.setString(2, sourceName);
            done.setString(3, nodeId);
            done.setLong(4, read);
            done.setLong(5, inserted);
            done.setLong(6, clock.millis());
            done.executeUpdate();
            connection.commit();
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        }
    }
}
