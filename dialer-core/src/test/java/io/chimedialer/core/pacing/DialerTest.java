package io.chimedialer.core.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.chime.Originator;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The dialing stage on virtual time, against a fake Originator. */
class DialerTest {

    private static final Duration SECOND = Duration.ofSeconds(1);
    private static final Function<List<Attempt>, Mono<Void>> NO_LEDGER = attempts -> Mono.empty();

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final List<DialResult> results = new CopyOnWriteArrayList<>();

    private RegionPacing region(String name, double cps, int burst, int cap, PacingSettings settings) {
        return RegionPacing.create(Fixtures.region(name, cps, burst, cap), settings, vts, p -> { });
    }

    private Dialer dialer(Originator originator, RegionPacing... regions) {
        Map<RegionPacing, Integer> weights = new LinkedHashMap<>();
        for (RegionPacing r : regions) {
            weights.put(r, 1);
        }
        return dialer(originator, weights);
    }

    private Dialer dialer(Originator originator, Map<RegionPacing, Integer> weights) {
        return new Dialer("camp-1", new RegionRouter(weights, SECOND, vts),
                new ResilientCreate(originator, RetrySettings.ofDefaults(), vts), Fixtures.dialer(),
                Fixtures.attemptIds(), vts);
    }

    /** Plays the webhook: a held permit is released when the call "hangs up", {@code hold} after Create. */
    private Flux<DialResult> hangUpAfter(Flux<DialResult> dialed, Duration hold) {
        return dialed.doOnNext(r -> {
            results.add(r);
            if (r.holdsPermit()) {
                vts.schedule(r.permit()::release, hold.toNanos(), TimeUnit.NANOSECONDS);
            }
        });
    }

    private static long count(List<DialResult> results, Class<? extends CreateOutcome> type) {
        return results.stream().filter(r -> type.isInstance(r.outcome())).count();
    }

    @Test
    void dial_slowCreatesAtAHighRate_neverMoreCreatesInFlightThanTheSetting() {
        // Each Create takes 1 s; the rate (1,000/s) and the cap (10,000) would let hundreds go at once, more than
        // an SDK client's connection pool carries (beyond it, requests are refused at once as NotSent).
        SlowOriginator slow = SlowOriginator.each(vts, SECOND);
        FakeOriginator fake = slow.fake;
        RegionPacing r = region("r", 1000, 1000, 10_000, Fixtures.pacing());
        Dialer dialer = new Dialer("camp-1", new RegionRouter(Map.of(r, 1), SECOND, vts),
                new ResilientCreate(slow, RetrySettings.ofDefaults(), vts),
                new DialerSettings(16, 2, 20, Duration.ofMillis(50), 8), Fixtures.attemptIds(), vts);

        var run = hangUpAfter(dialer.dial(Fixtures.contacts(200), NO_LEDGER, n -> false), Duration.ofSeconds(2))
                .subscribe();
        vts.advanceTimeBy(Duration.ofSeconds(60));
        run.dispose();

        assertThat(fake.creates).hasSize(200);
        assertThat(slow.maxInFlight.get()).isEqualTo(8);
    }

    @Test
    void dial_tenPerSecond_neverMoreThanTenCreatesInAnyOneSecondWindow() {
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);

        StepVerifier.withVirtualTime(() -> {
                    RegionPacing r = region("r", 10, 5, 1000, Fixtures.pacing());
                    return hangUpAfter(dialer(fake, r).dial(Fixtures.contacts(100), NO_LEDGER, n -> false),
                            Duration.ofSeconds(2));
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(60))
                .expectNextCount(100)
                .verifyComplete();

        assertThat(fake.creates).hasSize(100);
        assertThat(fake.maxInAnyWindow("r", SECOND)).isEqualTo(10);
        assertThat(count(results, CreateOutcome.Placed.class)).isEqualTo(100);
        assertThat(results.stream().map(r -> r.attempt().attemptId()).distinct()).hasSize(100);
        // 100 creates at 10/s (a burst of 5 first) take at least 9 s.
        assertThat(fake.timesIn("r").stream().mapToLong(Long::longValue).max().orElseThrow())
                .isGreaterThanOrEqualTo(Duration.ofSeconds(9).toNanos());
    }

