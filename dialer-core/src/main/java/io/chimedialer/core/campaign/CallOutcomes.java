package io.chimedialer.core.campaign;

import io.chimedialer.core.calls.CallEvent;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.pacing.Permit;
import io.chimedialer.core.util.Masking;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The webhook side of a run: each call event of the campaign updates the run at once (live calls, permits,
 * counters, follow-ups) and returns its ledger writes as the step's {@code Mono}, which the run's event chain
 * subscribes; the run completes only after they landed. A failed action is recorded among the attempt's events;
 * answered calls that all fail alike pause the run ({@link ActionFailureStreak}).
 */
final class CallOutcomes {
    private static final Logger log = LoggerFactory.getLogger(CampaignRun.class);

    private final RunContext run;
    private final FollowUps followUps;
    private final ActionFailureStreak actionFailures;
    private final Consumer<String> pauseOnError;

    /**
     * @param actionFailures the run's count of answered calls failing alike
     * @param pauseOnError   pauses the run with a reason ({@link CampaignRun#pauseOnError})
     */
    CallOutcomes(RunContext run, FollowUps followUps, ActionFailureStreak actionFailures,
                 Consumer<String> pauseOnError) {
        this.run = run;
        this.followUps = followUps;
        this.actionFailures = actionFailures;
        this.pauseOnError = pauseOnError;
    }

    /** Handles one event; the returned step completes when its ledger writes have landed, and never errors. */
    Mono<Void> onEvent(CallEvent event) {
        if (event instanceof CallEvent.CallEnded ended) {
            return onEnded(ended.result(), ended.recorded());
        }
        if (event instanceof CallEvent.UnknownResolved resolved) {
            return onResolved(resolved.result());
        }
        if (event instanceof CallEvent.CallStarted started) {
            LiveAttempt entry = run.live.get(started.attemptId());
            if (entry != null) {
                entry.transactionId = started.transactionId();
            }
            return run.writes.track(run.setup.ledger().recordPlaced(started.attemptId(), started.transactionId(),
                    run.now()));
        }
        if (event instanceof CallEvent.ActionFailed failed) {
            // Durable on the attempt: its events carry "Speak failed: AccessDenied: <message>".
            log.debug("campaign {}: attempt {}: {}", run.id, failed.attemptId(), failed.failure().detail());
            return run.writes.track(run.setup.ledger().recordEvent(new Ledger.AttemptEvent(failed.transactionId(),
                    (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, failed.sequence())),
                    failed.attemptId(), "ACTION_FAILED", failed.at(), failed.failure().detail())));
        }
        if (event instanceof CallEvent.OptedOut optedOut) {
            run.setup.dnc().add(optedOut.number());
            log.debug("campaign {}: {} opted out", run.id, Masking.phone(optedOut.number()));
            return run.setup.dncListName()
                    .map(list -> run.writes.track(run.setup.ledger().addDnc(list, optedOut.number(), run.now())))
                    .orElse(Mono.empty());
        }
        return Mono.empty();
    }

    /** The end of a call this run tracks (in {@code run.live}), as its CallEnded would be handled. */
    Mono<Void> ended(CallResult result) {
        return onEnded(result, null);
    }

    /**
     * @param written the write of this outcome the webhook already started (it answers a HANGUP once its outcome is
     *                durable), waited on instead of a second write of the same outcome; null to write it here
     */
    private Mono<Void> onEnded(CallResult result, Mono<Void> written) {
        Mono<Void> write = written != null ? written : run.setup.ledger().recordResult(result);
        LiveAttempt entry = run.live.remove(result.attemptId());
        if (entry == null) {
            // Not this run's call: one of another node's, restored from the ledger by this node's webhook (in a
            // cluster, a dead node's calls fall back to any node), or one that already ended here. Its outcome
            // is recorded all the same; the ledger keeps the first known result (a known one replaces only an
            // UNKNOWN), so a call that already ended with its outcome is not changed.
            return run.writes.track(write);
        }
        run.counters.live.decrement();
        Permit permit = entry.end();
        if (permit != null) {
            permit.release();
        }
        run.counters.outcome(result.disposition());
        run.setup.metrics().callEnded(entry.attempt.region(), result);
        if (result.disposition() == Disposition.ANSWERED) {
            actionFailures.answered(result.actionFailure()).ifPresent(pauseOnError);
        }
        Mono<Void> recorded = run.writes.track(write);
        boolean followUp = followUps.afterEnd(entry.attempt, result.disposition());
        if (result.disposition() == Disposition.UNKNOWN) {
            run.closedUnknown.put(result.attemptId(), new RunContext.ClosedUnknown(entry.attempt, followUp,
                    !followUp && !entry.resumed));
        }
        // a resumed call's contact was counted as resumedDone
        run.workEnded(!followUp && !entry.resumed);
        return recorded;
    }

    /**
     * The real outcome of an attempt closed UNKNOWN came (its HANGUP, after the lifetime guard, the reconciliation
     * grace or a resume had closed it): it replaces the UNKNOWN in the ledger. When this run counted that UNKNOWN,
     * its counts follow, the metrics count the real outcome too, and, when the UNKNOWN left the contact final, the
     * real outcome's retry rule applies (a new attempt of the contact; the closed attempt is never dialed again).
     */
    private Mono<Void> onResolved(CallResult result) {
        Mono<Void> recorded = run.writes.track(run.setup.ledger().recordResult(result));
        RunContext.ClosedUnknown closed = run.closedUnknown.remove(result.attemptId());
        if (closed == null) {
            return recorded; // not counted by this run (another run's or another node's attempt)
        }
        run.counters.replaceOutcome(Disposition.UNKNOWN, result.disposition());
        run.setup.metrics().callEnded(closed.attempt().region(), result);
        boolean followUp = false;
        if (!closed.followUp()) {
            followUp = followUps.afterEnd(closed.attempt(), result.disposition());
            if (followUp && closed.finished()) {
                run.counters.finished.decrement(); // no longer final: its follow-up is pending work
            }
        }
        log.debug("campaign {}: attempt {} closed UNKNOWN ended {}{}", run.id, result.attemptId(),
                result.disposition(), followUp ? "; follow-up scheduled" : "");
        return recorded;
    }
}
