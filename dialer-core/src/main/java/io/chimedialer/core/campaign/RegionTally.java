package io.chimedialer.core.campaign;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A Region's attempts for one campaign: how many, when the first and the last were sent, and how many in each
 * tenth of a second of the last {@link #WINDOW_SECONDS} seconds, for a rate measured over a sliding window rather
 * than from one burst. Thread-safe.
 */
final class RegionTally {
    /** The sliding window of {@link #recentCps}, in seconds. */
    static final int WINDOW_SECONDS = 10;
    private static final long BUCKET_NANOS = 100_000_000L;
    private static final int BUCKETS = WINDOW_SECONDS * 10;

    final AtomicLong attempts = new AtomicLong();
    private final AtomicLong first = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong last = new AtomicLong(Long.MIN_VALUE);
    /** Attempts per bucket of 100 ms, and which bucket (nanos / 100 ms) each slot holds now. */
    private final long[] counts = new long[BUCKETS];
    private final long[] slotOf = new long[BUCKETS];

    RegionTally() {
        java.util.Arrays.fill(slotOf, Long.MIN_VALUE);
    }

    void attempt(long nanos) {
        attempts.incrementAndGet();
        first.compareAndSet(Long.MIN_VALUE, nanos);
        last.set(nanos);
        long bucket = Math.floorDiv(nanos, BUCKET_NANOS);
        int slot = Math.floorMod(bucket, BUCKETS);
        synchronized (counts) {
            if (slotOf[slot] != bucket) {
                slotOf[slot] = bucket;
                counts[slot] = 0;
            }
            counts[slot]++;
        }
    }

    /**
     * Creates sent in the last {@link #WINDOW_SECONDS} seconds before {@code nowNanos}, divided by that window: the
     * rate a Region holds now. In the first seconds of a run it is lower than the pace (the window is not full yet);
     * a burst of a few Creates counts for what it is, a few Creates in ten seconds.
     */
    double recentCps(long nowNanos) {
        long now = Math.floorDiv(nowNanos, BUCKET_NANOS);
        long n = 0;
        synchronized (counts) {
            for (int i = 0; i < BUCKETS; i++) {
                if (slotOf[i] > now - BUCKETS && slotOf[i] <= now) {
                    n += counts[i];
                }
            }
        }
        // The window ends now: the current tenth of a second counts for the part of it that has passed.
        double covered = (BUCKETS - 1) * (BUCKET_NANOS / 1e9) + (nowNanos - now * BUCKET_NANOS) / 1e9;
        return n / covered;
    }

    /**
     * Creates sent divided by the seconds from the first Create to the last, that span counted as at least
     * {@link #WINDOW_SECONDS} seconds: the average pace of a Region over the run, which a short list's burst (three
     * Creates within a few milliseconds) cannot inflate beyond what it is.
     */
    double achievedCps() {
        long n = attempts.get();
        if (n == 0) {
            return 0;
        }
        double span = (last.get() - first.get()) / 1e9;
        return n / Math.max(span, WINDOW_SECONDS);
    }
}
