package io.chimedialer.core.pacing;

import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.chime.Originator;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.chime.UpdateOutcome;
import io.chimedialer.core.domain.Attempt;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * A {@link FakeOriginator} whose Creates take time on the (virtual) clock, counting how many are in flight at once.
 */
final class SlowOriginator implements Originator {

    final FakeOriginator fake;
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicInteger started = new AtomicInteger();
    private final IntFunction<Duration> latency;
    private final Scheduler clock;

    /**
     * @param latency how long the n-th Create (1-based, counted over all attempts) takes
     */
    SlowOriginator(Scheduler clock, IntFunction<Duration> latency) {
        this.clock = clock;
        this.fake = FakeOriginator.alwaysPlaced(clock);
        this.latency = latency;
    }

    /** Every Create takes {@code latency}. */
    static SlowOriginator each(Scheduler clock, Duration latency) {
        return new SlowOriginator(clock, n -> latency);
    }

    @Override
    public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments) {
        return Mono.defer(() -> {
            Duration takes = latency.apply(started.incrementAndGet());
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            // Answered: no longer in flight (before the answer reaches the Dialer, which may send the next).
            return Mono.delay(takes, clock).doOnNext(t -> inFlight.decrementAndGet())
                    .then(fake.create(attempt, region, arguments));
        });
    }

    @Override
    public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
        return fake.hangUp(region, transactionId);
    }
}
