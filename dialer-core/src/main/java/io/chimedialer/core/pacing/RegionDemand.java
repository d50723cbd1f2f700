package io.chimedialer.core.pacing;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How the campaigns dialing in one Region share its rate by priority (strict priority, work-conserving): each
 * campaign's {@link Dialer} holds a {@link Lane} here with the calls it admitted to the Region and has not sent yet,
 * and whether a contact of it is waiting for the Region's rate now. A campaign's admission gate counts, ahead of its
 * own, the calls of every campaign of a higher priority (admitted and waiting), so it only gets a rate slot that no
 * campaign above it is waiting for: a lower priority dials with what the higher ones leave unused (while they have no
 * contact ready, wait for their calling window, or are held by their own caps), and gets the whole rate when they are
 * done. Campaigns of the same priority share as before, first come first served. Thread-safe; lanes join and leave
 * rarely (copy on write), the counts are read on every admission.
 */
final class RegionDemand {

    /** One campaign's demand in the Region. */
    static final class Lane {
        final int priority;
        /** Calls admitted to the Region and not yet sent (nor dropped). */
        final AtomicInteger pending = new AtomicInteger();
        /** Contacts of the campaign waiting for the Region's rate now (0 or 1: a Dialer admits one at a time). */
        final AtomicInteger waiting = new AtomicInteger();

        Lane(int priority) {
            this.priority = priority;
        }
    }

    private volatile Lane[] lanes = new Lane[0];

    /** A new lane for a campaign of {@code priority}; {@link #leave} it when the campaign stops dialing. */
    synchronized Lane join(int priority) {
        Lane lane = new Lane(priority);
        Lane[] grown = Arrays.copyOf(lanes, lanes.length + 1);
        grown[lanes.length] = lane;
        lanes = grown;
        return lane;
    }

    synchronized void leave(Lane lane) {
        lanes = Arrays.stream(lanes).filter(l -> l != lane).toArray(Lane[]::new);
    }

    /** The calls of higher-priority campaigns that go before one of {@code own}'s: admitted, or waiting to be. */
    int ahead(Lane own) {
        int n = 0;
        for (Lane lane : lanes) {
            if (lane.priority > own.priority) {
                n += lane.pending.get() + lane.waiting.get();
            }
        }
        return n;
    }

    /** The campaigns dialing in the Region now. */
    int lanes() {
        return lanes.length;
    }
}
