package io.chimedialer.core.pacing;

import java.time.Duration;
import java.util.Objects;

/**
 * How a Region's create rate adapts to throttling (additive increase, multiplicative decrease).
 *
 * @param decreaseFactor      the rate is multiplied by this on a throttle (0 &lt; f &lt; 1; default 0.5)
 * @param floorFraction       the rate never drops below this fraction of the configured rate (0 &lt; x &lt;= 1;
 *                            default 0.1)
 * @param increasePerSecond   the rate climbs back by this fraction of the configured rate per second
 *                            (&gt; 0; default 0.05, so from the floor to full in 18 s)
 * @param cooldown            throttles within this time after a decrease are one congestion event, not
 *                            many (the calls in flight all see the same throttle; default 1 s)
 */
public record AimdSettings(double decreaseFactor, double floorFraction, double increasePerSecond,
                           Duration cooldown) {

    public AimdSettings {
        if (!(decreaseFactor > 0 && decreaseFactor < 1)) {
            throw new IllegalArgumentException("decreaseFactor must be in (0, 1), was " + decreaseFactor);
        }
        if (!(floorFraction > 0 && floorFraction <= 1)) {
            throw new IllegalArgumentException("floorFraction must be in (0, 1], was " + floorFraction);
        }
        if (!(increasePerSecond > 0)) {
            throw new IllegalArgumentException("increasePerSecond must be > 0, was " + increasePerSecond);
        }
        Objects.requireNonNull(cooldown, "cooldown");
        if (cooldown.isNegative()) {
            throw new IllegalArgumentException("cooldown must be >= 0, was " + cooldown);
        }
    }

    /** The defaults listed on the record's components. */
    public static AimdSettings ofDefaults() {
        return new AimdSettings(0.5, 0.1, 0.05, Duration.ofSeconds(1));
    }
}
