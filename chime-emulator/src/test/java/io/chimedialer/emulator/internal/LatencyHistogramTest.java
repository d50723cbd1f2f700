package io.chimedialer.emulator.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.chimedialer.emulator.WebhookLatency;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

    @Test
    void empty_allZero() {
        assertThat(new LatencyHistogram().snapshot()).isEqualTo(WebhookLatency.NONE);
    }

    @Test
    void percentiles_withinOnePercent_countsOverOneAndFiveSecondsExact() {
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 1; i <= 10_000; i++) {
            h.answered(i * 100_000L); // 0.1 ms .. 1,000 ms
        }
        h.answered(1_500_000_000L);
        h.answered(7_000_000_000L);
        h.timedOut();
        h.failed();

        WebhookLatency l = h.snapshot();

        assertThat(l.answered()).isEqualTo(10_002);
        assertThat(l.p50Ms()).isCloseTo(500.1, within(500.1 * 0.011));
        assertThat(l.p99Ms()).isCloseTo(990.2, within(990.2 * 0.011));
        assertThat(l.p999Ms()).isCloseTo(999.2, within(999.2 * 0.011));
        assertThat(l.maxMs()).isEqualTo(7_000);
        assertThat(l.over1s()).as("1.5 s, 7 s and the timeout").isEqualTo(3);
        assertThat(l.over5s()).as("7 s and the timeout").isEqualTo(2);
        assertThat(l.timedOut()).isEqualTo(1);
        assertThat(l.failed()).isEqualTo(1);
    }

    @Test
    void bucket_upperBoundHoldsItsValue() {
        for (long micros : new long[] {0, 1, 2, 99, 1_000, 123_456, 5_000_000, 3_600_000_000L}) {
            int b = LatencyHistogram.bucket(micros);
            assertThat(LatencyHistogram.upperMicros(b)).as("bucket of %d", micros).isGreaterThanOrEqualTo(micros - 1e-6);
            if (b > 0) {
                assertThat(LatencyHistogram.upperMicros(b - 1)).isLessThan(micros);
            }
        }
    }
}
