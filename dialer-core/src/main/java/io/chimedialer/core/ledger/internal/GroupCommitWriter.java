package io.chimedialer.core.ledger.internal;

import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerException;
import io.chimedialer.core.ledger.LedgerListener;
import io.chimedialer.core.ledger.LedgerStats;
import io.chimedialer.core.ledger.LedgerUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Scheduler;

/**
 * The single writer with group commit. Callers enqueue operations from any thread; one task on the
 * writer scheduler drains up to {@code maxBatch} of them, runs them in one transaction, commits, then
 * completes each operation's {@code Mono}. Under load the operations that arrive during a commit form the
 * next batch, so the cost of a commit (an fsync, a round trip) is shared without waiting on a timer.
 *
 * <p>A batch that fails for a reason other than unavailability is retried one operation per transaction,
 * so that one bad operation fails alone. Signals are emitted on the writer thread.
 */
public final class GroupCommitWriter {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitWriter.class);

    /** One write: statements run inside the batch's transaction. */
    @FunctionalInterface
    public interface WriteOp {
        /**
         * Runs the write. A {@link LedgerException} thrown here fails this operation only and must be
         * thrown before the operation changed anything; an {@link SQLException} aborts the batch.
         */
        void apply(Tx tx) throws SQLException;
    }

    /**
     * The batch's connection and its prepared statements, reused across the batch's operations. Statements
     * taken with {@link #batch} are queued with {@code addBatch()} and sent together (one round trip on
     * PostgreSQL), in the order each was first used, before any immediate statement and before the commit.
     * Only independent, order-insensitive writes (guarded upserts and updates) use it.
     */
    public static final class Tx implements AutoCloseable {
        private final Connection connection;
        private final Map<String, PreparedStatement> statements = new HashMap<>();
        private final Map<String, PreparedStatement> queued = new LinkedHashMap<>();

        Tx(Connection connection) {
            this.connection = connection;
        }

        /** A statement to run now; queued statements are sent first. */
        public PreparedStatement prepare(String sql) throws SQLException {
            flush();
            PreparedStatement statement = statement(sql);
            statement.clearParameters();
            return statement;
        }

        /** A statement to bind and {@code addBatch()}; sent at the next {@link #flush}. */
        public PreparedStatement batch(String sql) throws SQLException {
            PreparedStatement statement = statement(sql);
            queued.putIfAbsent(sql, statement);
            return statement;
        }

        void flush() throws SQLException {
            if (queued.isEmpty()) {
                return;
            }
            try {
                for (PreparedStatement statement : queued.values()) {
                    statement.executeBatch();
                }
            } finally {
                queued.clear();
            }
        }

        private PreparedStatement statement(String sql) throws SQLException {
            PreparedStatement statement = statements.get(sql);
            if (statement == null) {
                statement = connection.prepareStatement(sql);
                statements.put(sql, statement);
            }
            return statement;
        }

        @Override
        public void close() {
            for (PreparedStatement statement : statements.values()) {
                try {
                    statement.close();
                } catch (SQLException ignored) {
                    // closing a statement of a finished transaction; nothing to recover
                }
            }
        }
    }

    private record Pending(WriteOp op, MonoSink<Void> sink, Instant enqueuedAt) {
    }

    private final Backend backend;
    private final Scheduler scheduler;
    private final Clock clock;
    private final int maxBatch;
    private final LedgerListener listener;
    private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger depth = new AtomicInteger();
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicLong opsFailed = new AtomicLong();
    private volatile boolean closed;
    // written by the writer thread only, read by stats()
    private volatile long batches;
    private volatile long opsCommitted;
    private volatile int lastBatchSize;
    private volatile Duration lastCommitLatency = Duration.ZERO;
    private volatile Duration maxCommitLatency = Duration.ZERO;
    private volatile Duration totalWriteLatency = Duration.ZERO;

    public GroupCommitWriter(Backend backend, Scheduler scheduler, Clock clock, int maxBatch, LedgerListener listener) {
        this.backend = backend;
        this.scheduler = scheduler;
        this.clock = clock;
        this.maxBatch = maxBatch;
        this.listener = listener;
    }

    /** A {@code Mono} that enqueues {@code op} when subscribed and completes after its commit. */
    public Mono<Void> submit(WriteOp op) {
        return Mono.create(sink -> {
            if (closed) {
                fail(List.of(new Pending(op, sink, clock.instant())), closedError());
                return;
            }
            Pending pending = new Pending(op, sink, clock.instant());
            depth.incrementAndGet();
            queue.add(pending);
            if (closed && queue.remove(pending)) {
                depth.decrementAndGet();
                fail(List.of(pending), closedError());
                return;
            }
            if (wip.getAndIncrement() == 0) {
                try {
                    scheduler.schedule(this::drain);
                } catch (RejectedExecutionException e) {
                    failQueued(closedError());
                }
            }
        });
    }

    public int queueDepth() {
        return depth.get();
    }

    public LedgerStats stats() {
        return new LedgerStats(depth.get(), batches, opsCommitted, opsFailed.get(), lastBatchSize,
                lastCommitLatency, maxCommitLatency, totalWriteLatency);
    }

    /** Refuses new writes; the queued ones are still written by the drain already scheduled. */
    public void refuseNewWrites() {
        closed = true;
    }

    /** Fails whatever is still queued (after the writer scheduler stopped). */
    public void failQueued(LedgerException error) {
        List<Pending> left = new ArrayList<>();
        Pending pending;
        while ((pending = queue.poll()) != null) {
            left.add(pending);
        }
        depth.addAndGet(-left.size());
        fail(left, error);
    }

    private LedgerException closedError() {
        return new LedgerException("Ledger database " + backend.describe() + ": the ledger is closed");
    }

    private void drain() {
        int missed = 1;
        for (;;) {
            for (;;) {
                List<Pending> batch = new ArrayList<>(Math.min(maxBatch, 64));
                Pending pending;
                while (batch.size() < maxBatch && (pending = queue.poll()) != null) {
                    batch.add(pending);
                }
                if (batch.isEmpty()) {
                    break;
                }
                write(batch);
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    private void write(List<Pending> batch) {
        Instant start = clock.instant();
        LedgerException[] rejected = new LedgerException[batch.size()];
        Throwable failure = null;
        Connection connection = null;
        try {
            connection = backend.writer();
            backend.begin(connection);
            try (Tx tx = new Tx(connection)) {
                for (int i = 0; i < batch.size(); i++) {
                    try {
                        batch.get(i).op().apply(tx);
                    } catch (LedgerException e) {
                        rejected[i] = e;
                    }
                }
                tx.flush();
            }
            backend.commit(connection);
        } catch (SQLException | RuntimeException e) {
            backend.rollbackQuietly(connection);
            failure = e;
        } finally {
            backend.releaseWriter(connection);
        }
        depth.addAndGet(-batch.size());
        if (failure != null) {
            LedgerException error = backend.translate("write", failure);
            if (!(error instanceof LedgerUnavailableException) && batch.size() > 1) {
                log.warn("Ledger batch of {} failed, retrying each operation alone: {}", batch.size(),
                        error.getMessage());
                depth.addAndGet(batch.size());
                for (Pending pending : batch) {
                    write(List.of(pending));
                }
                return;
            }
            fail(batch, error);
            return;
        }
        Instant end = clock.instant();
        Duration commit = Duration.between(start, end);
        Duration maxWait = Duration.ZERO;
        Duration sumWait = Duration.ZERO;
        int committed = 0;
        for (Pending pending : batch) {
            Duration wait = Duration.between(pending.enqueuedAt(), end);
            sumWait = sumWait.plus(wait);
            if (wait.compareTo(maxWait) > 0) {
                maxWait = wait;
            }
        }
        for (LedgerException e : rejected) {
            if (e == null) {
                committed++;
            }
        }
        batches++;
        opsCommitted += committed;
        lastBatchSize = batch.size();
        lastCommitLatency = commit;
        if (commit.compareTo(maxCommitLatency) > 0) {
            maxCommitLatency = commit;
        }
        totalWriteLatency = totalWriteLatency.plus(sumWait);
        Duration longestWait = maxWait;
        notifyListener(() -> listener.onCommit(batch.size(), commit, longestWait));
        for (int i = 0; i < batch.size(); i++) {
            if (rejected[i] == null) {
                batch.get(i).sink().success();
            } else {
                fail(List.of(batch.get(i)), rejected[i]);
            }
        }
    }

    private void fail(List<Pending> pendings, LedgerException error) {
        if (pendings.isEmpty()) {
            return;
        }
        opsFailed.addAndGet(pendings.size());
        notifyListener(() -> listener.onFailure(pendings.size(), error));
        for (Pending pending : pendings) {
            pending.sink().error(error);
        }
    }

    private static void notifyListener(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            log.warn("Ledger listener failed", e);
        }
    }
}
