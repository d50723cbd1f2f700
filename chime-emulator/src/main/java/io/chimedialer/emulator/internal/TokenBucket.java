package io.chimedialer.emulator.internal;

/**
 * A token bucket of {@code rate} tokens per second holding at most {@code max(1, rate)} tokens (one
 * second's burst), starting full. Real time from {@link System#nanoTime()}. Thread-safe.
 */
final class TokenBucket {
    private final double rate;
    private final double capacity;
    private double tokens;
    private long last;

    TokenBucket(double rate) {
        this.rate = rate;
        this.capacity = Math.max(1, rate);
        this.tokens = capacity;
        this.last = System.nanoTime();
    }

    synchronized boolean tryAcquire() {
        long now = System.nanoTime();
        tokens = Math.min(capacity, tokens + (now - last) / 1e9 * rate);
        last = now;
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
