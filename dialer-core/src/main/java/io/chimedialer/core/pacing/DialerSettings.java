package io.chimedialer.core.pacing;

import java.time.Duration;
import java.util.Objects;

/**
 * How the {@link Dialer} batches intents and handles a full account quota.
 *
 * @param batchSize           attempts handed to {@code beforePlace} at once, at most (default 64)
 * @param batchWindow         how long a batch may wait to fill (default 5 ms)
 * @param maxAtCapacityRounds how often one attempt may meet ResourceLimitExceeded and wait for a permit
 *                            again before its AtCapacity outcome is final (default 20)
 * @param admissionLookahead  a contact is admitted to a Region only if its rate permit would be free within
 *                            this time, counting the contacts admitted there but not yet sent (default
 *                            50 ms: enough to fill a batch at high rates, short enough that routing and the
 *                            breaker's verdict are current when the call goes)
 */
public record DialerSettings(int batchSize, Duration batchWindow, int maxAtCapacityRounds,
                             Duration admissionLookahead) {

    public DialerSettings {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, was " + batchSize);
        }
        Objects.requireNonNull(batchWindow, "batchWindow");
        if (batchWindow.isNegative() || batchWindow.isZero()) {
            throw new IllegalArgumentException("batchWindow must be > 0, was " + batchWindow);
        }
        if (maxAtCapacityRounds < 0) {
            throw new IllegalArgumentException("maxAtCapacityRounds must be >= 0, was " + maxAtCapacityRounds);
        }
        Objects.requireNonNull(admissionLookahead, "admissionLookahead");
        if (admissionLookahead.isNegative()) {
            throw new IllegalArgumentException("admissionLookahead must be >= 0, was " + admissionLookahead);
        }
    }

    /** The defaults listed on the record's components. */
    public static DialerSettings ofDefaults() {
        return new DialerSettings(64, Duration.ofMillis(5), 20, Duration.ofMillis(50));
    }
}
