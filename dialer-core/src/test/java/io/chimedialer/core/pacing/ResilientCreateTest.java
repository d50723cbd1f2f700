package io.chimedialer.core.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.pacing.internal.RegionRateLimiter;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class ResilientCreateTest {

    private final VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    private final RetrySettings retry = RetrySettings.ofDefaults();

    private static Attempt attempt(String id) {
        return new Attempt(id, "camp", Fixtures.contact(1), 1, "r", "+12065550100");
    }

    private CreateOutcome run(Mono<CreateOutcome> mono) {
        return run(mono, Duration.ofMinutes(5));
    }

    private CreateOutcome run(Mono<CreateOutcome> mono, Duration advance) {
        CreateOutcome[] out = new CreateOutcome[1];
        // One virtual clock shared by several runs (withVirtualTime would dispose it after the first).
        StepVerifier.create(mono)
                .then(() -> clock.advanceTimeBy(advance))
                .consumeNextWith(o -> out[0] = o)
                .expectComplete()
                .verify(Duration.ofSeconds(10));
        return out[0];
    }

    @Test
    void create_order_retryOutsideBreakerOutsideLimiterOutsideCreate() {
        // Throttled twice, then placed; rate 1/s with burst 1 so that every send needs its own permit.
        RegionPacing region = RegionPacing.create(Fixtures.region("r", 1, 1, 10), Fixtures.pacing(), clock, p -> { });
        FakeOriginator fake = new FakeOriginator(clock, (a, n) -> n <= 2 ? new CreateOutcome.Throttled("slow down")
                : new CreateOutcome.Placed("tx"));
        ResilientCreate chain = new ResilientCreate(fake, retry, clock);

        CreateOutcome outcome = run(chain.create(attempt("a1"), region, Map.of()));

        assertThat(outcome).isEqualTo(new CreateOutcome.Placed("tx"));
        assertThat(fake.createsOf("a1")).isEqualTo(3);
        // Retry outside the limiter: each send took a new rate permit...
        assertThat(region.limiter().granted()).isEqualTo(3);
        // ...so the sends are at least a second apart although the backoff alone is shorter.
        assertThat(Windows.maxInAnyWindow(fake.timesIn("r"), Duration.ofSeconds(1))).isEqualTo(1);
        // Retry outside the breaker: the breaker saw every send.
        assertThat(region.breaker().getMetrics().getNumberOfBufferedCalls()).isEqualTo(3);
        // Throttles lowered the Region's rate (once: the second came within the cooldown or after it).
        assertThat(region.rate().decreases()).isPositive();
    }

    @Test
    void create_order_breakerOpen_neitherRatePermitNorCreate() {
        RegionPacing region = RegionPacing.create(Fixtures.region("r", 1, 1, 10), Fixtures.pacing(), clock, p -> { });
        FakeOriginator fake = FakeOriginator.alwaysPlaced(clock);
        ResilientCreate chain = new ResilientCreate(fake, retry.withMaxAttempts(1), clock);
        region.breaker().transitionToOpenState();

        CreateOutcome outcome = run(chain.create(attempt("a1"), region, Map.of()));

        // Breaker outside the limiter: an open breaker does not spend the Region's rate.
        assertThat(outcome).isInstanceOf(CreateOutcome.NotSent.class);
        assertThat(region.limiter().granted()).isZero();
        assertThat(fake.creates).isEmpty();
    }

    @Test
    void create_eachOutcome_retriedOnlyWhenThrottledOrNotSent() {
        assertThat(sendsUntilFinal((a, n) -> new CreateOutcome.Throttled("429"))).isEqualTo(4);
        assertThat(sendsUntilFinal((a, n) -> new CreateOutcome.NotSent(new ConnectException("refused")))).isEqualTo(4);
        assertThat(sendsUntilFinal((a, n) -> new CreateOutcome.Unknown(new IOException("reset")))).isEqualTo(1);
        assertThat(sendsUntilFinal((a, n) -> new CreateOutcome.Rejected(Disposition.INVALID_NUMBER,
                "BadRequestException", "bad"))).isEqualTo(1);
        assertThat(sendsUntilFinal((a, n) -> new CreateOutcome.AtCapacity("full"))).isEqualTo(1);
        assertThat(sendsUntilFinal((a, n) -> new CreateOutcome.Placed("tx"))).isEqualTo(1);
    }

    private int sendsUntilFinal(BiFunction<Attempt, Integer, CreateOutcome> script) {
        RegionPacing region = RegionPacing.create(Fixtures.region("r", 100, 10, 10), Fixtures.pacing()
                .withBreaker(100, 100, 50f, Duration.ofSeconds(30), 3), clock, p -> { });
        FakeOriginator fake = new FakeOriginator(clock, script);
        run(new ResilientCreate(fake, retry, clock).create(attempt("a"), region, Map.of()));
        return fake.createsOf("a");
    }

    @Test
    void create_throttledThenPlaced_backsOffExponentially() {
        RegionPacing region = RegionPacing.create(Fixtures.region("r", 100, 10, 10), Fixtures.pacing(), clock, p -> { });
        FakeOriginator fake = new FakeOriginator(clock, (a, n) -> n <= 3 ? new CreateOutcome.Throttled("429")
                : new CreateOutcome.Placed("tx"));

        run(new ResilientCreate(fake, retry, clock).create(attempt("a"), region, Map.of()));

        // Delays 250 ms, 500 ms, 1 s before jitter (jitter 0.5: each within +-50%).
        long[] t = fake.timesIn("r").stream().mapToLong(Long::longValue).toArray();
        assertThat(t).hasSize(4);
        assertThat(t[1] - t[0]).isBetween(ms(125), ms(375));
        assertThat(t[2] - t[1]).isBetween(ms(250), ms(750));
        assertThat(t[3] - t[2]).isBetween(ms(500), ms(1500));
    }

    @Test
    void create_unknownsOpenTheBreaker_laterCallsNotSentAndNotCreated() {
        RegionPacing region = RegionPacing.create(Fixtures.region("r", 100, 10, 100), Fixtures.pacing()
                .withBreaker(4, 4, 50f, Duration.ofSeconds(30), 1), clock, p -> { });
        FakeOriginator fake = new FakeOriginator(clock, (a, n) -> new CreateOutcome.Unknown(new IOException("503")));
        ResilientCreate chain = new ResilientCreate(fake, retry, clock);

        for (int i = 0; i < 4; i++) {
            assertThat(run(chain.create(attempt("u" + i), region, Map.of()), Duration.ofSeconds(1)))
                    .isInstanceOf(CreateOutcome.Unknown.class);
        }
        assertThat(region.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
        // Without retries: a retried NotSent would, minutes later, be the half-open breaker's probe.
        CreateOutcome blocked = run(new ResilientCreate(fake, retry.withMaxAttempts(1), clock)
                .create(attempt("b"), region, Map.of()), Duration.ofSeconds(1));

        assertThat(blocked).isInstanceOf(CreateOutcome.NotSent.class);
        assertThat(fake.creates).hasSize(4);
    }

    @Test
    void create_throttledAndRejected_doNotOpenTheBreaker() {
        RegionPacing region = RegionPacing.create(Fixtures.region("r", 100, 10, 100), Fixtures.pacing()
                .withBreaker(4, 4, 50f, Duration.ofSeconds(30), 1), clock, p -> { });
        FakeOriginator fake = new FakeOriginator(clock, (a, n) -> a.attemptId().startsWith("t")
                ? new CreateOutcome.Throttled("429")
                : new CreateOutcome.Rejected(Disposition.FAILED, "ForbiddenException", "no"));
        ResilientCreate chain = new ResilientCreate(fake, retry, clock);

        for (int i = 0; i < 4; i++) {
            run(chain.create(attempt("t" + i), region, Map.of()));
            run(chain.create(attempt("r" + i), region, Map.of()));
        }

        assertThat(region.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(region.breaker().getMetrics().getNumberOfFailedCalls()).isZero();
    }

    private static long ms(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void withPermit_cancelledWhileWaitingForThePermit_callNeverSent() {
        RegionPacing region = RegionPacing.create(Fixtures.region("r", 1, 1, 10), Fixtures.pacing(), clock, p -> { });
        FakeOriginator fake = FakeOriginator.alwaysPlaced(clock);
        ResilientCreate chain = new ResilientCreate(fake, retry, clock);
        run(chain.create(attempt("first"), region, Map.of()), Duration.ZERO);

        // The second waits a second for its rate permit; a cancel half-way must stop it from being sent
        // (resilience4j's RateLimiterOperator would still send it when the wait ends).
        reactor.core.Disposable second = chain.create(attempt("second"), region, Map.of()).subscribe();
        clock.advanceTimeBy(Duration.ofMillis(500));
        second.dispose();
        clock.advanceTimeBy(Duration.ofSeconds(5));

        assertThat(fake.createsOf("first")).isEqualTo(1);
        assertThat(fake.createsOf("second")).isZero();
    }

    @Test
    void withPermit_callAnsweredFailedOrCancelled_itsPlaceIsHeldUntilThenAndReleased() {
        RegionRateLimiter limiter = RegionRateLimiter.fixed("r", 10, 10, Duration.ofMinutes(1), clock);
        reactor.core.publisher.Sinks.One<String> answer = reactor.core.publisher.Sinks.one();

        // Three calls: one answered later, one that fails, one cancelled while in flight.
        String[] value = new String[1];
        ResilientCreate.withPermit(limiter, clock, answer.asMono()).subscribe(v -> value[0] = v);
        Throwable[] error = new Throwable[1];
        ResilientCreate.withPermit(limiter, clock, Mono.<String>error(new IOException("reset")))
                .subscribe(v -> { }, e -> error[0] = e);
        reactor.core.Disposable never = ResilientCreate.withPermit(limiter, clock, Mono.<String>never()).subscribe();
        assertThat(error[0]).isInstanceOf(IOException.class);
        assertThat(limiter.inFlight()).isEqualTo(2);

        never.dispose();
        assertThat(limiter.inFlight()).isEqualTo(1);
        answer.tryEmitValue("created");
        assertThat(value[0]).isEqualTo("created");
        assertThat(limiter.inFlight()).isZero();
    }
}
