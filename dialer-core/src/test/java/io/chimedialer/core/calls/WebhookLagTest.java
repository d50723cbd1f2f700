package io.chimedialer.core.calls;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The webhook's lag on hand-moved clocks. */
class WebhookLagTest {

    private static final long MS = 1_000_000;
    private static final long NONE = WebhookLag.NO_TIMESTAMP;

    private final AtomicLong nanos = new AtomicLong(1_000 * MS);
    /** The wall clock: 1,000,000.250 s since the epoch. */
    private final AtomicLong wall = new AtomicLong(1_000_000_250L);
    private final WebhookLag lag = new WebhookLag(nanos::get, wall::get, Duration.ofSeconds(10));

    private void advance(long millis) {
        nanos.addAndGet(millis * MS);
        wall.addAndGet(millis);
    }

    @Test
    void nothingInFlight_lagIsZero() {
        assertThat(lag.lagNanos()).isZero();
        long t = lag.begin(NONE);
        lag.end(t, true);
        advance(5_000);
        assertThat(lag.lagNanos()).isZero();
        assertThat(lag.inFlight()).isZero();
    }

    @Test
    void oldestUnansweredDeliverysAge_fallsAsItIsAnswered() {
        long first = lag.begin(NONE);
        advance(400);
        long second = lag.begin(NONE);
        advance(100);

        assertThat(lag.lagNanos()).isEqualTo(500 * MS);
        assertThat(lag.inFlight()).isEqualTo(2);

        lag.end(first, true);
        assertThat(lag.lagNanos()).isEqualTo(100 * MS);
        lag.end(second, true);
        lag.end(second, true);
        assertThat(lag.lagNanos()).isZero();
    }

    @Test
    void deliveryNeverEnded_forgottenAfterStaleAfter_soTheLagCannotStayUpForEver() {
        lag.begin(NONE);
        advance(9_000);
        long young = lag.begin(NONE);
        advance(1_000);
        assertThat(lag.lagNanos()).isEqualTo(10_000 * MS);

        nanos.addAndGet(1);
        // The leaked one is forgotten; the young one is the oldest now.
        assertThat(lag.lagNanos()).isEqualTo(1_000 * MS + 1);
        assertThat(lag.inFlight()).isEqualTo(1);
        lag.end(young, true);
        assertThat(lag.lagNanos()).isZero();
    }

    @Test
    void signedLongBeforeItArrived_countsTheWaitAsTheSenderSawIt_atMostWhatItWaited_forOneToTwoWindows() {
        // Signed at 999,998.x s (the timestamp is whole seconds): received at 1,000,000.250, answered 10 ms later.
        long t = lag.begin(999_998);
        advance(10);
        lag.end(t, true);
        // Counted from the latest the send may have been (999,999.000): 1,260 ms, not more.
        assertThat(lag.lagNanos()).isEqualTo(1_260 * MS);
        assertThat(lag.inFlight()).isZero();

        advance(WebhookLag.WINDOW.toMillis());
        assertThat(lag.lagNanos()).isEqualTo(1_260 * MS);
        advance(WebhookLag.WINDOW.toMillis());
        assertThat(lag.lagNanos()).isZero();
    }

    @Test
    void signatureRefused_orNoTimestamp_senderSideWaitNotCounted() {
        long forged = lag.begin(999_000);
        lag.end(forged, false);
        long unstamped = lag.begin(WebhookLag.timestamp("not a number"));
        lag.end(unstamped, true);
        long sameSecond = lag.begin(1_000_000);
        lag.end(sameSecond, true);

        assertThat(lag.lagNanos()).isZero();
        assertThat(WebhookLag.timestamp(null)).isEqualTo(NONE);
        assertThat(WebhookLag.timestamp(" 1765033690 ")).isEqualTo(1_765_033_690L);
    }

    @Test
    void sentAtWithinTheSignedSecond_countsTheExactWait_otherwiseTheSecondsBound() {
        // Sent at 1,000,000.100 (signed second 1,000,000), received at .250, answered 10 ms later: 160 ms. The
        // timestamp alone would see nothing (its bound, 1,000,001.000, is after the answer).
        long exact = lag.begin(1_000_000, 1_000_000_100L);
        advance(10);
        lag.end(exact, true);
        assertThat(lag.lagNanos()).isEqualTo(160 * MS);

        advance(2 * WebhookLag.WINDOW.toMillis());
        // A Sent-At outside the signed second (altered, or a sender's bug) is not believed: the bound counts.
        long outside = lag.begin(999_998, 999_000_000L);
        lag.end(outside, true);
        // Answered at 1,000,001.260, counted from 999,999.000.
        assertThat(lag.lagNanos()).isEqualTo(2_260 * MS);
        assertThat(WebhookLag.sentAt("1000000100")).isEqualTo(1_000_000_100L);
        assertThat(WebhookLag.sentAt(null)).isEqualTo(NONE);
    }
}
