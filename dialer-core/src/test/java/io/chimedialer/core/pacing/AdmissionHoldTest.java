package io.chimedialer.core.pacing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.core.calls.WebhookLag;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Admission held while the webhook lags, on virtual time. */
class AdmissionHoldTest {

    private static final Duration THRESHOLD = Duration.ofMillis(300);

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final AtomicLong lag = new AtomicLong();
    private final AtomicInteger live = new AtomicInteger();
    private final AdmissionHold hold = AdmissionHold.following(lag::get, () -> 0, live::get, THRESHOLD, vts);

    private AtomicBoolean admitted() {
        AtomicBoolean done = new AtomicBoolean();
        hold.whenOpen().subscribe(null, e -> { }, () -> done.set(true));
        return done;
    }

    @Test
    void lagUnderTheThreshold_admitsAtOnce() {
        lag.set(THRESHOLD.toNanos());
        assertThat(admitted()).isTrue();
        assertThat(hold.held()).isFalse();
        assertThat(hold.holds()).isZero();
    }

    @Test
    void heldForTenMinutes_thenReleased_admitsWithoutOverflowingTheStack() {
        // 60,000 looks (one per POLL): a chain of one operator per look overflowed the stack when it completed.
        lag.set(THRESHOLD.toNanos() + 1);
        AtomicBoolean done = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<Throwable> error = new java.util.concurrent.atomic.AtomicReference<>();
        hold.whenOpen().subscribe(null, error::set, () -> done.set(true));
        vts.advanceTimeBy(Duration.ofMinutes(10));
        assertThat(done).isFalse();

        lag.set(0);
        vts.advanceTimeBy(AdmissionHold.POLL);

        assertThat(error.get()).isNull();
        assertThat(done).isTrue();
    }

    @Test
    void lagOverTheThreshold_holds_releasesOnlyOnceBackUnderHalfOfIt() {
        lag.set(THRESHOLD.toNanos() + 1);
        AtomicBoolean done = admitted();
        vts.advanceTimeBy(Duration.ofSeconds(3));
        assertThat(done).isFalse();
        assertThat(hold.held()).isTrue();

        // Under the threshold, over half of it: still held (no flapping at the edge).
        lag.set(THRESHOLD.toNanos() - 1);
        vts.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(done).isFalse();
        // Another contact arriving meanwhile waits too.
        AtomicBoolean second = admitted();
        assertThat(second).isFalse();

        lag.set(THRESHOLD.toNanos() / 2);
        vts.advanceTimeBy(AdmissionHold.POLL);
        assertThat(done).isTrue();
        assertThat(second).isTrue();
        assertThat(hold.held()).isFalse();
        assertThat(hold.holds()).isEqualTo(1);
        assertThat(hold.heldSeconds()).isCloseTo(4.01, org.assertj.core.api.Assertions.within(0.0001));
    }

    @Test
    void afterAHold_newCallsStartOnlyUnderHalfTheCallsLiveThen_aLimitThatGrowsWhileTheLagStaysLow() {
        // Slow start first: the limit doubles each second while the calls live follow it, up to 1,000 live.
        while (hold.liveLimit() < 1_000) {
            live.set((int) hold.liveLimit());
            hold.open();
            vts.advanceTimeBy(Duration.ofMillis(100));
        }
        live.set(1_000);
        lag.set(Duration.ofSeconds(1).toNanos());
        assertThat(hold.open()).isFalse();
        assertThat(hold.liveLimit()).isEqualTo(500.0);

        lag.set(0);
        // The lag is back, but 1,000 calls are still live: over the limit, nothing new starts.
        assertThat(hold.open()).isFalse();
        assertThat(hold.held()).isFalse();
        live.set(499);
        assertThat(hold.open()).isTrue();
        live.set(500);
        assertThat(hold.open()).isFalse();

        // Not grown while the calls live stay under 80% of it: nothing tests the limit.
        live.set(399);
        vts.advanceTimeBy(Duration.ofSeconds(10));
        assertThat(hold.open()).isTrue();
        assertThat(hold.liveLimit()).isEqualTo(500.0);
        // 10% a second while the lag stays low and the limit nearly binds: 550 after a second.
        live.set(400);
        vts.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(hold.open()).isTrue();
        assertThat(hold.liveLimit()).isCloseTo(550.0, org.assertj.core.api.Assertions.within(1e-6));
        // Between half the threshold and the threshold: neither grown nor cut.
        lag.set(THRESHOLD.toNanos() - 1);
        vts.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(hold.open()).isTrue();
        assertThat(hold.liveLimit()).isCloseTo(550.0, org.assertj.core.api.Assertions.within(1e-6));
        // The next hold cuts it again, from the smaller of the limit and what is live.
        lag.set(THRESHOLD.toNanos() + 1);
        live.set(540);
        assertThat(hold.open()).isFalse();
        assertThat(hold.liveLimit()).isEqualTo(270.0);
        assertThat(hold.holds()).isEqualTo(2);

        // With no call live it never binds (at least MIN_LIMIT); low long enough while it binds, it is lifted.
        lag.set(0);
        live.set(0);
        assertThat(hold.open()).isTrue();
        for (int i = 0; i < 120; i++) {
            vts.advanceTimeBy(Duration.ofSeconds(1));
            live.set((int) Math.min(Integer.MAX_VALUE, hold.liveLimit()));
            hold.open();
        }
        assertThat(hold.liveLimit()).isInfinite();
        live.set(1_000_000);
        assertThat(hold.open()).isTrue();
    }

