package io.chimedialer.core.pacing.internal;

import io.chimedialer.core.pacing.AdaptiveRate;
import io.github.resilience4j.core.EventConsumer;
import io.github.resilience4j.core.EventProcessor;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.event.RateLimiterEvent;
import io.github.resilience4j.ratelimiter.event.RateLimiterOnFailureEvent;
import io.github.resilience4j.ratelimiter.event.RateLimiterOnSuccessEvent;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import reactor.core.scheduler.Scheduler;

/**
 * A resilience4j {@link RateLimiter} whose time is a reactor {@link Scheduler}'s, so that it paces on a
 * {@code VirtualTimeScheduler} in tests exactly as it does on real time.
 *
 * <p>Why not resilience4j's own {@code AtomicRateLimiter}: even given a nano-time supplier it hands out
 * {@code limitForPeriod} permits per fixed refresh cycle, so the end of one cycle and the start of the next
 * can together give up to twice the rate within one second, and its rate can only change in whole permits
 * per cycle. This one guarantees what the quota means, in two rules checked on every reservation:
 * <ol>
 *   <li>a GCRA token bucket (emission interval 1/rate, burst {@code burst}) gives the steady rate and
 *       lets at most {@code burst} calls go at once after an idle period;</li>
 *   <li>a sliding log of the last grants admits a grant only if fewer than {@code floor(rate)} grants fall
 *       in the second before it, so no 1-second window ever holds more than the rate (for rates below 1,
 *       one grant per 1/rate seconds).</li>
 * </ol>
 * The rate is read from a supplier on every reservation (the Region's {@link AdaptiveRate}); it is capped at
 * {@code maxRate}. Reservations are granted in order: {@link #reservePermission(int)} returns how long the
 * caller must wait, or -1 when that exceeds the timeout (then nothing is reserved). Thread-safe (a short
 * lock per reservation).
 */
public final class RegionRateLimiter implements RateLimiter {

    private static final long SECOND = 1_000_000_000L;

    private final String name;
    private final DoubleSupplier rate;
    private final double maxRate;
    private final int burst;
    private final Scheduler clock;
    private final Map<String, String> tags;
    private final Events events = new Events();
    private final long[] ring;

    private volatile Duration timeout;
    private int head;
    private int count;
    private long tat = Long.MIN_VALUE;
    private long lastNow = Long.MIN_VALUE;
    private long granted;

    /**
     * @param name    the limiter's name (the Region; resilience4j's metric binders use it as the {@code name} tag)
     * @param rate    the current rate in permits per second, read on every reservation
     * @param maxRate the highest rate the supplier may give (sizes the sliding log)
     * @param burst   permits that may go at once after an idle period (&gt;= 1)
     * @param timeout the longest wait a reservation may be given
     * @param clock   the scheduler whose time is used
     */
    public RegionRateLimiter(String name, DoubleSupplier rate, double maxRate, int burst, Duration timeout,
                             Scheduler clock) {
        this.name = Objects.requireNonNull(name, "name");
        this.rate = Objects.requireNonNull(rate, "rate");
        if (!(maxRate > 0)) {
            throw new IllegalArgumentException("maxRate must be > 0, was " + maxRate);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be >= 1, was " + burst);
        }
        this.maxRate = maxRate;
        this.burst = burst;
        this.timeout = requireNonNegative(timeout);
        this.clock = Objects.requireNonNull(clock, "clock");
        this.tags = Map.of();
        this.ring = new long[windowCount(maxRate)];
    }

    /** A limiter at a fixed rate. */
    public static RegionRateLimiter fixed(String name, double ratePerSecond, int burst, Duration timeout,
                                          Scheduler clock) {
        return new RegionRateLimiter(name, () -> ratePerSecond, ratePerSecond, burst, timeout, clock);
    }

    /** The rate in effect now, permits per second. */
    public double currentRate() {
        return Math.min(maxRate, rate.getAsDouble());
    }

    /** How many permits were granted so far. */
    public synchronized long granted() {
        return granted;
    }

    @Override
    public void changeTimeoutDuration(Duration timeoutDuration) {
        this.timeout = requireNonNegative(timeoutDuration);
    }

    /** Unsupported: the rate follows the supplier given at construction (the Region's AIMD). */
    @Override
    public void changeLimitForPeriod(int limitForPeriod) {
        throw new UnsupportedOperationException("the rate of " + name + " follows its AdaptiveRate");
    }

    @Override
    public boolean acquirePermission(int permits) {
        boolean ok = reserve(permits, 0L) == 0L;
        publish(ok, permits);
        return ok;
    }

    @Override
    public long reservePermission(int permits) {
        long wait = reserve(permits, timeout.toNanos());
        publish(wait >= 0, permits);
        return wait;
    }

    @Override
    public synchronized void drainPermissions() {
        long now = now();
        double r = currentRate();
        long interval = interval(r);
        // Pretend a full burst was just taken: the next permit comes one interval from now.
        tat = Math.max(tat, now + (long) (burst - 1) * interval + interval);
    }

    /**
     * How long until the {@code nth} next permit could be granted, without reserving anything (0: it is
     * free now). Lets a caller keep work from running ahead of the Region's rate instead of queueing it
     * inside the limiter.
     */
    public synchronized long nanosToPermit(int nth) {
        // Save only the log slots the trial reservation overwrites: the log holds floor(maxRate) entries,
        // and copying all of it on every call made admission cost O(maxRate) (32 MB per call at 1M/s).
        int touched = Math.min(Math.max(nth, 0), ring.length);
        long[] saved = new long[touched];
        int savedHead = head;
        for (int i = 0; i < touched; i++) {
            saved[i] = ring[(savedHead + i) % ring.length];
        }
        int savedCount = count;
        long savedTat = tat;
        long savedGranted = granted;
        try {
            return reserve(nth, Long.MAX_VALUE);
        } finally {
            for (int i = 0; i < touched; i++) {
                ring[(savedHead + i) % ring.length] = saved[i];
            }
            head = savedHead;
            count = savedCount;
            tat = savedTat;
            granted = savedGranted;
        }
    }

