package io.chimedialer.core.pacing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Sliding-window counting over event timestamps (nanoseconds). */
final class Windows {

    private Windows() {
    }

    /** The most events in any half-open window (t - window, t], t ranging over the events. */
    static int maxInAnyWindow(List<Long> timestamps, Duration window) {
        List<Long> sorted = new ArrayList<>(timestamps);
        Collections.sort(sorted);
        int max = 0;
        int first = 0;
        for (int last = 0; last < sorted.size(); last++) {
            while (sorted.get(first) <= sorted.get(last) - window.toNanos()) {
                first++;
            }
            max = Math.max(max, last - first + 1);
        }
        return max;
    }
}
