package io.chimedialer.core.webhook;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One SMA invocation (CHIME.md section 3), normalized from any documented variant by {@link InvocationParser}.
 *
 * @param schemaVersion         the request's SchemaVersion ("1.0" when absent); the response mirrors it
 * @param sequence              the Sequence, or -1 when absent or unreadable
 * @param eventType             the event, {@link EventType#UNKNOWN} for anything not in CHIME.md section 3.3
 * @param rawEventType          the InvocationEventType as sent, may be null
 * @param transactionId         CallDetails.TransactionId, never null
 * @param transactionAttributes CallDetails.TransactionAttributes (values as text), empty when absent
 * @param awsAccountId          may be null
 * @param awsRegion             may be null
 * @param sipMediaApplicationId SipMediaApplicationId, or its alias SipApplicationId, may be null
 * @param sipRuleId             may be null
 * @param participants          the legs, empty when absent
 * @param actionData            the ActionData, or {@code null} when absent
 * @param errorType             ErrorType at the top level, else inside ActionData, else the code of an
 *                              {@code Error: "Code: message"} string; may be null
 * @param errorMessage          the matching message, may be null
 */
public record Invocation(String schemaVersion, long sequence, EventType eventType, String rawEventType,
                         String transactionId, Map<String, String> transactionAttributes, String awsAccountId,
                         String awsRegion, String sipMediaApplicationId, String sipRuleId,
                         List<Participant> participants, ActionData actionData, String errorType,
                         String errorMessage) {
    public Invocation {
        Objects.requireNonNull(transactionId, "transactionId");
        Objects.requireNonNull(eventType, "eventType");
        schemaVersion = schemaVersion == null ? "1.0" : schemaVersion;
        transactionAttributes = transactionAttributes == null ? Map.of() : Map.copyOf(transactionAttributes);
        participants = participants == null ? List.of() : List.copyOf(participants);
    }

    /** The participant with this tag (compared case-insensitively), or null. */
    public Participant participant(String tag) {
        for (Participant p : participants) {
            if (tag.equalsIgnoreCase(p.participantTag())) {
                return p;
            }
        }
        return null;
    }

    /** LEG-A, else the first participant, else null. */
    public Participant legA() {
        Participant a = participant("LEG-A");
        return a != null || participants.isEmpty() ? a : participants.get(0);
    }

    /** The ArgumentsMap of NEW_OUTBOUND_CALL / CALL_UPDATE_REQUESTED, empty when absent. */
    public Map<String, String> arguments() {
        return actionData == null ? Map.of() : actionData.arguments();
    }

    /** The event types of CHIME.md section 3.3, plus UNKNOWN for anything else. */
    public enum EventType {
        NEW_INBOUND_CALL, NEW_OUTBOUND_CALL, RINGING, CALL_ANSWERED, ACTION_SUCCESSFUL, ACTION_FAILED,
        ACTION_INTERRUPTED, HANGUP, DIGITS_RECEIVED, CALL_UPDATE_REQUESTED, INVALID_LAMBDA_RESPONSE, UNKNOWN;

        /** Parses a wire value case-insensitively; the doc slip NEW_INCOMING_CALL maps to NEW_INBOUND_CALL. */
        public static EventType of(String value) {
            if (value == null) {
                return UNKNOWN;
            }
            String v = value.trim().toUpperCase(Locale.ROOT);
            if (v.equals("NEW_INCOMING_CALL")) {
                return NEW_INBOUND_CALL;
            }
            for (EventType t : values()) {
                if (t != UNKNOWN && t.name().equals(v)) {
                    return t;
                }
            }
            return UNKNOWN;
        }
    }

    /**
     * One call leg.
     *
     * @param callId         CallId, may be null
     * @param participantTag "LEG-A"/"LEG-B", upper-cased; may be null
     * @param to             may be null
     * @param from           may be null
     * @param direction      "Inbound"/"Outbound", may be null
     * @param startTimeMillis StartTimeInMilliseconds, or null when absent or unreadable
     * @param status         "Connected"/"Disconnected", or null (absent on several events)
     */
    public record Participant(String callId, String participantTag, String to, String from, String direction,
                              Long startTimeMillis, String status) {
        /** Whether the leg is known to be connected. */
        public boolean connected() {
            return "Connected".equalsIgnoreCase(status);
        }
    }

    /**
     * The ActionData of an invocation.
     *
     * @param type            the Type (the echoed action, CallCreateRequest, CallUpdateRequest, Hangup, ...), may be null
     * @param arguments       Parameters.Arguments as text values, empty when absent
     * @param receivedDigits  ReceivedDigits, may be null
     * @param sipResponseCode Parameters.SipResponseCode as a number (sent as number or string), may be null
     * @param callId          Parameters.CallId, may be null
     * @param participantTag  Parameters.ParticipantTag upper-cased, may be null
     * @param errorType       ErrorType inside ActionData, may be null
     * @param errorMessage    ErrorMessage inside ActionData, may be null
     */
    public record ActionData(String type, Map<String, String> arguments, String receivedDigits,
                             Integer sipResponseCode, String callId, String participantTag, String errorType,
                             String errorMessage) {
        public ActionData {
            arguments = arguments == null ? Map.of() : Map.copyOf(arguments);
        }
    }
}