    private synchronized long reserve(int permits, long maxWaitNanos) {
        if (permits < 1) {
            throw new IllegalArgumentException("permits must be >= 1, was " + permits);
        }
        long now = now();
        double r = currentRate();
        long interval = interval(r);
        long tolerance = (long) (burst - 1) * interval;
        int n = Math.min(windowCount(r), ring.length);
        long window = r >= 1 ? SECOND : interval;
        long[] saved = permits > 1 ? ring.clone() : null;
        int savedHead = head;
        int savedCount = count;
        long savedTat = tat;
        long grant = now;
        for (int i = 0; i < permits; i++) {
            grant = Math.max(now, tat == Long.MIN_VALUE ? now : tat - tolerance);
            if (count >= n) {
                grant = Math.max(grant, ring[Math.floorMod(head - n, ring.length)] + window);
            }
            if (grant - now > maxWaitNanos && i == 0 && permits == 1) {
                return -1L;
            }
            tat = Math.max(grant, tat == Long.MIN_VALUE ? grant : tat) + interval;
            ring[head] = grant;
            head = (head + 1) % ring.length;
            count = Math.min(count + 1, ring.length);
        }
        if (grant - now > maxWaitNanos) {
            if (saved != null) {
                System.arraycopy(saved, 0, ring, 0, ring.length);
            }
            head = savedHead;
            count = savedCount;
            tat = savedTat;
            return -1L;
        }
        granted += permits;
        return grant - now;
    }

    private long now() {
        // Keep time monotonic even if the scheduler's clock (wall time on real schedulers) steps back.
        long now = Math.max(clock.now(TimeUnit.NANOSECONDS), lastNow);
        lastNow = now;
        return now;
    }

    private static long interval(double rate) {
        return (long) Math.ceil(SECOND / rate);
    }

    private static int windowCount(double rate) {
        return Math.max(1, (int) Math.floor(rate + 1e-9));
    }

    private void publish(boolean success, int permits) {
        if (!events.hasConsumers()) {
            return;
        }
        events.processEvent(success ? new RateLimiterOnSuccessEvent(name, permits)
                : new RateLimiterOnFailureEvent(name, permits));
    }

    @Override
    public String getName() {
        return name;
    }

    /** A description in resilience4j's terms: {@code floor(rate)} permits per second, the current timeout. */
    @Override
    public RateLimiterConfig getRateLimiterConfig() {
        return RateLimiterConfig.custom()
                .limitForPeriod(windowCount(currentRate()))
                .limitRefreshPeriod(Duration.ofSeconds(1))
                .timeoutDuration(timeout)
                .build();
    }

    @Override
    public Map<String, String> getTags() {
        return tags;
    }

    @Override
    public Metrics getMetrics() {
        return new Metrics() {
            @Override
            public int getNumberOfWaitingThreads() {
                return waiting();
            }

            @Override
            public int getAvailablePermissions() {
                return available();
            }
        };
    }

    /** Reservations whose grant time is still in the future (callers waiting for their permit). */
    synchronized int waiting() {
        long now = now();
        int waiting = 0;
        for (int i = 1; i <= count; i++) {
            if (ring[Math.floorMod(head - i, ring.length)] > now) {
                waiting++;
            }
        }
        return waiting;
    }

    /** Permits that could be granted right now without waiting. */
    synchronized int available() {
        long now = now();
        double r = currentRate();
        long interval = interval(r);
        int n = Math.min(windowCount(r), ring.length);
        long window = r >= 1 ? SECOND : interval;
        int inWindow = 0;
        for (int i = 1; i <= Math.min(count, n); i++) {
            if (ring[Math.floorMod(head - i, ring.length)] > now - window) {
                inWindow++;
            }
        }
        long bucket = tat == Long.MIN_VALUE ? burst
                : Math.min(burst, Math.max(0, (now - (tat - (long) (burst - 1) * interval)) / interval + 1));
        return (int) Math.max(0, Math.min(bucket, n - inWindow));
    }

    @Override
    public EventPublisher getEventPublisher() {
        return events;
    }

    @Override
    public String toString() {
        return "RegionRateLimiter{" + name + ", rate=" + currentRate() + ", burst=" + burst + "}";
    }

    /**
     * The limiter's event publisher, on resilience4j's public {@link EventProcessor} (consumers for all events
     * via {@code onEvent}, or per event type), so that nothing here depends on resilience4j's internal package.
     */
    private static final class Events extends EventProcessor<RateLimiterEvent> implements EventPublisher {

        @Override
        public EventPublisher onSuccess(EventConsumer<RateLimiterOnSuccessEvent> consumer) {
            registerConsumer(RateLimiterOnSuccessEvent.class.getName(), consumer);
            return this;
        }

        @Override
        public EventPublisher onFailure(EventConsumer<RateLimiterOnFailureEvent> consumer) {
            registerConsumer(RateLimiterOnFailureEvent.class.getName(), consumer);
            return this;
        }
    }

    private static Duration requireNonNegative(Duration d) {
        Objects.requireNonNull(d, "timeout");
        if (d.isNegative()) {
            throw new IllegalArgumentException("timeout must be >= 0, was " + d);
        }
        return d;
    }
}
