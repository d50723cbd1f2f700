package io.chimedialer.app.runtime;

import io.chimedialer.core.ledger.LedgerListener;
import io.chimedialer.core.metrics.DialerMetrics;
import java.time.Duration;
import java.util.Objects;

/**
 * Records each transaction the ledger's writer commits in {@code dialer_ledger_write_duration_seconds}: the time to
 * execute and commit that batch. Called on the ledger's writer thread; a timer record is all it does.
 */
final class MetricsLedgerListener implements LedgerListener {
    private final DialerMetrics metrics;

    MetricsLedgerListener(DialerMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    @Override
    public void onCommit(int ops, Duration commitLatency, Duration maxWait) {
        metrics.ledgerWrite(commitLatency);
    }
}