    @Test
    void beforeTheFirstHold_limitStartsAtTheMinimum_andDoublesEachSecondWhileItNearlyBinds() {
        live.set(AdmissionHold.MIN_LIMIT);
        assertThat(hold.open()).isFalse();
        live.set(AdmissionHold.MIN_LIMIT - 1);
        assertThat(hold.open()).isTrue();
        for (int i = 0; i < 100; i++) {
            vts.advanceTimeBy(Duration.ofMillis(10));
            live.set((int) hold.liveLimit());
            hold.open();
        }
        // ~2x a second (ln 2 of itself a second, but at least MIN_LIMIT a second), looked at every 10 ms.
        assertThat(hold.liveLimit()).isBetween(20.0, 22.0);
        assertThat(hold.holds()).isZero();
    }

    @Test
    void heldTime_countsOnlyWhileSomeoneWaited() {
        lag.set(Duration.ofSeconds(1).toNanos());
        assertThat(hold.open()).isFalse();
        vts.advanceTimeBy(Duration.ofSeconds(60));
        // Nobody waited nor looked: the hold's time stops at the last look.
        assertThat(hold.heldSeconds()).isZero();
        AtomicBoolean done = admitted();
        vts.advanceTimeBy(Duration.ofSeconds(2));
        assertThat(done).isFalse();
        assertThat(hold.heldSeconds()).isCloseTo(62.0, org.assertj.core.api.Assertions.within(0.0001));
    }

    @Test
    void followingTheWebhooksLag_noInvocationPending_neverHolds_andALeakedOneCannotHoldForEver() {
        AtomicLong nanos = new AtomicLong();
        WebhookLag webhook = new WebhookLag(nanos::get, () -> nanos.get() / 1_000_000, Duration.ofSeconds(10));
        // The webhook's clock is the scheduler's, as System.nanoTime and the dialer's scheduler are in production.
        Disposable tick = vts.schedulePeriodically(() -> nanos.set(vts.now(TimeUnit.NANOSECONDS)), 0, 1,
                TimeUnit.MILLISECONDS);
        AdmissionHold h = AdmissionHold.following(webhook::lagNanos, webhook::inFlight, () -> 0, THRESHOLD, vts);

        assertThat(h.open()).isTrue();
        long answeredLate = webhook.begin(WebhookLag.NO_TIMESTAMP);
        vts.advanceTimeBy(Duration.ofMillis(500));
        AtomicBoolean first = new AtomicBoolean();
        h.whenOpen().subscribe(null, e -> { }, () -> first.set(true));
        assertThat(first).isFalse();
        webhook.end(answeredLate, true);
        vts.advanceTimeBy(AdmissionHold.POLL);
        assertThat(first).isTrue();

        // A delivery whose end never comes (a bug, a lost connection): held at most until it is taken for lost.
        webhook.begin(WebhookLag.NO_TIMESTAMP);
        vts.advanceTimeBy(Duration.ofSeconds(1));
        AtomicBoolean second = new AtomicBoolean();
        h.whenOpen().subscribe(null, e -> { }, () -> second.set(true));
        vts.advanceTimeBy(Duration.ofSeconds(8));
        assertThat(second).isFalse();
        vts.advanceTimeBy(Duration.ofSeconds(1).plus(AdmissionHold.POLL));
        assertThat(second).isTrue();
        assertThat(webhook.inFlight()).isZero();
        tick.dispose();
    }

    @Test
    void holds_loggedAtTheFirstThenAtMostOncePer30s_withTheHoldsAndTimeHeldSinceTheLastMessage() {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger)
                org.slf4j.LoggerFactory.getLogger(AdmissionHold.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.read.ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            // A hold of 1 s every 2 s for 40 s: 20 holds, the first and the one 30 s later logged.
            for (int i = 0; i < 20; i++) {
                lag.set(THRESHOLD.toNanos() + 1);
                assertThat(hold.open()).isFalse();
                vts.advanceTimeBy(Duration.ofSeconds(1));
                lag.set(0);
                assertThat(hold.open()).isTrue();
                vts.advanceTimeBy(Duration.ofSeconds(1));
            }
            List<String> lines = appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage())
                    .toList();
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0)).startsWith("WARN admission held: the webhook's answers lag by 300 ms")
                    .contains("(since the previous such message: 0 holds, 0.0 s held)");
            // The first message's hold and the 14 not logged, 1 s each.
            assertThat(lines.get(1)).contains("(since the previous such message: 15 holds, 15.0 s held)");
            assertThat(hold.holds()).isEqualTo(20);
        } finally {
            logger.detachAppender(appender);
        }
    }

    @Test
    void zeroThreshold_neverHolds() {
        AdmissionHold off = AdmissionHold.following(() -> Long.MAX_VALUE, () -> 0, () -> 0, Duration.ZERO, vts);
        assertThat(off).isSameAs(AdmissionHold.never());
        AtomicBoolean done = new AtomicBoolean();
        off.whenOpen().subscribe(null, e -> { }, () -> done.set(true));
        assertThat(done).isTrue();
        assertThatThrownBy(() -> AdmissionHold.following(lag::get, () -> 0, () -> 0, Duration.ofMillis(-1), vts))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
