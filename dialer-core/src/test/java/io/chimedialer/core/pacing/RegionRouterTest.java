package io.chimedialer.core.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class RegionRouterTest {

    private final VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    private final RegionPacing east = RegionPacing.create(Fixtures.region("us-east-1", 10, 1, 100),
            Fixtures.pacing(), clock, p -> { });
    private final RegionPacing west = RegionPacing.create(Fixtures.region("us-west-2", 10, 1, 100),
            Fixtures.pacing(), clock, p -> { });

    private RegionRouter router(int eastWeight, int westWeight) {
        Map<RegionPacing, Integer> weights = new LinkedHashMap<>();
        weights.put(east, eastWeight);
        weights.put(west, westWeight);
        return new RegionRouter(weights, Duration.ofSeconds(1), clock);
    }

    @Test
    void pick_weightsTwoToOne_smoothInterleavingAndExactShares() {
        RegionRouter router = router(2, 1);
        List<String> picks = new ArrayList<>();

        for (int i = 0; i < 300; i++) {
            picks.add(router.pick().name());
        }

        assertThat(picks.subList(0, 6)).containsExactly("us-east-1", "us-west-2", "us-east-1",
                "us-east-1", "us-west-2", "us-east-1");
        assertThat(picks.stream().filter("us-east-1"::equals).count()).isEqualTo(200);
        assertThat(picks.stream().filter("us-west-2"::equals).count()).isEqualTo(100);
    }

    @Test
    void pick_breakerOpen_otherRegionTakesItsShare() {
        RegionRouter router = router(2, 1);
        east.breaker().transitionToOpenState();

        for (int i = 0; i < 30; i++) {
            assertThat(router.pick()).isSameAs(west);
        }
    }

    @Test
    void pick_regionWithoutFreePermit_othersPreferred() {
        RegionRouter router = router(1, 1);
        for (int i = 0; i < 100; i++) {
            east.permits().acquire().subscribe();
        }

        for (int i = 0; i < 10; i++) {
            assertThat(router.pick()).isSameAs(west);
        }
    }

    @Test
    void next_allBreakersOpen_waitsUntilOneLetsCallsThrough() {
        StepVerifier.withVirtualTime(() -> {
                    east.breaker().transitionToOpenState();
                    west.breaker().transitionToOpenState();
                    return router(1, 1).next();
                }, () -> clock, Long.MAX_VALUE)
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(29))
                .thenAwait(Duration.ofSeconds(2))
                .expectNextMatches(r -> r == east || r == west)
                .verifyComplete();
    }

    @Test
    void pick_regionRateBound_othersTakeTheWork_weightsResumeWhenItIsFree() {
        RegionRouter router = router(2, 1);
        Map<RegionPacing, Long> wait = new java.util.HashMap<>(Map.of(east, 1_000_000_000L, west, 0L));

        for (int i = 0; i < 30; i++) {
            assertThat(router.pick(wait::get)).isSameAs(west);
        }
        wait.put(east, 0L);
        List<String> picks = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            picks.add(router.pick(wait::get).name());
        }
        assertThat(picks.stream().filter("us-east-1"::equals).count()).isEqualTo(200);
    }

    @Test
    void pick_everyRegionRateBound_theOneFreeSoonestIsPicked() {
        RegionRouter router = router(2, 1);

        assertThat(router.pick(r -> r == east ? 2_000_000_000L : 200_000_000L)).isSameAs(west);
        assertThat(router.pick(r -> r == east ? 100_000_000L : 200_000_000L)).isSameAs(east);
    }

    @Test
    void pick_regionFailed_othersTakeItsShare() {
        RegionRouter router = router(2, 1);
        east.health().fail("AccessDenied", "not allowed", java.time.Instant.EPOCH);

        for (int i = 0; i < 30; i++) {
            assertThat(router.pick(r -> 0L)).isSameAs(west);
        }
    }
}
