package io.chimedialer.core.pacing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedList;
import java.util.ListIterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Scheduler;

/**
 * A Region's active-call permits: at most {@link #cap()} calls are live at once. Non-blocking: {@link #acquire()}
 * completes when a permit is free, waiters are served first come first served within a priority, and a waiter of a
 * higher priority ({@link #acquire(int)}: a campaign's {@code priority}) before every waiter of a lower one.
 *
 * <p><b>Capacity shrink.</b> When Chime answers ResourceLimitExceeded the account's quota is full (it may
 * be shared with other users), so {@link #shrinkTo(int)} drops the cap to the number of calls that are
 * really live. The cap then recovers gradually: every {@code recoveryInterval} it grows by
 * {@code recoveryStep} permits until it is back at the configured cap; another ResourceLimitExceeded on the
 * way shrinks it again. So the dialer probes the shared quota instead of hammering it.
 *
 * <p><b>Lifetime guard.</b> A permit not released within {@code maxCallLifetime} (a lost HANGUP) is
 * reclaimed on the scheduler and handed to the reclaim callback, whose owner closes the call as UNKNOWN.
 *
 * <p>Thread-safe; the callback runs on the scheduler, outside any lock.
 */
public final class ActivePermits {

    private static final Logger LOG = LoggerFactory.getLogger(ActivePermits.class);

    private final String region;
    private int configuredCap;
    private final Duration maxCallLifetime;
    private final Duration recoveryInterval;
    private final int recoveryStep;
    private final Scheduler scheduler;
    private final Consumer<Permit> onReclaim;
    /** Waiters in the order they are served: by priority (highest first), then first come first served. */
    private final LinkedList<Waiter> waiters = new LinkedList<>();

    private int cap;
    private int inUse;
    private long nextId;
    private long reclaimed;
    private int peak;
    private Disposable recovery;

    /**
     * @param region           the Region
     * @param cap              the configured cap (&gt;= 1)
     * @param maxCallLifetime  how long a permit may be held before it is reclaimed
     * @param recoveryInterval how often a shrunk cap grows back
     * @param recoveryStep     by how many permits it grows each time (&gt;= 1)
     * @param scheduler        runs the lifetime guards and the recovery
     * @param onReclaim        told about every permit reclaimed by the lifetime guard
     */
    public ActivePermits(String region, int cap, Duration maxCallLifetime, Duration recoveryInterval,
                         int recoveryStep, Scheduler scheduler, Consumer<Permit> onReclaim) {
        this.region = Objects.requireNonNull(region, "region");
        if (cap < 1) {
            throw new IllegalArgumentException("cap must be >= 1, was " + cap);
        }
        if (recoveryStep < 1) {
            throw new IllegalArgumentException("recoveryStep must be >= 1, was " + recoveryStep);
        }
        this.configuredCap = cap;
        this.cap = cap;
        this.maxCallLifetime = positive(maxCallLifetime, "maxCallLifetime");
        this.recoveryInterval = positive(recoveryInterval, "recoveryInterval");
        this.recoveryStep = recoveryStep;
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.onReclaim = Objects.requireNonNull(onReclaim, "onReclaim");
    }

    /** The Region. */
    public String region() {
        return region;
    }

    /**
     * A permit, as soon as one is free. Cancelling while waiting gives up the place in the queue; a permit
     * granted to a cancelled waiter goes back to the pool.
     */
    public Mono<Permit> acquire() {
        return acquire(0);
    }

    /**
     * Like {@link #acquire()}, served before every waiter of a lower priority (after those of the same or a higher
     * one): how campaigns sharing a Region get its live calls by their {@code priority}.
     */
    public Mono<Permit> acquire(int priority) {
        return acquire(false, priority);
    }

    /**
     * Like {@link #acquire()}, but ahead of every waiter: for an attempt already admitted (its intent is in
     * the ledger) that must be sent again after the account's quota was found full.
     */
    public Mono<Permit> acquireAhead() {
        return acquire(true, Integer.MAX_VALUE);
    }

    /**
     * Like {@link #acquireAhead()}, for a call that is already live (taken over from a previous run): the permit
     * names its attempt, so that the lifetime guard can close that attempt when it reclaims the permit.
     */
    public Mono<Permit> acquireAheadFor(String attemptId) {
        java.util.Objects.requireNonNull(attemptId, "attemptId");
        return acquire(true, Integer.MAX_VALUE).doOnNext(permit -> permit.bind(attemptId));
    }

    private Mono<Permit> acquire(boolean ahead, int priority) {
        return Mono.create(sink -> {
            Waiter waiter = new Waiter(sink, priority);
            Permit now;
            synchronized (this) {
                now = (ahead || waiters.isEmpty()) && inUse < cap ? grantLocked() : null;
                if (now == null && ahead) {
                    waiters.addFirst(waiter);
                } else if (now == null) {
                    enqueueLocked(waiter);
                } else {
                    waiter.granted = now;
                }
            }
            sink.onCancel(() -> cancel(waiter));
            if (now != null) {
                deliver(waiter, now);
            }
        });
    }

    /**
     * Releases a permit (idempotent).
     *
     * @return {@code true} the first time
     */
    public boolean release(Permit permit) {
        if (permit == null || !permit.markReleased()) {
            return false;
        }
        List<Waiter> served;
        synchronized (this) {
            inUse--;
            served = dispatchLocked();
        }
        served.forEach(w -> deliver(w, w.granted));
        permit.releaseTied();
        return true;
    }

