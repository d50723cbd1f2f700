package io.chimedialer.core.contacts;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.contacts.WindowGate.Gated;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class WindowGateTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    // Wednesday 2026-01-14 15:00Z: 10:00 in New York (open), 07:00 in Los Angeles (opens at 17:00Z).
    private static final Instant START = Instant.parse("2026-01-14T15:00:00Z");
    private static final Instant LA_OPENS = Instant.parse("2026-01-14T17:00:00Z");
    private static final CallingWindow WINDOW = CallingWindow.of(new CallingWindowConfig(LocalTime.of(9, 0),
            LocalTime.of(20, 0), EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.SATURDAY), "callee"));

    private static Contact ny(int i) {
        return new Contact(i, "ny-" + i, "+1212555" + String.format("%04d", i), "", null, Map.of());
    }

    private static Contact la(int i) {
        return new Contact(i, "la-" + i, "+1310555" + String.format("%04d", i), "", null, Map.of());
    }

    private static VirtualTimeScheduler clockAt(Instant instant) {
        VirtualTimeScheduler scheduler = VirtualTimeScheduler.create();
        scheduler.advanceTimeTo(instant);
        return scheduler;
    }

    private static Instant now(VirtualTimeScheduler scheduler) {
        return Instant.ofEpochSecond(0, scheduler.now(TimeUnit.NANOSECONDS));
    }

    @Test
    void apply_outOfWindowFirst_inWindowPassesAndWaitingOneIsReleasedAtItsOpeningExactly() {
        VirtualTimeScheduler scheduler = clockAt(START);
        AtomicReference<WindowGate> gate = new AtomicReference<>();
        List<Instant> emittedAt = new ArrayList<>();

        StepVerifier.withVirtualTime(() -> {
                    gate.set(WindowGate.of(WINDOW, scheduler, 4));
                    return gate.get().apply(Flux.just(la(1), ny(2)))
                            .doOnNext(gated -> emittedAt.add(now(scheduler)));
                }, () -> scheduler, Long.MAX_VALUE)
                .expectSubscription()
                .expectNext(new Gated.Open(ny(2)))
                .then(() -> assertThat(gate.get().waitingCount()).isEqualTo(1))
                .expectNoEvent(Duration.ofHours(2).minusNanos(1))
                .then(() -> assertThat(gate.get().waitingCount()).isEqualTo(1))
                .thenAwait(Duration.ofNanos(1))
                .expectNext(new Gated.Open(la(1)))
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(emittedAt).containsExactly(START, LA_OPENS);
        assertThat(gate.get().waitingCount()).isZero();
    }

    @Test
    void apply_allOutOfWindow_sourceAskedForNoMoreThanTheGateHolds() {
        VirtualTimeScheduler scheduler = clockAt(START);
        AtomicLong requested = new AtomicLong();
        AtomicLong emitted = new AtomicLong();
        AtomicLong maxAhead = new AtomicLong();
        AtomicReference<WindowGate> gate = new AtomicReference<>();
        List<Contact> contacts = IntStream.range(0, 10).mapToObj(WindowGateTest::la).toList();

        StepVerifier.withVirtualTime(() -> {
                    gate.set(WindowGate.of(WINDOW, scheduler, 3));
                    Flux<Contact> source = Flux.fromIterable(contacts).doOnRequest(n -> {
                        long total = requested.addAndGet(n);
                        maxAhead.accumulateAndGet(total - emitted.get(), Math::max);
                    });
                    return gate.get().apply(source).doOnNext(gated -> emitted.incrementAndGet());
                }, () -> scheduler, Long.MAX_VALUE)
                .expectSubscription()
                .then(() -> {
                    assertThat(requested.get()).isEqualTo(3);
                    assertThat(gate.get().waitingCount()).isEqualTo(3);
                })
                .expectNoEvent(Duration.ofHours(2).minusNanos(1))
                .then(() -> assertThat(requested.get()).isEqualTo(3))
                .thenAwait(Duration.ofNanos(1))
                .expectNextCount(10)
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(maxAhead.get()).isLessThanOrEqualTo(3);
        assertThat(gate.get().waitingCount()).isZero();
    }

    @Test
    void apply_waitingContactsDoNotBlockCallableOnesUntilTheGateIsFull() {
        VirtualTimeScheduler scheduler = clockAt(START);
        AtomicLong requested = new AtomicLong();
        AtomicReference<WindowGate> gate = new AtomicReference<>();

        StepVerifier.withVirtualTime(() -> {
                    gate.set(WindowGate.of(WINDOW, scheduler, 2));
                    Flux<Contact> source = Flux.just(la(1), ny(2), ny(3), ny(4), la(5), ny(6))
                            .doOnRequest(requested::addAndGet);
                    return gate.get().apply(source);
                }, () -> scheduler, Long.MAX_VALUE)
                .expectSubscription()
                // la-1 takes one of the two places; New York contacts flow through the other one.
                .expectNext(new Gated.Open(ny(2)), new Gated.Open(ny(3)), new Gated.Open(ny(4)))
                // la-5 takes the second place: the gate is full, so ny-6 is not even requested.
                .then(() -> {
                    assertThat(gate.get().waitingCount()).isEqualTo(2);
                    assertThat(requested.get()).isEqualTo(5);
                })
                .expectNoEvent(Duration.ofHours(2).minusNanos(1))
                .thenAwait(Duration.ofNanos(1))
                .recordWith(ArrayList::new)
                .expectNextCount(3)
                .consumeRecordedWith(released -> assertThat(released).containsExactlyInAnyOrder(
                        new Gated.Open(la(1)), new Gated.Open(la(5)), new Gated.Open(ny(6))))
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void apply_slowDownstream_holdsAtMostMaxHeldAheadOfDemand() {
        VirtualTimeScheduler scheduler = clockAt(START);
        AtomicLong requested = new AtomicLong();
        AtomicLong emitted = new AtomicLong();
        AtomicLong maxAhead = new AtomicLong();

        StepVerifier.withVirtualTime(() -> {
                    Flux<Contact> source = Flux.range(0, 50).map(WindowGateTest::ny).doOnRequest(n -> {
                        long total = requested.addAndGet(n);
                        maxAhead.accumulateAndGet(total - emitted.get(), Math::max);
                    });
                    return WindowGate.of(WINDOW, scheduler, 4).apply(source)
                            .doOnNext(gated -> emitted.incrementAndGet());
                }, () -> scheduler, 0)
                .expectSubscription()
                .then(() -> assertThat(requested.get()).isEqualTo(4))
                .thenRequest(1)
                .expectNextCount(1)
                .then(() -> assertThat(requested.get()).isEqualTo(5))
                .thenRequest(10)
                .expectNextCount(10)
                .then(() -> assertThat(requested.get()).isEqualTo(15))
                .thenRequest(Long.MAX_VALUE)
                .expectNextCount(39)
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(maxAhead.get()).isLessThanOrEqualTo(4);
    }

    @Test
    void apply_openingAfterHorizon_expiresAtOnceWithoutWaiting() {
        VirtualTimeScheduler scheduler = clockAt(START);
        AtomicReference<WindowGate> gate = new AtomicReference<>();

        StepVerifier.withVirtualTime(() -> {
                    gate.set(WindowGate.of(WINDOW, scheduler, 4, LA_OPENS.minusSeconds(1)));
                    return gate.get().apply(Flux.just(la(1), ny(2)));
                }, () -> scheduler, Long.MAX_VALUE)
                .expectSubscription()
                .expectNext(new Gated.Expired(la(1), LA_OPENS), new Gated.Open(ny(2)))
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(gate.get().waitingCount()).isZero();
    }

    @Test
    void apply_openingAtHorizon_waits() {
        VirtualTimeScheduler scheduler = clockAt(START);

        StepVerifier.withVirtualTime(() -> WindowGate.of(WINDOW, scheduler, 4, LA_OPENS).apply(Flux.just(la(1))),
                        () -> scheduler, Long.MAX_VALUE)
                .expectSubscription()
                .expectNoEvent(Duration.ofHours(2))
                .expectNext(new Gated.Open(la(1)))
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void apply_windowNeverOpensForTheNumber_expires() {
        VirtualTimeScheduler scheduler = clockAt(START);
        CallingWindow oneHour = CallingWindow.of(new CallingWindowConfig(LocalTime.of(9, 0), LocalTime.of(10, 0),
                EnumSet.allOf(DayOfWeek.class), "callee"));
        Contact tollFree = new Contact(2, "tf", "+18005550123", "", null, Map.of());

        StepVerifier.withVirtualTime(() -> WindowGate.of(oneHour, scheduler, 4).apply(Flux.just(tollFree)),
                        () -> scheduler, Long.MAX_VALUE)
                .expectSubscription()
                .expectNext(new Gated.Expired(tollFree, CallingWindow.NEVER))
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void apply_cancelWhileWaiting_waitingCountReturnsToZero() {
        VirtualTimeScheduler scheduler = clockAt(START);
        AtomicReference<WindowGate> gate = new AtomicReference<>();

        StepVerifier.withVirtualTime(() -> {
                    gate.set(WindowGate.of(WINDOW, scheduler, 4));
                    return gate.get().apply(Flux.just(la(1), la(2)).concatWith(Flux.never()));
                }, () -> scheduler, Long.MAX_VALUE)
                .expectSubscription()
                .then(() -> assertThat(gate.get().waitingCount()).isEqualTo(2))
                .thenCancel()
                .verify(TIMEOUT);

        assertThat(gate.get().waitingCount()).isZero();
    }
}
