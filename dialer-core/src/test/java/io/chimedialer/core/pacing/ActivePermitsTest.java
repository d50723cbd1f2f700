package io.chimedialer.core.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.test.scheduler.VirtualTimeScheduler;

class ActivePermitsTest {

    private final VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    private final List<Permit> reclaimed = new CopyOnWriteArrayList<>();

    private ActivePermits permits(int cap, int step) {
        return new ActivePermits("r", cap, Duration.ofMinutes(10), Duration.ofSeconds(1), step, clock, reclaimed::add);
    }

    @Test
    void acquire_beyondCap_waitsUntilARelease() {
        ActivePermits permits = permits(2, 1);
        Permit a = permits.acquire().block(Duration.ofSeconds(1));
        permits.acquire().block(Duration.ofSeconds(1));
        AtomicReference<Permit> third = new AtomicReference<>();

        permits.acquire().subscribe(third::set);
        assertThat(third.get()).isNull();
        assertThat(permits.waiting()).isEqualTo(1);

        assertThat(a.release()).isTrue();
        assertThat(third.get()).isNotNull();
        assertThat(permits.inUse()).isEqualTo(2);
        assertThat(permits.peak()).isEqualTo(2);
    }

    @Test
    void release_twice_secondIsNoOp() {
        ActivePermits permits = permits(2, 1);
        Permit a = permits.acquire().block(Duration.ofSeconds(1));

        assertThat(permits.release(a)).isTrue();
        assertThat(permits.release(a)).isFalse();
        assertThat(a.release()).isFalse();
        assertThat(permits.inUse()).isZero();
    }

    @Test
    void maxCallLifetime_permitNotReleased_reclaimedOnSchedulerAndReported() {
        ActivePermits permits = permits(2, 1);
        Permit held = permits.acquire().block(Duration.ofSeconds(1));
        held.bind("attempt-7");
        Permit returned = permits.acquire().block(Duration.ofSeconds(1));
        returned.release();

        clock.advanceTimeBy(Duration.ofMinutes(10).minusMillis(1));
        assertThat(reclaimed).isEmpty();
        clock.advanceTimeBy(Duration.ofMillis(1));

        assertThat(reclaimed).containsExactly(held);
        assertThat(reclaimed.get(0).attemptId()).isEqualTo("attempt-7");
        assertThat(held.isReleased()).isTrue();
        assertThat(permits.inUse()).isZero();
        assertThat(permits.reclaimed()).isEqualTo(1);
        // A late HANGUP after the reclaim changes nothing.
        assertThat(held.release()).isFalse();
        assertThat(permits.inUse()).isZero();
    }

    @Test
    void shrinkTo_capDropsToLiveThenRecoversStepByStep() {
        ActivePermits permits = permits(10, 3);
        for (int i = 0; i < 6; i++) {
            permits.acquire().subscribe();
        }

        permits.shrinkTo(permits.inUse());
        assertThat(permits.cap()).isEqualTo(6);
        assertThat(permits.available()).isZero();
        AtomicReference<Permit> waiting = new AtomicReference<>();
        permits.acquire().subscribe(waiting::set);

        clock.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(permits.cap()).isEqualTo(9);
        assertThat(waiting.get()).isNotNull();
        clock.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(permits.cap()).isEqualTo(10);
        clock.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(permits.cap()).isEqualTo(10);
    }

    @Test
    void shrinkTo_zeroLive_nothingGrantedUntilRecovery() {
        ActivePermits permits = permits(4, 1);

        permits.shrinkTo(0);
        AtomicReference<Permit> waiting = new AtomicReference<>();
        permits.acquire().subscribe(waiting::set);
        assertThat(waiting.get()).isNull();

        clock.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(waiting.get()).isNotNull();
        assertThat(permits.cap()).isEqualTo(1);
    }

    @Test
    void acquire_cancelledWhileWaiting_leavesTheQueue() {
        ActivePermits permits = permits(1, 1);
        Permit a = permits.acquire().block(Duration.ofSeconds(1));
        Disposable waiter = permits.acquire().subscribe();
        assertThat(permits.waiting()).isEqualTo(1);

        waiter.dispose();
        a.release();

        assertThat(permits.waiting()).isZero();
        assertThat(permits.inUse()).isZero();
    }

