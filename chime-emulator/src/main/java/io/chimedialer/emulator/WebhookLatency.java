package io.chimedialer.emulator;

/**
 * How fast the SMA endpoint answered the emulator's invocations, as Chime sees it: each delivery attempt (a first
 * delivery, a retry or an injected duplicate) is timed from its send to its answer. Percentiles come from a
 * histogram with buckets 1% wide (so they are within 1% of the true value); the counts are exact.
 *
 * @param answered  deliveries answered with a 2xx status within the webhook timeout
 * @param p50Ms     median answer latency, milliseconds
 * @param p99Ms     99th percentile, milliseconds
 * @param p999Ms    99.9th percentile, milliseconds
 * @param maxMs     the slowest answer, milliseconds
 * @param over1s    deliveries answered after more than 1 s, plus those never answered in time ({@code timedOut})
 * @param over5s    deliveries answered after more than 5 s, plus those never answered in time ({@code timedOut}
 *                  with the default 5 s webhook timeout): Chime gives up on these
 * @param timedOut  deliveries with no answer within the webhook timeout (the emulator gave up on them)
 * @param failed    deliveries that failed before the timeout: an error status, or no answer at all (connection
 *                  refused or reset, no endpoint configured)
 */
public record WebhookLatency(long answered, double p50Ms, double p99Ms, double p999Ms, double maxMs, long over1s,
                             long over5s, long timedOut, long failed) {

    /** No delivery yet. */
    public static final WebhookLatency NONE = new WebhookLatency(0, 0, 0, 0, 0, 0, 0, 0, 0);
}
