package io.chimedialer.lambda;

import java.nio.charset.StandardCharsets;

/** SMA invocation events for tests, shaped as CHIME.md §3 documents them. */
final class Events {

    static final String TRANSACTION_ID = "6b1d3c6e-6a4e-4b8e-9a53-1c2d3e4f5a6b";
    static final String LEG_A_CALL_ID = "c0ffee00-0000-4000-8000-00000000000a";
    static final String LEG_B_CALL_ID = "c0ffee00-0000-4000-8000-00000000000b";
    static final String CALLEE = "+12065550123";
    static final String CALLER = "+12065550100";

    private Events() {
    }

    /** An event with LEG-A only, no attributes, no ActionData. */
    static byte[] event(String type) {
        return event(type, "", "");
    }

    /**
     * An event.
     *
     * @param type            InvocationEventType
     * @param transactionAttributes the JSON object members inside TransactionAttributes, or "" for none
     * @param actionData      the ActionData JSON object, or "" for none
     */
    static byte[] event(String type, String transactionAttributes, String actionData) {
        String attributes = transactionAttributes.isEmpty() ? ""
                : "\"TransactionAttributes\":{" + transactionAttributes + "},";
        String data = actionData.isEmpty() ? "" : "\"ActionData\":" + actionData + ",";
        return ("{\"SchemaVersion\":\"1.0\",\"Sequence\":3,\"InvocationEventType\":\"" + type + "\"," + data
                + "\"CallDetails\":{\"TransactionId\":\"" + TRANSACTION_ID + "\"," + attributes
                + "\"AwsAccountId\":\"123456789012\",\"AwsRegion\":\"us-east-1\","
                + "\"SipMediaApplicationId\":\"sma-1\",\"Participants\":["
                + "{\"CallId\":\"" + LEG_A_CALL_ID + "\",\"ParticipantTag\":\"LEG-A\",\"To\":\"" + CALLEE
                + "\",\"From\":\"" + CALLER + "\",\"Direction\":\"Outbound\","
                + "\"StartTimeInMilliseconds\":\"1700000000000\",\"Status\":\"Connected\"}]}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** A NEW_OUTBOUND_CALL whose ArgumentsMap carries {@code dialerUrl}. */
    static byte[] newOutboundCall(String dialerUrl) {
        return event("NEW_OUTBOUND_CALL", "",
                "{\"Type\":\"CallCreateRequest\",\"Parameters\":{\"Arguments\":{\"attemptId\":\"a-1\","
                        + "\"dialerUrl\":\"" + dialerUrl + "\"}}}");
    }

    /** A CALL_ANSWERED whose TransactionAttributes carry {@code dialerUrl}. */
    static byte[] answeredWithNode(String dialerUrl) {
        return event("CALL_ANSWERED", "\"attemptId\":\"a-1\",\"dialerUrl\":\"" + dialerUrl + "\"", "");
    }

    /**
     * A two-leg event in the older doc style: LEG-B listed first, {@code Leg-A} casing, and the
     * {@code SipApplicationId} alias.
     */
    static byte[] twoLegsOddCasing(String type) {
        return ("{\"SchemaVersion\":\"1.0\",\"Sequence\":7,\"InvocationEventType\":\"" + type + "\","
                + "\"CallDetails\":{\"TransactionId\":\"" + TRANSACTION_ID + "\",\"AwsAccountId\":\"123456789012\","
                + "\"AwsRegion\":\"us-east-1\",\"SipApplicationId\":\"sma-old\",\"Participants\":["
                + "{\"CallId\":\"" + LEG_B_CALL_ID + "\",\"ParticipantTag\":\"Leg-B\",\"To\":\"+12065550199\","
                + "\"From\":\"" + CALLER + "\",\"Direction\":\"Outbound\",\"Status\":\"Connected\"},"
                + "{\"CallId\":\"" + LEG_A_CALL_ID + "\",\"ParticipantTag\":\"Leg-A\",\"To\":\"" + CALLEE + "\","
                + "\"From\":\"" + CALLER + "\",\"Direction\":\"Outbound\",\"Status\":\"Connected\"}]}}")
                .getBytes(StandardCharsets.UTF_8);
    }
}
