package io.chimedialer.core.campaign;

import java.util.concurrent.atomic.AtomicLong;

/** A Region's attempts for one campaign and the span they were sent in. */
final class RegionTally {
    final AtomicLong attempts = new AtomicLong();
    private final AtomicLong first = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong last = new AtomicLong(Long.MIN_VALUE);

    void attempt(long nanos) {
        attempts.incrementAndGet();
        first.compareAndSet(Long.MIN_VALUE, nanos);
        last.set(nanos);
    }

    double achievedCps() {
        long n = attempts.get();
        long span = last.get() - first.get();
        if (n < 2 || span <= 0) {
            return n;
        }
        return (n - 1) / (span / 1e9);
    }
}
