package io.chimedialer.core.contacts;

import java.util.List;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * Fences a clustered node's dialing against its own lost claims. A node whose claim renewals stall (an
 * overloaded machine, a slow database) may find that a contact it holds in its queue was claimed by another
 * node once the lease ran out. So before the intents are written, the guard re-confirms and extends, in the
 * database, the claims of this batch's contacts that this node still holds: another node can claim them only
 * after the returned deadline, and not at all once their intent is written.
 */
public interface ClaimGuard {
    /**
     * @param contactKeys the contacts about to be dialed
     * @return those this node still holds, and until when (epoch milliseconds of the cluster's clock) no
     *         other node may claim them
     */
    Mono<Held> confirm(List<String> contactKeys);

    /** The result of {@link #confirm}. */
    record Held(Set<String> contactKeys, long untilMillis) {
        public Held {
            contactKeys = Set.copyOf(contactKeys);
        }
    }
}
