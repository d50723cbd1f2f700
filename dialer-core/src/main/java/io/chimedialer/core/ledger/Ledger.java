package io.chimedialer.core.ledger;

import io.chimedialer.core.campaign.Attempt;
import io.chimedialer.core.campaign.CallResult;
import java.time.Instant;
import java.util.List;
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
 */
public interface Ledger extends AutoCloseable {

    /** Writes the intents of a batch of attempts, durably, before any of them is placed. */
    Mono<Void> recordIntents(List<Attempt> attempts);

    /** Marks an attempt as placed: Create answered with this TransactionId. */
    Mono<Void> recordPlaced(String attemptId, String transactionId, Instant at);

    /** Records the final outcome of an attempt. Idempotent: a second call for the same attempt is ignored. */
    Mono<Void> recordResult(CallResult result);

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

    /** Adds a number to a DNC list durably (opt-out). */
    Mono<Void> addDnc(String list, String number, Instant at);

    /** Every number on a DNC list that was added through {@link #addDnc}. */
    Flux<String> dncNumbers(String list);

    /** The attempt with this TransactionId, if the ledger has it (correlation after a restart). */
    Mono<AttemptRecord> findByTransactionId(String transactionId);

    /** Every attempt of a campaign, in attempt order (resume and export). */
    Flux<AttemptRecord> attempts(String campaignId);

    @Override
    void close();

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
     * @param result        the final outcome, or null while live
     */
    record AttemptRecord(String attemptId, String campaignId, String contactKey, String number, int attemptNumber,
                         String region, String fromNumber, String transactionId, Instant intendedAt, Instant placedAt,
                         CallResult result) {
    }
}
