package io.chimedialer.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * A {@link Clock} whose now is a {@link VirtualTimeScheduler}'s virtual time (epoch 0 plus the time the scheduler
 * has been advanced by), so that code reading a clock (resilience4j, a ledger's timestamps) and Reactor operators
 * waiting on the same scheduler agree on the time in a virtual-time test. Start it at a date with
 * {@code scheduler.advanceTimeTo(instant)}. Thread-safe as the scheduler is; always UTC.
 */
public final class VirtualTimeClock extends Clock {
    private final VirtualTimeScheduler scheduler;

    /** A clock reading {@code scheduler}'s time. */
    public VirtualTimeClock(VirtualTimeScheduler scheduler) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    /** The scheduler whose time this clock reads. */
    public VirtualTimeScheduler scheduler() {
        return scheduler;
    }

    /** Advances the scheduler (running the tasks that fall due) by {@code amount}; the new time. */
    public Instant advance(Duration amount) {
        scheduler.advanceTimeBy(amount);
        return instant();
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

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    /** Only UTC: a virtual-time clock in another zone has not been needed. */
    @Override
    public Clock withZone(ZoneId zone) {
        if (ZoneOffset.UTC.equals(zone)) {
            return this;
        }
        throw new UnsupportedOperationException("a virtual-time clock is always UTC, not " + zone);
    }

    @Override
    public String toString() {
        return "VirtualTimeClock[" + instant() + "]";
    }
}
