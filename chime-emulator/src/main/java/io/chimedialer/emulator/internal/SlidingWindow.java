package io.chimedialer.emulator.internal;

import java.util.ArrayDeque;

/** Tracks the highest number of events in any one-second window (real time). Thread-safe. */
final class SlidingWindow {
    private static final long WINDOW_NANOS = 1_000_000_000L;
    private final ArrayDeque<Long> times = new ArrayDeque<>();
    private long max;

    synchronized void record() {
        long now = System.nanoTime();
        times.addLast(now);
        while (!times.isEmpty() && now - times.peekFirst() >= WINDOW_NANOS) {
            times.removeFirst();
        }
        max = Math.max(max, times.size());
    }

    synchronized long max() {
        return max;
    }
}
