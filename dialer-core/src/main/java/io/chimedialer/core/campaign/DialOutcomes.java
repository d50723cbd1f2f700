package io.chimedialer.core.campaign;

import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.pacing.DialResult;
import io.chimedialer.core.util.Masking;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The dialing side's answer to each Create: the attempt is counted, its permit handed to the live call, and the
 * registry told whether the call was placed, is awaiting reconciliation or never happened. A withheld or
 * suppressed attempt is settled here, with its ledger record in the returned step.
 *
 * <p>An attempt that was not created for a reason that is not the contact's is withdrawn, not counted as a dial:
 * its Region failed (an account or configuration error: the contact is dialed at once in another Region, and when
 * none is left the campaign pauses with the reason), or it was throttled, at capacity or not sent after every
 * retry (dialed again after {@link RunSetup#redialWithdrawnAfter()}).
 */
final class DialOutcomes {
    private static final Logger log = LoggerFactory.getLogger(CampaignRun.class);

    private final RunContext run;
    private final ClaimFence fence;
    private final FollowUps followUps;
    private final Consumer<String> regionsFailed;

    /**
     * @param regionsFailed told, with the reason, when a Region fault leaves the campaign no Region to dial in
     */
    DialOutcomes(RunContext run, ClaimFence fence, FollowUps followUps, Consumer<String> regionsFailed) {
        this.run = run;
        this.fence = fence;
        this.followUps = followUps;
        this.regionsFailed = regionsFailed;
    }

    /** Handles one Create's outcome; the returned step completes when its ledger writes have landed. */
    Mono<Void> onDialResult(DialResult result) {
        Attempt attempt = result.attempt();
        CreateOutcome outcome = result.outcome();
        if (outcome instanceof CreateOutcome.Suppressed) {
            return suppressed(attempt);
        }
        if (outcome instanceof CreateOutcome.RegionFault fault) {
            String reason = "Region " + attempt.region() + " failed: " + fault.errorType()
                    + (fault.message().isEmpty() ? "" : ": " + fault.message());
            Mono<Void> write = withdraw(attempt, reason, Duration.ZERO);
            regionFailed(attempt.region(), reason);
            return write;
        }
        if (outcome instanceof CreateOutcome.Withdrawn withdrawn) {
            // Its Region failed or the campaign paused after it was admitted: queued again at once, where the
            // router skips failed Regions and a pause holds it before admission.
            Mono<Void> write = withdraw(attempt, withdrawn.reason(), Duration.ZERO);
            regionFailed(attempt.region(), withdrawn.reason());
            return write;
        }
        if (outcome instanceof CreateOutcome.Throttled || outcome instanceof CreateOutcome.NotSent
                || outcome instanceof CreateOutcome.AtCapacity) {
            // Provably not created, and not the contact's fault: dialed again later.
            return withdraw(attempt, "not sent: " + describe(outcome), run.setup.redialWithdrawnAfter());
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
        }
        return Mono.empty();
    }

    private static String describe(CreateOutcome outcome) {
        if (outcome instanceof CreateOutcome.Throttled t) {
            return "throttled after every retry (" + t.message() + ")";
        }
        if (outcome instanceof CreateOutcome.AtCapacity c) {
            return "the active-call quota was full after every round (" + c.message() + ")";
        }
        return "no request could be sent (" + ((CreateOutcome.NotSent) outcome).cause() + ")";
    }

    /**
     * Withdraws an attempt that was not created and is not the contact's fault: no call, no attempt counted; the
     * ledger's result is WITHDRAWN and the contact is dialed again after {@code delay} with the same attempt
     * number (after a cancel, a relaunch dials it).
     */
    private Mono<Void> withdraw(Attempt attempt, String reason, Duration delay) {
        run.counters.withdrawn.increment();
        run.setup.registry().withdraw(attempt.attemptId());
        if (run.live.remove(attempt.attemptId()) != null) {
            run.counters.live.decrement();
        }
        log.debug("campaign {}: attempt {} to {} withdrawn: {}", run.id, attempt.attemptId(),
                Masking.phone(attempt.contact().number()), reason);
        Mono<Void> recorded = run.writes.track(run.setup.ledger()
                .recordWithdrawn(attempt, reason, run.now().plus(delay))
                .retryWhen(run.ledgerOutage())
                .onErrorResume(UnsupportedOperationException.class, e -> Mono.empty()));
        if (!run.active()) {
            // Cancelled meanwhile: not reached now; the ledger's pending follow-up lets a relaunch dial it.
            run.workEnded(false);
            return recorded;
        }
        followUps.redial(attempt, delay, recorded);
        return Mono.empty();
    }

    /** A Region failed: logged once; when none of the campaign's Regions is left, the campaign pauses. */
    private void regionFailed(String region, String reason) {
        if (run.regionsDown()) {
            regionsFailed.accept(reason);
        }
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
        } else if (run.cancelling()) {
            // A call admitted before a cancel and never sent is not reached; its intent is withdrawn, so that a
            // relaunch of the campaign dials it.
            run.counters.withdrawn.increment();
            write = run.writes.track(run.setup.ledger()
                    .recordWithdrawn(attempt, "not sent: the campaign was cancelled", run.now())
                    .retryWhen(run.ledgerOutage())
                    .onErrorResume(UnsupportedOperationException.class, e -> Mono.empty()));
        } else {
            // The number joined a DNC list after its admission: its intent is withdrawn, the contact SUPPRESSED.
            if (attempt.attemptNumber() == 1) {
                run.counters.suppressed.increment();
            } else {
                finished = true;
            }
            write = run.writes.track(run.setup.ledger()
                    .recordWithdrawnFinal(attempt, "SUPPRESSED", "on a DNC list at dial time")
                    .retryWhen(run.ledgerOutage())
                    .onErrorResume(UnsupportedOperationException.class, e -> run.skip(attempt.contact().id(),
                            attempt.contact().number(), "SUPPRESSED", "on a DNC list at dial time")));
        }
        run.workEnded(finished);
        return write;
    }
}
