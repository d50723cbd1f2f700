package io.chimedialer.app.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A YAML document read into a Jackson tree, remembering the line and column of every key and value by key path
 * (Jackson's own tree drops locations). Duplicate keys are reported, not silently overwritten.
 */
final class YamlTree {
    private static final YAMLFactory YAML = YAMLFactory.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final JsonNode root;
    private final Map<String, int[]> keyPositions;
    private final Map<String, int[]> valuePositions;

    private YamlTree(JsonNode root, Map<String, int[]> keyPositions, Map<String, int[]> valuePositions) {
        this.root = root;
        this.keyPositions = keyPositions;
        this.valuePositions = valuePositions;
    }

    /**
     * Parses a YAML text.
     *
     * @param text       the document
     * @param duplicates told (key path, line) of each key that appears twice in one mapping
     * @throws SyntaxError when the text is not YAML
     */
    static YamlTree parse(String text, BiConsumer<String, Integer> duplicates) throws SyntaxError {
        Map<String, int[]> keys = new HashMap<>();
        Map<String, int[]> values = new HashMap<>();
        try (JsonParser p = YAML.createParser(text)) {
            JsonToken first = p.nextToken();
            JsonNode root = first == null ? NODES.nullNode() : read(p, "", keys, values, duplicates);
            return new YamlTree(root, keys, values);
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            // The parser's message interleaves reasons with indented source excerpts; keep only the reasons, so
            // that no value (a secret substituted from the environment) is echoed.
            String reason = e.getOriginalMessage().lines()
                    .filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0)))
                    .collect(java.util.stream.Collectors.joining("; "));
            throw new SyntaxError(reason.isEmpty() ? "not valid YAML" : reason, loc == null ? 0 : loc.getLineNr());
        } catch (IOException e) {
            throw new SyntaxError("cannot read: " + e.getMessage(), 0);
        }
    }

    private static JsonNode read(JsonParser p, String path, Map<String, int[]> keys, Map<String, int[]> values,
                                 BiConsumer<String, Integer> duplicates) throws IOException {
        JsonLocation loc = p.currentTokenLocation();
        values.put(path, new int[] {loc.getLineNr(), loc.getColumnNr()});
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                ObjectNode o = NODES.objectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    JsonLocation kl = p.currentTokenLocation();
                    String child = path.isEmpty() ? name : path + "." + name;
                    if (o.has(name)) {
                        duplicates.accept(child, kl.getLineNr());
                    }
                    keys.put(child, new int[] {kl.getLineNr(), kl.getColumnNr()});
                    p.nextToken();
                    o.set(name, read(p, child, keys, values, duplicates));
                }
                return o;
            }
            case START_ARRAY -> {
                ArrayNode a = NODES.arrayNode();
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    String child = path + "[" + i++ + "]";
                    a.add(read(p, child, keys, values, duplicates));
                }
                return a;
            }
            case VALUE_STRING -> {
                return NODES.textNode(p.getText());
            }
            case VALUE_NUMBER_INT -> {
                if (p.getText().startsWith("+")) {
                    // YAML reads an unquoted +17035552601 as an integer; in this configuration a leading + is
                    // an E.164 number, so keep it as written.
                    return NODES.textNode(p.getText());
                }
                return switch (p.getNumberType()) {
                    case INT -> NODES.numberNode(p.getIntValue());
                    case LONG -> NODES.numberNode(p.getLongValue());
                    default -> NODES.numberNode(new BigInteger(p.getText()));
                };
            }
            case VALUE_NUMBER_FLOAT -> {
                return NODES.numberNode(p.getDoubleValue());
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return NODES.booleanNode(t == JsonToken.VALUE_TRUE);
            }
            case VALUE_NULL -> {
                return NODES.nullNode();
            }
            default -> {
                return NODES.textNode(p.getText());
            }
        }
    }

    JsonNode root() {
        return root;
    }

    /** The line of the key at {@code path}, else of its value, else of the nearest enclosing key; 0 if none. */
    int line(String path) {
        for (String p = path; ; p = parent(p)) {
            int[] k = keyPositions.get(p);
            if (k != null) {
                return k[0];
            }
            int[] v = valuePositions.get(p);
            if (v != null && !p.isEmpty()) {
                return v[0];
            }
            if (p.isEmpty()) {
                return 0;
            }
        }
    }

    /** {line, column} of the value at {@code path}, or null. */
    int[] valuePosition(String path) {
        return valuePositions.get(path);
    }

    /**
     * The path of the key or value on {@code line} that starts last at or before {@code column}, or null:
     * which key a {@code ${VAR}} at that position belongs to.
     */
    String pathAt(int line, int column) {
        String best = null;
        int bestColumn = -1;
        for (Map<String, int[]> positions : List.of(keyPositions, valuePositions)) {
            for (Map.Entry<String, int[]> e : positions.entrySet()) {
                int[] pos = e.getValue();
                if (pos[0] == line && pos[1] <= column && pos[1] >= bestColumn && !e.getKey().isEmpty()) {
                    if (pos[1] > bestColumn || best == null || e.getKey().length() > best.length()) {
                        best = e.getKey();
                    }
                    bestColumn = pos[1];
                }
            }
        }
        return best;
    }

    static String parent(String path) {
        int dot = path.lastIndexOf('.');
        int bracket = path.lastIndexOf('[');
        int cut = Math.max(dot, bracket);
        return cut < 0 ? "" : path.substring(0, cut);
    }

    /** A YAML syntax error with its line (0 when unknown). */
    static final class SyntaxError extends Exception {
        private static final long serialVersionUID = 1L;
        private final int line;

        SyntaxError(String message, int line) {
            super(message);
            this.line = line;
        }

        int line() {
            return line;
        }
    }
}
