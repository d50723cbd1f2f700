package io.chimedialer.core.campaign;

import io.chimedialer.core.campaign.CampaignRun.State;
import io.chimedialer.core.ledger.LedgerUnavailableException;
import io.chimedialer.core.pacing.CampaignPacing;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * What the parts of one run share: its setup, counters, lifecycle state, live attempts and the count of work
 * outstanding. The orchestrator ({@link CampaignRun}) owns it; the parts read and update it from many threads.
 */
final class RunContext {
    private static final Logger log = LoggerFactory.getLogger(CampaignRun.class);

    final RunSetup setup;
    final String id;
    final CampaignCounters counters = new CampaignCounters();
    final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
    /** Attempts whose one CallEnded has not arrived yet, by attempt id. */
    final Map<String, LiveAttempt> live = new ConcurrentHashMap<>();
    /** Contacts dialed or to be dialed whose last attempt has not ended: the run completes at zero. */
    final AtomicLong pending = new AtomicLong();
    final LedgerWrites writes;
    /**
     * Contacts of a resumed run whose pending follow-up is a first attempt again (their earlier attempt was
     * withdrawn, never a call): when the list reaches them they are not counted as done in an earlier run.
     */
    final Set<String> redialedFirstAttempts = ConcurrentHashMap.newKeySet();
    /**
     * Attempts this run counted UNKNOWN (closed by the lifetime guard, the reconciliation grace or its resume), by
     * attempt id, until their real outcome comes ({@code CallEvent.UnknownResolved}): then the counts follow it and
     * its retry rule applies. Bounded by the run's UNKNOWN attempts.
     */
    final Map<String, ClosedUnknown> closedUnknown = new ConcurrentHashMap<>();
    /** The campaign's own caps and priority. */
    final CampaignPacing pacing;
    private final Map<String, RegionTally> regionTally = new ConcurrentHashMap<>();
    private final Runnable checkDone;

    /**
     * An attempt this run counted UNKNOWN.
     *
     * @param attempt  the attempt
     * @param followUp whether its UNKNOWN scheduled a follow-up (then its contact already has its next attempt)
     * @param finished whether its contact was counted finished
     */
    record ClosedUnknown(io.chimedialer.core.domain.Attempt attempt, boolean followUp, boolean finished) {
    }

    RunContext(RunSetup setup, Runnable checkDone) {
        this.setup = setup;
        this.id = setup.config().name();
        this.checkDone = checkDone;
        this.writes = new LedgerWrites(id, counters.ledgerWriteFailures, checkDone);
        CampaignLimits limits = setup.config().limits();
        this.pacing = CampaignPacing.of(id, limits.callsPerSecond(), limits.maxActiveCalls(), limits.priority(),
                setup.config().maxCallLifetime(), setup.scheduler());
    }

    /** Lets the run check whether it is over, after a piece of work ended. */
    void checkDone() {
        checkDone.run();
    }

    /** A contact's work ended: counts it finished when it is, then lets the run check whether it is over. */
    void workEnded(boolean finished) {
        if (finished) {
            counters.finished.increment();
        }
        pending.decrementAndGet();
        checkDone();
    }

    boolean cancelling() {
        State s = state.get();
        return s == State.CANCELLING || s == State.CANCELLED;
    }

    /** Scheduled, running or paused: new work may still start. */
    boolean active() {
        State s = state.get();
        return s == State.SCHEDULED || s == State.RUNNING || s == State.PAUSED;
    }

    /** Stopped at its scheduled end: no new call; what is left is recorded for a later run, not dialed. */
    boolean ending() {
        State s = state.get();
        return s == State.ENDING || s == State.ENDED;
    }

    /** Whether every Region of the campaign has failed ({@code RegionHealth}): nothing can be dialed. */
    boolean regionsDown() {
        return setup.config().regions().keySet().stream()
                .map(name -> setup.regions().get(name))
                .noneMatch(pacing -> pacing != null && pacing.health().up());
    }

    RegionTally tally(String region) {
        return regionTally.computeIfAbsent(region, r -> new RegionTally());
    }

    Instant now() {
        return Instant.ofEpochMilli(millis());
    }

    long millis() {
        return setup.scheduler().now(TimeUnit.MILLISECONDS);
    }

    long nanos() {
        return setup.scheduler().now(TimeUnit.NANOSECONDS);
    }

    /** Records a contact that is not dialed, in a final state; waits out a ledger outage. */
    Mono<Void> skip(String contactKey, String number, String skipState, String reason) {
        return setup.ledger().recordSkipped(id, contactKey, number, skipState, reason).retryWhen(ledgerOutage());
    }

    /** The ledger's PostgreSQL outage pauses the pipeline (no intent, no call) until it returns. */
    Retry ledgerOutage() {
        return Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200))
                .maxBackoff(Duration.ofSeconds(5))
                .filter(e -> e instanceof LedgerUnavailableException)
                .scheduler(setup.scheduler())
                .doBeforeRetry(s -> {
                    if (s.totalRetriesInARow() % 10 == 0) {
                        log.warn("campaign {}: ledger unavailable, dialing paused: {}", id, s.failure().getMessage());
                    }
                });
    }
}
