package io.chimedialer.core.calls;

import java.time.Duration;

/**
 * Hooks for metrics around the {@link WebhookHandler}; every method defaults to doing nothing. Called on the
 * handler's thread: implementations must be fast and non-blocking. An exception thrown here is caught and
 * counted as an internal error; it never changes the reply.
 */
public interface WebhookObserver {

    /** Observes nothing. */
    WebhookObserver NOOP = new WebhookObserver() {
    };

    /**
     * One request was answered.
     *
     * @param eventType the InvocationEventType as sent, or null when the body was not read (401, 413, 400)
     * @param status    the reply's status
     * @param latency   time from receipt to reply, on the registry's clock
     */
    default void invocation(String eventType, int status, Duration latency) {
    }

    /** A request was rejected with 401 (missing or wrong signature, stale timestamp). */
    default void signatureFailure() {
    }

    /** An invocation matched no call and got the unknown-call policy. */
    default void unknownCall(String eventType) {
    }

    /** A call of this campaign was hung up politely because its invocation budget reached the reserve. */
    default void budgetHangup(String campaignId) {
    }

    /**
     * Chime reported an action failed, for a reason that is not the callee's input (counted once per invocation).
     *
     * @param campaignId the call's campaign ({@link EventBus#INBOUND} for an inbound call)
     * @param action     the failed action's Type
     * @param errorType  its ErrorType, or null when Chime sent none
     */
    default void actionFailed(String campaignId, String action, String errorType) {
    }

    /**
     * An outbound call's flow reached a result (counted once per invocation that reached it).
     *
     * @param campaignId the call's campaign
     * @param confirmed  true when the callee confirmed (a menu key whose option is confirm), false when the callee
     *                   opted out
     */
    default void flowResult(String campaignId, boolean confirmed) {
    }
}
