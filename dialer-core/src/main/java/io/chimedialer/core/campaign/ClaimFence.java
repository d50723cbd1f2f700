package io.chimedialer.core.campaign;

import io.chimedialer.core.calls.CallContext;
import io.chimedialer.core.contacts.ClaimGuard;
import io.chimedialer.core.domain.Attempt;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * What happens to a batch of attempts before their Create is sent: their intents are written (at most once: no
 * attempt is sent before its intent is committed), and, in a cluster, the batch first confirms that this node
 * still holds its contacts (see {@link ClaimGuard}). Attempts whose claim passed to another node ({@link #lost})
 * or whose intent was written after their claim could have passed ({@link #late}) are withheld: the dialer
 * suppresses them by number, and the run settles them when their outcome comes back.
 *
 * <p>Thread-safe.
 */
final class ClaimFence {
    private static final Logger log = LoggerFactory.getLogger(CampaignRun.class);

    private final RunContext run;
    private volatile ClaimGuard guard;
    /** Attempts not to be sent, by number: their claim passed to another node or came late. */
    private final Set<String> withheldNumbers = ConcurrentHashMap.newKeySet();
    /** Attempt ids whose contact another node may hold now: nothing of them was written, nothing is sent. */
    private final Set<String> lost = ConcurrentHashMap.newKeySet();
    /** Attempt ids whose intent was written after their claim could have passed: never sent, UNKNOWN. */
    private final Set<String> late = ConcurrentHashMap.newKeySet();

    ClaimFence(RunContext run) {
        this.run = run;
    }

    void guard(ClaimGuard claimGuard) {
        this.guard = Objects.requireNonNull(claimGuard, "guard");
    }

    /** Whether a cluster guards the claims. */
    boolean guarded() {
        return guard != null;
    }

    /** Whether an attempt to this number is withheld. */
    boolean withheld(String number) {
        return withheldNumbers.contains(number);
    }

    /** Whether the attempt was withheld as lost to another node; it is settled from now on. */
    boolean settleLost(Attempt attempt) {
        return settle(lost, attempt);
    }

    /** Whether the attempt was withheld as late; it is settled from now on. */
    boolean settleLate(Attempt attempt) {
        return settle(late, attempt);
    }

    private boolean settle(Set<String> withheld, Attempt attempt) {
        if (!withheld.remove(attempt.attemptId())) {
            return false;
        }
        withheldNumbers.remove(attempt.contact().number());
        return true;
    }

    /** The dialer's hook before a batch's Create: confirm the claims (in a cluster), then write the intents. */
    Mono<Void> beforePlace(List<Attempt> attempts) {
        ClaimGuard claimGuard = guard;
        if (claimGuard == null) {
            return recordIntents(attempts);
        }
        return claimGuard.confirm(attempts.stream().map(a -> a.contact().id()).toList())
                .retryWhen(run.ledgerOutage())
                .flatMap(held -> {
                    List<Attempt> kept = new ArrayList<>(attempts.size());
                    for (Attempt attempt : attempts) {
                        if (held.contactKeys().contains(attempt.contact().id())) {
                            kept.add(attempt);
                        } else {
                            lost.add(attempt.attemptId());
                            withheldNumbers.add(attempt.contact().number());
                        }
                    }
                    if (kept.size() < attempts.size()) {
                        log.warn("campaign {}: {} of {} contacts about to be dialed are no longer claimed by this node "
                                + "(their lease ran out): left to the node that holds them", run.id,
                                attempts.size() - kept.size(), attempts.size());
                    }
                    return recordIntents(kept).then(Mono.fromRunnable(() -> {
                        if (run.millis() >= held.untilMillis()
                                && !kept.isEmpty()) {
                            log.error("campaign {}: {} intents were written after their claims could pass to another "
                                    + "node: not sent, UNKNOWN", run.id, kept.size());
                            kept.forEach(a -> {
                                late.add(a.attemptId());
                                withheldNumbers.add(a.contact().number());
                            });
                        }
                    }));
                });
    }

    private Mono<Void> recordIntents(List<Attempt> attempts) {
        if (attempts.isEmpty()) {
            return Mono.empty();
        }
        RunSetup setup = run.setup;
        for (Attempt attempt : attempts) {
            // Tracked before Create is sent: its HANGUP may reach the webhook before Create's answer reaches us.
            run.live.put(attempt.attemptId(), new LiveAttempt(attempt, false));
            run.counters.live.increment();
            setup.registry().expect(attempt, CallContext.of(attempt, setup.config().flow(),
                    setup.config().maxCallLifetime()));
        }
        return setup.ledger().recordIntents(attempts).retryWhen(run.ledgerOutage());
    }
}