    @Test
    void setConfiguredCap_lowered_newCallsWaitUntilBelowTheNewCap() {
        ActivePermits permits = permits(4, 1);
        Permit a = permits.acquire().block(Duration.ofSeconds(1));
        Permit b = permits.acquire().block(Duration.ofSeconds(1));
        Permit c = permits.acquire().block(Duration.ofSeconds(1));

        permits.setConfiguredCap(2);
        AtomicReference<Permit> next = new AtomicReference<>();
        permits.acquire().subscribe(next::set);

        assertThat(permits.cap()).isEqualTo(2);
        assertThat(permits.configuredCap()).isEqualTo(2);
        assertThat(permits.inUse()).isEqualTo(3); // live calls above the new cap go on
        a.release();
        assertThat(next.get()).as("2 live, cap 2").isNull();
        b.release();
        assertThat(next.get()).isNotNull();
        assertThat(permits.inUse()).isEqualTo(2);
        c.release();
        assertThat(permits.inUse()).isEqualTo(1);
    }

    @Test
    void setConfiguredCap_zeroThenRaised_waitersServedOnlyAfterTheRaise() {
        ActivePermits permits = permits(2, 1);
        permits.setConfiguredCap(0);
        List<Permit> granted = new CopyOnWriteArrayList<>();
        permits.acquire().subscribe(granted::add);
        permits.acquire().subscribe(granted::add);
        permits.acquire().subscribe(granted::add);
        clock.advanceTimeBy(Duration.ofMinutes(1));
        assertThat(granted).isEmpty();

        permits.setConfiguredCap(2);

        assertThat(granted).hasSize(2);
        assertThat(permits.waiting()).isEqualTo(1);
        assertThat(permits.cap()).isEqualTo(2);
    }

    @Test
    void setConfiguredCap_whileRecoveringFromShrink_recoversOnlyUpToTheNewCap() {
        ActivePermits permits = permits(10, 2);
        permits.shrinkTo(1);
        assertThat(permits.cap()).isEqualTo(1);

        permits.setConfiguredCap(4);
        assertThat(permits.cap()).isEqualTo(1);
        clock.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(permits.cap()).isEqualTo(3);
        clock.advanceTimeBy(Duration.ofSeconds(10));

        assertThat(permits.cap()).isEqualTo(4);
        assertThat(permits.configuredCap()).isEqualTo(4);
    }

    @Test
    void acquire_waitersOfSeveralPriorities_higherServedFirstThenFirstComeFirstServed() {
        ActivePermits permits = permits(1, 1);
        AtomicReference<Permit> held = new AtomicReference<>();
        permits.acquire().subscribe(held::set);
        List<String> served = new CopyOnWriteArrayList<>();
        AtomicReference<Permit> last = new AtomicReference<>();
        for (String name : List.of("low-1:0", "high-1:5", "low-2:0", "mid:2", "high-2:5")) {
            int priority = Integer.parseInt(name.substring(name.indexOf(':') + 1));
            permits.acquire(priority).subscribe(p -> {
                served.add(name);
                last.set(p);
            });
        }

        held.get().release();
        for (int i = 0; i < 4; i++) {
            last.get().release();
        }

        assertThat(served).containsExactly("high-1:5", "high-2:5", "mid:2", "low-1:0", "low-2:0");
    }

    @Test
    void release_ofARegionPermitWithATiedCampaignPermit_releasesBoth() {
        ActivePermits region = permits(5, 1);
        ActivePermits campaign = permits(1, 1);
        AtomicReference<Permit> regionPermit = new AtomicReference<>();
        AtomicReference<Permit> campaignPermit = new AtomicReference<>();
        region.acquire().subscribe(regionPermit::set);
        campaign.acquire().subscribe(campaignPermit::set);
        regionPermit.get().tie(campaignPermit.get());

        regionPermit.get().release();

        assertThat(campaign.inUse()).isZero();
        assertThat(campaignPermit.get().isReleased()).isTrue();
    }
}
