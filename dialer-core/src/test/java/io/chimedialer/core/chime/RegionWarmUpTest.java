package io.chimedialer.core.chime;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.domain.Attempt;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The check at start on virtual time: bounded, never an error, one check per run. */
class RegionWarmUpTest {
    private static final RegionConfig REGION = new RegionConfig("us-east-1", "sma-1", 10, 1, 10, 5,
            List.of("+12065550100"), null);

    private static Originator checking(Mono<RegionCheck> answer, AtomicInteger checks) {
        return new Originator() {
            @Override
            public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments) {
                throw new AssertionError("no Create in a check");
            }

            @Override
            public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
                throw new AssertionError("no Update in a check");
            }

            @Override
            public Mono<RegionCheck> check(RegionConfig region) {
                return Mono.defer(() -> {
                    checks.incrementAndGet();
                    return answer;
                });
            }
        };
    }

    @Test
    void run_checkNeverAnswers_failsAsTimeoutAfterTheBound() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        AtomicInteger checks = new AtomicInteger();

        StepVerifier.withVirtualTime(() -> RegionWarmUp.run(checking(Mono.never(), checks), REGION,
                        Duration.ofSeconds(5), vts), () -> vts, 1)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(4_999))
                .thenAwait(Duration.ofMillis(1))
                .assertNext(check -> assertThat(check).isEqualTo(
                        new RegionCheck.Failed("Timeout", "no answer within 5000 ms")))
                .expectComplete()
                .verify(Duration.ofSeconds(30));
        assertThat(checks).hasValue(1);
    }

    @Test
    void run_checkErrors_completesAsFailedNamingTheError() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        AtomicInteger checks = new AtomicInteger();

        StepVerifier.create(RegionWarmUp.run(checking(Mono.error(new IllegalStateException("boom")), checks), REGION,
                        Duration.ofSeconds(5), vts))
                .assertNext(check -> assertThat(check).isEqualTo(
                        new RegionCheck.Failed("IllegalStateException", "boom")))
                .verifyComplete();
    }

    @Test
    void run_found_passesItOn() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        AtomicInteger checks = new AtomicInteger();

        StepVerifier.create(RegionWarmUp.run(checking(Mono.just(new RegionCheck.Found("sma", "us-east-1")), checks),
                        REGION, Duration.ofSeconds(5), vts))
                .expectNext(new RegionCheck.Found("sma", "us-east-1"))
                .verifyComplete();
        assertThat(checks).hasValue(1);
    }
}
