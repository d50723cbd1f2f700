package io.chimedialer.core.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

class MonoMergeTest {

    @Test
    void atMostMaxConcurrencySubscribed_valuesInTheOrderInnersFinish() {
        List<Sinks.One<Integer>> inners = new ArrayList<>();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostRunning = new AtomicInteger();
        AtomicLong requestedFromUpstream = new AtomicLong();
        Flux<Integer> source = Flux.range(0, 10).doOnRequest(requestedFromUpstream::addAndGet);

        StepVerifier.create(MonoMerge.flatMap(source, i -> {
                    Sinks.One<Integer> sink = Sinks.one();
                    inners.add(sink);
                    return sink.asMono()
                            .doOnSubscribe(s -> mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max))
                            .doOnSuccess(v -> running.decrementAndGet());
                }, 3))
                .then(() -> {
                    assertThat(inners).hasSize(3);
                    assertThat(requestedFromUpstream).hasValue(3);
                    inners.get(2).tryEmitValue(2);
                })
                .expectNext(2)
                .then(() -> {
                    assertThat(inners).hasSize(4);
                    inners.get(0).tryEmitEmpty();
                    inners.get(3).tryEmitValue(3);
                    inners.get(1).tryEmitValue(1);
                })
                .expectNext(3, 1)
                .then(() -> {
                    // Each finished inner lets the next one in: 4, 5 and 6 run now, 7 once 4 finished, ...
                    assertThat(inners).hasSize(7);
                    for (int i = 4; i < 10; i++) {
                        inners.get(i).tryEmitValue(i);
                    }
                })
                .expectNext(4, 5, 6, 7, 8, 9)
                .verifyComplete();
        assertThat(mostRunning).hasValue(3);
        assertThat(requestedFromUpstream).hasValue(10);
    }

    @Test
    void completesOnlyOnceEveryInnerFinished() {
        Sinks.One<String> slow = Sinks.one();
        StepVerifier.create(MonoMerge.flatMap(Flux.just("a", "b"),
                        s -> s.equals("a") ? slow.asMono() : Mono.just("b"), 8))
                .expectNext("b")
                .expectNoEvent(Duration.ofMillis(50))
                .then(() -> slow.tryEmitValue("a"))
                .expectNext("a")
                .verifyComplete();
    }

    @Test
    void downstreamDemandIsHonoured_finishedValuesWaitForIt() {
        StepVerifier.create(MonoMerge.flatMap(Flux.range(1, 5), Mono::just, 2), 0)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(20))
                .thenRequest(1)
                .expectNext(1)
                .expectNoEvent(Duration.ofMillis(20))
                .thenRequest(10)
                .expectNext(2, 3, 4, 5)
                .verifyComplete();
    }

    @Test
    void anInnerErrorCancelsUpstreamAndTheOtherInners() {
        TestPublisher<Integer> upstream = TestPublisher.create();
        AtomicInteger cancelled = new AtomicInteger();
        Sinks.One<Integer> failing = Sinks.one();
        StepVerifier.create(MonoMerge.flatMap(upstream.flux(), i -> i == 1 ? failing.asMono()
                        : Mono.<Integer>never().doOnCancel(cancelled::incrementAndGet), 4))
                .then(() -> upstream.next(1, 2, 3))
                .then(() -> failing.tryEmitError(new IllegalStateException("boom")))
                .verifyErrorMessage("boom");
        upstream.assertCancelled();
        assertThat(cancelled).hasValue(2);
    }

    @Test
    void anUpstreamErrorIsPassedOnAtOnce_innersCancelled() {
        AtomicInteger cancelled = new AtomicInteger();
        StepVerifier.create(MonoMerge.flatMap(Flux.just(1, 2).concatWith(Mono.error(new IllegalStateException("up"))),
                        i -> Mono.<Integer>never().doOnCancel(cancelled::incrementAndGet), 4))
                .verifyErrorMessage("up");
        assertThat(cancelled).hasValue(2);
    }

    @Test
    void aCancelCancelsUpstreamAndEveryInner_laterItemsAreDiscarded() {
        TestPublisher<Integer> upstream = TestPublisher.createNoncompliant(TestPublisher.Violation.CLEANUP_ON_TERMINATE);
        AtomicInteger cancelled = new AtomicInteger();
        List<Object> discarded = new ArrayList<>();
        StepVerifier.create(MonoMerge.flatMap(upstream.flux(),
                                i -> Mono.<Integer>never().doOnCancel(cancelled::incrementAndGet), 4)
                        .doOnDiscard(Integer.class, discarded::add))
                .then(() -> upstream.next(1, 2))
                .thenCancel()
                .verify();
        upstream.assertCancelled();
        assertThat(cancelled).hasValue(2);
        upstream.next(3);
        assertThat(discarded).containsExactly(3);
    }

    @Test
    void unboundedConcurrencyRequestsUpstreamWithoutBound() {
        AtomicLong requested = new AtomicLong();
        Sinks.One<Integer> never = Sinks.one();
        StepVerifier.create(MonoMerge.flatMap(Flux.range(0, 1000).doOnRequest(requested::set), i -> never.asMono(),
                        Integer.MAX_VALUE))
                .thenAwait(Duration.ofMillis(10))
                .then(() -> never.tryEmitEmpty())
                .verifyComplete();
        assertThat(requested).hasValue(Long.MAX_VALUE);
    }

    @Test
    void theMapperFailingIsAnError() {
        StepVerifier.create(MonoMerge.flatMap(Flux.just(1), i -> {
                    throw new IllegalArgumentException("bad");
                }, 4))
                .verifyErrorMessage("bad");
        assertThatThrownBy(() -> MonoMerge.flatMap(Flux.just(1), Mono::just, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theInnersSeeTheDownstreamContext() {
        StepVerifier.create(MonoMerge.flatMap(Flux.just(1),
                                i -> Mono.deferContextual(ctx -> Mono.just(ctx.<String>get("k"))), 4)
                        .contextWrite(ctx -> ctx.put("k", "v")))
                .expectNext("v")
                .verifyComplete();
    }
}
