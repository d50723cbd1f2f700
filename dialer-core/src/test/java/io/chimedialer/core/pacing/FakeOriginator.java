package io.chimedialer.core.pacing;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.chime.Originator;
import io.chimedialer.core.chime.UpdateOutcome;
import io.chimedialer.core.chime.RegionConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/** An Originator that records every create with its (virtual) time and answers from a script. */
final class FakeOriginator implements Originator {

    /** One create as the "service" saw it. */
    record Create(String attemptId, String region, String to, long atNanos) {
    }

    final List<Create> creates = new CopyOnWriteArrayList<>();
    private final Map<String, Integer> countByAttempt = new ConcurrentHashMap<>();
    private final Scheduler clock;
    private final BiFunction<Attempt, Integer, CreateOutcome> script;
    private final List<Runnable> onCreate = new CopyOnWriteArrayList<>();

    /**
     * @param script the outcome of the n-th create (1-based) of an attempt
     */
    FakeOriginator(Scheduler clock, BiFunction<Attempt, Integer, CreateOutcome> script) {
        this.clock = clock;
        this.script = script;
    }

    static FakeOriginator alwaysPlaced(Scheduler clock) {
        return new FakeOriginator(clock, (a, n) -> new CreateOutcome.Placed("tx-" + a.attemptId() + "-" + n));
    }

    FakeOriginator onCreate(Runnable hook) {
        onCreate.add(hook);
        return this;
    }

    @Override
    public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments) {
        Map<String, String> all = Originator.argumentsOf(attempt, arguments);
        return Mono.fromSupplier(() -> {
            int n = countByAttempt.merge(attempt.attemptId(), 1, Integer::sum);
            creates.add(new Create(all.get(ATTEMPT_ID), region.name(), attempt.contact().number(),
                    clock.now(TimeUnit.NANOSECONDS)));
            onCreate.forEach(Runnable::run);
            return script.apply(attempt, n);
        });
    }

    @Override
    public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
        return Mono.just(new UpdateOutcome.Updated(transactionId));
    }

    int createsOf(String attemptId) {
        return countByAttempt.getOrDefault(attemptId, 0);
    }

    long createsIn(String region) {
        return creates.stream().filter(c -> c.region().equals(region)).count();
    }

    List<Long> timesIn(String region) {
        List<Long> times = new ArrayList<>();
        for (Create c : creates) {
            if (region == null || c.region().equals(region)) {
                times.add(c.atNanos());
            }
        }
        return times;
    }

    /** The most creates of a Region (null: all) in any window (t - window, t]. */
    int maxInAnyWindow(String region, Duration window) {
        return Windows.maxInAnyWindow(timesIn(region), window);
    }

    /** Creates of a Region with a time in [from, to). */
    long countBetween(String region, Duration from, Duration to) {
        return timesIn(region).stream().filter(t -> t >= from.toNanos() && t < to.toNanos()).count();
    }
}
