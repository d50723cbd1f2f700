package io.chimedialer.core.events;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * The event stream of one campaign: a multicast sink with a buffer (events published before the first
 * subscriber, or faster than a subscriber consumes, wait in the buffer up to its size). Emission is safe from
 * any thread: concurrent emits that collide ({@code FAIL_NON_SERIALIZED}) are retried by a bounded spin, and
 * every event that still cannot be delivered is counted in {@link #dropped()}, never silently ignored.
 */
public final class CampaignEvents {

    /** Spins before a colliding emit is counted as dropped; a collision lasts one onNext of another thread. */
    private static final int MAX_SPINS = 1_000_000;

    private final String campaignId;
    private final Sinks.Many<CallEvent> sink;
    private final LongAdder emitted = new LongAdder();
    private final AtomicLong dropped = new AtomicLong();

    CampaignEvents(String campaignId, int bufferSize) {
        this.campaignId = campaignId;
        this.sink = Sinks.many().multicast().onBackpressureBuffer(bufferSize, false);
    }

    /** The campaign. */
    public String campaignId() {
        return campaignId;
    }

    /** The events, hot: a subscriber sees what is buffered and everything after. */
    public Flux<CallEvent> flux() {
        return sink.asFlux();
    }

    /**
     * Publishes one event.
     *
     * @return true when delivered to the sink, false when dropped (counted)
     */
    public boolean emit(CallEvent event) {
        for (int spins = 0; ; spins++) {
            Sinks.EmitResult result = sink.tryEmitNext(event);
            if (result.isSuccess()) {
                emitted.increment();
                return true;
            }
            if (result == Sinks.EmitResult.FAIL_NON_SERIALIZED && spins < MAX_SPINS) {
                Thread.onSpinWait();
                continue;
            }
            dropped.incrementAndGet();
            return false;
        }
    }

    /** Events delivered to the sink. */
    public long emitted() {
        return emitted.sum();
    }

    /** Events that could not be delivered (buffer full, sink terminated, persistent contention). */
    public long dropped() {
        return dropped.get();
    }

    void complete() {
        for (int spins = 0; spins < MAX_SPINS; spins++) {
            if (sink.tryEmitComplete() != Sinks.EmitResult.FAIL_NON_SERIALIZED) {
                return;
            }
            Thread.onSpinWait();
        }
    }
}
