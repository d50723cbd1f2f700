package io.chimedialer.emulator.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks that a response to an invocation can be read (CHIME.md §4): SchemaVersion "1.0", at most 10 actions, each an
 * object of a known Type whose Parameters (if any) are an object, at most 10 TransactionAttributes of strings up to
 * 1,024 characters. A problem here is an INVALID_LAMBDA_RESPONSE; the values of a readable action's Parameters are
 * checked when it runs ({@link ActionValidator}: ACTION_FAILED). Stateless.
 */
final class ResponseValidator {
    static final int MAX_ACTIONS = 10;
    static final int MAX_ATTRIBUTES = 10;
    static final int MAX_ATTRIBUTE_CHARS = 1024;

    /**
     * The outcome: either an error (errorType non-null) or the attributes to store (null = keep) and the
     * actions (null = keep the pending ones).
     */
    record Parsed(Map<String, String> attributes, List<ObjectNode> actions, String errorType, String errorMessage) {
        boolean invalid() {
            return errorType != null;
        }

        static Parsed error(String type, String message) {
            return new Parsed(null, null, type, message);
        }
    }

    private ResponseValidator() {
    }

    static Parsed parse(ObjectMapper mapper, byte[] raw) {
        JsonNode root;
        try {
            root = raw == null || raw.length == 0 ? null : mapper.readTree(raw);
        } catch (IOException e) {
            return Parsed.error("InvalidLambdaResponse", "Error while reading the response: not valid JSON");
        }
        if (root == null || root.isNull() || root.isMissingNode()) {
            return Parsed.error("InvalidLambdaResponse", "Response is blank or null");
        }
        if (!root.isObject()) {
            return Parsed.error("InvalidLambdaResponse", "Response is not a JSON object");
        }
        JsonNode version = root.get("SchemaVersion");
        if (version == null || !version.isTextual() || !"1.0".equals(version.textValue())) {
            return Parsed.error("InvalidSchemaVersion",
                    "The schema version in the invocation request does not match the schema version in the response");
        }
        Map<String, String> attributes = null;
        JsonNode ta = root.get("TransactionAttributes");
        if (ta != null && !ta.isNull()) {
            if (!ta.isObject()) {
                return Parsed.error("TransactionAttributesInvalidKeyOrValue", "TransactionAttributes must be a map of strings");
            }
            if (ta.size() > MAX_ATTRIBUTES) {
                return Parsed.error("TransactionAttributesInvalidMapSize",
                        "Transaction Attributes has too many mappings. Maximum number of mappings is " + MAX_ATTRIBUTES);
            }
            attributes = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : ta.properties()) {
                if (!e.getValue().isTextual()) {
                    return Parsed.error("TransactionAttributesInvalidKeyOrValue",
                            "Transaction Attributes value for key '" + e.getKey() + "' is not a string");
                }
                if (e.getKey().length() > MAX_ATTRIBUTE_CHARS || e.getValue().textValue().length() > MAX_ATTRIBUTE_CHARS) {
                    return Parsed.error("TransactionAttributesInvalidKeyOrValue",
                            "Transaction Attributes key or value is too long. Maximum length is " + MAX_ATTRIBUTE_CHARS + " characters");
                }
                attributes.put(e.getKey(), e.getValue().textValue());
            }
        }
        List<ObjectNode> actions = null;
        JsonNode as = root.get("Actions");
        if (as != null && !as.isNull()) {
            if (!as.isArray()) {
                return Parsed.error("InvalidLambdaResponse", "Error while reading actions list");
            }
            if (as.size() > MAX_ACTIONS) {
                return Parsed.error("TooManyActions", "Too many actions specified in response");
            }
            actions = new ArrayList<>();
            for (JsonNode a : as) {
                if (!a.isObject() || !a.path("Type").isTextual()) {
                    return Parsed.error("InvalidLambdaResponse", "Error while reading actions list");
                }
                String type = a.get("Type").textValue();
                if (!ActionValidator.known(type)) {
                    return Parsed.error("UnsupportedAction", "Unsupported action name specified: " + type);
                }
                JsonNode params = a.get("Parameters");
                if (params != null && !params.isNull() && !params.isObject()) {
                    return Parsed.error("InvalidLambdaResponse", "Parameters of action " + type + " must be an object");
                }
                actions.add((ObjectNode) a.deepCopy());
            }
        }
        return new Parsed(attributes, actions, null, null);
    }

    /** The TransactionAttributes of an otherwise ignored response, or null when absent or unusable. */
    static Map<String, String> attributesLeniently(ObjectMapper mapper, byte[] raw) {
        Parsed p = parse(mapper, raw);
        return p.invalid() ? null : p.attributes();
    }
}
