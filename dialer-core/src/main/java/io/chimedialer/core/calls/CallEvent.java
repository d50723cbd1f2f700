package io.chimedialer.core.calls;

import io.chimedialer.core.domain.ActionFailure;
import io.chimedialer.core.domain.CallResult;
import java.time.Instant;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * Something that happened to a call, published on its campaign's {@link CampaignEvents}. Every attempt that
 * the {@link CallRegistry} was told to expect ends in exactly one {@link CallEnded}.
 */
public sealed interface CallEvent {

    /** The campaign whose sink receives the event ({@link EventBus#UNCORRELATED} or {@link EventBus#INBOUND} for those). */
    String campaignId();

    /**
     * The call's TransactionId became known (from Create's response or from NEW_OUTBOUND_CALL, whichever came first).
     *
     * @param campaignId    campaign
     * @param attemptId     attempt
     * @param transactionId Chime's TransactionId
     */
    record CallStarted(String campaignId, String attemptId, String transactionId) implements CallEvent {
    }

    /**
     * CALL_ANSWERED (a person or a voicemail).
     *
     * @param campaignId    campaign
     * @param attemptId     attempt
     * @param transactionId TransactionId
     */
    record CallAnswered(String campaignId, String attemptId, String transactionId) implements CallEvent {
    }

    /**
     * The callee pressed digits.
     *
     * @param campaignId campaign
     * @param attemptId  attempt, or null on an inbound call
     * @param digits     the digits
     */
    record DigitsCollected(String campaignId, String attemptId, String digits) implements CallEvent {
    }

    /**
     * The callee (or an inbound caller) asked never to be called again. The subscriber makes it durable and adds
     * the number to the campaign's DNC list.
     *
     * @param campaignId campaign ({@link EventBus#INBOUND} for an inbound caller)
     * @param number     the number that opted out, E.164
     * @param attemptId  the attempt, or null on an inbound call
     */
    record OptedOut(String campaignId, String number, String attemptId) implements CallEvent {
    }

    /**
     * Chime reported an action of the call failed, for a reason that is not the callee's input (see
     * {@link ActionFailure#isCallOutcome}). At most one per (TransactionId, Sequence).
     *
     * @param campaignId    campaign
     * @param attemptId     attempt
     * @param transactionId TransactionId
     * @param sequence      the ACTION_FAILED's Sequence, -1 when it had none
     * @param failure       what failed
     * @param at            when the webhook received it
     */
    record ActionFailed(String campaignId, String attemptId, String transactionId, long sequence,
                        ActionFailure failure, Instant at) implements CallEvent {
        public ActionFailed {
            Objects.requireNonNull(failure, "failure");
        }
    }

    /**
     * The call is over: exactly one per expected attempt.
     *
     * @param result   the outcome
     * @param recorded the write of this outcome to the ledger when the publisher already made it (the webhook
     *                 writes a HANGUP's outcome before it answers): subscribers wait on it instead of writing the
     *                 outcome a second time; null when nobody wrote it yet
     */
    record CallEnded(CallResult result, Mono<Void> recorded) implements CallEvent {
        public CallEnded {
            Objects.requireNonNull(result, "result");
        }

        /** An end whose outcome is not written yet. */
        public CallEnded(CallResult result) {
            this(result, null);
        }

        @Override
        public String campaignId() {
            return result.campaignId();
        }
    }

    /**
     * The real end of an attempt that the dialer had already closed {@code UNKNOWN} (its lifetime guard, the
     * reconciliation grace, a resume): its HANGUP came after all. At most one per attempt, after its
     * {@link CallEnded}; the new result replaces the UNKNOWN in the ledger.
     *
     * @param result the outcome the HANGUP brought (never UNKNOWN)
     */
    record UnknownResolved(CallResult result) implements CallEvent {
        public UnknownResolved {
            Objects.requireNonNull(result, "result");
        }

        @Override
        public String campaignId() {
            return result.campaignId();
        }
    }

    /**
     * An invocation that could not be correlated to any call (published on {@link EventBus#UNCORRELATED}).
     *
     * @param campaignId    always {@link EventBus#UNCORRELATED}
     * @param transactionId the invocation's TransactionId
     * @param eventType     its InvocationEventType as sent
     */
    record UnknownCall(String campaignId, String transactionId, String eventType) implements CallEvent {
    }
}
