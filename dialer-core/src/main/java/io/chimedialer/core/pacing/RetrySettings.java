package io.chimedialer.core.pacing;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link ResilientCreate} retries a Create that was throttled or provably not sent.
 *
 * @param maxAttempts  sends at most (&gt;= 1; default 4: the first and three retries)
 * @param firstBackoff the first retry's delay before jitter (default 250 ms), doubling after each
 * @param maxBackoff   the longest delay (default 8 s)
 * @param jitter       the random share of each delay, 0 to 1 (default 0.5)
 */
public record RetrySettings(int maxAttempts, Duration firstBackoff, Duration maxBackoff, double jitter) {

    public RetrySettings {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1, was " + maxAttempts);
        }
        Objects.requireNonNull(firstBackoff, "firstBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        if (firstBackoff.isNegative() || firstBackoff.isZero()) {
            throw new IllegalArgumentException("firstBackoff must be > 0, was " + firstBackoff);
        }
        if (maxBackoff.compareTo(firstBackoff) < 0) {
            throw new IllegalArgumentException("maxBackoff must be >= firstBackoff, was " + maxBackoff);
        }
        if (!(jitter >= 0 && jitter <= 1)) {
            throw new IllegalArgumentException("jitter must be in [0, 1], was " + jitter);
        }
    }

    /** The defaults listed on the record's components. */
    public static RetrySettings ofDefaults() {
        return new RetrySettings(4, Duration.ofMillis(250), Duration.ofSeconds(8), 0.5);
    }

    /** A copy with another maximum number of sends. */
    public RetrySettings withMaxAttempts(int attempts) {
        return new RetrySettings(attempts, firstBackoff, maxBackoff, jitter);
    }
}
