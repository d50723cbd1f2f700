package io.chimedialer.core.pacing;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Virtual time whose timers stall, as on a machine whose CPU was busy: a delayed task due within
 * {@code [from, until)} runs only at {@code until}, together with every other task due meanwhile.
 */
final class StallingScheduler implements Scheduler {

    private final VirtualTimeScheduler vts;
    private final long from;
    private final long until;

    StallingScheduler(VirtualTimeScheduler vts, Duration from, Duration until) {
        this.vts = vts;
        this.from = from.toNanos();
        this.until = until.toNanos();
    }

    private long delayNanos(long delay, TimeUnit unit) {
        long now = vts.now(TimeUnit.NANOSECONDS);
        long due = now + unit.toNanos(delay);
        return due >= from && due < until ? until - now : unit.toNanos(delay);
    }

    @Override
    public long now(TimeUnit unit) {
        return vts.now(unit);
    }

    @Override
    public Disposable schedule(Runnable task) {
        return vts.schedule(task);
    }

    @Override
    public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
        return vts.schedule(task, delayNanos(delay, unit), TimeUnit.NANOSECONDS);
    }

    @Override
    public Disposable schedulePeriodically(Runnable task, long initialDelay, long period, TimeUnit unit) {
        return vts.schedulePeriodically(task, initialDelay, period, unit);
    }

    @Override
    public Worker createWorker() {
        Worker worker = vts.createWorker();
        return new Worker() {
            @Override
            public Disposable schedule(Runnable task) {
                return worker.schedule(task);
            }

            @Override
            public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
                return worker.schedule(task, delayNanos(delay, unit), TimeUnit.NANOSECONDS);
            }

            @Override
            public Disposable schedulePeriodically(Runnable task, long initialDelay, long period, TimeUnit unit) {
                return worker.schedulePeriodically(task, initialDelay, period, unit);
            }

            @Override
            public void dispose() {
                worker.dispose();
            }

            @Override
            public boolean isDisposed() {
                return worker.isDisposed();
            }
        };
    }
}
