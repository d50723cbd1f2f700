package io.chimedialer.core.ledger;

import java.time.Duration;

/**
 * A snapshot of the ledger writer, for metrics. Durations are measured with the ledger's clock.
 *
 * @param queueDepth        write operations enqueued and not yet committed
 * @param batches           transactions committed
 * @param opsCommitted      write operations committed
 * @param opsFailed         write operations completed with an error
 * @param lastBatchSize     operations in the last committed transaction
 * @param lastCommitLatency time to execute and commit the last transaction
 * @param maxCommitLatency  the longest of those so far
 * @param totalWriteLatency sum over committed operations of enqueue-to-commit time (divide by
 *                          {@code opsCommitted} for the mean write latency)
 */
public record LedgerStats(int queueDepth, long batches, long opsCommitted, long opsFailed, int lastBatchSize,
                          Duration lastCommitLatency, Duration maxCommitLatency, Duration totalWriteLatency) {
    /** All zero. */
    public static final LedgerStats EMPTY =
            new LedgerStats(0, 0, 0, 0, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO);
}
