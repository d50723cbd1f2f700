package io.chimedialer.emulator.internal;

import io.chimedialer.emulator.WebhookLatency;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Webhook answer latencies: a histogram of buckets 1% wide over microseconds (so a percentile is within 1% of
 * the true value) up to about an hour, plus exact counts over 1 s and 5 s, timeouts and failures. Lock-free;
 * recording is a few atomic increments.
 */
public final class LatencyHistogram {
    private static final double LOG_BASE = Math.log(1.01);
    private static final int BUCKETS = 2_300;
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private final LongAdder answered = new LongAdder();
    private final LongAdder over1s = new LongAdder();
    private final LongAdder over5s = new LongAdder();
    private final LongAdder timedOut = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final AtomicLong maxNanos = new AtomicLong();

    /** Bucket of a latency in microseconds: bucket i holds values up to {@link #upperMicros(int)}. */
    static int bucket(long micros) {
        if (micros <= 0) {
            return 0;
        }
        int i = (int) Math.ceil(Math.log1p(micros) / LOG_BASE);
        return Math.min(BUCKETS - 1, i);
    }

    /** The largest latency (microseconds) bucket {@code i} holds. */
    static double upperMicros(int i) {
        return Math.expm1(i * LOG_BASE);
    }

    /** An answer that came {@code nanos} after the send. */
    public void answered(long nanos) {
        long n = Math.max(0, nanos);
        counts.incrementAndGet(bucket(n / 1_000));
        answered.increment();
        maxNanos.accumulateAndGet(n, Math::max);
        if (n > SECOND_NANOS) {
            over1s.increment();
        }
        if (n > 5 * SECOND_NANOS) {
            over5s.increment();
        }
    }

    /** No answer within the webhook timeout. */
    public void timedOut() {
        timedOut.increment();
        over1s.increment();
        over5s.increment();
    }

    /** A delivery that failed without an answer before the timeout. */
    public void failed() {
        failed.increment();
    }

    /** The figures so far. */
    public WebhookLatency snapshot() {
        long[] c = new long[BUCKETS];
        long total = 0;
        for (int i = 0; i < BUCKETS; i++) {
            c[i] = counts.get(i);
            total += c[i];
        }
        double max = maxNanos.get() / 1e6;
        // A percentile is its bucket's upper bound: never report it above the exact maximum.
        return new WebhookLatency(answered.sum(), Math.min(max, percentile(c, total, 0.50)),
                Math.min(max, percentile(c, total, 0.99)), Math.min(max, percentile(c, total, 0.999)), max,
                over1s.sum(), over5s.sum(), timedOut.sum(), failed.sum());
    }

    /** The value (ms) under which a share {@code q} of the recorded answers fall; 0 when none. */
    static double percentile(long[] counts, long total, double q) {
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return upperMicros(i) / 1_000.0;
            }
        }
        return upperMicros(counts.length - 1) / 1_000.0;
    }
}
