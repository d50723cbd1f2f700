package io.chimedialer.core.calls;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Builds invocation bodies shaped like the documented examples of CHIME.md section 3. */
public final class Bodies {
    public static final ObjectMapper MAPPER = new ObjectMapper();
    public static final String CALLEE = "+12065550123";
    public static final String FROM = "+12065550100";

    private Bodies() {
    }

    /** A minimal invocation: SchemaVersion, Sequence, event, CallDetails with one LEG-A participant. */
    public static ObjectNode invocation(String event, long sequence, String transactionId, String status) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("SchemaVersion", "1.0");
        root.put("Sequence", sequence);
        root.put("InvocationEventType", event);
        ObjectNode details = root.putObject("CallDetails");
        details.put("TransactionId", transactionId);
        details.put("AwsAccountId", "123456789012");
        details.put("AwsRegion", "us-east-1");
        details.put("SipMediaApplicationId", "sma-1");
        ArrayNode participants = details.putArray("Participants");
        ObjectNode a = participants.addObject();
        a.put("CallId", "call-a-" + transactionId);
        a.put("ParticipantTag", "LEG-A");
        a.put("To", CALLEE);
        a.put("From", FROM);
        a.put("Direction", "Outbound");
        a.put("StartTimeInMilliseconds", "1700000000000");
        if (status != null) {
            a.put("Status", status);
        }
        return root;
    }

    public static ObjectNode newOutbound(long seq, String tx, String attemptId) {
        ObjectNode root = invocation("NEW_OUTBOUND_CALL", seq, tx, null);
        ObjectNode ad = root.putObject("ActionData");
        ad.put("Type", "CallCreateRequest");
        ObjectNode args = ad.putObject("Parameters").putObject("Arguments");
        if (attemptId != null) {
            args.put("attemptId", attemptId);
            args.put("campaignId", "c1");
        }
        return root;
    }

    public static ObjectNode actionSuccessful(long seq, String tx, String type, String digits, Map<String, String> attrs) {
        ObjectNode root = invocation("ACTION_SUCCESSFUL", seq, tx, "Connected");
        ObjectNode ad = root.putObject("ActionData");
        ad.put("Type", type);
        ad.putObject("Parameters").put("CallId", "call-a-" + tx);
        if (digits != null) {
            ad.put("ReceivedDigits", digits);
        }
        withAttributes(root, attrs);
        return root;
    }

    public static ObjectNode actionFailed(long seq, String tx, String type, String errorType, Map<String, String> attrs) {
        ObjectNode root = invocation("ACTION_FAILED", seq, tx, "Connected");
        ObjectNode ad = root.putObject("ActionData");
        ad.put("Type", type);
        ad.putObject("Parameters").put("CallId", "call-a-" + tx);
        ad.put("ErrorType", errorType);
        ad.put("ErrorMessage", "failed");
        withAttributes(root, attrs);
        return root;
    }

    public static ObjectNode hangup(long seq, String tx, Object sipCode, Map<String, String> attrs) {
        ObjectNode root = invocation("HANGUP", seq, tx, "Disconnected");
        ObjectNode ad = root.putObject("ActionData");
        ad.put("Type", "Hangup");
        ObjectNode p = ad.putObject("Parameters");
        if (sipCode instanceof Integer i) {
            p.put("SipResponseCode", i);
        } else if (sipCode != null) {
            p.put("SipResponseCode", sipCode.toString());
        }
        p.put("CallId", "call-a-" + tx);
        p.put("ParticipantTag", "LEG-A");
        withAttributes(root, attrs);
        return root;
    }

    public static ObjectNode withAttributes(ObjectNode root, Map<String, String> attrs) {
        if (attrs != null && !attrs.isEmpty()) {
            ObjectNode ta = ((ObjectNode) root.get("CallDetails")).putObject("TransactionAttributes");
            attrs.forEach(ta::put);
        }
        return root;
    }

    public static byte[] bytes(ObjectNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8);
    }
}
