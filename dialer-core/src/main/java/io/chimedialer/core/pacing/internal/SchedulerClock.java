package io.chimedialer.core.pacing.internal;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import reactor.core.scheduler.Scheduler;

/**
 * A {@link Clock} that reads a reactor {@link Scheduler}'s time, so that resilience4j's circuit breaker
 * and the Reactor operators that wait on the same scheduler agree on "now" (and both run on a
 * {@code VirtualTimeScheduler} in tests).
 */
public final class SchedulerClock extends Clock {

    private final Scheduler scheduler;

    public SchedulerClock(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("a scheduler clock is always UTC");
    }

    @Override
    public Instant instant() {
        long nanos = scheduler.now(TimeUnit.NANOSECONDS);
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
    }

    @Override
    public long millis() {
        return scheduler.now(TimeUnit.MILLISECONDS);
    }
}
