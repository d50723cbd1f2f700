package io.chimedialer.core.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.domain.Attempt;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/** A campaign's own caps and its priority in a shared Region, on virtual time against a fake Originator. */
class CampaignPacingTest {

    private static final Duration SECOND = Duration.ofSeconds(1);
    private static final Function<List<Attempt>, Mono<Void>> NO_LEDGER = attempts -> Mono.empty();

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
    private final List<Disposable> runs = new ArrayList<>();

    private RegionPacing region(String name, double cps, int cap) {
        return RegionPacing.create(Fixtures.region(name, cps, 1, cap), Fixtures.pacing(), vts, p -> { });
    }

    private Dialer dialer(CampaignPacing campaign, RegionPacing... regions) {
        Map<RegionPacing, Integer> weights = new LinkedHashMap<>();
        for (RegionPacing r : regions) {
            weights.put(r, 1);
        }
        AtomicInteger next = new AtomicInteger();
        Supplier<String> ids = () -> campaign.campaign() + "-" + next.incrementAndGet();
        return new Dialer(campaign, new RegionRouter(weights, SECOND, vts),
                new ResilientCreate(fake, RetrySettings.ofDefaults(), vts), Fixtures.dialer(), ids, vts);
    }

    /** Dials the contacts; each placed call hangs up {@code hold} after its Create. */
    private void dial(Dialer dialer, Flux<io.chimedialer.core.contacts.Contact> contacts, Duration hold) {
        runs.add(dialer.dial(contacts, NO_LEDGER, n -> false)
                .doOnNext(r -> {
                    if (r.holdsPermit()) {
                        vts.schedule(r.permit()::release, hold.toNanos(), TimeUnit.NANOSECONDS);
                    }
                })
                .subscribe());
    }

    private List<Long> timesOf(String campaign) {
        return fake.creates.stream().filter(c -> c.attemptId().startsWith(campaign + "-"))
                .map(FakeOriginator.Create::atNanos).toList();
    }

    private static long between(List<Long> times, Duration from, Duration to) {
        return times.stream().filter(t -> t >= from.toNanos() && t < to.toNanos()).count();
    }

    private void finish() {
        runs.forEach(Disposable::dispose);
    }

    @Test
    void dial_campaignRateBelowItsRegions_neverMoreThanItsRateInAnyOneSecondOverAllRegions() {
        // Two Regions of 10/s each would give 20/s; the campaign's own 4/s binds, over both together.
        RegionPacing east = region("east", 10, 1000);
        RegionPacing west = region("west", 10, 1000);
        CampaignPacing campaign = CampaignPacing.of("c", 4.0, null, 0, Duration.ofMinutes(10), vts);

        dial(dialer(campaign, east, west), Fixtures.contacts(100), Duration.ofSeconds(2));
        vts.advanceTimeBy(Duration.ofSeconds(60));
        finish();

        assertThat(fake.creates).hasSize(100);
        assertThat(fake.maxInAnyWindow(null, SECOND)).isEqualTo(4);
        assertThat(fake.createsIn("east")).isPositive();
        assertThat(fake.createsIn("west")).isPositive();
        // 100 Creates at 4/s take about 25 s.
        assertThat(fake.timesIn(null).stream().mapToLong(Long::longValue).max().orElseThrow())
                .isBetween(Duration.ofSeconds(24).toNanos(), Duration.ofSeconds(26).toNanos());
        assertThat(campaign.rate().maxSentInOneSecond()).isEqualTo(4);
    }

    @Test
    void dial_campaignLiveCapBelowItsRegions_neverMoreLiveCallsThanItsCap() {
        RegionPacing east = region("east", 100, 50);
        RegionPacing west = region("west", 100, 50);
        CampaignPacing campaign = CampaignPacing.of("c", null, 7, 0, Duration.ofMinutes(10), vts);
        ActivePermits own = campaign.liveCalls().orElseThrow();
        AtomicInteger maxLive = new AtomicInteger();
        fake.onCreate(() -> maxLive.accumulateAndGet(east.permits().inUse() + west.permits().inUse(), Math::max));

        dial(dialer(campaign, east, west), Fixtures.contacts(70), Duration.ofSeconds(3));
        vts.advanceTimeBy(Duration.ofMinutes(2));
        finish();

        assertThat(fake.creates).hasSize(70);
        assertThat(maxLive.get()).isEqualTo(7);
        assertThat(own.peak()).isEqualTo(7);
        // Every call's end freed both its Region permit and the campaign's.
        assertThat(own.inUse()).isZero();
        assertThat(east.permits().inUse() + west.permits().inUse()).isZero();
        // 70 calls of 3 s, 7 at a time: 10 rounds, the last starting at about 27 s.
        assertThat(fake.timesIn(null).stream().mapToLong(Long::longValue).max().orElseThrow())
                .isBetween(Duration.ofSeconds(27).toNanos(), Duration.ofMillis(27_500).toNanos());
    }

