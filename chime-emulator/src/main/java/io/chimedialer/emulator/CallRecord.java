package io.chimedialer.emulator;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Ground truth about one created call: an element of {@code GET /emulator/v1/calls}. A snapshot; the
 * emulator keeps updating its own copy while the call runs.
 *
 * @param transactionId the TransactionId returned by Create
 * @param smaId         the SIP media application id
 * @param region        the Region of that SMA
 * @param from          FromPhoneNumber as sent
 * @param to            ToPhoneNumber as sent
 * @param arguments     ArgumentsMap as sent (empty if none)
 * @param sipHeaders    SipHeaders as sent (empty if none)
 * @param created       when Create created it
 * @param answered      when the callee answered, or null
 * @param ended         when it ended, or null while active
 * @param disposition   null while active, then the callee's outcome: answered, busy, noAnswer, invalidNumber, rejected, failed, or notSimulated (API-only mode)
 * @param sipCode       the SipResponseCode of the final HANGUP (0 for a normal clearing), null while active; the real
 *                      code even when the HANGUP was sent without one
 * @param sipCodeOmitted true when the final HANGUP's ActionData carried no SipResponseCode (the scenario's
 *                      hangupWithoutSipCodeProbability)
 * @param endReason     why it ended: calleeHangup, applicationHangup, unanswered, webhookUnavailable, budgetExhausted, notSimulated
 * @param invocations   the invocation events in order
 * @param actions       the actions executed in order
 */
public record CallRecord(String transactionId, String smaId, String region, String from, String to,
                         Map<String, String> arguments, Map<String, String> sipHeaders, Instant created,
                         Instant answered, Instant ended, String disposition, Integer sipCode, boolean sipCodeOmitted,
                         String endReason,
                         List<Invocation> invocations, List<Action> actions) {

    /**
     * One invocation event.
     *
     * @param sequence   its Sequence
     * @param eventType  its InvocationEventType
     * @param at         when it was first sent
     * @param deliveries how many times it was delivered (2 after a retry or an injected duplicate; 0 if withheld)
     * @param result     ok, failed (no answer after the retry), dropped (HANGUP withheld), or pending
     */
    public record Invocation(int sequence, String eventType, Instant at, int deliveries, String result) {
    }

    /**
     * One executed action.
     *
     * @param type           its Type
     * @param participantTag the leg it ran on
     * @param result         ACTION_SUCCESSFUL, ACTION_FAILED, ACTION_INTERRUPTED, or CANCELLED (cut short by a hang-up)
     * @param errorType      the ErrorType for a failure, else null
     * @param receivedDigits the ReceivedDigits reported, else null
     * @param at             when it finished
     */
    public record Action(String type, String participantTag, String result, String errorType,
                         String receivedDigits, Instant at) {
    }
}
