package io.chimedialer.core.flow;

import java.util.Map;
import java.util.Objects;

/**
 * One step of a call as the flow engine sees it: what happened, the state the call carries in its
 * TransactionAttributes, and the context of the call. Independent of the webhook's wire model.
 *
 * @param config          the campaign's flow
 * @param kind            what happened
 * @param attributes      the TransactionAttributes the invocation carried (the flow's state), may be empty
 * @param variables       values for {@code {placeholders}} (the contact row, {@code name}, {@code number}, ...)
 * @param callId          the CallId of LEG-A, or {@code null} when the invocation carried none
 * @param actionType      for ACTION_SUCCESSFUL/ACTION_FAILED, the echoed action's Type, or {@code null}
 * @param receivedDigits  digits received with this invocation, or {@code null}
 * @param errorType       for ACTION_FAILED, the ErrorType, or {@code null}
 * @param legToHangUp     for LEG_HANGUP, the tag of the leg still connected that must be hung up
 * @param invocationsUsed invocations this call has used so far, this one included
 * @param callerId        the number the call was placed from (default caller id of a transfer), may be null
 */
public record FlowRequest(FlowConfig config, Kind kind, Map<String, String> attributes, Map<String, String> variables,
                          String callId, String actionType, String receivedDigits, String errorType,
                          String legToHangUp, long invocationsUsed, String callerId) {
    public FlowRequest {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(kind, "kind");
        attributes = attributes == null ? Map.of() : attributes;
        variables = variables == null ? Map.of() : variables;
    }

    /** What happened on the call. */
    public enum Kind {
        /** CALL_ANSWERED of an outbound call: the flow starts. */
        ANSWERED,
        /** NEW_INBOUND_CALL: the inbound flow starts. */
        INBOUND,
        /** ACTION_SUCCESSFUL. */
        ACTION_SUCCESSFUL,
        /** ACTION_FAILED. */
        ACTION_FAILED,
        /** DIGITS_RECEIVED. */
        DIGITS_RECEIVED,
        /** INVALID_LAMBDA_RESPONSE: apologize and hang up. */
        INVALID_RESPONSE,
        /** The campaign was cancelled: hang up now. */
        CANCEL,
        /** One leg of a bridged call hung up while the other is still connected. */
        LEG_HANGUP
    }
}