    @Test
    void dial_twoCampaignsInOneRegion_higherPriorityGetsTheRateWhileItHasContacts_lowerTakesOverAfter() {
        RegionPacing shared = region("r", 10, 1000);
        CampaignPacing high = CampaignPacing.of("high", null, null, 5, Duration.ofMinutes(10), vts);
        CampaignPacing low = CampaignPacing.of("low", null, null, 0, Duration.ofMinutes(10), vts);

        dial(dialer(low, shared), Fixtures.contacts(300), Duration.ofSeconds(2));
        dial(dialer(high, shared), Flux.range(1001, 100).map(Fixtures::contact), Duration.ofSeconds(2));
        vts.advanceTimeBy(Duration.ofSeconds(60));
        finish();

        List<Long> highTimes = timesOf("high");
        List<Long> lowTimes = timesOf("low");
        assertThat(highTimes).hasSize(100);
        assertThat(lowTimes).hasSize(300);
        // The Region's 10/s holds over both campaigns.
        assertThat(fake.maxInAnyWindow("r", SECOND)).isEqualTo(10);
        long highDone = highTimes.stream().mapToLong(Long::longValue).max().orElseThrow();
        // The high campaign had the whole rate: 100 Creates at 10/s in about 10 s.
        assertThat(highDone).isBetween(Duration.ofSeconds(9).toNanos(), Duration.ofMillis(10_500).toNanos());
        // The low one got at most the slot it took before the high one asked (it was dialing first).
        assertThat(between(lowTimes, Duration.ofSeconds(1), Duration.ofNanos(highDone))).isZero();
        // Then it takes over the whole rate.
        Duration after = Duration.ofNanos(highDone).plusSeconds(1);
        assertThat(between(lowTimes, after, after.plusSeconds(10))).isBetween(99L, 100L);
    }

    @Test
    void dial_higherPriorityHeldByItsOwnRate_lowerDialsWhatItLeaves() {
        // Work-conserving: the high campaign may use only 4/s of the Region's 10/s; the low one gets the other 6/s.
        RegionPacing shared = region("r", 10, 1000);
        CampaignPacing high = CampaignPacing.of("high", 4.0, null, 5, Duration.ofMinutes(10), vts);
        CampaignPacing low = CampaignPacing.of("low", null, null, 0, Duration.ofMinutes(10), vts);

        dial(dialer(high, shared), Flux.range(1001, 200).map(Fixtures::contact), Duration.ofSeconds(2));
        dial(dialer(low, shared), Fixtures.contacts(1000), Duration.ofSeconds(2));
        vts.advanceTimeBy(Duration.ofSeconds(30));
        finish();

        List<Long> highTimes = timesOf("high");
        List<Long> lowTimes = timesOf("low");
        Duration from = Duration.ofSeconds(5);
        Duration to = Duration.ofSeconds(25);
        // Over 20 s: the high campaign its 4/s, the low one the remaining 6/s, the Region never above 10/s.
        assertThat(between(highTimes, from, to)).isBetween(79L, 81L);
        assertThat(between(lowTimes, from, to)).isBetween(115L, 121L);
        assertThat(fake.maxInAnyWindow("r", SECOND)).isEqualTo(10);
    }

    @Test
    void dial_higherPriorityIdleBetweenItsContacts_lowerUsesTheRateMeanwhile() {
        // The high campaign has a contact ready only every 2 s (e.g. its callees' windows open one by one).
        RegionPacing shared = region("r", 10, 1000);
        CampaignPacing high = CampaignPacing.of("high", null, null, 5, Duration.ofMinutes(10), vts);
        CampaignPacing low = CampaignPacing.of("low", null, null, 0, Duration.ofMinutes(10), vts);

        dial(dialer(high, shared), Flux.interval(Duration.ofSeconds(2), vts).take(10)
                .map(i -> Fixtures.contact(1001 + i.intValue())), Duration.ofSeconds(2));
        dial(dialer(low, shared), Fixtures.contacts(1000), Duration.ofSeconds(2));
        vts.advanceTimeBy(Duration.ofSeconds(21));
        finish();

        List<Long> highTimes = timesOf("high");
        assertThat(highTimes).hasSize(10);
        // Each of the high campaign's contacts went within two rate intervals of its arrival (the low campaign's calls
        // already admitted within the admission lookahead go first).
        for (int i = 0; i < highTimes.size(); i++) {
            assertThat(highTimes.get(i)).isBetween(Duration.ofSeconds(2L * (i + 1)).toNanos(),
                    Duration.ofSeconds(2L * (i + 1)).plusMillis(250).toNanos());
        }
        // The low campaign used the rest: about 10/s less the high one's 0.5/s.
        assertThat(between(timesOf("low"), Duration.ofSeconds(1), Duration.ofSeconds(21))).isBetween(185L, 191L);
        assertThat(fake.maxInAnyWindow("r", SECOND)).isEqualTo(10);
    }

    @Test
    void holdLive_callTakenOverFromAPreviousRun_countsAgainstTheCampaignCapUntilItsRegionPermitComesBack() {
        RegionPacing r = region("r", 10, 10);
        CampaignPacing campaign = CampaignPacing.of("c", null, 1, 0, Duration.ofMinutes(10), vts);
        ActivePermits own = campaign.liveCalls().orElseThrow();
        Permit live = r.permits().acquireAheadFor("a-previous").block();

        campaign.holdLive(live);
        // The campaign's one live call is the taken-over one: a new call of it waits.
        assertThat(own.inUse()).isEqualTo(1);
        dial(dialer(campaign, r), Fixtures.contacts(1), Duration.ofSeconds(2));
        vts.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(fake.creates).isEmpty();

        live.release();
        vts.advanceTimeBy(Duration.ofSeconds(5));
        finish();

        assertThat(fake.creates).hasSize(1);
        assertThat(own.inUse()).isZero();
    }
}