    @Test
    void dialRequests_heldWhileWaitingForTheRate_nothingMoreIsSent_theRestComeBackWithdrawn() {
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean();

        StepVerifier.withVirtualTime(() -> {
                    RegionPacing r = region("r", 1, 1, 100, Fixtures.pacing());
                    return hangUpAfter(dialer(fake, r).dialRequests(Fixtures.contacts(5).map(DialRequest::first),
                            NO_LEDGER, n -> false, held::get), Duration.ofSeconds(1));
                }, () -> vts, Long.MAX_VALUE)
                // At 1/s the first Create goes at once and the next ones wait for the rate; the campaign is paused
                // while they wait: not one of them may reach Chime.
                .then(() -> held.set(!fake.creates.isEmpty()))
                .thenAwait(Duration.ofMillis(300))
                .then(() -> held.set(true))
                .thenAwait(Duration.ofSeconds(30))
                .expectNextCount(5)
                .verifyComplete();

        assertThat(fake.creates).hasSize(1);
        assertThat(count(results, CreateOutcome.Placed.class)).isEqualTo(1);
        assertThat(count(results, CreateOutcome.Withdrawn.class)).isEqualTo(4);
        assertThat(results).filteredOn(r -> r.outcome() instanceof CreateOutcome.Withdrawn)
                .allMatch(r -> !r.holdsPermit());
    }

    @Test
    void dial_capFive_neverMoreActiveCallsThanTheCap() {
        AtomicInteger maxLive = new AtomicInteger();
        RegionPacing[] holder = new RegionPacing[1];
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts)
                .onCreate(() -> maxLive.accumulateAndGet(holder[0].permits().inUse(), Math::max));

        StepVerifier.withVirtualTime(() -> {
                    holder[0] = region("r", 1000, 100, 5, Fixtures.pacing());
                    return hangUpAfter(dialer(fake, holder[0]).dial(Fixtures.contacts(40), NO_LEDGER, n -> false),
                            Duration.ofSeconds(3));
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMinutes(2))
                .expectNextCount(40)
                .verifyComplete();

        assertThat(fake.creates).hasSize(40);
        assertThat(maxLive.get()).isEqualTo(5);
        assertThat(holder[0].permits().peak()).isEqualTo(5);
        // 40 calls of 3 s, 5 at a time: 8 rounds, the last starting at 21 s (plus the batch windows).
        assertThat(fake.timesIn("r").stream().mapToLong(Long::longValue).max().orElseThrow())
                .isBetween(Duration.ofSeconds(21).toNanos(), Duration.ofMillis(21_100).toNanos());
    }

