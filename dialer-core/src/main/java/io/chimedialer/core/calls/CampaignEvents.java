package io.chimedialer.core.calls;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * The event stream of one campaign: a multicast sink with a buffer (events published before the first
 * subscriber, or faster than a subscriber consumes, wait in the buffer up to its size).
 *
 * <p>Emission is safe from any thread and never blocks or spins: events enter a lock-free queue and exactly one
 * thread at a time drains it into the sink (the work-in-progress pattern), so the sink never sees concurrent
 * emits and {@code FAIL_NON_SERIALIZED} cannot occur. A subscriber that publishes from its own {@code onNext}
 * is fine: its event is drained by the same loop. Every event the sink refuses (buffer full, terminated) is
 * counted in {@link #dropped()}, never silently ignored.
 */
public final class CampaignEvents {

    private final String campaignId;
    private final Sinks.Many<CallEvent> sink;
    private final Queue<CallEvent> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger wip = new AtomicInteger();
    private final LongAdder emitted = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private volatile boolean completeRequested;
    private volatile boolean completed;

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
     * @return false when the stream is already completed (the event is counted as dropped); true when accepted.
     *         An accepted event can still be refused by a full buffer, which {@link #dropped()} counts.
     */
    public boolean emit(CallEvent event) {
        if (completeRequested) {
            dropped.increment();
            return false;
        }
        queue.offer(event);
        drain();
        return true;
    }

    /** Events delivered to the sink. */
    public long emitted() {
        return emitted.sum();
    }

    /** Events that could not be delivered (buffer full, stream completed). */
    public long dropped() {
        return dropped.sum();
    }

    void complete() {
        completeRequested = true;
        drain();
    }

    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return; // the thread that is draining will see our event
        }
        int missed = 1;
        for (;;) {
            CallEvent event;
            while ((event = queue.poll()) != null) {
                if (completed) {
                    dropped.increment();
                } else if (sink.tryEmitNext(event).isSuccess()) {
                    emitted.increment();
                } else {
                    dropped.increment();
                }
            }
            if (completeRequested && !completed) {
                completed = true;
                sink.tryEmitComplete();
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }
}
