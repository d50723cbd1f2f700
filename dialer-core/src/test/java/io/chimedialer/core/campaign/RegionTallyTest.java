package io.chimedialer.core.campaign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The Region rates of the progress line, the status and the report, on a clock the test sets (nanos). */
class RegionTallyTest {
    private static final long S = 1_000_000_000L;

    @Test
    void threeCreatesInOneBurst_areThreeCreatesInTenSeconds_notARateOfHundreds() {
        RegionTally t = new RegionTally();
        t.attempt(5 * S);
        t.attempt(5 * S + 1_000_000);
        t.attempt(5 * S + 2_000_000);

        assertThat(t.recentCps(5 * S + 3_000_000)).isCloseTo(0.3, within(0.005));
        assertThat(t.achievedCps()).isCloseTo(0.3, within(1e-9));
    }

    @Test
    void steadyTwentyPerSecond_measuredAsTwenty_overTheWindowAndOverTheRun() {
        RegionTally t = new RegionTally();
        long start = 1_000 * S;
        for (int i = 0; i < 20 * 60; i++) {
            t.attempt(start + i * (S / 20));
        }
        long now = start + 60 * S;

        assertThat(t.recentCps(now)).isCloseTo(20.0, within(1e-9));
        assertThat(t.recentCps(now - S / 40)).as("mid-tenth").isCloseTo(20.0, within(0.2));
        assertThat(t.achievedCps()).isCloseTo(20.0, within(0.05));
    }

    @Test
    void recentCps_slidesOut_createsOlderThanTheWindowNoLongerCount() {
        RegionTally t = new RegionTally();
        for (int i = 0; i < 50; i++) {
            t.attempt(i * (S / 10)); // 10/s for 5 s
        }
        assertThat(t.recentCps(10 * S - 1)).isCloseTo(5.0, within(1e-6)); // 50 Creates in the last 10 s
        assertThat(t.recentCps(12 * S - 1)).isCloseTo(3.0, within(1e-6)); // those from 2.0 s on: 30 of them
        assertThat(t.recentCps(16 * S)).isZero();
        // A slot reused a window later counts only its new Creates.
        t.attempt(20 * S + 1);
        assertThat(t.recentCps(20 * S + 2)).isCloseTo(0.1, within(0.002));
    }

    @Test
    void nothingSent_zero() {
        RegionTally t = new RegionTally();
        assertThat(t.recentCps(3 * S)).isZero();
        assertThat(t.achievedCps()).isZero();
    }
}