    @Test
    void dial_throttledForASecond_ratesBacksOffThenRecoversToConfigured() {
        RegionPacing[] holder = new RegionPacing[1];
        FakeOriginator fake = new FakeOriginator(vts, (a, n) -> {
            long now = vts.now(TimeUnit.MILLISECONDS);
            return now >= 5_000 && now < 6_000 ? new CreateOutcome.Throttled("429") : new CreateOutcome.Placed("tx");
        });

        StepVerifier.withVirtualTime(() -> {
                    holder[0] = region("r", 10, 1, 10_000, Fixtures.pacing());
                    return hangUpAfter(dialer(fake, holder[0]).dial(Fixtures.contacts(400), NO_LEDGER, n -> false),
                            SECOND);
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMinutes(2))
                .expectNextCount(400)
                .verifyComplete();

        RegionPacing r = holder[0];
        assertThat(r.rate().decreases()).isEqualTo(1);
        assertThat(fake.countBetween("r", Duration.ofSeconds(4), Duration.ofSeconds(5))).isEqualTo(10);
        // Halved at 5 s, then +0.5/s: at most 6 creates in the next second, fewer than 10 for a while.
        assertThat(fake.countBetween("r", Duration.ofSeconds(6), Duration.ofSeconds(7))).isLessThanOrEqualTo(6);
        assertThat(fake.countBetween("r", Duration.ofSeconds(10), Duration.ofSeconds(11))).isLessThan(10);
        // Back at the configured rate 10 s after the decrease.
        assertThat(fake.countBetween("r", Duration.ofSeconds(25), Duration.ofSeconds(26))).isEqualTo(10);
        assertThat(r.rate().effectiveRate()).isEqualTo(10.0);
        assertThat(fake.maxInAnyWindow("r", SECOND)).isEqualTo(10);
        // Every throttled attempt was retried and placed; nobody was lost.
        assertThat(count(results, CreateOutcome.Placed.class)).isEqualTo(400);
    }

    @Test
    void dial_breakerOpensOnUnknowns_trafficMovesToTheOtherRegion() {
        AtomicLong openedAt = new AtomicLong(-1);
        RegionPacing[] holder = new RegionPacing[2];
        FakeOriginator fake = new FakeOriginator(vts, (a, n) -> a.region().equals("east")
                ? new CreateOutcome.Unknown(new IOException("503")) : new CreateOutcome.Placed("tx"));
        PacingSettings breakerOfFour = Fixtures.pacing().withBreaker(4, 4, 50f, Duration.ofMinutes(10), 1);

        StepVerifier.withVirtualTime(() -> {
                    holder[0] = region("east", 20, 1, 1000, breakerOfFour);
                    holder[1] = region("west", 20, 1, 1000, breakerOfFour);
                    holder[0].breaker().getEventPublisher().onStateTransition(e -> {
                        if (e.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
                            openedAt.compareAndSet(-1, vts.now(TimeUnit.NANOSECONDS));
                        }
                    });
                    return hangUpAfter(dialer(fake, holder[0], holder[1])
                            .dial(Fixtures.contacts(100), NO_LEDGER, n -> false), SECOND);
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMinutes(5))
                .expectNextCount(100)
                .verifyComplete();

        assertThat(openedAt.get()).isNotNegative();
        // The breaker needs 4 calls to judge; calls already past it when it opened may still go (at most a
        // rate interval's worth); nothing goes east afterwards.
        long east = fake.createsIn("east");
        assertThat(east).isBetween(4L, 6L);
        assertThat(fake.creates.stream().filter(c -> c.region().equals("east")))
                .allSatisfy(c -> assertThat(c.atNanos()).isLessThanOrEqualTo(openedAt.get() + Duration.ofMillis(100).toNanos()));
        assertThat(count(results, CreateOutcome.Unknown.class)).isEqualTo(east);
        // Attempts routed to east just before it opened end NotSent (never sent, safe to re-queue); the rest
        // went west.
        assertThat(fake.createsIn("west")).isEqualTo(count(results, CreateOutcome.Placed.class))
                .isGreaterThanOrEqualTo(90);
        assertThat(count(results, CreateOutcome.Unknown.class) + count(results, CreateOutcome.Placed.class)
                + count(results, CreateOutcome.NotSent.class)).isEqualTo(100);
    }

    @Test
    void dial_callsNeverEnd_sourceAskedForNoMoreThanHeldPermitsPlusOne() {
        AtomicLong requested = new AtomicLong();
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        RegionPacing[] holder = new RegionPacing[1];

        StepVerifier.withVirtualTime(() -> {
                    holder[0] = region("r", 1000, 100, 5, Fixtures.pacing());
                    Flux<io.chimedialer.core.contacts.Contact> source = Fixtures.contacts(1000)
                            .doOnRequest(requested::addAndGet);
                    return dialer(fake, holder[0]).dial(source, NO_LEDGER, n -> false);
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(30))
                .expectNextCount(5)
                .expectNoEvent(Duration.ofSeconds(30))
                .thenCancel()
                .verify(Duration.ofSeconds(10));

        assertThat(fake.creates).hasSize(5);
        assertThat(requested.get()).isLessThanOrEqualTo(5 + 1);
        assertThat(holder[0].permits().inUse()).isEqualTo(5);
        assertThat(holder[0].permits().waiting()).isZero();
    }

    @Test
    void dial_beforePlace_awaitedBeforeAnyCreateOfItsBatch() {
        Map<String, Long> intentDoneAt = new ConcurrentHashMap<>();
        List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        Function<List<Attempt>, Mono<Void>> ledger = attempts -> {
            batchSizes.add(attempts.size());
            return Mono.delay(Duration.ofMillis(50), vts)
                    .doOnNext(t -> attempts.forEach(a -> intentDoneAt.put(a.attemptId(), vts.now(TimeUnit.NANOSECONDS))))
                    .then();
        };

        StepVerifier.withVirtualTime(() -> hangUpAfter(dialer(fake, region("r", 100, 50, 100, Fixtures.pacing()))
                        .dial(Fixtures.contacts(50), ledger, n -> false), SECOND), () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(30))
                .expectNextCount(50)
                .verifyComplete();

        assertThat(fake.creates).hasSize(50).allSatisfy(c -> {
            assertThat(intentDoneAt).containsKey(c.attemptId());
            assertThat(c.atNanos()).isGreaterThanOrEqualTo(intentDoneAt.get(c.attemptId()));
        });
        assertThat(batchSizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(50);
        assertThat(batchSizes.stream().mapToInt(Integer::intValue).max().orElseThrow()).isGreaterThan(1);
    }

    @Test
    void dial_regionStillWarmingUp_noPermitNoIntentNoCreateUntilItsCheckEnds_thenPacedFromThere() {
        AtomicInteger intents = new AtomicInteger();
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        RegionPacing r = RegionPacing.create(Fixtures.region("r", 10, 1, 100), Fixtures.pacing(), vts, p -> { });
        // the Region's check at start answers after 3 s (virtual)
        r.admitAfter(Mono.delay(Duration.ofSeconds(3), vts));
        Function<List<Attempt>, Mono<Void>> ledger = attempts -> Mono.fromRunnable(
                () -> intents.addAndGet(attempts.size()));

        StepVerifier.withVirtualTime(() -> hangUpAfter(dialer(fake, r).dial(Fixtures.contacts(20), ledger,
                        n -> false), SECOND), () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMillis(2_999))
                .then(() -> {
                    assertThat(fake.creates).isEmpty();
                    assertThat(intents.get()).isZero();
                    assertThat(r.permits().inUse()).isZero();
                    assertThat(r.ready()).isNotSameAs(Mono.empty());
                })
                .thenAwait(Duration.ofSeconds(10))
                .expectNextCount(20)
                .verifyComplete();

        assertThat(fake.creates).hasSize(20);
        assertThat(fake.creates.get(0).atNanos()).isGreaterThanOrEqualTo(Duration.ofSeconds(3).toNanos());
        // the rate counts from the check's end: the wait did not bank a burst of permits
        assertThat(fake.maxInAnyWindow("r", SECOND)).isLessThanOrEqualTo(10);
        assertThat(fake.countBetween("r", Duration.ofSeconds(3), Duration.ofSeconds(4))).isBetween(9L, 10L);
        // once the check ended, admissions no longer go through its gate
        assertThat(r.ready()).isSameAs(Mono.empty());
    }

    @Test
    void dial_regionCheckFailed_admitsAnyway() {
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        RegionPacing r = RegionPacing.create(Fixtures.region("r", 10, 1, 100), Fixtures.pacing(), vts, p -> { });
        r.admitAfter(Mono.delay(Duration.ofSeconds(1), vts).then(Mono.error(new IllegalStateException("no answer"))));

        StepVerifier.withVirtualTime(() -> hangUpAfter(dialer(fake, r).dial(Fixtures.contacts(5), NO_LEDGER,
                        n -> false), SECOND), () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(10))
                .expectNextCount(5)
                .verifyComplete();

        assertThat(fake.creates).hasSize(5);
        assertThat(fake.creates.get(0).atNanos()).isGreaterThanOrEqualTo(SECOND.toNanos());
    }

    @Test
    void dial_webhookLagsOverTheThreshold_noIntentNoPermitNoCreateUntilTheLagFalls_thenAllArePlaced() {
        AtomicLong lag = new AtomicLong(Duration.ofSeconds(2).toNanos());
        AtomicInteger intents = new AtomicInteger();
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        RegionPacing[] region = new RegionPacing[1];
        AdmissionHold hold = AdmissionHold.following(lag::get, () -> 40, () -> region[0].permits().inUse(),
                Duration.ofMillis(300), vts);
        RegionPacing r = RegionPacing.create(Fixtures.region("r", 100, 10, 100), Fixtures.pacing(), vts, p -> { },
                hold);
        region[0] = r;
        Function<List<Attempt>, Mono<Void>> ledger = attempts -> Mono.fromRunnable(
                () -> intents.addAndGet(attempts.size()));

        StepVerifier.withVirtualTime(() -> hangUpAfter(dialer(fake, r).dial(Fixtures.contacts(10), ledger,
                        n -> false), SECOND), () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(5))
                .then(() -> {
                    // Held before anything of a call exists: no permit taken, no intent written, nothing sent.
                    assertThat(fake.creates).isEmpty();
                    assertThat(intents.get()).isZero();
                    assertThat(r.permits().inUse()).isZero();
                    assertThat(hold.held()).isTrue();
                    lag.set(Duration.ofMillis(200).toNanos());
                })
                .thenAwait(Duration.ofSeconds(1))
                // 200 ms is under the threshold but not under half of it: still held.
                .then(() -> assertThat(fake.creates).isEmpty())
                .then(() -> lag.set(Duration.ofMillis(100).toNanos()))
                .thenAwait(Duration.ofSeconds(5))
                .expectNextCount(10)
                .verifyComplete();

        assertThat(fake.creates).hasSize(10);
        assertThat(intents.get()).isEqualTo(10);
        assertThat(results).allSatisfy(res -> assertThat(res.outcome()).isInstanceOf(CreateOutcome.Placed.class));
        assertThat(hold.held()).isFalse();
        assertThat(hold.heldSeconds()).isBetween(6.0, 6.1);
    }

    @Test
    void dial_suppressedNumbers_notCalledAndPermitReturned() {
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        RegionPacing[] holder = new RegionPacing[1];
        List<String> checked = new CopyOnWriteArrayList<>();

        StepVerifier.withVirtualTime(() -> {
                    holder[0] = region("r", 100, 10, 3, Fixtures.pacing());
                    return hangUpAfter(dialer(fake, holder[0]).dial(Fixtures.contacts(20), NO_LEDGER, number -> {
                        checked.add(number);
                        return Integer.parseInt(number.substring(number.length() - 1)) % 2 == 1;
                    }), SECOND);
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMinutes(1))
                .expectNextCount(20)
                .verifyComplete();

        assertThat(count(results, CreateOutcome.Suppressed.class)).isEqualTo(10);
        assertThat(fake.creates).hasSize(10).allSatisfy(c ->
                assertThat(Integer.parseInt(c.to().substring(c.to().length() - 1)) % 2).isZero());
        assertThat(checked).hasSize(20);
        assertThat(results.stream().filter(r -> r.outcome() instanceof CreateOutcome.Suppressed))
                .allSatisfy(r -> assertThat(r.permit().isReleased()).isTrue());
        assertThat(holder[0].permits().inUse()).isZero();
    }

    @Test
    void dial_atCapacity_capShrinksAndTheSameAttemptWaitsAndIsPlaced() {
        List<Integer> capsSeen = new CopyOnWriteArrayList<>();
        RegionPacing[] holder = new RegionPacing[1];
        FakeOriginator fake = new FakeOriginator(vts, (a, n) -> a.attemptId().equals("a-8") && n == 1
                ? new CreateOutcome.AtCapacity("active call limit") : new CreateOutcome.Placed("tx-" + a.attemptId()))
                .onCreate(() -> capsSeen.add(holder[0].permits().cap()));

        List<Integer> capAtHalfSecond = new CopyOnWriteArrayList<>();
        StepVerifier.withVirtualTime(() -> {
                    holder[0] = region("r", 1000, 100, 10, Fixtures.pacing());
                    vts.schedule(() -> capAtHalfSecond.add(holder[0].permits().cap()), 500, TimeUnit.MILLISECONDS);
                    return hangUpAfter(dialer(fake, holder[0]).dial(Fixtures.contacts(20), NO_LEDGER, n -> false),
                            Duration.ofSeconds(2));
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMinutes(1))
                .expectNextCount(20)
                .verifyComplete();

        assertThat(fake.createsOf("a-8")).isEqualTo(2);
        assertThat(results).filteredOn(r -> r.attempt().attemptId().equals("a-8"))
                .singleElement()
                .satisfies(r -> assertThat(r.outcome()).isEqualTo(new CreateOutcome.Placed("tx-a-8")));
        assertThat(count(results, CreateOutcome.Placed.class)).isEqualTo(20);
        // The ledger answers at once, so each attempt goes as soon as it is admitted: at a-8's AtCapacity the 7
        // calls before it are live, the cap drops to 7, a-8 waits, and goes again (ahead of the queue) when the cap
        // recovers by one step 1 s after the shrink; no call has ended by then (they end at 2 s).
        assertThat(capAtHalfSecond).containsExactly(7);
        assertThat(fake.creates.stream().filter(c -> c.attemptId().equals("a-8")).map(FakeOriginator.Create::atNanos))
                .hasSize(2).last().isEqualTo(Duration.ofMillis(1000).toNanos());
        assertThat(capsSeen).hasSize(21);
        assertThat(holder[0].permits().cap()).isEqualTo(10);
    }

    @Test
    void dial_beforePlaceFails_nothingSentPermitsReleasedAndTheFluxErrors() {
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        RegionPacing[] holder = new RegionPacing[1];
        List<Attempt> written = new ArrayList<>();

        StepVerifier.withVirtualTime(() -> {
                    holder[0] = region("r", 100, 10, 50, Fixtures.pacing());
                    return dialer(fake, holder[0]).dial(Fixtures.contacts(20), attempts -> {
                        written.addAll(attempts);
                        return Mono.error(new IllegalStateException("ledger down"));
                    }, n -> false);
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(SECOND)
                .expectErrorMessage("ledger down")
                .verify(Duration.ofSeconds(10));

        assertThat(written).isNotEmpty();
        assertThat(fake.creates).isEmpty();
        assertThat(holder[0].permits().inUse()).isZero();
    }

    @Test
    void dial_eachOutcome_permitHeldOnlyWhileTheCallMayBeLive() {
        FakeOriginator fake = new FakeOriginator(vts, (a, n) -> switch (a.contact().line() % 4 == 0 ? 0
                : (int) (a.contact().line() % 4)) {
            case 1 -> new CreateOutcome.Placed("tx");
            case 2 -> new CreateOutcome.Unknown(new IOException("reset"));
            case 3 -> new CreateOutcome.Rejected(io.chimedialer.core.domain.Disposition.INVALID_NUMBER, "BadRequestException", "bad");
            default -> new CreateOutcome.Throttled("429");
        });
        RegionPacing[] holder = new RegionPacing[1];

        StepVerifier.withVirtualTime(() -> {
                    holder[0] = region("r", 100, 10, 100, Fixtures.pacing());
                    return dialer(fake, holder[0]).dial(Fixtures.contacts(40), NO_LEDGER, n -> false)
                            .doOnNext(results::add);
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMinutes(1))
                .expectNextCount(40)
                .verifyComplete();

        assertThat(results).allSatisfy(r -> assertThat(r.permit().isReleased()).isEqualTo(!r.holdsPermit()));
        assertThat(count(results, CreateOutcome.Placed.class)).isEqualTo(10);
        assertThat(count(results, CreateOutcome.Unknown.class)).isEqualTo(10);
        assertThat(holder[0].permits().inUse()).isEqualTo(20);
        // Throttled to the end: 4 sends each; Unknown: exactly one send each.
        assertThat(results).filteredOn(r -> r.outcome() instanceof CreateOutcome.Throttled)
                .hasSize(10).allSatisfy(r -> assertThat(fake.createsOf(r.attempt().attemptId())).isEqualTo(4));
        assertThat(results).filteredOn(r -> r.outcome() instanceof CreateOutcome.Unknown)
                .allSatisfy(r -> assertThat(fake.createsOf(r.attempt().attemptId())).isEqualTo(1));
    }

    @Test
    void dial_hangUpLost_permitReclaimedAfterMaxLifetimeAndAttemptReported() {
        List<Permit> reclaimed = new CopyOnWriteArrayList<>();
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        RegionPacing[] holder = new RegionPacing[1];

        StepVerifier.withVirtualTime(() -> {
                    holder[0] = RegionPacing.create(Fixtures.region("r", 10, 5, 3), Fixtures.pacing()
                            .withMaxCallLifetime(Duration.ofMinutes(30)), vts, reclaimed::add);
                    return dialer(fake, holder[0]).dial(Fixtures.contacts(6), NO_LEDGER, n -> false)
                            .doOnNext(results::add);
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMinutes(29))
                .expectNextCount(3)
                .thenAwait(Duration.ofMinutes(2))
                .expectNextCount(3)
                .verifyComplete();

        // Nobody released anything: the first three were reclaimed at 30 min, letting the next three go.
        assertThat(reclaimed).extracting(Permit::attemptId).containsExactlyInAnyOrder("a-1", "a-2", "a-3");
        assertThat(holder[0].permits().reclaimed()).isEqualTo(3);
        assertThat(holder[0].permits().inUse()).isEqualTo(3);
    }

    @Test
    void dial_slowRegionWeightedTwoToOne_doesNotHoldBackTheFastOne() {
        // The case: us-east-1 at 0.5/s weighted 2, us-west-2 at 5/s weighted 1. Strict weights gave
        // us-west-2 about 0.3/s; work-conserving routing gives each Region its own rate.
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        Map<RegionPacing, Integer> weights = new LinkedHashMap<>();
        weights.put(region("us-east-1", 0.5, 1, 1000, Fixtures.pacing()), 2);
        weights.put(region("us-west-2", 5, 1, 1000, Fixtures.pacing()), 1);

        var run = hangUpAfter(dialer(fake, weights).dial(Fixtures.contacts(10_000), NO_LEDGER, n -> false),
                Duration.ofSeconds(2)).subscribe();
        vts.advanceTimeBy(Duration.ofSeconds(61));
        run.dispose();

        // Over the 60 s from 1 s on: the slow Region keeps its 0.5/s, the fast one reaches its 5/s.
        long east = fake.countBetween("us-east-1", SECOND, Duration.ofSeconds(61));
        long west = fake.countBetween("us-west-2", SECOND, Duration.ofSeconds(61));
        assertThat(east).isBetween(29L, 31L);
        assertThat(west).isBetween(290L, 301L);
        assertThat(fake.maxInAnyWindow("us-east-1", Duration.ofSeconds(2))).isEqualTo(1);
        assertThat(fake.maxInAnyWindow("us-west-2", SECOND)).isLessThanOrEqualTo(5);
    }

    @Test
    void dial_neitherRegionBindsWeightedTwoToOne_weightsShareTheWork() {
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        Map<RegionPacing, Integer> weights = new LinkedHashMap<>();
        weights.put(region("us-east-1", 10, 1, 1000, Fixtures.pacing()), 2);
        weights.put(region("us-west-2", 10, 1, 1000, Fixtures.pacing()), 1);
        // Three contacts a second: far below either Region's rate, so the weights alone decide.
        Flux<io.chimedialer.core.contacts.Contact> trickle = Flux.interval(Duration.ofMillis(333), vts)
                .take(300).map(i -> Fixtures.contact(i.intValue() + 1));

        var run = hangUpAfter(dialer(fake, weights).dial(trickle, NO_LEDGER, n -> false), Duration.ofSeconds(2))
                .subscribe();
        vts.advanceTimeBy(Duration.ofSeconds(120));
        run.dispose();

        assertThat(fake.creates).hasSize(300);
        assertThat(fake.timesIn("us-east-1")).hasSize(200);
        assertThat(fake.timesIn("us-west-2")).hasSize(100);
    }

    @Test
    void dial_slowCommitsCompletingOutOfOrder_noCreateBeforeItsIntent_admissionGoesOnMeanwhile() {
        Map<String, Long> intentDoneAt = new ConcurrentHashMap<>();
        List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        List<Integer> completionOrder = new CopyOnWriteArrayList<>();
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        AtomicInteger admittedDuringCommits = new AtomicInteger();
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        Function<List<Attempt>, Mono<Void>> ledger = attempts -> {
            int batch = batchSizes.size();
            batchSizes.add(attempts.size());
            if (inFlight.get() > 0) {
                admittedDuringCommits.addAndGet(attempts.size());
            }
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            // Even batches take 300 ms, odd ones 40 ms: a later batch commits before an earlier one.
            Duration latency = Duration.ofMillis(batch % 2 == 0 ? 300 : 40);
            return Mono.delay(latency, vts)
                    .doOnNext(t -> {
                        inFlight.decrementAndGet();
                        completionOrder.add(batch);
                        attempts.forEach(a -> intentDoneAt.put(a.attemptId(), vts.now(TimeUnit.NANOSECONDS)));
                    })
                    .then();
        };

        StepVerifier.withVirtualTime(() -> hangUpAfter(dialer(fake, region("r", 200, 20, 400, Fixtures.pacing()))
                        .dial(Fixtures.contacts(300), ledger, n -> false), SECOND), () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(30))
                .expectNextCount(300)
                .verifyComplete();

        // At most once: every Create went after its own intent committed.
        assertThat(fake.creates).hasSize(300).allSatisfy(c -> {
            assertThat(intentDoneAt).containsKey(c.attemptId());
            assertThat(c.atNanos()).isGreaterThanOrEqualTo(intentDoneAt.get(c.attemptId()));
        });
        assertThat(fake.creates.stream().map(FakeOriginator.Create::attemptId).distinct()).hasSize(300);
        assertThat(batchSizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(300);
        // Admission went on while intents committed: batches grew past one, two commits ran at once (the limit
        // of Fixtures.dialer()), and they completed out of order.
        assertThat(batchSizes.stream().mapToInt(Integer::intValue).max().orElseThrow()).isGreaterThan(1)
                .isLessThanOrEqualTo(Fixtures.dialer().batchSize());
        assertThat(maxInFlight.get()).isEqualTo(Fixtures.dialer().commitsInFlight());
        assertThat(admittedDuringCommits.get()).isGreaterThan(150);
        assertThat(completionOrder).isNotEqualTo(completionOrder.stream().sorted().toList());
        assertThat(fake.maxInAnyWindow("r", SECOND)).isLessThanOrEqualTo(200);
    }

    @Test
    void dial_oneCommitFailsWhileAnotherIsSlow_neitherBatchNorAnythingUncommittedIsSent() {
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);
        RegionPacing[] holder = new RegionPacing[1];
        List<List<Attempt>> written = new CopyOnWriteArrayList<>();

        StepVerifier.withVirtualTime(() -> {
                    holder[0] = region("r", 100, 10, 50, Fixtures.pacing());
                    return dialer(fake, holder[0]).dial(Fixtures.contacts(30), attempts -> {
                        written.add(attempts);
                        // The first commit is slow (and would succeed); the second fails first.
                        return written.size() == 1 ? Mono.delay(Duration.ofMillis(500), vts).then()
                                : Mono.delay(Duration.ofMillis(20), vts).then(Mono.error(new IllegalStateException("ledger down")));
                    }, n -> false);
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(SECOND)
                .expectErrorMessage("ledger down")
                .verify(Duration.ofSeconds(10));

        assertThat(written).hasSizeGreaterThanOrEqualTo(2);
        assertThat(fake.creates).isEmpty();
        assertThat(holder[0].permits().inUse()).isZero();
    }

    @Test
    void dial_schedulerStalls_sendsDelayedByTheStallDoNotCatchUpAboveTheRate() {
        // Timers due between 2.05 s and 3.55 s all fire at 3.55 s, as on a machine whose CPU was taken.
        StallingScheduler stalling = new StallingScheduler(vts, Duration.ofMillis(2050), Duration.ofMillis(3550));
        FakeOriginator fake = FakeOriginator.alwaysPlaced(vts);

        StepVerifier.withVirtualTime(() -> {
                    // Half a second of calls waits inside the limiter (the look-ahead): all of it is due when the
                    // stall ends, and the limiter's log has them at the times they were due.
                    RegionPacing r = RegionPacing.create(Fixtures.region("r", 10, 1, 1000), Fixtures.pacing(),
                            stalling, p -> { });
                    Dialer dialer = new Dialer("camp-1", new RegionRouter(Map.of(r, 1), SECOND, stalling),
                            new ResilientCreate(fake, RetrySettings.ofDefaults(), stalling),
                            new DialerSettings(16, 2, 20, Duration.ofMillis(500)), Fixtures.attemptIds(), stalling);
                    return hangUpAfter(dialer.dial(Fixtures.contacts(60), NO_LEDGER, n -> false), SECOND);
                }, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(30))
                .expectNextCount(60)
                .verifyComplete();

        assertThat(fake.creates).hasSize(60);
        // Nothing was sent during the stall, what it delayed did not go out above the rate afterwards (without the
        // send-time check, the 6 calls due during the stall and the next 9 fell within one second), and it went
        // out spaced: the burst of 1 plus one interval of slack at once, at most.
        assertThat(fake.countBetween("r", Duration.ofMillis(2050), Duration.ofMillis(3550))).isZero();
        assertThat(fake.maxInAnyWindow("r", SECOND)).isLessThanOrEqualTo(10);
        assertThat(fake.maxInAnyWindow("r", Duration.ofMillis(100))).isLessThanOrEqualTo(2);
    }
    @Test
    void dial_admittedCallsWaitForSlowCreatesAtAHighRate_admissionLooksAtTheRateAtMostOncePerRecheck() {
        // 10,000/s and 50 ms of lookahead let 500 calls be admitted ahead; the Creates take 1 s with 8 in flight, so
        // admission waits for those 500 to be sent, not for the rate. The rate gate's wait is then one permit's
        // interval (100 us): without a floor, admission set a timer (a wake-up of a dialer thread) 10,000 times a
        // second while nothing was sent.
        SlowOriginator slow = SlowOriginator.each(vts, SECOND);
        FakeOriginator fake = slow.fake;
        AtomicLong timers = new AtomicLong();
        reactor.core.scheduler.Scheduler counting = new reactor.core.scheduler.Scheduler() {
            @Override
            public reactor.core.Disposable schedule(Runnable task) {
                return vts.schedule(task);
            }

            @Override
            public reactor.core.Disposable schedule(Runnable task, long delay, TimeUnit unit) {
                timers.incrementAndGet();
                return vts.schedule(task, delay, unit);
            }

            @Override
            public long now(TimeUnit unit) {
                return vts.now(unit);
            }

            @Override
            public Worker createWorker() {
                return vts.createWorker();
            }
        };
        RegionPacing r = region("r", 10_000, 1, 10_000, Fixtures.pacing());
        Dialer dialer = new Dialer("camp-1", new RegionRouter(Map.of(r, 1), SECOND, vts),
                new ResilientCreate(slow, RetrySettings.ofDefaults(), vts),
                new DialerSettings(16, 2, 20, Duration.ofMillis(50), 8), Fixtures.attemptIds(), counting);

        var run = hangUpAfter(dialer.dial(Fixtures.contacts(2_000), NO_LEDGER, n -> false), Duration.ofSeconds(2))
                .subscribe();
        vts.advanceTimeBy(Duration.ofSeconds(5));
        run.dispose();

        // The Creates went as before: the Region's first one alone (its probe), then 8 at a time, 1 s each.
        assertThat(slow.maxInFlight.get()).isEqualTo(8);
        assertThat(fake.creates).hasSize(1 + 3 * 8 + 1);
        // One look at the rate per MIN_RATE_RECHECK at most (5,000 in 5 s), not one per permit interval (50,000,
        // each nesting the wait one level deeper: a stack overflow), plus the 5 ms looks of the 8 calls that waited
        // for the Region's probe in the first second (1,600).
        assertThat(timers.get()).isLessThanOrEqualTo(Duration.ofSeconds(5).dividedBy(Dialer.MIN_RATE_RECHECK)
                + 8 * 200 + 100);
    }

    @Test
    void dial_regionsProbeTakesMinutes_theOthersWaitForItWithoutNestingAndAreThenPlaced() {
        // The Region's first Create (its probe) takes 3 minutes; the other admitted calls look every 5 ms whether it
        // was judged (36,000 looks each). Each look once nested one operator deeper, and the probe's completion
        // unwound them all: a StackOverflowError.
        Duration probe = Duration.ofMinutes(3);
        SlowOriginator slow = new SlowOriginator(vts, n -> n == 1 ? probe : Duration.ZERO);
        RegionPacing r = region("r", 100, 100, 1_000, Fixtures.pacing());
        Dialer dialer = dialer(slow, r);

        var run = hangUpAfter(dialer.dial(Fixtures.contacts(50), NO_LEDGER, n -> false), SECOND).subscribe();
        vts.advanceTimeBy(probe.minusSeconds(1));
        // Only the probe was sent: nothing else went while it was out.
        assertThat(slow.maxInFlight.get()).isEqualTo(1);
        assertThat(slow.fake.creates).isEmpty();
        vts.advanceTimeBy(Duration.ofSeconds(10));
        run.dispose();

        assertThat(slow.fake.creates).hasSize(50);
        assertThat(count(results, CreateOutcome.Placed.class)).isEqualTo(50);
    }
}
