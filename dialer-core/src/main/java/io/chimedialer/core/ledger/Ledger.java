package io.chimedialer.core.ledger;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The durable record of campaigns, attempts and outcomes. Every method is non-blocking: the
 * implementation runs JDBC on a scheduler of its own and batches writes (group commit). A returned
 * {@code Mono} completes only once the write is durable.
 *
 * <p>Contract the pipeline relies on: {@link #recordIntents} completes before any of those attempts is
 * placed, so that after a crash an intent without a TransactionId is known (UNKNOWN) and never redialed
 * blindly.
 *
 * <p>Writes are lazy (enqueued on subscription, like any {@code Mono}) and idempotent, so a retried write
 * is harmless. A write that fails because the database is unreachable fails with
 * {@link LedgerUnavailableException}; any other failure is a {@link LedgerException}.
 *
 * <p>The methods added after the first version have defaults that fail with
 * {@link UnsupportedOperationException}, so that test doubles keep compiling; {@link JdbcLedger} implements
 * them all.
 */
public interface Ledger extends AutoCloseable {

    /**
     * Writes the intents of a batch of attempts, durably, before any of them is placed. An attempt id
     * already in the ledger is left as it is. The intent also takes the contact's pending follow-up for the
     * same attempt number, if any, and marks the contact as in progress, in the same transaction.
     */
    Mono<Void> recordIntents(List<Attempt> attempts);

    /**
     * Marks an attempt as placed: Create answered with this TransactionId. The first TransactionId and time
     * are kept; placing after the result is fine; an attempt without an intent is ignored.
     */
    Mono<Void> recordPlaced(String attemptId, String transactionId, Instant at);

    /**
     * Records the final outcome of an attempt. The first outcome stands, with one exception: a known outcome
     * replaces an {@code UNKNOWN} (the dialer closed the attempt UNKNOWN, by its lifetime guard, the reconciliation
     * grace or a resume, and the call's real end came later); nothing replaces a known outcome, and an
     * {@code UNKNOWN} never replaces anything. Idempotent: the same result written again changes nothing. The
     * contact's status follows the stored outcome unless a later attempt of it was written since.
     */
    Mono<Void> recordResult(CallResult result);

    /**
     * Withdraws an attempt whose intent was written but whose Create was never sent, or was refused for a reason
     * that is not the contact's (its Region failed, throttling after every retry, a stop). The attempt's result is
     * {@code WITHDRAWN}: not a dial of the contact. The contact goes back to waiting with its attempt count as
     * before this attempt: a follow-up with the same attempt number is pending from {@code redialAt}, so the run,
     * a resumed run or another node dials it. Nothing happens when the attempt has a TransactionId or a result,
     * or when a later attempt of the contact was written since.
     *
     * @param attempt  the attempt, as its intent was written
     * @param reason   why, kept as the contact's reason
     * @param redialAt when the contact may be dialed again
     */
    default Mono<Void> recordWithdrawn(Attempt attempt, String reason, Instant redialAt) {
        return Mono.error(unsupported("recordWithdrawn"));
    }

    /**
     * Withdraws an attempt that was never sent, and ends its contact in a skip state without a call (a number
     * that joined a DNC list between its admission and its Create ends {@code SUPPRESSED}). Same conditions as
     * {@link #recordWithdrawn}.
     *
     * @param state  the contact's final state, e.g. {@code SUPPRESSED}
     * @param reason why
     */
    default Mono<Void> recordWithdrawnFinal(Attempt attempt, String state, String reason) {
        return Mono.error(unsupported("recordWithdrawnFinal"));
    }

    /**
     * Records a contact that ends without a call: invalid, duplicate, suppressed or outside-window-expired.
     *
     * @param campaignId the campaign
     * @param contactKey the contact's id (or "line-N")
     * @param number     the number as given (masked nowhere: the ledger is the operator's own record)
     * @param state      one of {@code INVALID}, {@code DUPLICATE}, {@code SUPPRESSED}, {@code WINDOW_EXPIRED}
     * @param reason     a human-readable reason
     */
    Mono<Void> recordSkipped(String campaignId, String contactKey, String number, String state, String reason);

    /** Adds a number to a DNC list durably (opt-out). Adding a number twice keeps the first time. */
    Mono<Void> addDnc(String list, String number, Instant at);

    /** Every number on a DNC list that was added through {@link #addDnc}. */
    Flux<String> dncNumbers(String list);

    /** The attempt with this TransactionId, if the ledger has it (correlation after a restart). */
    Mono<AttemptRecord> findByTransactionId(String transactionId);

    /** The attempt with this id, if the ledger has it. */
    default Mono<AttemptRecord> findAttempt(String attemptId) {
        return Mono.error(unsupported("findAttempt"));
    }

    /** Every attempt of a campaign, in attempt order (resume and export); streamed from a cursor. */
    Flux<AttemptRecord> attempts(String campaignId);

    /**
     * The attempts of a campaign without a final outcome, in attempt order. On resume, those with a
     * TransactionId may still be live; those without one are UNKNOWN (intent written, placement unknown).
     */
    default Flux<AttemptRecord> openAttempts(String campaignId) {
        return Flux.error(unsupported("openAttempts"));
    }

    /**
     * Records one SMA invocation of a call (its event type and sequence). Idempotent: a second event with
     * the same TransactionId and sequence (a retried invocation) is ignored.
     */
    default Mono<Void> recordEvent(AttemptEvent event) {
        return Mono.error(unsupported("recordEvent"));
    }

    /** The events of a call, by sequence. */
    default Flux<AttemptEvent> events(String transactionId) {
        return Flux.error(unsupported("events"));
    }

    // ---- campaigns ------------------------------------------------------------------------------------

    /**
     * Creates the campaign in state {@link CampaignState#RUNNING}, or, when it exists, replaces its
     * definition and keeps its state.
     *
     * @param campaignId the campaign's id (its name)
     * @param definition an opaque description kept for operators (e.g. the config as JSON), may be null
     * @param at         when
     */
    default Mono<Void> upsertCampaign(String campaignId, String definition, Instant at) {
        return Mono.error(unsupported("upsertCampaign"));
    }

    /** Sets the state of an existing campaign; fails with {@link LedgerException} when it is unknown. */
    default Mono<Void> setCampaignState(String campaignId, CampaignState state, Instant at) {
        return Mono.error(unsupported("setCampaignState"));
    }

    /**
     * Sets the state of an existing campaign unless it is that state already, in one conditional update: of
     * several writers (the nodes of a cluster sharing the ledger) racing to record the same state, exactly one
     * sees {@code true}. Fails with {@link LedgerException} when the campaign is unknown.
     *
     * @return whether this call changed the state
     */
    default Mono<Boolean> transitionCampaignState(String campaignId, CampaignState state, Instant at) {
        return Mono.error(unsupported("transitionCampaignState"));
    }

    /** The campaign, or empty when the ledger does not hold it. */
    default Mono<CampaignRecord> campaign(String campaignId) {
        return Mono.error(unsupported("campaign"));
    }

    /** Every campaign, by id. */
    default Flux<CampaignRecord> campaigns() {
        return Flux.error(unsupported("campaigns"));
    }

    // ---- contacts (resume) ----------------------------------------------------------------------------

    /**
     * Which of these contacts the ledger already knows for the campaign (attempted at least once, or
     * skipped): on resume the pipeline checks contacts in batches (e.g. 500 at a time) and dials only the
     * others, so memory stays bounded for any list size. Any collection size is accepted.
     */
    default Mono<Set<String>> knownContacts(String campaignId, Collection<String> contactKeys) {
        return Mono.error(unsupported("knownContacts"));
    }

    /** The progress of every known contact of a campaign, by contact key; streamed from a cursor. */
    default Flux<ContactProgress> contacts(String campaignId) {
        return Flux.error(unsupported("contacts"));
    }

    /**
     * How many contacts of a campaign the ledger holds, by {@link ContactProgress#status()} ({@code IN_PROGRESS}, a
     * disposition, {@code WITHDRAWN} or a skip state): the campaign over its whole life, every run and node.
     */
    default Mono<java.util.Map<String, Long>> contactCounts(String campaignId) {
        return Mono.error(unsupported("contactCounts"));
    }

    /**
     * The attempts of a campaign over its whole life (every run and node), counted by Region and result: one row
     * per (Region, result, placed) with how many and how many were placed at or after {@code recentSince} (a rate's
     * window).
     */
    default Flux<AttemptCount> attemptCounts(String campaignId, Instant recentSince) {
        return Flux.error(unsupported("attemptCounts"));
    }

    /**
     * One group of {@link #attemptCounts}.
     *
     * @param region      the Region, or null (an attempt refused before a Region was chosen)
     * @param result      the disposition's name, {@code WITHDRAWN}, or null while open (live, or Create in flight)
     * @param placed      whether the attempts have a TransactionId (Chime accepted their Create)
     * @param count       how many
     * @param placedSince how many of them were placed at or after the window's start
     */
    record AttemptCount(String region, String result, boolean placed, long count, long placedSince) {
    }

    // ---- follow-ups -----------------------------------------------------------------------------------

    /**
     * Schedules attempt {@code attemptNumber} of a contact at {@code due}. Idempotent: a follow-up already
     * scheduled for the same contact and attempt number keeps its first time.
     */
    default Mono<Void> scheduleFollowUp(String campaignId, String contactKey, String number, int attemptNumber,
                                        Instant due) {
        return Mono.error(unsupported("scheduleFollowUp"));
    }

    /** The follow-ups of a campaign not yet taken and due at or before {@code upTo}, by due time. */
    default Flux<FollowUp> dueFollowUps(String campaignId, Instant upTo) {
        return Flux.error(unsupported("dueFollowUps"));
    }

    /** How many follow-ups of a campaign are not yet taken (due or not). */
    default Mono<Long> pendingFollowUps(String campaignId) {
        return Mono.error(unsupported("pendingFollowUps"));
    }

    /**
     * Marks a follow-up as taken (dialed or abandoned) so that it is not due again. {@link #recordIntents}
     * does this itself for the attempt it writes; call it for follow-ups dropped without a call.
     */
    default Mono<Void> markFollowUpTaken(String campaignId, String contactKey, int attemptNumber, Instant at) {
        return Mono.error(unsupported("markFollowUpTaken"));
    }

    // ---- observability ---------------------------------------------------------------------------------

    /** Write operations enqueued and not yet committed (a gauge). */
    default int queueDepth() {
        return 0;
    }

    /** A snapshot of the writer's counters and latencies. */
    default LedgerStats stats() {
        return LedgerStats.EMPTY;
    }

    /**
     * Completes the queued writes (bounded wait), then releases connections and threads. Writes submitted
     * afterwards fail. Blocking: call it from the composition root, never from a ledger or event-loop thread.
     */
    @Override
    void close();

    private static UnsupportedOperationException unsupported(String method) {
        return new UnsupportedOperationException("this Ledger does not implement " + method);
    }

    /**
     * One attempt as the ledger holds it.
     *
     * @param attemptId     id
     * @param campaignId    campaign
     * @param contactKey    contact id
     * @param number        dialed number
     * @param attemptNumber 1-based
     * @param region        Region
     * @param fromNumber    caller id
     * @param transactionId TransactionId or null (intent only)
     * @param intendedAt    when the intent was written
     * @param placedAt      when Create answered, or null
     * @param result        the final outcome, or null while live or when withdrawn
     * @param withdrawn     the attempt was withdrawn: never sent, or refused for a reason not the contact's
     *                      ({@link #recordWithdrawn}); not a call
     */
    record AttemptRecord(String attemptId, String campaignId, String contactKey, String number, int attemptNumber,
                         String region, String fromNumber, String transactionId, Instant intendedAt, Instant placedAt,
                         CallResult result, boolean withdrawn) {

        /** An attempt that was not withdrawn. */
        public AttemptRecord(String attemptId, String campaignId, String contactKey, String number, int attemptNumber,
                             String region, String fromNumber, String transactionId, Instant intendedAt,
                             Instant placedAt, CallResult result) {
            this(attemptId, campaignId, contactKey, number, attemptNumber, region, fromNumber, transactionId,
                    intendedAt, placedAt, result, false);
        }

        /** Neither a final outcome nor withdrawn: the call may still be live (or its Create in flight). */
        public boolean open() {
            return result == null && !withdrawn;
        }
    }

    /**
     * One SMA invocation of a call.
     *
     * @param transactionId the call's TransactionId
     * @param sequence      the invocation's Sequence (per call)
     * @param attemptId     the attempt it belongs to, or null when not correlated
     * @param type          the InvocationEventType, e.g. {@code NEW_OUTBOUND_CALL}, {@code HANGUP}
     * @param at            when it was received
     * @param detail        a short detail (e.g. the SIP code or the action that failed), or null
     */
    record AttemptEvent(String transactionId, int sequence, String attemptId, String type, Instant at,
                        String detail) {
        public AttemptEvent {
            java.util.Objects.requireNonNull(transactionId, "transactionId");
            java.util.Objects.requireNonNull(type, "type");
            java.util.Objects.requireNonNull(at, "at");
        }
    }

    /** The lifecycle state of a campaign as the ledger holds it. */
    enum CampaignState {
        /** Dialing (the state of a new campaign). */
        RUNNING,
        /** Held by an operator; resumable. */
        PAUSED,
        /** Stopped by an operator; not resumed. */
        CANCELLED,
        /** Every contact reached a final state. */
        COMPLETED,
        /** The campaign reached its scheduled {@code end}; its undialed contacts stay dialable by a new start. */
        ENDED
    }

    /**
     * A campaign as the ledger holds it.
     *
     * @param campaignId the id
     * @param definition the opaque definition given to {@link #upsertCampaign}, or null
     * @param state      its state
     * @param createdAt  first upsert
     * @param updatedAt  last upsert or state change
     */
    record CampaignRecord(String campaignId, String definition, CampaignState state, Instant createdAt,
                          Instant updatedAt) {
    }

    /**
     * One contact's progress.
     *
     * @param campaignId    campaign
     * @param contactKey    contact id
     * @param number        the number (as last written)
     * @param status        {@code IN_PROGRESS} (an intent without outcome), a {@code Disposition} name (the last
     *                      attempt's outcome), {@code WITHDRAWN} (its last attempt was withdrawn; a follow-up
     *                      with the same attempt number is pending), or a skip state ({@code INVALID},
     *                      {@code DUPLICATE}, ...)
     * @param reason        the skip reason, or null
     * @param attempts      the highest attempt number written (0 when only skipped)
     * @param lastAttemptId the last attempt's id, or null
     * @param updatedAt     when the status last changed
     */
    record ContactProgress(String campaignId, String contactKey, String number, String status, String reason,
                           int attempts, String lastAttemptId, Instant updatedAt) {
    }

    /**
     * A scheduled follow-up attempt.
     *
     * @param campaignId    campaign
     * @param contactKey    contact id
     * @param number        number to dial
     * @param attemptNumber the attempt number it will be
     * @param due           not before
     */
    record FollowUp(String campaignId, String contactKey, String number, int attemptNumber, Instant due) {
    }
}
