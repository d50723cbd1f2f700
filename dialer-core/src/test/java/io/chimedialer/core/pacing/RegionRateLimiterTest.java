package io.chimedialer.core.pacing;

import io.chimedialer.core.pacing.internal.RegionRateLimiter;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.reactor.ratelimiter.operator.RateLimiterOperator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class RegionRateLimiterTest {

    private static final Duration SECOND = Duration.ofSeconds(1);

    @Test
    void reservePermission_tenPerSecondBurstFive_burstThenSpacedThenSlidingCap() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 10, 5, Duration.ofMinutes(1), clock);

        List<Long> waitsMs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            waitsMs.add(TimeUnit.NANOSECONDS.toMillis(limiter.reservePermission()));
        }

        // 5 at once (burst), then one per 100 ms; the 11th..15th wait for the first five to leave the
        // 1-second window; the 16th is again 100 ms later.
        assertThat(waitsMs).containsExactly(0L, 0L, 0L, 0L, 0L, 100L, 200L, 300L, 400L, 500L,
                1000L, 1000L, 1000L, 1000L, 1000L, 1100L);
        assertThat(limiter.granted()).isEqualTo(16);
    }

    @Test
    void reservePermission_randomArrivals_neverMoreThanRateInAnyOneSecondWindow() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 7, 4, Duration.ofMinutes(10), clock);
        Random random = new Random(42);
        List<Long> grants = new ArrayList<>();

        for (int i = 0; i < 2000; i++) {
            clock.advanceTimeBy(Duration.ofMillis(random.nextInt(300)));
            grants.add(clock.now(TimeUnit.NANOSECONDS) + limiter.reservePermission());
        }

        assertThat(Windows.maxInAnyWindow(grants, SECOND)).isEqualTo(7);
        // Sustained: 2000 permits need at least (2000 - 7) / 7 seconds.
        long last = grants.stream().mapToLong(Long::longValue).max().orElseThrow();
        assertThat(last).isGreaterThanOrEqualTo(Duration.ofSeconds(1993 / 7).toNanos());
    }

    @Test
    void eventPublisher_successAndFailure_reachTypedAndCatchAllConsumers() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 1, 1, Duration.ZERO, clock);
        List<String> typed = new CopyOnWriteArrayList<>();
        List<String> all = new CopyOnWriteArrayList<>();
        limiter.getEventPublisher()
                .onSuccess(e -> typed.add("ok " + e.getNumberOfPermits()))
                .onFailure(e -> typed.add("refused " + e.getNumberOfPermits()));
        limiter.getEventPublisher().onEvent(e -> all.add(e.getRateLimiterName() + " " + e.getEventType()));

        assertThat(limiter.acquirePermission()).isTrue();
        assertThat(limiter.acquirePermission()).isFalse();

        assertThat(typed).containsExactly("ok 1", "refused 1");
        assertThat(all).containsExactly("r SUCCESSFUL_ACQUIRE", "r FAILED_ACQUIRE");
    }

    @Test
    void reservePermission_waitBeyondTimeout_refusedAndNothingReserved() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 1, 1, Duration.ofMillis(1500), clock);

        assertThat(limiter.reservePermission()).isZero();
        assertThat(limiter.reservePermission()).isEqualTo(SECOND.toNanos());
        assertThat(limiter.reservePermission()).isEqualTo(-1L);
        assertThat(limiter.granted()).isEqualTo(2);
        clock.advanceTimeBy(SECOND);
        // The refused one did not take the slot at t=2s.
        assertThat(limiter.reservePermission()).isEqualTo(SECOND.toNanos());
    }

    @Test
    void acquirePermission_noPermitFree_falseWithoutReserving() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 2, 1, Duration.ofMinutes(1), clock);

        assertThat(limiter.acquirePermission()).isTrue();
        assertThat(limiter.acquirePermission()).isFalse();
        clock.advanceTimeBy(Duration.ofMillis(500));
        assertThat(limiter.acquirePermission()).isTrue();
        assertThat(limiter.granted()).isEqualTo(2);
    }

    @Test
    void reservePermission_rateSupplierLowered_spacesPermitsWider() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        AtomicReference<Double> rate = new AtomicReference<>(10.0);
        RegionRateLimiter limiter = new RegionRateLimiter("r", rate::get, 10, 1, Duration.ofMinutes(1), clock);

        assertThat(limiter.reservePermission()).isZero();
        assertThat(limiter.reservePermission()).isEqualTo(Duration.ofMillis(100).toNanos());
        rate.set(2.0);
        // At 2/s the window (0 s, 1 s] already holds the grants at 0 and 100 ms: the next waits for the
        // first to leave it; the one after that is one 500 ms interval later.
        assertThat(limiter.reservePermission()).isEqualTo(Duration.ofMillis(1000).toNanos());
        assertThat(limiter.reservePermission()).isEqualTo(Duration.ofMillis(1500).toNanos());
    }

    @Test
    void rateLimiterOperator_onVirtualTime_pacesLikeTheQuota() {
        List<Long> times = new CopyOnWriteArrayList<>();
        StepVerifier.withVirtualTime(() -> {
                    // resilience4j's own operator waits with Mono.delay on the parallel scheduler, which
                    // withVirtualTime replaces by this virtual one: the limiter's clock and the wait agree.
                    VirtualTimeScheduler vts = VirtualTimeScheduler.get();
                    RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 5, 2, Duration.ofMinutes(1), vts);
                    return Flux.range(1, 20).flatMap(i -> Mono.fromSupplier(() -> vts.now(TimeUnit.NANOSECONDS))
                            .transform(RateLimiterOperator.of(limiter)));
                })
                .recordWith(() -> times)
                .thenAwait(Duration.ofSeconds(10))
                .expectNextCount(20)
                .verifyComplete();

        assertThat(Windows.maxInAnyWindow(times, SECOND)).isEqualTo(5);
        assertThat(times.stream().mapToLong(Long::longValue).max().orElseThrow())
                .isGreaterThanOrEqualTo(Duration.ofSeconds(3).toNanos());
    }

    @Test
    void metrics_afterBurst_reportAvailableAndWaiting() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter limiter = RegionRateLimiter.fixed("us-east-1", 10, 5, Duration.ofMinutes(1), clock);

        assertThat(limiter.getMetrics().getAvailablePermissions()).isEqualTo(5);
        for (int i = 0; i < 7; i++) {
            limiter.reservePermission();
        }

        assertThat(limiter.getMetrics().getAvailablePermissions()).isZero();
        assertThat(limiter.getMetrics().getNumberOfWaitingThreads()).isEqualTo(2);
        assertThat(limiter.getName()).isEqualTo("us-east-1");
        assertThat(limiter.getRateLimiterConfig().getLimitForPeriod()).isEqualTo(10);
    }

    @Test
    void nanosToPermit_anyLookaheadAcrossTheLogsWrap_boundsTheWaitAndLeavesTheLimiterUnchanged() {
        VirtualTimeScheduler clockA = VirtualTimeScheduler.create();
        VirtualTimeScheduler clockB = VirtualTimeScheduler.create();
        // Rate 5: the sliding log holds 5 grants, so lookaheads of 1..12 wrap around it from every position.
        RegionRateLimiter probed = RegionRateLimiter.fixed("a", 5, 2, Duration.ofMinutes(10), clockA);
        RegionRateLimiter untouched = RegionRateLimiter.fixed("b", 5, 2, Duration.ofMinutes(10), clockB);
        Random random = new Random(7);
        List<Long> history = new ArrayList<>();

        for (int round = 0; round < 40; round++) {
            Duration step = Duration.ofMillis(random.nextInt(400));
            clockA.advanceTimeBy(step);
            clockB.advanceTimeBy(step);
            long now = clockA.now(TimeUnit.NANOSECONDS);
            for (int nth = 1; nth <= 12; nth++) {
                // The next permit's wait is exact; a later one's is a lower bound of the wait it would really get.
                long real = replayThenReserve(history, now, nth);
                if (nth == 1) {
                    assertThat(probed.nanosToPermit(nth)).as("round %d, nth %d", round, nth).isEqualTo(real);
                } else {
                    assertThat(probed.nanosToPermit(nth)).as("round %d, nth %d", round, nth).isLessThanOrEqualTo(real);
                }
            }
            long a = probed.reservePermission();
            long b = untouched.reservePermission();
            assertThat(a).as("round %d", round).isEqualTo(b);
            history.add(now);
        }
        assertThat(probed.granted()).isEqualTo(untouched.granted()).isEqualTo(40);
    }

    /** The wait of the nth reservation at {@code now} on a fresh limiter that replays the reservations made at {@code history}. */
    private static long replayThenReserve(List<Long> history, long now, int nth) {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter replica = RegionRateLimiter.fixed("replica", 5, 2, Duration.ofMinutes(10), clock);
        for (long t : history) {
            clock.advanceTimeBy(Duration.ofNanos(t - clock.now(TimeUnit.NANOSECONDS)));
            replica.reservePermission();
        }
        clock.advanceTimeBy(Duration.ofNanos(now - clock.now(TimeUnit.NANOSECONDS)));
        long wait = -1;
        for (int i = 0; i < nth; i++) {
            wait = replica.reservePermission();
        }
        return wait;
    }

    @Test
    void nanosToSend_reservationsServedLate_spacedAgainAndNeverMoreThanRateWithinASecond() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 5, 1, Duration.ofMinutes(1), clock);
        List<Long> sends = new ArrayList<>();

        // Five reservations, due at 0, 200, ..., 800 ms; a stall wakes them all at 900 ms.
        for (int i = 0; i < 5; i++) {
            limiter.reservePermission();
        }
        clock.advanceTimeBy(Duration.ofMillis(900));
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            waits.add(TimeUnit.NANOSECONDS.toMillis(limiter.nanosToSend()));
        }
        // The first send starts the send schedule: the burst (1) goes at once, the next one interval later (less the
        // guard's slack for the clock's resolution); nothing is recorded while a caller is told to wait.
        assertThat(waits).containsExactly(0L, 195L, 195L, 195L, 195L);

        // Sending as told, the send log holds at most 5 within any 1 s (plus the guard).
        for (int step = 0; step < 400; step++) {
            long wait = limiter.nanosToSend();
            if (wait == 0) {
                sends.add(clock.now(TimeUnit.NANOSECONDS));
            } else {
                clock.advanceTimeBy(Duration.ofNanos(wait));
            }
        }
        assertThat(Windows.maxInAnyWindow(sends, SECOND.plus(RegionRateLimiter.SEND_GUARD))).isEqualTo(5);
        assertThat(limiter.maxSentInOneSecond()).isEqualTo(5);
    }

    @Test
    void nanosToSend_sendGuardOf100ms_noWindowOfASecondAndTheGuardAboveTheRate_listenerToldOfEachSend() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        // 13.3/s: a cluster node's share of 40/s among three nodes; the schedule alone would send 13.3 per second.
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 40.0 / 3, 1, Duration.ofMinutes(1), clock);
        limiter.setSendGuard(Duration.ofMillis(100));
        List<Long> sends = new ArrayList<>();
        List<Long> told = new ArrayList<>();
        limiter.onSend(told::add);

        while (sends.size() < 200) {
            long wait = limiter.nanosToSend();
            if (wait == 0) {
                sends.add(clock.now(TimeUnit.NANOSECONDS));
            } else {
                clock.advanceTimeBy(Duration.ofNanos(wait));
            }
        }

        // Creates that reach the service up to 100 ms apart from their send order's timing still put at most 13 in
        // any 1 s there: no 1.1 s of sends holds 14.
        assertThat(Windows.maxInAnyWindow(sends, Duration.ofMillis(1100))).isEqualTo(13);
        assertThat(told).isEqualTo(sends);
        assertThat(limiter.sendGuard()).isEqualTo(Duration.ofMillis(100));
        // What it costs: 13 per 1.1 s (11.8/s) instead of 13.3/s.
        double perSecond = (sends.size() - 1) * 1e9 / (sends.get(sends.size() - 1) - sends.get(0));
        assertThat(perSecond).isBetween(11.5, 12.0);
    }

    @Test
    void nanosToSend_timersStalledForAWhile_sendsMadeUpSpacedAndNeverAboveTheRate() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 10, 1, Duration.ofMinutes(1), clock);
        // 30 reservations, due every 100 ms from 0 to 2.9 s. The timers due within [1.0 s, 1.3 s) fire at 1.3 s, as
        // on a machine whose CPU was taken; every caller then sends when nanosToSend lets it.
        long stallFrom = Duration.ofMillis(1000).toNanos();
        long stallTo = Duration.ofMillis(1300).toNanos();
        java.util.PriorityQueue<long[]> wakeUps = new java.util.PriorityQueue<>(
                java.util.Comparator.<long[]>comparingLong(w -> w[0]).thenComparingLong(w -> w[1]));
        for (int i = 0; i < 30; i++) {
            long due = limiter.reservePermission();
            wakeUps.add(new long[] {due >= stallFrom && due < stallTo ? stallTo : due, i});
        }
        List<Long> sends = new ArrayList<>();
        while (!wakeUps.isEmpty()) {
            long[] w = wakeUps.poll();
            long now = clock.now(TimeUnit.NANOSECONDS);
            if (w[0] > now) {
                clock.advanceTimeBy(Duration.ofNanos(w[0] - now));
            }
            long wait = limiter.nanosToSend();
            if (wait == 0) {
                sends.add(clock.now(TimeUnit.NANOSECONDS));
            } else {
                wakeUps.add(new long[] {w[0] + wait, w[1]});
            }
        }

        assertThat(sends).hasSize(30);
        assertThat(sends.stream().filter(t -> t >= stallFrom && t < stallTo)).isEmpty();
        // The three calls the stall delayed were made up at twice the rate at most: the last call went when it was
        // due, but for the sliding log's guard (5 ms in each of the two full seconds); without the catch-up every
        // later call would have gone 300 ms late, the last at 3.2 s.
        assertThat(sends.get(29)).isBetween(Duration.ofMillis(2900).toNanos(),
                Duration.ofMillis(2900).plus(RegionRateLimiter.SEND_GUARD.multipliedBy(2)).toNanos());
        assertThat(Windows.maxInAnyWindow(sends, Duration.ofMillis(100))).isLessThanOrEqualTo(2);
        assertThat(Windows.maxInAnyWindow(sends, SECOND.plus(RegionRateLimiter.SEND_GUARD))).isLessThanOrEqualTo(10);
        assertThat(limiter.maxSentInOneSecond()).isLessThanOrEqualTo(10);
    }

    @Test
    void trySend_someCreatesSlowOnTheirWay_noSecondAtTheServiceAboveTheShare_theSendRuleAloneExceedsIt() {
        // A cluster node's share of 40/s among three nodes (13 in any second) with the cluster's 50 ms guard. One
        // Create in ten takes 50 to 400 ms to reach the service (a stalled thread), the others 1 ms; every answer
        // takes 1 ms back.
        List<Long> tracked = arrivals(true);
        List<Long> untracked = arrivals(false);

        // Held until its answer, a slow Create keeps its place: no second at the service holds more than 13.
        assertThat(tracked).hasSize(400);
        assertThat(Windows.maxInAnyWindow(tracked, SECOND)).isEqualTo(13);
        // What it costs here: 400 Creates in at most 10% more time than the share's 13.3/s would take (the guard
        // alone costs 4.8%).
        long span = tracked.get(tracked.size() - 1) - tracked.get(0);
        assertThat(span).isLessThan(Duration.ofMillis(30_000 * 11 / 10).toNanos());
        // Counted from their sends only (window 1 s + 50 ms), the same Creates put more than 13 into some second.
        assertThat(Windows.maxInAnyWindow(untracked, SECOND)).isGreaterThan(13);
    }

    /** Arrivals at a simulated service of 400 Creates paced by one limiter, {@code tracked} or by send time alone. */
    private static List<Long> arrivals(boolean tracked) {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 40.0 / 3, 1, Duration.ofMinutes(1), clock);
        limiter.setSendGuard(Duration.ofMillis(50));
        Random random = new Random(17);
        java.util.PriorityQueue<long[]> answers = new java.util.PriorityQueue<>(
                java.util.Comparator.comparingLong((long[] a) -> a[0]));
        List<Long> arrivals = new ArrayList<>();
        long ms = 1_000_000L;
        while (arrivals.size() < 400) {
            long now = clock.now(TimeUnit.NANOSECONDS);
            while (!answers.isEmpty() && answers.peek()[0] <= now) {
                limiter.answered(answers.poll()[1]);
            }
            long wait = tracked ? limiter.trySend().waitNanos() : limiter.nanosToSend();
            if (wait == 0) {
                long transit = random.nextInt(10) == 0 ? (50 + random.nextInt(350)) * ms : ms;
                arrivals.add(now + transit);
                if (tracked) {
                    answers.add(new long[] {now + transit + ms, now});
                }
                continue;
            }
            long next = answers.isEmpty() ? now + wait : Math.min(now + wait, answers.peek()[0]);
            clock.advanceTimeBy(Duration.ofNanos(next - now));
        }
        if (tracked) {
            assertThat(limiter.inFlight()).isEqualTo(answers.size());
        }
        java.util.Collections.sort(arrivals);
        return arrivals;
    }

    @Test
    void trySend_everyPlaceHeldByCreatesInFlight_waitsForAnAnswerThenAWindow_lessTheFastestRoundTripOnceWarm() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 3, 3, Duration.ofMinutes(1), clock);
        long ms = 1_000_000L;

        // Three at once (the burst); the first is answered 20 ms later, the others stay in flight.
        long[] sent = new long[3];
        for (int i = 0; i < 3; i++) {
            RegionRateLimiter.Send send = limiter.trySend();
            assertThat(send.confirmed()).isTrue();
            sent[i] = send.sentAt();
        }
        clock.advanceTimeBy(Duration.ofMillis(20));
        limiter.answered(sent[0]);
        assertThat(limiter.inFlight()).isEqualTo(2);

        // At 3 s every send is more than a second old, but two are still in flight; the first held its place until
        // 1.025 s (1 s after its answer, plus the clock's 5 ms slack). So one place is free: one more send goes, the
        // next waits (a poll: both others are in flight).
        clock.advanceTimeBy(Duration.ofMillis(2980));
        RegionRateLimiter.Send fourth = limiter.trySend();
        assertThat(fourth.confirmed()).isTrue();
        RegionRateLimiter.Send fifth = limiter.trySend();
        assertThat(fifth.confirmed()).isFalse();
        assertThat(fifth.waitNanos()).isBetween(ms, 20 * ms);

        // The second is answered at 3.5 s (a 3.5 s round trip): with fewer than WARM_ANSWERS answers nothing is
        // taken off, its place is held until 4.505 s; not before.
        clock.advanceTimeBy(Duration.ofMillis(500));
        limiter.answered(sent[1]);
        RegionRateLimiter.Send sixth = limiter.trySend();
        assertThat(sixth.confirmed()).isFalse();
        assertThat(sixth.waitNanos()).isEqualTo(1005 * ms);
        limiter.answered(sent[2]);
        limiter.answered(fourth.sentAt());
        assertThatThrownByAnswerWithoutSend(limiter);

        // Once WARM_ANSWERS came, the fastest round trip (20 ms) is taken off: a send answered after 200 ms holds its
        // place until 1 s + 5 ms - 20 ms after its answer.
        clock.advanceTimeBy(Duration.ofSeconds(2));
        while (limiter.answeredCount() < RegionRateLimiter.WARM_ANSWERS) {
            RegionRateLimiter.Send send = limiter.trySend();
            clock.advanceTimeBy(Duration.ofNanos(send.confirmed() ? 20 * ms : send.waitNanos()));
            if (send.confirmed()) {
                limiter.answered(send.sentAt());
            }
        }
        clock.advanceTimeBy(Duration.ofSeconds(2));
        long[] held = new long[3];
        for (int i = 0; i < 3; i++) {
            held[i] = limiter.trySend().sentAt();
        }
        clock.advanceTimeBy(Duration.ofMillis(200));
        for (long t : held) {
            limiter.answered(t);
        }
        clock.advanceTimeBy(Duration.ofMillis(900));
        assertThat(limiter.trySend().waitNanos()).isEqualTo(85 * ms);
    }

    private static void assertThatThrownByAnswerWithoutSend(RegionRateLimiter limiter) {
        assertThat(limiter.inFlight()).isZero();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> limiter.answered(0L))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("without a send in flight");
    }

    @Test
    void trySendBoth_heldByBothUntilAnswered_andRecordedInNeitherWhenOneSaysWait() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter campaign = RegionRateLimiter.fixed("campaign", 1, 1, Duration.ofMinutes(1), clock);
        RegionRateLimiter region = RegionRateLimiter.fixed("region", 5, 5, Duration.ofMinutes(1), clock);

        RegionRateLimiter.Send first = RegionRateLimiter.trySendBoth(campaign, region);
        assertThat(first.confirmed()).isTrue();
        assertThat(campaign.inFlight()).isEqualTo(1);
        assertThat(region.inFlight()).isEqualTo(1);

        // The campaign's one place per second is held while the Create is in flight, even 10 s later: nothing is
        // recorded in the Region's limiter either.
        clock.advanceTimeBy(Duration.ofSeconds(10));
        RegionRateLimiter.Send second = RegionRateLimiter.trySendBoth(campaign, region);
        assertThat(second.confirmed()).isFalse();
        assertThat(region.inFlight()).isEqualTo(1);

        // Answered now: held for 1 s (plus 5 ms) more in the campaign's limiter.
        campaign.answered(first.sentAt());
        region.answered(first.sentAt());
        assertThat(region.inFlight()).isZero();
        assertThat(RegionRateLimiter.trySendBoth(campaign, region).waitNanos())
                .isEqualTo(Duration.ofMillis(1005).toNanos());
        clock.advanceTimeBy(Duration.ofMillis(1005));
        assertThat(RegionRateLimiter.trySendBoth(campaign, region).confirmed()).isTrue();
    }

    @Test
    void reservePermission_answersOfVaryingDelay_reservationsFollowTheSends_theWaitAtTheSendCheckDoesNotGrow() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 10, 1, Duration.ofMinutes(10), clock);
        long ms = 1_000_000L;
        // Events by time: {time, kind, value}. Kind 0: the next caller reserves (as the dialer admits: one after
        // another, each when the one before got its permit); 1: a caller whose permit is due confirms its send
        // (value: its grant time); 2: an answer comes (value: the send's time). Answers take 10 or 90 ms in turn, so
        // each send holds its place 5 or 85 ms longer than a second once the fastest round trip is known.
        PriorityQueue<long[]> events = new PriorityQueue<>(
                Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
        events.add(new long[] {0, 0, 0});
        List<Long> lags = new ArrayList<>();
        int reserved = 0;
        while (lags.size() < 1_200) {
            long[] e = events.poll();
            long now = clock.now(TimeUnit.NANOSECONDS);
            if (e[0] > now) {
                clock.advanceTimeBy(Duration.ofNanos(e[0] - now));
                now = e[0];
            }
            if (e[1] == 0 && reserved < 1_200) {
                long grant = now + limiter.reservePermission();
                reserved++;
                events.add(new long[] {grant, 1, grant});
                events.add(new long[] {grant, 0, 0});
            } else if (e[1] == 1) {
                RegionRateLimiter.Send send = limiter.trySend();
                if (send.confirmed()) {
                    lags.add(now - e[2]);
                    events.add(new long[] {now + (lags.size() % 2 == 0 ? 10 : 90) * ms, 2, now});
                } else {
                    events.add(new long[] {now + send.waitNanos(), 1, e[2]});
                }
            } else if (e[1] == 2) {
                limiter.answered(e[2]);
            }
        }

        // The sends go slower than 10/s (each holds its place 5 or 85 ms beyond a second). Reserved at 10/s regardless,
        // the callers' wait at the send check would grow through the run: 25.3 s by the last without the push (3.9 s
        // when the reservations followed only the mean hold). Reservations pushed back while the places are held keep
        // it under 300 ms (155 ms when written).
        assertThat(lags.subList(1_100, 1_200).stream().mapToLong(Long::longValue).max().orElseThrow())
                .isLessThan(300 * ms);
        // And the rate stays near what the holds allow: 1,200 sends within 1,200 / 10 * 1.1 s.
        assertThat(clock.now(TimeUnit.NANOSECONDS)).isLessThan(Duration.ofSeconds(132).toNanos());
    }
}
