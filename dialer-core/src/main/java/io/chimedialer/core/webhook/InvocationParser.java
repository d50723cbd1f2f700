package io.chimedialer.core.webhook;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serial;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Parses SMA invocation bodies leniently: every documented variant of CHIME.md section 3 is accepted
 * ({@code SipApplicationId} alias, ParticipantTag casing, SipResponseCode as number or string, ErrorType at the
 * top level or in ActionData, single {@code Error} strings, {@code ErrorList}, missing Status or ActionData,
 * unknown fields, unknown event types). Only a body that is not a JSON object, or that lacks
 * {@code CallDetails.TransactionId}, is rejected. Thread-safe.
 */
public final class InvocationParser {

    private final ObjectMapper mapper;

    /** A parser with its own ObjectMapper. */
    public InvocationParser() {
        this(new ObjectMapper());
    }

    /** A parser that reads with {@code mapper} (only its tree reading is used). */
    public InvocationParser(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /**
     * Parses one body.
     *
     * @param body the raw request body
     * @return the invocation
     * @throws MalformedInvocationException when the body is not a JSON object or has no TransactionId
     */
    public Invocation parse(byte[] body) {
        JsonNode root;
        try {
            root = mapper.readTree(body);
        } catch (JacksonException e) {
            throw new MalformedInvocationException("malformed JSON");
        } catch (IOException e) {
            throw new MalformedInvocationException("unreadable body");
        }
        if (root == null || !root.isObject()) {
            throw new MalformedInvocationException("body is not a JSON object");
        }
        JsonNode details = field(root, "CallDetails");
        if (details == null || !details.isObject()) {
            throw new MalformedInvocationException("missing CallDetails");
        }
        String transactionId = text(field(details, "TransactionId"));
        if (transactionId == null || transactionId.isBlank()) {
            throw new MalformedInvocationException("missing CallDetails.TransactionId");
        }
        String rawType = text(field(root, "InvocationEventType"));
        Invocation.ActionData actionData = actionData(field(root, "ActionData"));
        String[] error = error(root);
        String errorType = error[0];
        String errorMessage = error[1];
        if (errorType == null && actionData != null) {
            errorType = actionData.errorType();
            errorMessage = actionData.errorMessage();
        }
        String smaId = text(field(details, "SipMediaApplicationId"));
        if (smaId == null) {
            smaId = text(field(details, "SipApplicationId"));
        }
        return new Invocation(text(field(root, "SchemaVersion")), longValue(field(root, "Sequence"), -1),
                Invocation.EventType.of(rawType), rawType, transactionId,
                stringMap(field(details, "TransactionAttributes")), text(field(details, "AwsAccountId")),
                text(field(details, "AwsRegion")), smaId, text(field(details, "SipRuleId")),
                participants(field(details, "Participants")), actionData, errorType, errorMessage);
    }

    private static Invocation.ActionData actionData(JsonNode node) {
        if (node == null || !node.isObject()) {
            return null;
        }
        JsonNode params = field(node, "Parameters");
        if (params != null && !params.isObject()) {
            params = null;
        }
        Map<String, String> arguments = params == null ? Map.of() : stringMap(field(params, "Arguments"));
        String digits = text(field(node, "ReceivedDigits"));
        if (digits == null && params != null) {
            digits = text(field(params, "ReceivedDigits"));
        }
        JsonNode sip = params == null ? null : field(params, "SipResponseCode");
        if (sip == null) {
            sip = field(node, "SipResponseCode");
        }
        long code = longValue(sip, Long.MIN_VALUE);
        Integer sipCode = code == Long.MIN_VALUE || code < 0 || code > 999 ? null : (int) code;
        String[] error = error(node);
        return new Invocation.ActionData(text(field(node, "Type")), arguments, digits, sipCode,
                params == null ? null : text(field(params, "CallId")),
                params == null ? null : tag(text(field(params, "ParticipantTag"))), error[0], error[1]);
    }

    /** ErrorType/ErrorMessage, else an "Error": "Code: message" string, else the first of ErrorList. */
    private static String[] error(JsonNode node) {
        String type = text(field(node, "ErrorType"));
        String message = text(field(node, "ErrorMessage"));
        if (type != null || message != null) {
            return new String[] {type, message};
        }
        String single = text(field(node, "Error"));
        if (single != null) {
            return splitError(single);
        }
        JsonNode list = field(node, "ErrorList");
        if (list != null && list.isArray() && !list.isEmpty()) {
            JsonNode first = list.get(0);
            if (first.isObject()) {
                String t = text(field(first, "ErrorType"));
                String m = text(field(first, "ErrorMessage"));
                if (t == null && m == null) {
                    String e = text(field(first, "Error"));
                    return e == null ? new String[] {"Error", first.toString()} : splitError(e);
                }
                return new String[] {t, m};
            }
            String e = text(first);
            return e == null ? new String[] {null, null} : splitError(e);
        }
        return new String[] {null, null};
    }

    private static String[] splitError(String s) {
        int colon = s.indexOf(':');
        if (colon > 0) {
            return new String[] {s.substring(0, colon).trim(), s.substring(colon + 1).trim()};
        }
        return new String[] {s.trim(), s};
    }

    private static List<Invocation.Participant> participants(JsonNode node) {
        List<Invocation.Participant> out = new ArrayList<>();
        if (node == null) {
            return out;
        }
        if (node.isObject()) {
            out.add(participant(node));
        } else if (node.isArray()) {
            for (JsonNode p : node) {
                if (p.isObject()) {
                    out.add(participant(p));
                }
            }
        }
        return out;
    }

    private static Invocation.Participant participant(JsonNode p) {
        long start = longValue(field(p, "StartTimeInMilliseconds"), Long.MIN_VALUE);
        return new Invocation.Participant(text(field(p, "CallId")), tag(text(field(p, "ParticipantTag"))),
                text(field(p, "To")), text(field(p, "From")), text(field(p, "Direction")),
                start == Long.MIN_VALUE ? null : start, text(field(p, "Status")));
    }

    private static String tag(String tag) {
        return tag == null ? null : tag.trim().toUpperCase(Locale.ROOT);
    }

    private static JsonNode field(JsonNode node, String name) {
        if (node == null || !node.isObject()) {
            return null;
        }
        JsonNode v = node.get(name);
        return v == null || v.isNull() || v.isMissingNode() ? null : v;
    }

    /** Scalars as text; containers are not text. */
    private static String text(JsonNode node) {
        if (node == null || node.isContainerNode()) {
            return null;
        }
        return node.asText();
    }

    private static long longValue(JsonNode node, long fallback) {
        if (node == null) {
            return fallback;
        }
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return node.asLong();
        }
        if (node.isNumber()) {
            double d = node.asDouble();
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? (long) d : fallback;
        }
        if (node.isTextual()) {
            try {
                return Long.parseLong(node.asText().trim());
            } catch (NumberFormatException e) {
                return fallback;
            }
        }
        return fallback;
    }

    private static Map<String, String> stringMap(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        if (node == null || !node.isObject()) {
            return out;
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            JsonNode v = e.getValue();
            if (v == null || v.isNull()) {
                continue;
            }
            out.put(e.getKey(), v.isContainerNode() ? v.toString() : v.asText());
        }
        return out;
    }

    /** The body is not an invocation at all: answered with 400. */
    public static final class MalformedInvocationException extends RuntimeException {
        @Serial
        private static final long serialVersionUID = 1L;

        /** Creates the exception with a reason that contains no input data. */
        public MalformedInvocationException(String reason) {
            super(reason, null, false, false);
        }
    }
}
