package io.chimedialer.core.campaign;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.chime.Originator;
import io.chimedialer.core.chime.UpdateOutcome;
import io.chimedialer.core.chime.RegionCheck;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.metrics.ApiOperation;
import io.chimedialer.core.metrics.ApiOutcome;
import io.chimedialer.core.metrics.DialerMetrics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Counts and times every request an {@link Originator} sends, per Region: the API latency histogram,
 * throttles, and the raw request counts the run report shows. Thread-safe.
 */
public final class MeteredOriginator implements Originator {
    private final Originator delegate;
    private final DialerMetrics metrics;
    private final Scheduler clock;
    private final Map<String, RegionCounts> counts = new ConcurrentHashMap<>();

    /**
     * @param delegate the real originator
     * @param metrics  where latencies and throttles are recorded
     * @param clock    the time source of latencies
     */
    public MeteredOriginator(Originator delegate, DialerMetrics metrics, Scheduler clock) {
        this.delegate = delegate;
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region,
                                      Map<String, String> arguments) {
        return Mono.defer(() -> {
            long start = clock.now(TimeUnit.NANOSECONDS);
            RegionCounts c = counts(region.name());
            c.requests.increment();
            return delegate.create(attempt, region, arguments).doOnNext(outcome -> {
                Duration latency = Duration.ofNanos(clock.now(TimeUnit.NANOSECONDS) - start);
                ApiOutcome apiOutcome = outcomeOf(outcome);
                metrics.apiLatency(ApiOperation.CREATE_SIP_MEDIA_APPLICATION_CALL, region.name(), apiOutcome, latency);
                if (outcome instanceof CreateOutcome.Throttled) {
                    c.throttled.increment();
                    metrics.throttled(ApiOperation.CREATE_SIP_MEDIA_APPLICATION_CALL, region.name());
                }
            });
        });
    }

    @Override
    public Mono<RegionCheck> check(RegionConfig region) {
        return delegate.check(region);
    }

    @Override
    public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
        return Mono.defer(() -> {
            long start = clock.now(TimeUnit.NANOSECONDS);
            return delegate.hangUp(region, transactionId).doOnNext(outcome -> metrics.apiLatency(
                    ApiOperation.UPDATE_SIP_MEDIA_APPLICATION_CALL, region.name(),
                    outcome instanceof UpdateOutcome.Updated ? ApiOutcome.SUCCESS : ApiOutcome.FAILED,
                    Duration.ofNanos(clock.now(TimeUnit.NANOSECONDS) - start)));
        });
    }

    /** Requests sent to a Region so far (every retry counts). */
    public long requests(String region) {
        return counts(region).requests.sum();
    }

    /** 429 answers from a Region so far. */
    public long throttled(String region) {
        return counts(region).throttled.sum();
    }

    private RegionCounts counts(String region) {
        return counts.computeIfAbsent(region, r -> new RegionCounts());
    }

    private static ApiOutcome outcomeOf(CreateOutcome outcome) {
        if (outcome instanceof CreateOutcome.Placed) {
            return ApiOutcome.SUCCESS;
        }
        if (outcome instanceof CreateOutcome.Throttled) {
            return ApiOutcome.THROTTLED;
        }
        if (outcome instanceof CreateOutcome.Rejected || outcome instanceof CreateOutcome.AtCapacity) {
            return ApiOutcome.CLIENT_ERROR;
        }
        if (outcome instanceof CreateOutcome.Unknown u) {
            return u.timedOut() ? ApiOutcome.TIMEOUT : ApiOutcome.SERVER_ERROR;
        }
        return ApiOutcome.FAILED;
    }

    private static final class RegionCounts {
        final LongAdder requests = new LongAdder();
        final LongAdder throttled = new LongAdder();
    }
}
