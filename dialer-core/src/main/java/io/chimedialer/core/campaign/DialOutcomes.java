package io.chimedialer.core.campaign;

import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.pacing.DialResult;
import io.chimedialer.core.util.Masking;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The dialing side's answer to each Create: the attempt is counted, its permit handed to the live call, and the
 * registry told whether the call was placed, is awaiting reconciliation or never happened. A withheld or
 * suppressed attempt is settled here, with its ledger record in the returned step.
 */
final class DialOutcomes {
    private static final Logger log = LoggerFactory.getLogger(CampaignRun.class);

    private final RunContext run;
    private final ClaimFence fence;

    DialOutcomes(RunContext run, ClaimFence fence) {
        this.run = run;
        this.fence = fence;
    }

    /** Handles one Create's outcome; the returned step completes when its ledger writes have landed. */
    Mono<Void> onDialResult(DialResult result) {
        Attempt attempt = result.attempt();
        CreateOutcome outcome = result.outcome();
        if (outcome instanceof CreateOutcome.Suppressed) {
            return suppressed(attempt);
        }
        run.counters.attempts.increment();
        if (attempt.attemptNumber() == 1) {
            run.counters.dialed.increment();
        }
        run.tally(attempt.region()).attempt(run.nanos());
        run.setup.metrics().callOriginated(run.id, attempt.region());
        LiveAttempt entry = run.live.get(attempt.attemptId());
        if (result.holdsPermit() && (entry == null || !entry.holdPermit(result.permit()))) {
            result.permit().release(); // the call already ended (its HANGUP beat Create's answer)
        }
        var registry = run.setup.registry();
        if (outcome instanceof CreateOutcome.Placed placed) {
            if (entry != null) {
                entry.transactionId = placed.transactionId();
            }
            registry.placed(attempt.attemptId(), placed.transactionId());
        } else if (outcome instanceof CreateOutcome.Unknown unknown) {
            log.warn("campaign {}: Create outcome unknown for attempt {} to {} ({}); awaiting reconciliation",
                    run.id, attempt.attemptId(), Masking.phone(attempt.contact().number()), unknown.cause().toString());
            registry.awaitReconciliation(attempt.attemptId(), run.setup.reconcileGrace());
        } else if (outcome instanceof CreateOutcome.Rejected rejected) {
            registry.close(attempt.attemptId(), rejected.disposition(), null);
        } else {
            // Throttled or NotSent after every retry, or AtCapacity after every round: the call was not made.
            registry.close(attempt.attemptId(), Disposition.FAILED, null);
        }
        return Mono.empty();
    }

    /** An attempt the dialer did not send: withheld by the claim fence, cancelled, or on a DNC list at dial time. */
    private Mono<Void> suppressed(Attempt attempt) {
        if (fence.settleLost(attempt)) {
            // Another node holds the contact now: nothing of this attempt was written; that node dials it.
            run.counters.claimsLost.increment();
            run.workEnded(false);
            return Mono.empty();
        }
        run.setup.registry().withdraw(attempt.attemptId());
        if (run.live.remove(attempt.attemptId()) != null) {
            run.counters.live.decrement();
        }
        Mono<Void> write = Mono.empty();
        boolean finished = false;
        if (fence.settleLate(attempt)) {
            // The intent is written, the Create never sent: UNKNOWN, like an intent its node did not live to send.
            run.counters.outcome(Disposition.UNKNOWN);
            finished = true;
            write = run.writes.track(run.setup.ledger().recordResult(new CallResult(attempt.attemptId(), run.id, null,
                    Disposition.UNKNOWN, null, null, null, null, 0, run.now())));
        } else if (!run.cancelling()) {
            // A call admitted before a cancel and never sent is not reached; the report counts it as such.
            if (attempt.attemptNumber() == 1) {
                run.counters.suppressed.increment();
                write = run.writes.track(run.skip(attempt.contact().id(), attempt.contact().number(), "SUPPRESSED",
                        "on a DNC list at dial time"));
            } else {
                finished = true;
            }
        }
        run.workEnded(finished);
        return write;
    }
}
