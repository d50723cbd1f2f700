package io.chimedialer.core.pacing;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * A Region's effective create rate under AIMD: {@link #onThrottled()} multiplies it by the decrease
 * factor (not below the floor); it then climbs back linearly, by {@code increasePerSecond} of the
 * configured rate per second, to the configured rate.
 *
 * <p>The rate is a function of the scheduler's time since the last decrease, computed when read: no
 * timer runs, and the rate limiter reading it sees the increase continuously. Thread-safe.
 */
public final class AdaptiveRate {

    private final String name;
    private double configured;
    private double floor;
    private final AimdSettings settings;
    private final Scheduler clock;
    private final long cooldownNanos;

    private double base;
    private long baseAtNanos;
    private long lastDecreaseNanos = Long.MIN_VALUE;
    private long decreases;
    private long throttles;

    /**
     * @param name       the Region (for metrics and logs)
     * @param configured the configured calls per second (&gt; 0)
     * @param settings   the AIMD parameters
     * @param clock      the scheduler whose time drives the recovery
     */
    public AdaptiveRate(String name, double configured, AimdSettings settings, Scheduler clock) {
        if (!(configured > 0)) {
            throw new IllegalArgumentException("configured rate must be > 0, was " + configured);
        }
        this.name = Objects.requireNonNull(name, "name");
        this.configured = configured;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.floor = configured * settings.floorFraction();
        this.cooldownNanos = settings.cooldown().toNanos();
        this.base = configured;
        this.baseAtNanos = clock.now(TimeUnit.NANOSECONDS);
    }

    /** The Region. */
    public String name() {
        return name;
    }

    /** The configured (maximum) rate, calls per second. */
    public synchronized double configuredRate() {
        return configured;
    }

    /**
     * Changes the configured rate live (the control API). The effective rate follows at once when it drops;
     * when it rises, a Region that is not backing off moves to the new rate at once too.
     *
     * @param rate the new configured calls per second (&gt; 0)
     */
    public synchronized void setConfiguredRate(double rate) {
        if (!(rate > 0)) {
            throw new IllegalArgumentException("configured rate must be > 0, was " + rate);
        }
        long now = clock.now(TimeUnit.NANOSECONDS);
        double current = rateAt(now);
        boolean backingOff = current < configured;
        configured = rate;
        floor = rate * settings.floorFraction();
        base = backingOff ? Math.min(current, rate) : rate;
        baseAtNanos = now;
    }

    /** The rate the limiter paces at now, calls per second. */
    public synchronized double effectiveRate() {
        return rateAt(clock.now(TimeUnit.NANOSECONDS));
    }

    /** How many multiplicative decreases happened (throttles inside a cooldown are not counted). */
    public synchronized long decreases() {
        return decreases;
    }

    /** How many throttles were recorded (every one, including those inside a cooldown). */
    public synchronized long throttles() {
        return throttles;
    }

    /**
     * Records a throttle: the rate drops by the decrease factor, unless a decrease already happened within
     * the cooldown.
     *
     * @return whether the rate was decreased
     */
    public synchronized boolean onThrottled() {
        long now = clock.now(TimeUnit.NANOSECONDS);
        throttles++;
        if (lastDecreaseNanos != Long.MIN_VALUE && now - lastDecreaseNanos < cooldownNanos) {
            return false;
        }
        base = Math.max(floor, rateAt(now) * settings.decreaseFactor());
        baseAtNanos = now;
        lastDecreaseNanos = now;
        decreases++;
        return true;
    }

    /** Samples {@link #effectiveRate()} every {@code period} on the clock's scheduler, emitting changes only. */
    public Flux<Double> rates(Duration period) {
        return Flux.interval(Duration.ZERO, period, clock).map(i -> effectiveRate()).distinctUntilChanged();
    }

    private double rateAt(long nowNanos) {
        if (base >= configured) {
            return configured;
        }
        double elapsedSeconds = Math.max(0, nowNanos - baseAtNanos) / 1e9;
        return Math.min(configured, base + configured * settings.increasePerSecond() * elapsedSeconds);
    }
}
