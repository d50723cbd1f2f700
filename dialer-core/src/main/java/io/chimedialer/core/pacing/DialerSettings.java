package io.chimedialer.core.pacing;

import java.time.Duration;
import java.util.Objects;

/**
 * How the {@link Dialer} batches intents and handles a full account quota.
 *
 * @param batchSize           attempts handed to {@code beforePlace} at once, at most (default 512). Batches form
 *                            naturally: a batch takes the attempts admitted while earlier batches committed, so
 *                            it is one attempt on a quick ledger and grows with the ledger's latency
 * @param commitsInFlight     batches whose {@code beforePlace} may run at once (default 4); admission goes on
 *                            meanwhile. The ledger's single writer groups concurrent batches into one
 *                            transaction, so more than one in flight keeps it busy while a batch's Creates go
 * @param maxAtCapacityRounds how often one attempt may meet ResourceLimitExceeded and wait for a permit
 *                            again before its AtCapacity outcome is final (default 20)
 * @param admissionLookahead  a contact is admitted to a Region only if its rate permit would be free within
 *                            this time, counting the contacts admitted there but not yet sent (default
 *                            50 ms: enough to fill a batch at high rates, short enough that routing and the
 *                            breaker's verdict are current when the call goes)
 * @param createsInFlight     Creates sent and not yet answered, at most, per Region of the campaign (default 256,
 *                            the Chime client's default connection pool): beyond its pool and four times its size
 *                            in waiters, the SDK's HTTP client refuses a request at once (NotSent), which counts
 *                            against the Region's breaker; a fast pipeline must wait for a connection instead
 */
public record DialerSettings(int batchSize, int commitsInFlight, int maxAtCapacityRounds,
                             Duration admissionLookahead, int createsInFlight) {

    /** The default {@code createsInFlight}: the Chime client's default connection pool. */
    public static final int DEFAULT_CREATES_IN_FLIGHT = 256;

    /** With the default {@code createsInFlight}. */
    public DialerSettings(int batchSize, int commitsInFlight, int maxAtCapacityRounds, Duration admissionLookahead) {
        this(batchSize, commitsInFlight, maxAtCapacityRounds, admissionLookahead, DEFAULT_CREATES_IN_FLIGHT);
    }

    public DialerSettings {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, was " + batchSize);
        }
        if (commitsInFlight < 1) {
            throw new IllegalArgumentException("commitsInFlight must be >= 1, was " + commitsInFlight);
        }
        if (maxAtCapacityRounds < 0) {
            throw new IllegalArgumentException("maxAtCapacityRounds must be >= 0, was " + maxAtCapacityRounds);
        }
        Objects.requireNonNull(admissionLookahead, "admissionLookahead");
        if (createsInFlight < 1) {
            throw new IllegalArgumentException("createsInFlight must be >= 1, was " + createsInFlight);
        }
        if (admissionLookahead.isNegative()) {
            throw new IllegalArgumentException("admissionLookahead must be >= 0, was " + admissionLookahead);
        }
    }

    /** The defaults listed on the record's components. */
    public static DialerSettings ofDefaults() {
        return new DialerSettings(512, 4, 20, Duration.ofMillis(50));
    }
}
