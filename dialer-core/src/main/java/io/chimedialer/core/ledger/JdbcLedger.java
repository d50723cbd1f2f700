package io.chimedialer.core.ledger;

import io.chimedialer.core.ledger.internal.Backend;
import io.chimedialer.core.ledger.internal.GroupCommitWriter;
import io.chimedialer.core.ledger.internal.PostgresBackend;
import io.chimedialer.core.ledger.internal.SqliteBackend;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.ActionFailure;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The {@link Ledger} on JDBC: SQLite ({@code jdbc:sqlite:<file>}, the default) or PostgreSQL
 * ({@code jdbc:postgresql://...}, through HikariCP), chosen by the URL, with the same behaviour on both.
 *
 * <p>{@link #open} checks the database (an SQLite file's header and permissions before anything is
 * written), creates an SQLite file's directory when absent, and applies the schema migrations. Writes go
 * through one writer thread ({@code ledger-writer}) with group commit; reads run on a small bounded pool
 * ({@code ledger-reader}) and stream from cursors. No JDBC call ever runs on the caller's thread.
 * Thread-safe.
 */
public final class JdbcLedger implements Ledger {
    private static final Logger log = LoggerFactory.getLogger(JdbcLedger.class);
    private static final String IN_PROGRESS = "IN_PROGRESS";
    /** The result of an attempt that was withdrawn (never sent, or refused for a reason not the contact's). */
    public static final String WITHDRAWN = "WITHDRAWN";
    private static final int IN_CHUNK = 500;
    private static final String ATTEMPT_COLUMNS = "attempt_id, campaign_id, contact_key, number, attempt_number, "
            + "region, from_number, transaction_id, intended_at, placed_at, ended_at, disposition, sip_code, "
            + "ring_ms, talk_ms, digits, invocations";

    /** The detail of an attempt's first ACTION_FAILED event (by the index on attempt_events.attempt_id). */
    private static final String FIRST_ACTION_FAILURE = "(SELECT e.detail FROM attempt_events e"
            + " WHERE e.attempt_id = attempts.attempt_id AND e.event_type = 'ACTION_FAILED'"
            + " ORDER BY e.sequence LIMIT 1)";

    private final Backend backend;
    private final Clock clock;
    private final Scheduler writerScheduler;
    private final Scheduler readerScheduler;
    private final GroupCommitWriter writer;
    private final AtomicBoolean closed = new AtomicBoolean();

    private JdbcLedger(Backend backend, LedgerOptions options) {
        this.backend = backend;
        this.clock = options.clock();
        this.writerScheduler = Schedulers.newSingle("ledger-writer", true);
        this.readerScheduler = Schedulers.newBoundedElastic(backend.readers(), 100_000, "ledger-reader", 60, true);
        this.writer = new GroupCommitWriter(backend, writerScheduler, clock, options.maxBatch(), options.listener());
    }

    /**
     * Opens (and creates or migrates) the ledger at {@code options.url()}. Blocking: call it from the
     * composition root.
     *
     * @param options the URL and tuning
     * @return the open ledger
     * @throws LedgerUnavailableException when the database cannot be reached or stays locked
     * @throws LedgerException            when it is corrupt, not a database, read-only, or newer than this dialer
     */
    public static JdbcLedger open(LedgerOptions options) {
        Objects.requireNonNull(options, "options");
        String url = options.url();
        Backend backend;
        if (url.startsWith("jdbc:sqlite:")) {
            backend = SqliteBackend.open(options);
        } else if (url.startsWith("jdbc:postgresql:")) {
            backend = PostgresBackend.open(options);
        } else {
            throw new LedgerException("Ledger URL " + PostgresBackend.redact(url)
                    + ": unsupported; use jdbc:sqlite:<file> or jdbc:postgresql://<host>/<db>");
        }
        Connection connection = null;
        try {
            connection = backend.writer();
            int applied = MigrationRunner.migrate(backend, connection, options.clock());
            if (applied > 0) {
                log.info("Ledger {}: applied {} schema migration(s)", backend.describe(), applied);
            }
        } catch (SQLException | RuntimeException e) {
            backend.releaseWriter(connection);
            connection = null;
            LedgerException error = backend.translate("open", e);
            backend.close();
            throw error;
        } finally {
            backend.releaseWriter(connection);
        }
        return new JdbcLedger(backend, options);
    }

    /**
     * Opens an existing ledger for reading only ({@code dialer export}): nothing is created (an SQLite file that
     * does not exist is an error), migrated or converted (an SQLite file's journal mode is left as it is), and
     * every connection is read-only. The database must hold the dialer's ledger with every current migration
     * applied; any write on the returned ledger fails.
     *
     * @throws LedgerUnavailableException when the database cannot be reached
     * @throws LedgerException            when it is missing, not a database, not a dialer's ledger, or older than
     *                                    this dialer
     */
    public static JdbcLedger openReadOnly(LedgerOptions options) {
        Objects.requireNonNull(options, "options");
        String url = options.url();
        Backend backend;
        if (url.startsWith("jdbc:sqlite:")) {
            backend = SqliteBackend.openReadOnly(options);
        } else if (url.startsWith("jdbc:postgresql:")) {
            backend = PostgresBackend.openReadOnly(options);
        } else {
            throw new LedgerException("Ledger URL " + PostgresBackend.redact(url)
                    + ": unsupported; use jdbc:sqlite:<file> or jdbc:postgresql://<host>/<db>");
        }
        try (Connection connection = backend.reader()) {
            Set<Integer> applied;
            try {
                applied = MigrationRunner.appliedVersions(connection);
            } catch (SQLException e) {
                throw new LedgerException("Ledger database " + backend.describe() + ": not a ledger of the dialer "
                        + "(it has no schema_version table); nothing was changed");
            }
            List<String> missing = MigrationRunner.requiredVersions(backend.dialect()).stream()
                    .filter(v -> !applied.contains(v)).map(v -> "V" + v).toList();
            if (!missing.isEmpty()) {
                throw new LedgerException("Ledger database " + backend.describe() + ": written by an older dialer "
                        + "(schema " + String.join(", ", missing) + " not applied); open it once with run or serve "
                        + "to migrate it");
            }
        } catch (SQLException | RuntimeException e) {
            LedgerException error = backend.translate("open", e);
            backend.close();
            throw error;
        }
        return new JdbcLedger(backend, options);
    }

    /**
     * Checks, without creating or changing anything, that {@link #open} could open or create an SQLite ledger at
     * this URL (the file is an SQLite database and writable, or its directory can be created and written).
     * PostgreSQL URLs are not checked here: the server is reached at open.
     *
     * @throws LedgerException naming the file and the problem
     */
    public static void checkWritable(String url) {
        if (url != null && url.startsWith("jdbc:sqlite:")) {
            SqliteBackend.checkWritable(SqliteBackend.fileOf(url));
        }
    }

    /** The database as operators know it: the SQLite file, or the PostgreSQL URL without secrets. */
    public String describe() {
        return backend.describe();
    }

    // ---- writes ---------------------------------------------------------------------------------------

    @Override
    public Mono<Void> recordIntents(List<Attempt> attempts) {
        List<Attempt> copy = List.copyOf(attempts);
        if (copy.isEmpty()) {
            return Mono.empty();
        }
        return writer.submit(tx -> {
            long now = clock.millis();
            for (Attempt attempt : copy) {
                // the first intent of an attempt id stands
                PreparedStatement insert = tx.batch("INSERT INTO attempts (attempt_id, campaign_id, contact_key, "
                        + "number, attempt_number, region, from_number, intended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                        + "ON CONFLICT (attempt_id) DO NOTHING");
                insert.setString(1, attempt.attemptId());
                insert.setString(2, attempt.campaignId());
                insert.setString(3, attempt.contact().id());
                insert.setString(4, attempt.contact().number());
                insert.setInt(5, attempt.attemptNumber());
                insert.setString(6, attempt.region());
                insert.setString(7, attempt.fromNumber());
                insert.setLong(8, now);
                insert.addBatch();
                // a newer attempt moves the contact to IN_PROGRESS; the same attempt written again changes nothing
                PreparedStatement progress = tx.batch("INSERT INTO contact_progress (campaign_id, contact_key, "
                        + "number, status, reason, attempts, last_attempt_id, updated_at) "
                        + "VALUES (?, ?, ?, ?, NULL, ?, ?, ?) ON CONFLICT (campaign_id, contact_key) DO UPDATE SET "
                        + "number = excluded.number, status = excluded.status, reason = NULL, "
                        + "attempts = excluded.attempts, last_attempt_id = excluded.last_attempt_id, "
                        + "updated_at = excluded.updated_at "
                        + "WHERE excluded.attempts >= contact_progress.attempts "
                        + "AND (contact_progress.last_attempt_id IS NULL "
                        + "OR contact_progress.last_attempt_id <> excluded.last_attempt_id)");
                progress.setString(1, attempt.campaignId());
                progress.setString(2, attempt.contact().id());
                progress.setString(3, attempt.contact().number());
                progress.setString(4, IN_PROGRESS);
                progress.setInt(5, attempt.attemptNumber());
                progress.setString(6, attempt.attemptId());
                progress.setLong(7, now);
                progress.addBatch();
                PreparedStatement take = tx.batch("UPDATE follow_ups SET taken_at = ? WHERE campaign_id = ? "
                        + "AND contact_key = ? AND attempt_number = ? AND taken_at IS NULL");
                take.setLong(1, now);
                take.setString(2, attempt.campaignId());
                take.setString(3, attempt.contact().id());
                take.setInt(4, attempt.attemptNumber());
                take.addBatch();
            }
        });
    }

    @Override
    public Mono<Void> recordPlaced(String attemptId, String transactionId, Instant at) {
        Objects.requireNonNull(attemptId, "attemptId");
        Objects.requireNonNull(transactionId, "transactionId");
        Objects.requireNonNull(at, "at");
        return writer.submit(tx -> {
            // no intent: no row, nothing happens
            PreparedStatement update = tx.batch("UPDATE attempts SET transaction_id = COALESCE(transaction_id, ?), "
                    + "placed_at = COALESCE(placed_at, ?) WHERE attempt_id = ?");
            update.setString(1, transactionId);
            update.setLong(2, at.toEpochMilli());
            update.setString(3, attemptId);
            update.addBatch();
        });
    }

    @Override
    public Mono<Void> recordResult(CallResult result) {
        Objects.requireNonNull(result, "result");
        return writer.submit(tx -> {
            // A TransactionId the row lacks (its placement was never written: the Create's outcome was unknown, or the
            // call was restored from an invocation) is written by a statement of its own, only then: SQLite rewrites
            // an index entry whenever its column is assigned, even to the value it holds, and the TransactionId's
            // index is random (Chime's ids), so assigning it in every result cost a page write per call
            // (LedgerWriteBenchmark: 60 against 43 us of the writer per attempt). Batched statements run in the order
            // of their first use: taken first in every result (bound only when there is an id), it runs before the
            // results' update of the same batch, while the row's disposition still says whether the result applies.
            PreparedStatement placed = tx.batch("UPDATE attempts SET transaction_id = ? WHERE attempt_id = ? "
                    + "AND transaction_id IS NULL AND (disposition IS NULL "
                    + "OR (disposition = 'UNKNOWN' AND ? <> 'UNKNOWN'))");
            if (result.transactionId() != null) {
                placed.setString(1, result.transactionId());
                placed.setString(2, result.attemptId());
                placed.setString(3, result.disposition().name());
                placed.addBatch();
            }
            // the first result stands, except that a known outcome replaces an UNKNOWN (the dialer closed the attempt
            // before its call's end came); without an intent there is no row and nothing happens. One statement for
            // both cases, so that a batch applies them in the order they were submitted, before the contacts' update.
            PreparedStatement update = tx.batch("UPDATE attempts SET disposition = ?, sip_code = ?, ring_ms = ?, "
                    + "talk_ms = ?, digits = ?, invocations = ?, ended_at = ? WHERE attempt_id = ? "
                    + "AND (disposition IS NULL OR (disposition = 'UNKNOWN' AND ? <> 'UNKNOWN'))");
            update.setString(1, result.disposition().name());
            setInteger(update, 2, result.sipCode());
            update.setLong(3, result.ring().toMillis());
            update.setLong(4, result.talk().toMillis());
            update.setString(5, result.digits());
            update.setInt(6, result.invocations());
            setInstant(update, 7, result.endedAt());
            update.setString(8, result.attemptId());
            update.setString(9, result.disposition().name());
            update.addBatch();
            // the contact takes the stored outcome, unless a later attempt of it was written since;
            // uncorrelated subqueries keep this a primary-key lookup
            PreparedStatement progress = tx.batch("UPDATE contact_progress SET "
                    + "status = (SELECT disposition FROM attempts WHERE attempt_id = ?), reason = NULL, "
                    + "updated_at = (SELECT COALESCE(ended_at, ?) FROM attempts WHERE attempt_id = ?) "
                    + "WHERE campaign_id = (SELECT campaign_id FROM attempts WHERE attempt_id = ?) "
                    + "AND contact_key = (SELECT contact_key FROM attempts WHERE attempt_id = ?) "
                    + "AND attempts <= (SELECT attempt_number FROM attempts WHERE attempt_id = ?)");
            progress.setString(1, result.attemptId());
            progress.setLong(2, clock.millis());
            for (int i = 3; i <= 6; i++) {
                progress.setString(i, result.attemptId());
            }
            progress.addBatch();
        });
    }

    @Override
    public Mono<Void> recordEvent(AttemptEvent event) {
        Objects.requireNonNull(event, "event");
        return writer.submit(tx -> {
            PreparedStatement insert = tx.batch("INSERT INTO attempt_events (transaction_id, sequence, attempt_id, "
                    + "event_type, occurred_at, detail) VALUES (?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT (transaction_id, sequence) DO NOTHING");
            insert.setString(1, event.transactionId());
            insert.setInt(2, event.sequence());
            insert.setString(3, event.attemptId());
            insert.setString(4, event.type());
            insert.setLong(5, event.at().toEpochMilli());
            insert.setString(6, event.detail());
            insert.addBatch();
        });
    }

    @Override
    public Mono<Void> recordWithdrawn(Attempt attempt, String reason, Instant redialAt) {
        Objects.requireNonNull(attempt, "attempt");
        Objects.requireNonNull(redialAt, "redialAt");
        return withdraw(attempt, WITHDRAWN, reason, redialAt);
    }

    @Override
    public Mono<Void> recordWithdrawnFinal(Attempt attempt, String state, String reason) {
        Objects.requireNonNull(attempt, "attempt");
        Objects.requireNonNull(state, "state");
        return withdraw(attempt, state, reason, null);
    }

    /**
     * The attempt's result becomes WITHDRAWN unless it was placed or has a result; then, only if it did and is still
     * the contact's last attempt, the contact takes {@code status} with its attempt count before this attempt, and
     * (when {@code redialAt} is given) a follow-up with the same attempt number is pending again.
     */
    private Mono<Void> withdraw(Attempt attempt, String status, String reason, Instant redialAt) {
        return writer.submit(tx -> {
            long now = clock.millis();
            PreparedStatement result = tx.batch("UPDATE attempts SET disposition = '" + WITHDRAWN + "', ended_at = ? "
                    + "WHERE attempt_id = ? AND disposition IS NULL AND transaction_id IS NULL");
            result.setLong(1, now);
            result.setString(2, attempt.attemptId());
            result.addBatch();
            String stillLast = "EXISTS (SELECT 1 FROM attempts WHERE attempt_id = ? AND disposition = '" + WITHDRAWN
                    + "') AND EXISTS (SELECT 1 FROM contact_progress WHERE campaign_id = ? AND contact_key = ? "
                    + "AND last_attempt_id = ?)";
            if (redialAt != null) {
                PreparedStatement followUp = tx.batch("INSERT INTO follow_ups (campaign_id, contact_key, "
                        + "attempt_number, number, due_at, taken_at, created_at) SELECT ?, ?, ?, ?, ?, NULL, ? WHERE "
                        + stillLast + " ON CONFLICT (campaign_id, contact_key, attempt_number) DO UPDATE SET "
                        + "taken_at = NULL, due_at = excluded.due_at, number = excluded.number");
                followUp.setString(1, attempt.campaignId());
                followUp.setString(2, attempt.contact().id());
                followUp.setInt(3, attempt.attemptNumber());
                followUp.setString(4, attempt.contact().number());
                followUp.setLong(5, redialAt.toEpochMilli());
                followUp.setLong(6, now);
                followUp.setString(7, attempt.attemptId());
                followUp.setString(8, attempt.campaignId());
                followUp.setString(9, attempt.contact().id());
                followUp.setString(10, attempt.attemptId());
                followUp.addBatch();
            }
            PreparedStatement progress = tx.batch("UPDATE contact_progress SET status = ?, reason = ?, attempts = ?, "
                    + "updated_at = ? WHERE campaign_id = ? AND contact_key = ? AND last_attempt_id = ? "
                    + "AND EXISTS (SELECT 1 FROM attempts WHERE attempt_id = ? AND disposition = '" + WITHDRAWN + "')");
            progress.setString(1, status);
            progress.setString(2, reason);
            progress.setInt(3, attempt.attemptNumber() - 1);
            progress.setLong(4, now);
            progress.setString(5, attempt.campaignId());
            progress.setString(6, attempt.contact().id());
            progress.setString(7, attempt.attemptId());
            progress.setString(8, attempt.attemptId());
            progress.addBatch();
        });
    }

    @Override
    public Mono<Void> recordSkipped(String campaignId, String contactKey, String number, String state, String reason) {
        Objects.requireNonNull(campaignId, "campaignId");
        Objects.requireNonNull(contactKey, "contactKey");
        Objects.requireNonNull(state, "state");
        String numberOrEmpty = number == null ? "" : number;
        return writer.submit(tx -> {
            // a live call (IN_PROGRESS) keeps its status: its result will settle the contact
            PreparedStatement upsert = tx.batch("INSERT INTO contact_progress (campaign_id, contact_key, number, "
                    + "status, reason, attempts, last_attempt_id, updated_at) VALUES (?, ?, ?, ?, ?, 0, NULL, ?) "
                    + "ON CONFLICT (campaign_id, contact_key) DO UPDATE SET status = excluded.status, "
                    + "reason = excluded.reason, updated_at = excluded.updated_at "
                    + "WHERE contact_progress.status <> '" + IN_PROGRESS + "'");
            upsert.setString(1, campaignId);
            upsert.setString(2, contactKey);
            upsert.setString(3, numberOrEmpty);
            upsert.setString(4, state);
            upsert.setString(5, reason);
            upsert.setLong(6, clock.millis());
            upsert.addBatch();
        });
    }

    @Override
    public Mono<Void> addDnc(String list, String number, Instant at) {
        Objects.requireNonNull(list, "list");
        Objects.requireNonNull(number, "number");
        Objects.requireNonNull(at, "at");
        return writer.submit(tx -> {
            PreparedStatement insert = tx.batch("INSERT INTO dnc (list_name, number, added_at) VALUES (?, ?, ?) "
                    + "ON CONFLICT (list_name, number) DO NOTHING");
            insert.setString(1, list);
            insert.setString(2, number);
            insert.setLong(3, at.toEpochMilli());
            insert.addBatch();
        });
    }

    @Override
    public Mono<Void> upsertCampaign(String campaignId, String definition, Instant at) {
        Objects.requireNonNull(campaignId, "campaignId");
        Objects.requireNonNull(at, "at");
        return writer.submit(tx -> {
            PreparedStatement upsert = tx.batch("INSERT INTO campaigns (campaign_id, definition, state, created_at, "
                    + "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (campaign_id) DO UPDATE SET "
                    + "definition = excluded.definition, updated_at = excluded.updated_at");
            upsert.setString(1, campaignId);
            upsert.setString(2, definition);
            upsert.setString(3, CampaignState.RUNNING.name());
            upsert.setLong(4, at.toEpochMilli());
            upsert.setLong(5, at.toEpochMilli());
            upsert.addBatch();
        });
    }

    @Override
    public Mono<Void> setCampaignState(String campaignId, CampaignState state, Instant at) {
        Objects.requireNonNull(campaignId, "campaignId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(at, "at");
        return writer.submit(tx -> {
            PreparedStatement update = tx.prepare("UPDATE campaigns SET state = ?, updated_at = ? "
                    + "WHERE campaign_id = ?");
            update.setString(1, state.name());
            update.setLong(2, at.toEpochMilli());
            update.setString(3, campaignId);
            if (update.executeUpdate() == 0) {
                throw new LedgerException("Ledger database " + backend.describe() + ": no campaign " + campaignId);
            }
        });
    }

    @Override
    public Mono<Boolean> transitionCampaignState(String campaignId, CampaignState state, Instant at) {
        Objects.requireNonNull(campaignId, "campaignId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(at, "at");
        // Set by the write itself (again if its batch is replayed), read once the write is committed.
        java.util.concurrent.atomic.AtomicBoolean changed = new java.util.concurrent.atomic.AtomicBoolean();
        return writer.submit(tx -> {
            // PostgreSQL re-reads the row a concurrent writer updated before evaluating the condition (read
            // committed), so of two nodes recording the same state only the first one's update counts.
            PreparedStatement update = tx.prepare("UPDATE campaigns SET state = ?, updated_at = ? "
                    + "WHERE campaign_id = ? AND state <> ?");
            update.setString(1, state.name());
            update.setLong(2, at.toEpochMilli());
            update.setString(3, campaignId);
            update.setString(4, state.name());
            int rows = update.executeUpdate();
            if (rows == 0) {
                PreparedStatement known = tx.prepare("SELECT 1 FROM campaigns WHERE campaign_id = ?");
                known.setString(1, campaignId);
                try (java.sql.ResultSet rs = known.executeQuery()) {
                    if (!rs.next()) {
                        throw new LedgerException("Ledger database " + backend.describe() + ": no campaign "
                                + campaignId);
                    }
                }
            }
            changed.set(rows > 0);
        }).then(Mono.fromSupplier(changed::get));
    }

    @Override
    public Mono<Void> scheduleFollowUp(String campaignId, String contactKey, String number, int attemptNumber,
                                       Instant due) {
        Objects.requireNonNull(campaignId, "campaignId");
        Objects.requireNonNull(contactKey, "contactKey");
        Objects.requireNonNull(number, "number");
        Objects.requireNonNull(due, "due");
        if (attemptNumber < 2) {
            throw new IllegalArgumentException("a follow-up is attempt 2 or later, was " + attemptNumber);
        }
        return writer.submit(tx -> {
            PreparedStatement insert = tx.batch("INSERT INTO follow_ups (campaign_id, contact_key, attempt_number, "
                    + "number, due_at, taken_at, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?) "
                    + "ON CONFLICT (campaign_id, contact_key, attempt_number) DO NOTHING");
            insert.setString(1, campaignId);
            insert.setString(2, contactKey);
            insert.setInt(3, attemptNumber);
            insert.setString(4, number);
            insert.setLong(5, due.toEpochMilli());
            insert.setLong(6, clock.millis());
            insert.addBatch();
        });
    }

    @Override
    public Mono<Void> markFollowUpTaken(String campaignId, String contactKey, int attemptNumber, Instant at) {
        Objects.requireNonNull(campaignId, "campaignId");
        Objects.requireNonNull(contactKey, "contactKey");
        Objects.requireNonNull(at, "at");
        return writer.submit(tx -> {
            PreparedStatement update = tx.batch("UPDATE follow_ups SET taken_at = ? WHERE campaign_id = ? "
                    + "AND contact_key = ? AND attempt_number = ? AND taken_at IS NULL");
            update.setLong(1, at.toEpochMilli());
            update.setString(2, campaignId);
            update.setString(3, contactKey);
            update.setInt(4, attemptNumber);
            update.addBatch();
        });
    }

    // ---- reads ----------------------------------------------------------------------------------------

    @Override
    public Flux<String> dncNumbers(String list) {
        Objects.requireNonNull(list, "list");
        return query("SELECT number FROM dnc WHERE list_name = ? ORDER BY number",
                statement -> statement.setString(1, list), rows -> rows.getString(1));
    }

    @Override
    public Mono<AttemptRecord> findByTransactionId(String transactionId) {
        Objects.requireNonNull(transactionId, "transactionId");
        return query("SELECT " + ATTEMPT_COLUMNS + " FROM attempts WHERE transaction_id = ? ORDER BY seq",
                statement -> statement.setString(1, transactionId), JdbcLedger::attempt).next();
    }

    @Override
    public Mono<AttemptRecord> findAttempt(String attemptId) {
        Objects.requireNonNull(attemptId, "attemptId");
        return query("SELECT " + ATTEMPT_COLUMNS + " FROM attempts WHERE attempt_id = ?",
                statement -> statement.setString(1, attemptId), JdbcLedger::attempt).next();
    }

    /**
     * {@inheritDoc} Each result carries the attempt's first failed action, read from its {@code ACTION_FAILED}
     * event ({@link CallResult#actionFailure()}), for the export.
     */
    @Override
    public Flux<AttemptRecord> attempts(String campaignId) {
        Objects.requireNonNull(campaignId, "campaignId");
        return query("SELECT " + ATTEMPT_COLUMNS + ", " + FIRST_ACTION_FAILURE
                        + " FROM attempts WHERE campaign_id = ? ORDER BY seq",
                statement -> statement.setString(1, campaignId), JdbcLedger::attemptWithActionFailure);
    }

    @Override
    public Flux<AttemptRecord> openAttempts(String campaignId) {
        Objects.requireNonNull(campaignId, "campaignId");
        return query("SELECT " + ATTEMPT_COLUMNS + " FROM attempts WHERE campaign_id = ? AND disposition IS NULL "
                + "ORDER BY seq", statement -> statement.setString(1, campaignId), JdbcLedger::attempt);
    }

    @Override
    public Flux<AttemptEvent> events(String transactionId) {
        Objects.requireNonNull(transactionId, "transactionId");
        return query("SELECT transaction_id, sequence, attempt_id, event_type, occurred_at, detail "
                + "FROM attempt_events WHERE transaction_id = ? ORDER BY sequence",
                statement -> statement.setString(1, transactionId),
                rows -> new AttemptEvent(rows.getString(1), rows.getInt(2), rows.getString(3), rows.getString(4),
                        instant(rows, 5), rows.getString(6)));
    }

    @Override
    public Mono<CampaignRecord> campaign(String campaignId) {
        Objects.requireNonNull(campaignId, "campaignId");
        return query("SELECT campaign_id, definition, state, created_at, updated_at FROM campaigns "
                + "WHERE campaign_id = ?", statement -> statement.setString(1, campaignId), JdbcLedger::campaign)
                .next();
    }

    @Override
    public Flux<CampaignRecord> campaigns() {
        return query("SELECT campaign_id, definition, state, created_at, updated_at FROM campaigns "
                + "ORDER BY campaign_id", statement -> { }, JdbcLedger::campaign);
    }

    @Override
    public Mono<Set<String>> knownContacts(String campaignId, Collection<String> contactKeys) {
        Objects.requireNonNull(campaignId, "campaignId");
        List<String> keys = List.copyOf(new HashSet<>(contactKeys));
        if (keys.isEmpty()) {
            return Mono.just(Set.of());
        }
        List<List<String>> chunks = new ArrayList<>();
        for (int i = 0; i < keys.size(); i += IN_CHUNK) {
            chunks.add(keys.subList(i, Math.min(keys.size(), i + IN_CHUNK)));
        }
        return Flux.fromIterable(chunks)
                .concatMap(chunk -> query("SELECT contact_key FROM contact_progress WHERE campaign_id = ? "
                        + "AND contact_key IN (" + "?, ".repeat(chunk.size() - 1) + "?)", statement -> {
                            statement.setString(1, campaignId);
                            for (int i = 0; i < chunk.size(); i++) {
                                statement.setString(i + 2, chunk.get(i));
                            }
                        }, rows -> rows.getString(1)))
                .collect(HashSet<String>::new, Set::add)
                .map(Set::copyOf);
    }

    @Override
    public Flux<ContactProgress> contacts(String campaignId) {
        Objects.requireNonNull(campaignId, "campaignId");
        return query("SELECT campaign_id, contact_key, number, status, reason, attempts, last_attempt_id, updated_at "
                + "FROM contact_progress WHERE campaign_id = ? ORDER BY contact_key",
                statement -> statement.setString(1, campaignId),
                rows -> new ContactProgress(rows.getString(1), rows.getString(2), rows.getString(3),
                        rows.getString(4), rows.getString(5), rows.getInt(6), rows.getString(7),
                        instant(rows, 8)));
    }

    @Override
    public Flux<FollowUp> dueFollowUps(String campaignId, Instant upTo) {
        Objects.requireNonNull(campaignId, "campaignId");
        Objects.requireNonNull(upTo, "upTo");
        return query("SELECT campaign_id, contact_key, number, attempt_number, due_at FROM follow_ups "
                + "WHERE campaign_id = ? AND taken_at IS NULL AND due_at <= ? "
                + "ORDER BY due_at, contact_key, attempt_number", statement -> {
                    statement.setString(1, campaignId);
                    statement.setLong(2, upTo.toEpochMilli());
                }, rows -> new FollowUp(rows.getString(1), rows.getString(2), rows.getString(3), rows.getInt(4),
                        instant(rows, 5)));
    }

    @Override
    public Mono<Map<String, Long>> contactCounts(String campaignId) {
        Objects.requireNonNull(campaignId, "campaignId");
        return query("SELECT status, COUNT(*) FROM contact_progress WHERE campaign_id = ? GROUP BY status",
                statement -> statement.setString(1, campaignId),
                rows -> Map.entry(rows.getString(1), rows.getLong(2)))
                .collectMap(Map.Entry::getKey, Map.Entry::getValue, java.util.TreeMap::new);
    }

    @Override
    public Flux<AttemptCount> attemptCounts(String campaignId, Instant recentSince) {
        Objects.requireNonNull(campaignId, "campaignId");
        Objects.requireNonNull(recentSince, "recentSince");
        return query("SELECT region, disposition, CASE WHEN transaction_id IS NULL THEN 0 ELSE 1 END, COUNT(*), "
                        + "SUM(CASE WHEN placed_at >= ? THEN 1 ELSE 0 END) FROM attempts WHERE campaign_id = ? "
                        + "GROUP BY region, disposition, CASE WHEN transaction_id IS NULL THEN 0 ELSE 1 END",
                statement -> {
                    statement.setLong(1, recentSince.toEpochMilli());
                    statement.setString(2, campaignId);
                }, rows -> new AttemptCount(rows.getString(1), rows.getString(2), rows.getInt(3) == 1,
                        rows.getLong(4), rows.getLong(5)));
    }

    @Override
    public Mono<Long> pendingFollowUps(String campaignId) {
        Objects.requireNonNull(campaignId, "campaignId");
        return query("SELECT COUNT(*) FROM follow_ups WHERE campaign_id = ? AND taken_at IS NULL",
                statement -> statement.setString(1, campaignId), rows -> rows.getLong(1)).next();
    }

    // ---- observability and lifecycle ------------------------------------------------------------------

    @Override
    public int queueDepth() {
        return writer.queueDepth();
    }

    @Override
    public LedgerStats stats() {
        return writer.stats();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        writer.refuseNewWrites();
        CountDownLatch drained = new CountDownLatch(1);
        try {
            // the writer runs its tasks in order: this one runs after the drains already scheduled
            writerScheduler.schedule(drained::countDown);
            if (!drained.await(30, TimeUnit.SECONDS)) {
                log.warn("Ledger {}: queued writes did not finish within 30 s of close", backend.describe());
            }
        } catch (RejectedExecutionException e) {
            // already disposed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writerScheduler.dispose();
        readerScheduler.dispose();
        writer.failQueued(new LedgerException("Ledger database " + backend.describe() + ": the ledger is closed"));
        backend.close();
    }

    // ---- plumbing -------------------------------------------------------------------------------------

    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement statement) throws SQLException;
    }

    @FunctionalInterface
    private interface RowMapper<T> {
        T map(ResultSet rows) throws SQLException;
    }

    /** An open read: its connection, statement and rows, closed together. */
    private final class Cursor {
        private final Connection connection;
        private final PreparedStatement statement;
        private final ResultSet rows;

        Cursor(String sql, Binder binder) throws SQLException {
            Connection c = backend.reader();
            try {
                PreparedStatement s = c.prepareStatement(sql);
                s.setFetchSize(500); // PostgreSQL streams with a cursor instead of loading every row
                binder.bind(s);
                this.statement = s;
                this.rows = s.executeQuery();
                this.connection = c;
            } catch (SQLException | RuntimeException e) {
                closeQuietly(c);
                throw e;
            }
        }

        void close() {
            try {
                rows.close();
                statement.close();
                connection.rollback(); // ends the read transaction
            } catch (SQLException ignored) {
                // the read is over; a failure to close it changes nothing
            } finally {
                closeQuietly(connection);
            }
        }
    }

    /**
     * Streams the rows of a query from a cursor on a reader thread. {@code Flux.using} closes the cursor
     * (and gives its connection back) before completion or error reach the subscriber.
     */
    private <T> Flux<T> query(String sql, Binder binder, RowMapper<T> mapper) {
        return Flux.using(() -> {
            if (closed.get()) {
                throw new LedgerException("Ledger database " + backend.describe() + ": the ledger is closed");
            }
            try {
                return new Cursor(sql, binder);
            } catch (SQLException | RuntimeException e) {
                throw backend.translate("read", e);
            }
        }, cursor -> Flux.<T>generate(sink -> {
            try {
                if (cursor.rows.next()) {
                    sink.next(mapper.map(cursor.rows));
                } else {
                    sink.complete();
                }
            } catch (SQLException | RuntimeException e) {
                sink.error(backend.translate("read", e));
            }
        }), Cursor::close).subscribeOn(readerScheduler);
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // nothing to recover
        }
    }

    private static AttemptRecord attempt(ResultSet rows) throws SQLException {
        String attemptId = rows.getString(1);
        String campaignId = rows.getString(2);
        String transactionId = rows.getString(8);
        String disposition = rows.getString(12);
        CallResult result = null;
        boolean withdrawn = WITHDRAWN.equals(disposition);
        if (disposition != null && !withdrawn) {
            long sip = rows.getLong(13);
            Integer sipCode = rows.wasNull() ? null : (int) sip;
            result = new CallResult(attemptId, campaignId, transactionId, Disposition.valueOf(disposition), sipCode,
                    Duration.ofMillis(rows.getLong(14)), Duration.ofMillis(rows.getLong(15)), rows.getString(16),
                    rows.getInt(17), instant(rows, 11));
        }
        return new AttemptRecord(attemptId, campaignId, rows.getString(3), rows.getString(4), rows.getInt(5),
                rows.getString(6), rows.getString(7), transactionId, instant(rows, 9), instant(rows, 10), result,
                withdrawn);
    }

    /** {@link #attempt} with the 18th column, the first ACTION_FAILED detail, put into its result. */
    private static AttemptRecord attemptWithActionFailure(ResultSet rows) throws SQLException {
        AttemptRecord a = attempt(rows);
        ActionFailure failure = ActionFailure.parse(rows.getString(18));
        CallResult r = a.result();
        if (r == null || failure == null) {
            return a;
        }
        return new AttemptRecord(a.attemptId(), a.campaignId(), a.contactKey(), a.number(), a.attemptNumber(),
                a.region(), a.fromNumber(), a.transactionId(), a.intendedAt(), a.placedAt(),
                new CallResult(r.attemptId(), r.campaignId(), r.transactionId(), r.disposition(), r.sipCode(), r.ring(),
                        r.talk(), r.digits(), r.invocations(), r.endedAt(), failure), a.withdrawn());
    }

    private static CampaignRecord campaign(ResultSet rows) throws SQLException {
        return new CampaignRecord(rows.getString(1), rows.getString(2), CampaignState.valueOf(rows.getString(3)),
                instant(rows, 4), instant(rows, 5));
    }

    private static Instant instant(ResultSet rows, int column) throws SQLException {
        long millis = rows.getLong(column);
        return rows.wasNull() ? null : Instant.ofEpochMilli(millis);
    }

    private static void setInstant(PreparedStatement statement, int index, Instant value) throws SQLException {
        if (value == null) {
            statement.setNull(index, Types.BIGINT);
        } else {
            statement.setLong(index, value.toEpochMilli());
        }
    }

    private static void setInteger(PreparedStatement statement, int index, Integer value) throws SQLException {
        if (value == null) {
            statement.setNull(index, Types.INTEGER);
        } else {
            statement.setInt(index, value);
        }
    }
}
