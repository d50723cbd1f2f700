package io.chimedialer.core.pacing;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToLongFunction;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Spreads one campaign's calls over its Regions by weight, with smooth weighted round robin (nginx's: every
 * pick adds each candidate's weight to its score, takes the highest, and subtracts the candidates' total
 * from the winner), so a 2:1 weighting gives A, B, A, A, B, A ... rather than runs.
 *
 * <p><b>Work-conserving.</b> Weights share the work among the Regions that can take a call now; a Region that
 * cannot does not hold back the others. Candidates are the Regions that have not failed ({@link RegionHealth})
 * and whose circuit breaker lets calls through (while a Region's breaker is open or it failed, the others
 * take its share; when every one is, {@link #next} waits, polling on the scheduler). Among them, in order of
 * preference:
 * <ol>
 *   <li>those with a free active-call permit whose rate would let the call go now (the caller's rate wait,
 *       {@link #next(ToLongFunction)}, is 0 or less): the weights decide among these;</li>
 *   <li>else those with a free permit whose rate lets a call go soonest (every Region is rate-bound: each
 *       then dials at its own rate, whatever the weights);</li>
 *   <li>else all of them (every Region is full: the weights decide which to wait for).</li>
 * </ol>
 * So with us-east-1 at 0.5/s weighted 2 and us-west-2 at 5/s weighted 1, us-east-1 dials at 0.5/s and
 * us-west-2 takes the rest, up to its 5/s; with neither rate binding, two calls go to us-east-1 for each one
 * to us-west-2. Thread-safe.
 */
public final class RegionRouter {

    private final List<Lane> lanes = new ArrayList<>();
    private final Duration poll;
    private final Scheduler scheduler;
    private static final ToLongFunction<RegionPacing> LIMITER_WAIT = region -> region.limiter().nanosToPermit(1);

    /**
     * @param weights   each Region's pacing and its weight (&gt;= 1), in a stable order
     * @param poll      how often to look again while every breaker is open
     * @param scheduler where that wait runs
     */
    public RegionRouter(Map<RegionPacing, Integer> weights, Duration poll, Scheduler scheduler) {
        if (weights.isEmpty()) {
            throw new IllegalArgumentException("a campaign needs at least one Region");
        }
        new LinkedHashMap<>(weights).forEach((region, weight) -> {
            if (weight == null || weight < 1) {
                throw new IllegalArgumentException("weight of Region " + region.name() + " must be >= 1, was " + weight);
            }
            lanes.add(new Lane(region, weight));
        });
        this.poll = Objects.requireNonNull(poll, "poll");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    /** The Regions, in order. */
    public List<RegionPacing> regions() {
        return lanes.stream().map(l -> l.region).toList();
    }

    /** Whether every Region has failed ({@link RegionHealth}): nothing can be dialed until one is restored. */
    public boolean allFailed() {
        return lanes.stream().noneMatch(l -> l.region.health().up());
    }

    /**
     * The next Region to dial in, judging each Region's rate by its limiter alone ({@code nanosToPermit(1)});
     * waits while every Region's breaker is open or every Region failed.
     */
    public Mono<RegionPacing> next() {
        return next(LIMITER_WAIT);
    }

    /**
     * The next Region to dial in; waits while every Region's breaker is open or every Region failed.
     *
     * @param rateWait how many nanoseconds a call routed to a Region now would wait for that Region's rate
     *                 (0 or less: none); the caller's own admission gate, so that it counts the calls it has
     *                 admitted but not yet sent
     */
    public Mono<RegionPacing> next(ToLongFunction<RegionPacing> rateWait) {
        Objects.requireNonNull(rateWait, "rateWait");
        RegionPacing now = pick(rateWait);
        return now != null ? Mono.just(now) : Mono.fromSupplier(() -> pick(rateWait))
                .repeatWhenEmpty(ticks -> ticks.concatMap(t -> Mono.delay(poll, scheduler)));
    }

    /** {@link #pick(ToLongFunction)} with the limiters' own rate waits. */
    RegionPacing pick() {
        return pick(LIMITER_WAIT);
    }

    /**
     * The next Region, or {@code null} when every breaker is open or every Region failed. The weights share the
     * work among the candidates: the open Regions with a free permit and the shortest rate wait (none, when one
     * has none), so that a rate-bound Region does not hold back the others; else every open Region. No
     * allocation per pick.
     */
    synchronized RegionPacing pick(ToLongFunction<RegionPacing> rateWait) {
        if (lanes.size() == 1) {
            Lane only = lanes.get(0);
            return only.region.health().up() && letsCallsThrough(only.region.breaker()) ? only.region : null;
        }
        boolean anyOpen = false;
        long shortest = Long.MAX_VALUE;
        for (Lane lane : lanes) {
            lane.open = lane.region.health().up() && letsCallsThrough(lane.region.breaker());
            lane.free = lane.open && lane.region.permits().available() > 0;
            anyOpen |= lane.open;
            if (lane.free) {
                lane.wait = Math.max(0L, rateWait.applyAsLong(lane.region));
                shortest = Math.min(shortest, lane.wait);
            }
        }
        if (!anyOpen) {
            return null;
        }
        boolean anyFree = shortest != Long.MAX_VALUE;
        int total = 0;
        Lane best = null;
        for (Lane lane : lanes) {
            if (anyFree ? !lane.free || lane.wait != shortest : !lane.open) {
                continue;
            }
            lane.score += lane.weight;
            total += lane.weight;
            if (best == null || lane.score > best.score) {
                best = lane;
            }
        }
        best.score -= total;
        return best.region;
    }

    private static boolean letsCallsThrough(CircuitBreaker breaker) {
        return switch (breaker.getState()) {
            case OPEN -> {
                // An open breaker only moves to half-open when asked after its wait; ask, and give the
                // permission straight back (the call itself acquires its own).
                if (breaker.tryAcquirePermission()) {
                    breaker.releasePermission();
                    yield true;
                }
                yield false;
            }
            case FORCED_OPEN -> false;
            default -> true;
        };
    }

    private static final class Lane {
        final RegionPacing region;
        final int weight;
        int score;
        boolean open;
        boolean free;
        long wait;

        Lane(RegionPacing region, int weight) {
            this.region = region;
            this.weight = weight;
        }
    }
}
