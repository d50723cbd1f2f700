package io.chimedialer.core.calls;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import reactor.core.publisher.Flux;

/**
 * Routes call events to per-campaign {@link CampaignEvents}, creating a campaign's stream on first use
 * (by a publisher or a subscriber, whichever comes first, so nothing published before subscription is lost
 * within the buffer). Thread-safe.
 */
public final class EventBus {

    /** Stream of invocations that matched no call. */
    public static final String UNCORRELATED = "_uncorrelated";
    /** Stream of inbound callbacks (NEW_INBOUND_CALL). */
    public static final String INBOUND = "_inbound";
    /** Default buffer per campaign. */
    public static final int DEFAULT_BUFFER = 16_384;

    private final int bufferSize;
    private final ConcurrentMap<String, CampaignEvents> campaigns = new ConcurrentHashMap<>();

    /** A bus with {@link #DEFAULT_BUFFER} events of buffer per campaign. */
    public EventBus() {
        this(DEFAULT_BUFFER);
    }

    /** A bus with this buffer per campaign (at least 16). */
    public EventBus(int bufferSize) {
        if (bufferSize < 16) {
            throw new IllegalArgumentException("bufferSize must be >= 16, was " + bufferSize);
        }
        this.bufferSize = bufferSize;
    }

    /** The stream of a campaign, created on first use. */
    public CampaignEvents campaign(String campaignId) {
        return campaigns.computeIfAbsent(campaignId, id -> new CampaignEvents(id, bufferSize));
    }

    /** Shorthand for {@code campaign(campaignId).flux()}. */
    public Flux<CallEvent> events(String campaignId) {
        return campaign(campaignId).flux();
    }

    /** Publishes an event on its campaign's stream; returns false when it was dropped (and counted). */
    public boolean publish(CallEvent event) {
        return campaign(event.campaignId()).emit(event);
    }

    /** Completes and forgets a campaign's stream (after its last CallEnded was consumed). */
    public void complete(String campaignId) {
        CampaignEvents events = campaigns.remove(campaignId);
        if (events != null) {
            events.complete();
        }
    }

    /** Every stream that exists now. */
    public Collection<CampaignEvents> campaigns() {
        return List.copyOf(campaigns.values());
    }

    /** Events dropped over all current streams. */
    public long dropped() {
        return campaigns.values().stream().mapToLong(CampaignEvents::dropped).sum();
    }
}
