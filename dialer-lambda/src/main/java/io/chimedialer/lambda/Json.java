package io.chimedialer.lambda;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The little JSON the bridge needs, on jackson-core's streaming parser: read a document into maps,
 * lists and scalars, look keys up leniently, and check that an answer is one well-formed object.
 * Stateless and thread-safe.
 */
final class Json {

    static final JsonFactory FACTORY = new JsonFactory();

    private Json() {
    }

    /**
     * Reads a document.
     *
     * @return a {@code Map<String, Object>}, {@code List<Object>}, {@code String}, {@code Number},
     *         {@code Boolean} or {@code null}
     * @throws IOException if the bytes are not one well-formed JSON value
     */
    static Object read(byte[] bytes) throws IOException {
        try (JsonParser parser = FACTORY.createParser(bytes)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw new IOException("empty document");
            }
            Object value = value(parser, first);
            if (parser.nextToken() != null) {
                throw new IOException("trailing content after the JSON value");
            }
            return value;
        }
    }

    /** Whether the bytes are exactly one well-formed JSON object (whitespace around it allowed). */
    static boolean isObject(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return false;
        }
        try (JsonParser parser = FACTORY.createParser(bytes)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            parser.skipChildren();
            return parser.currentToken() == JsonToken.END_OBJECT && parser.nextToken() == null;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Looks a key up in a map: the exact key first, else the first key equal ignoring case.
     *
     * @return the value, or {@code null} if {@code node} is not a map or has no such key
     */
    static Object get(Object node, String key) {
        if (!(node instanceof Map<?, ?> map)) {
            return null;
        }
        Object exact = map.get(key);
        if (exact != null) {
            return exact;
        }
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            if (entry.getKey() instanceof String name && name.equalsIgnoreCase(key)) {
                return entry.getValue();
            }
        }
        return null;
    }

    /** Follows a path of keys with {@link #get}. */
    static Object path(Object node, String... keys) {
        Object current = node;
        for (String key : keys) {
            current = get(current, key);
            if (current == null) {
                return null;
            }
        }
        return current;
    }

    /** A string, or a number rendered as text; {@code null} for anything else or blank text. */
    static String text(Object value) {
        String text = null;
        if (value instanceof String s) {
            text = s;
        } else if (value instanceof Number n) {
            text = n.toString();
        }
        return text == null || text.isBlank() ? null : text;
    }

    /** Upper-cased text, for comparing enum-like values leniently. */
    static String upper(Object value) {
        String text = text(value);
        return text == null ? null : text.trim().toUpperCase(Locale.ROOT);
    }

    private static Object value(JsonParser parser, JsonToken token) throws IOException {
        switch (token) {
            case START_OBJECT: {
                Map<String, Object> map = new LinkedHashMap<>();
                for (JsonToken t = parser.nextToken(); t != JsonToken.END_OBJECT; t = parser.nextToken()) {
                    String name = parser.currentName();
                    map.put(name, value(parser, parser.nextToken()));
                }
                return map;
            }
            case START_ARRAY: {
                List<Object> list = new ArrayList<>();
                for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
                    list.add(value(parser, t));
                }
                return list;
            }
            case VALUE_STRING:
                return parser.getText();
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
                return parser.getNumberValue();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw new IOException("unexpected token " + token);
        }
    }
}
