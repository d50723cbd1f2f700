package io.chimedialer.core.ledger;

import java.time.Duration;

/**
 * Receives the writer's events, to bind metrics (e.g. a Micrometer timer). Called on the ledger's writer
 * thread after each transaction: keep it quick and never block or throw.
 */
public interface LedgerListener {
    /** Does nothing. */
    LedgerListener NONE = new LedgerListener() {
    };

    /**
     * A transaction committed.
     *
     * @param ops           the operations it held
     * @param commitLatency time to execute and commit it
     * @param maxWait       the longest enqueue-to-commit time among its operations (the write latency)
     */
    default void onCommit(int ops, Duration commitLatency, Duration maxWait) {
    }

    /**
     * Operations failed (their {@code Mono}s error with {@code error}).
     *
     * @param ops   how many
     * @param error the error they got
     */
    default void onFailure(int ops, LedgerException error) {
    }
}