    /** Permits held now. */
    public synchronized int inUse() {
        return inUse;
    }

    /** The current cap (the configured one unless a ResourceLimitExceeded shrank it). */
    public synchronized int cap() {
        return cap;
    }

    /** The configured cap (as constructed, or as last set by {@link #setConfiguredCap(int)}). */
    public synchronized int configuredCap() {
        return configuredCap;
    }

    /**
     * Changes the configured cap live, e.g. to this node's share of a Region's cap when several nodes share
     * it. Lowering takes effect for new calls at once (live calls above the new cap go on until they end);
     * raising frees permits for waiters at once, unless a ResourceLimitExceeded shrink is recovering, which
     * then recovers up to the new cap. Zero is allowed: no new call starts until the cap is raised again.
     *
     * @param value the new configured cap (&gt;= 0)
     */
    public void setConfiguredCap(int value) {
        if (value < 0) {
            throw new IllegalArgumentException("cap must be >= 0, was " + value);
        }
        List<Waiter> served;
        synchronized (this) {
            boolean shrunk = cap < configuredCap;
            configuredCap = value;
            cap = shrunk ? Math.min(cap, value) : value;
            if (recovery == null && cap < configuredCap) {
                recovery = scheduler.schedule(this::recover, recoveryInterval.toNanos(), TimeUnit.NANOSECONDS);
            }
            served = dispatchLocked();
        }
        served.forEach(w -> deliver(w, w.granted));
    }

    /** Permits that could be acquired right now without waiting. */
    public synchronized int available() {
        return waiters.isEmpty() ? Math.max(0, cap - inUse) : 0;
    }

    /** Callers waiting for a permit. */
    public synchronized int waiting() {
        return waiters.size();
    }

    /** The most permits held at once so far. */
    public synchronized int peak() {
        return peak;
    }

    /** Permits reclaimed by the lifetime guard so far. */
    public synchronized long reclaimed() {
        return reclaimed;
    }

    /**
     * Drops the cap to {@code live} (never raises it) and starts its gradual recovery.
     *
     * @param live the number of calls really live in this Region now
     */
    public void shrinkTo(int live) {
        synchronized (this) {
            int target = Math.max(0, Math.min(live, cap));
            if (target < cap) {
                LOG.info("region={} active-call cap shrinks {} -> {} (account quota full)", region, cap, target);
                cap = target;
            }
            if (recovery == null && cap < configuredCap) {
                recovery = scheduler.schedule(this::recover, recoveryInterval.toNanos(), TimeUnit.NANOSECONDS);
            }
        }
    }

    private void recover() {
        List<Waiter> served;
        synchronized (this) {
            cap = Math.min(configuredCap, cap + recoveryStep);
            recovery = cap < configuredCap
                    ? scheduler.schedule(this::recover, recoveryInterval.toNanos(), TimeUnit.NANOSECONDS)
                    : null;
            served = dispatchLocked();
        }
        served.forEach(w -> deliver(w, w.granted));
    }

    /** Queues a waiter behind every waiter of its priority or a higher one. */
    private void enqueueLocked(Waiter waiter) {
        if (waiters.isEmpty() || waiters.getLast().priority >= waiter.priority) {
            waiters.addLast(waiter);
            return;
        }
        ListIterator<Waiter> it = waiters.listIterator(waiters.size());
        while (it.hasPrevious()) {
            if (it.previous().priority >= waiter.priority) {
                it.next();
                break;
            }
        }
        it.add(waiter);
    }

    private Permit grantLocked() {
        inUse++;
        peak = Math.max(peak, inUse);
        return new Permit(this, ++nextId, scheduler.now(TimeUnit.NANOSECONDS));
    }

    private List<Waiter> dispatchLocked() {
        List<Waiter> served = new ArrayList<>();
        while (inUse < cap && !waiters.isEmpty()) {
            Waiter w = waiters.pollFirst();
            w.granted = grantLocked();
            served.add(w);
        }
        return served;
    }

    private void deliver(Waiter waiter, Permit permit) {
        Disposable guard = scheduler.schedule(() -> reclaim(permit), maxCallLifetime.toNanos(), TimeUnit.NANOSECONDS);
        permit.guardWith(guard);
        synchronized (this) {
            waiter.delivering = true;
        }
        waiter.sink.success(permit);
    }

    private void cancel(Waiter waiter) {
        Permit granted;
        synchronized (this) {
            waiters.remove(waiter);
            granted = waiter.delivering ? null : waiter.granted;
        }
        // Cancelled after the grant but before delivery began: it was never used. (A cancel racing the
        // delivery itself may drop the permit; the lifetime guard then returns it, never a double use.)
        if (granted != null) {
            release(granted);
        }
    }

    private void reclaim(Permit permit) {
        if (release(permit)) {
            synchronized (this) {
                reclaimed++;
            }
            LOG.warn("region={} permit {} reclaimed after {} (call closed as UNKNOWN)", region, permit, maxCallLifetime);
            onReclaim.accept(permit);
        }
    }

    private static Duration positive(Duration d, String field) {
        Objects.requireNonNull(d, field);
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(field + " must be > 0, was " + d);
        }
        return d;
    }

    private static final class Waiter {
        final MonoSink<Permit> sink;
        final int priority;
        Permit granted;
        boolean delivering;

        Waiter(MonoSink<Permit> sink, int priority) {
            this.sink = sink;
            this.priority = priority;
        }
    }
}
