package io.chimedialer.core.pacing;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Spreads one campaign's calls over its Regions by weight, with smooth weighted round robin (nginx's: every
 * pick adds each candidate's weight to its score, takes the highest, and subtracts the candidates' total
 * from the winner), so a 2:1 weighting gives A, B, A, A, B, A ... rather than runs.
 *
 * <p>Candidates are the Regions that have not failed ({@link RegionHealth}) and whose circuit breaker lets calls
 * through; among them, those with a free
 * active-call permit are preferred, so a full Region does not hold up the others. While a Region's breaker
 * is open the others take its share; when every breaker is open, {@link #next()} waits (polling on the
 * scheduler) until one lets calls through. Thread-safe.
 */
public final class RegionRouter {

    private final List<Lane> lanes = new ArrayList<>();
    private final Duration poll;
    private final Scheduler scheduler;

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

    /** The next Region to dial in; waits while every Region's breaker is open or every Region failed. */
    public Mono<RegionPacing> next() {
        RegionPacing now = pick();
        return now != null ? Mono.just(now) : waitForNext();
    }

    private Mono<RegionPacing> waitForNext() {
        return Mono.fromSupplier(this::pick)
                .repeatWhenEmpty(ticks -> ticks.concatMap(t -> Mono.delay(poll, scheduler)));
    }

    /** The next Region, or {@code null} when every breaker is open or every Region failed. */
    synchronized RegionPacing pick() {
        if (lanes.size() == 1) {
            Lane only = lanes.get(0);
            return only.region.health().up() && letsCallsThrough(only.region.breaker()) ? only.region : null;
        }
        // Candidates: the open lanes with a free permit if any, else every open lane (no allocation per pick).
        boolean anyOpen = false;
        boolean anyFree = false;
        for (Lane lane : lanes) {
            lane.open = lane.region.health().up() && letsCallsThrough(lane.region.breaker());
            lane.free = lane.open && lane.region.permits().available() > 0;
            anyOpen |= lane.open;
            anyFree |= lane.free;
        }
        if (!anyOpen) {
            return null;
        }
        int total = 0;
        Lane best = null;
        for (Lane lane : lanes) {
            if (anyFree ? !lane.free : !lane.open) {
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

        Lane(RegionPacing region, int weight) {
            this.region = region;
            this.weight = weight;
        }
    }
}
