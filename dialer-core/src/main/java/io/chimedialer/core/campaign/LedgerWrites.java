package io.chimedialer.core.campaign;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The run's bookkeeping writes (results, skips, placements, opt-outs, follow-ups), composed into the chain of the
 * event that causes them. A write counts as in flight from the moment {@link #track} wraps it until it settles, so
 * that the run completes only once every write has landed; a failed write is logged with the campaign id and
 * counted, and the run goes on (the ledger keeps the first result; a lost bookkeeping write is not worth a
 * campaign). Intents are not written here: they gate their Create and fail the pipeline when they cannot land.
 *
 * <p>Thread-safe.
 */
final class LedgerWrites {
    private static final Logger log = LoggerFactory.getLogger(CampaignRun.class);

    private final String campaignId;
    private final LongAdder failures;
    private final Runnable onSettled;
    private final AtomicLong inFlight = new AtomicLong();

    /**
     * @param campaignId the campaign, for the log
     * @param failures   counts the writes that failed
     * @param onSettled  called after each write settled (the run checks whether it is done)
     */
    LedgerWrites(String campaignId, LongAdder failures, Runnable onSettled) {
        this.campaignId = campaignId;
        this.failures = failures;
        this.onSettled = onSettled;
    }

    /**
     * Wraps one write: it is in flight from this call on (so a completion check made before the returned Mono is
     * subscribed already waits for it), and the returned Mono never errors. The caller must subscribe it, as part
     * of its chain.
     */
    Mono<Void> track(Mono<Void> write) {
        inFlight.incrementAndGet();
        AtomicBoolean settled = new AtomicBoolean();
        return write
                .onErrorResume(e -> {
                    failures.increment();
                    log.error("campaign {}: ledger write failed", campaignId, e);
                    return Mono.empty();
                })
                .doFinally(signal -> {
                    if (settled.compareAndSet(false, true)) {
                        inFlight.decrementAndGet();
                        onSettled.run();
                    }
                });
    }

    /** Whether no write is in flight. */
    boolean idle() {
        return inFlight.get() == 0;
    }
}
