package io.chimedialer.core.campaign;

import io.chimedialer.core.domain.Disposition;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Follow-up attempts by disposition, and caps per number.
 *
 * @param rules                 per disposition: how long to wait and the maximum attempts in all
 * @param maxAttemptsPerNumber  at most this many attempts per number within {@code perNumberWindow}
 * @param perNumberWindow       the window of the per-number cap (e.g. 24 h)
 */
public record RetryConfig(Map<Disposition, Rule> rules, int maxAttemptsPerNumber, Duration perNumberWindow) {
    /** No follow-ups; at most 3 attempts per number per 24 h. */
    public static final RetryConfig NONE = new RetryConfig(Map.of(), 3, Duration.ofHours(24));

    public RetryConfig {
        rules = rules == null || rules.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(rules));
        if (maxAttemptsPerNumber < 1) {
            throw new IllegalArgumentException("max-attempts-per-number must be >= 1, was " + maxAttemptsPerNumber);
        }
        Objects.requireNonNull(perNumberWindow, "per-number-window");
    }

    /**
     * One disposition's rule.
     *
     * @param after       delay before the follow-up attempt
     * @param maxAttempts the maximum number of attempts in all for this contact (>= 1)
     */
    public record Rule(Duration after, int maxAttempts) {
        public Rule {
            Objects.requireNonNull(after, "after");
            if (after.isNegative()) {
                throw new IllegalArgumentException("after must not be negative, was " + after);
            }
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("max-attempts must be >= 1, was " + maxAttempts);
            }
        }
    }
}
