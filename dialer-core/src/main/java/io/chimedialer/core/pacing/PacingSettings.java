package io.chimedialer.core.pacing;

import java.time.Duration;
import java.util.Objects;

/**
 * How each Region is paced. Immutable; validated at construction.
 *
 * @param aimd                 the throttling response
 * @param maxRateWait          the longest a call may be told to wait for a rate permit (default 1 min); a
 *                             longer wait fails the reservation and the call is NotSent
 * @param maxCallLifetime      after this a held active-call permit is reclaimed (default 2 h)
 * @param capRecoveryInterval  how often a shrunk active-call cap grows back (default 1 s)
 * @param capRecoveryFraction  by how much of the configured cap it grows each time (default 0.05, at least 1)
 * @param breakerWindow        how many recent calls the circuit breaker judges (default 20)
 * @param breakerMinimumCalls  calls needed before it may open (default 10)
 * @param breakerFailureRate   failure percentage (Unknown or NotSent) that opens it (default 50)
 * @param breakerOpenFor       how long it stays open before letting probes through (default 30 s)
 * @param breakerProbes        calls let through while half-open (default 3)
 * @param regionFaultAfter     unexplained 4xx answers to Create in a row that fail the Region (default 5; see
 *                             {@link RegionHealth})
 * @param webhookLagThreshold  while the webhook's oldest unanswered invocation is older than this, no new call is
 *                             admitted ({@link AdmissionHold}); zero: admission never waits for the webhook
 *                             (default {@link #DEFAULT_WEBHOOK_LAG_THRESHOLD})
 */
public record PacingSettings(AimdSettings aimd, Duration maxRateWait, Duration maxCallLifetime,
                             Duration capRecoveryInterval, double capRecoveryFraction, int breakerWindow,
                             int breakerMinimumCalls, float breakerFailureRate, Duration breakerOpenFor,
                             int breakerProbes, int regionFaultAfter, Duration webhookLagThreshold) {

    /** The default {@code webhookLagThreshold}: well under the 1 s the webhook's p99.9 must stay below. */
    public static final Duration DEFAULT_WEBHOOK_LAG_THRESHOLD = Duration.ofMillis(300);

    public PacingSettings {
        nonNegative(webhookLagThreshold, "webhookLagThreshold");
        Objects.requireNonNull(aimd, "aimd");
        nonNegative(maxRateWait, "maxRateWait");
        positive(maxCallLifetime, "maxCallLifetime");
        positive(capRecoveryInterval, "capRecoveryInterval");
        positive(breakerOpenFor, "breakerOpenFor");
        if (!(capRecoveryFraction > 0 && capRecoveryFraction <= 1)) {
            throw new IllegalArgumentException("capRecoveryFraction must be in (0, 1], was " + capRecoveryFraction);
        }
        if (breakerWindow < 1 || breakerMinimumCalls < 1 || breakerProbes < 1) {
            throw new IllegalArgumentException("breakerWindow, breakerMinimumCalls and breakerProbes must be >= 1");
        }
        if (!(breakerFailureRate > 0 && breakerFailureRate <= 100)) {
            throw new IllegalArgumentException("breakerFailureRate must be in (0, 100], was " + breakerFailureRate);
        }
        if (regionFaultAfter < 1) {
            throw new IllegalArgumentException("regionFaultAfter must be >= 1, was " + regionFaultAfter);
        }
    }

    /** The defaults listed on the record's components. */
    public static PacingSettings ofDefaults() {
        return new PacingSettings(AimdSettings.ofDefaults(), Duration.ofMinutes(1), Duration.ofHours(2),
                Duration.ofSeconds(1), 0.05, 20, 10, 50f, Duration.ofSeconds(30), 3,
                RegionHealth.DEFAULT_UNEXPLAINED_LIMIT, DEFAULT_WEBHOOK_LAG_THRESHOLD);
    }

    /** A copy with another maximum call lifetime. */
    public PacingSettings withMaxCallLifetime(Duration lifetime) {
        return new PacingSettings(aimd, maxRateWait, lifetime, capRecoveryInterval, capRecoveryFraction,
                breakerWindow, breakerMinimumCalls, breakerFailureRate, breakerOpenFor, breakerProbes, regionFaultAfter,
                webhookLagThreshold);
    }

    /** A copy with other AIMD settings. */
    public PacingSettings withAimd(AimdSettings settings) {
        return new PacingSettings(settings, maxRateWait, maxCallLifetime, capRecoveryInterval, capRecoveryFraction,
                breakerWindow, breakerMinimumCalls, breakerFailureRate, breakerOpenFor, breakerProbes, regionFaultAfter,
                webhookLagThreshold);
    }

    /** A copy with other circuit-breaker settings. */
    public PacingSettings withBreaker(int window, int minimumCalls, float failureRate, Duration openFor, int probes) {
        return new PacingSettings(aimd, maxRateWait, maxCallLifetime, capRecoveryInterval, capRecoveryFraction,
                window, minimumCalls, failureRate, openFor, probes, regionFaultAfter, webhookLagThreshold);
    }

    /** A copy that fails a Region after {@code count} unexplained 4xx answers in a row. */
    public PacingSettings withRegionFaultAfter(int count) {
        return new PacingSettings(aimd, maxRateWait, maxCallLifetime, capRecoveryInterval, capRecoveryFraction,
                breakerWindow, breakerMinimumCalls, breakerFailureRate, breakerOpenFor, breakerProbes, count,
                webhookLagThreshold);
    }

    /** A copy that holds admission while the webhook lags more than {@code threshold} (zero: never). */
    public PacingSettings withWebhookLagThreshold(Duration threshold) {
        return new PacingSettings(aimd, maxRateWait, maxCallLifetime, capRecoveryInterval, capRecoveryFraction,
                breakerWindow, breakerMinimumCalls, breakerFailureRate, breakerOpenFor, breakerProbes, regionFaultAfter,
                threshold);
    }

    private static void positive(Duration d, String field) {
        Objects.requireNonNull(d, field);
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(field + " must be > 0, was " + d);
        }
    }

    private static void nonNegative(Duration d, String field) {
        Objects.requireNonNull(d, field);
        if (d.isNegative()) {
            throw new IllegalArgumentException(field + " must be >= 0, was " + d);
        }
    }
}
