package io.chimedialer.app.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A YAML mapping being read: typed getters that report wrong types and values at the key's path and return
 * the default (or null) instead of failing, so that every problem is found in one pass. The keys asked for are
 * the known keys: {@link #finish()} reports every other key as unknown, with a "did you mean" hint.
 */
final class Section {
    private final FileContext ctx;
    private final String path;
    private final JsonNode node;
    private final Set<String> known = new LinkedHashSet<>();
    private final Set<String> secretKeys = new LinkedHashSet<>();

    Section(FileContext ctx, String path, JsonNode node) {
        this.ctx = ctx;
        this.path = path;
        this.node = node != null && node.isObject() ? node : null;
    }

    /** An empty section at {@code path}, for absent mappings. */
    static Section empty(FileContext ctx, String path) {
        return new Section(ctx, path, null);
    }

    FileContext ctx() {
        return ctx;
    }

    String path() {
        return path;
    }

    /** The local key path of a key in this section. */
    String path(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    boolean isPresent() {
        return node != null;
    }

    /** True when the key is present with a non-null value. */
    boolean has(String key) {
        known.add(key);
        return get(key) != null;
    }

    /** The key's value, or null when absent or null; marks the key as known. */
    JsonNode get(String key) {
        known.add(key);
        JsonNode n = node == null ? null : node.get(key);
        return n == null || n.isNull() ? null : n;
    }

    /** The keys asked for so far. */
    Set<String> knownKeys() {
        return Set.copyOf(known);
    }

    /** Marks a key as known (it is read by other means). */
    void know(String key) {
        known.add(key);
    }

    /** Marks a key as a secret: its value is never shown in messages. */
    void secret(String key) {
        secretKeys.add(key);
    }

    /** The keys present, in file order. */
    List<String> keys() {
        List<String> keys = new ArrayList<>();
        if (node != null) {
            node.fieldNames().forEachRemaining(keys::add);
        }
        return keys;
    }

    void error(String key, String message) {
        ctx.error(path(key), message);
    }

    String string(String key, String defaultValue) {
        JsonNode n = get(key);
        if (n == null) {
            return defaultValue;
        }
        if (!n.isValueNode() || n.isBoolean()) {
            error(key, "expected a text value, was " + describe(key, n));
            return defaultValue;
        }
        return n.asText();
    }

    String requiredString(String key) {
        if (get(key) == null) {
            error(key, "required");
            return null;
        }
        String s = string(key, null);
        if (s != null && s.isBlank()) {
            error(key, "must not be blank");
            return null;
        }
        return s;
    }

    Integer integer(String key, Integer defaultValue, int min, int max) {
        JsonNode n = get(key);
        if (n == null) {
            return defaultValue;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            error(key, "expected a whole number, was " + describe(key, n));
            return defaultValue;
        }
        int v = n.intValue();
        if (v < min || v > max) {
            error(key, max == Integer.MAX_VALUE ? "must be >= " + min + ", was " + v
                    : "must be between " + min + " and " + max + ", was " + v);
            return defaultValue;
        }
        return v;
    }

    /** A number that must be > 0. */
    Double positive(String key, Double defaultValue) {
        JsonNode n = get(key);
        if (n == null) {
            return defaultValue;
        }
        if (!n.isNumber()) {
            error(key, "expected a number, was " + describe(key, n));
            return defaultValue;
        }
        double v = n.doubleValue();
        if (!(v > 0) || Double.isInfinite(v)) {
            error(key, "must be > 0, was " + n.asText());
            return defaultValue;
        }
        return v;
    }

    Boolean bool(String key, Boolean defaultValue) {
        JsonNode n = get(key);
        if (n == null) {
            return defaultValue;
        }
        if (!n.isBoolean()) {
            error(key, "expected true or false, was " + describe(key, n));
            return defaultValue;
        }
        return n.booleanValue();
    }

    Duration duration(String key, Duration defaultValue) {
        return parsed(key, defaultValue, Values::duration);
    }

    /** A text value converted by {@code parser}, whose IllegalArgumentException message becomes the problem. */
    <T> T parsed(String key, T defaultValue, Function<String, T> parser) {
        JsonNode n = get(key);
        if (n == null) {
            return defaultValue;
        }
        if (!n.isValueNode() || n.isBoolean()) {
            error(key, "expected a text value, was " + describe(key, n));
            return defaultValue;
        }
        try {
            return parser.apply(n.asText());
        } catch (IllegalArgumentException e) {
            error(key, e.getMessage());
            return defaultValue;
        }
    }

    /** An absolute http(s) URL, or the default. */
    URI url(String key, URI defaultValue) {
        return parsed(key, defaultValue, text -> {
            try {
                URI uri = new URI(text.trim());
                String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
                if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                    throw new IllegalArgumentException("expected an http:// or https:// URL, was '" + text + "'");
                }
                return uri;
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("not a URL: '" + text + "' (" + e.getReason() + ")");
            }
        });
    }

    /** A list of text values (a single text value is taken as a list of one); items that fail are reported. */
    List<String> strings(String key, Function<String, String> check) {
        JsonNode n = get(key);
        List<String> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        if (n.isValueNode() && !n.isBoolean()) {
            addChecked(path(key), n, check, out);
            return out;
        }
        if (!n.isArray()) {
            error(key, "expected a list, was " + describe(key, n));
            return out;
        }
        for (int i = 0; i < n.size(); i++) {
            addChecked(path(key) + "[" + i + "]", n.get(i), check, out);
        }
        return out;
    }

    private void addChecked(String itemPath, JsonNode item, Function<String, String> check, List<String> out) {
        if (item == null || item.isNull() || !item.isValueNode() || item.isBoolean()) {
            ctx.error(itemPath, "expected a text value, was " + Section.describe(item));
            return;
        }
        try {
            out.add(check.apply(item.asText()));
        } catch (IllegalArgumentException e) {
            ctx.error(itemPath, e.getMessage());
        }
    }

    /** The mapping at {@code key}, or an empty section when absent; a non-mapping value is reported. */
    Section section(String key) {
        JsonNode n = get(key);
        if (n != null && !n.isObject()) {
            error(key, "expected a mapping (key: value lines), was " + describe(key, n));
            return empty(ctx, path(key));
        }
        return new Section(ctx, path(key), n);
    }

    /** Every entry of this mapping whose key is not yet known, for maps of names (regions, campaigns). */
    Map<String, JsonNode> entries() {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        if (node != null) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                known.add(e.getKey());
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /** Reports each key that no getter asked for, with the closest known key as a hint. */
    void finish() {
        finish(List.of());
    }

    void finish(Collection<String> alsoKnown) {
        if (node == null) {
            return;
        }
        List<String> candidates = new ArrayList<>(known);
        candidates.addAll(alsoKnown);
        for (String key : keys()) {
            if (!known.contains(key) && !alsoKnown.contains(key)) {
                error(key, unknownKey(key, candidates));
            }
        }
    }

    static String unknownKey(String key, Collection<String> candidates) {
        List<String> hint = Values.didYouMean(key, candidates);
        return hint.isEmpty() ? "unknown key (known keys: " + String.join(", ", candidates) + ")"
                : "unknown key, did you mean '" + hint.get(0) + "'?";
    }

    private String describe(String key, JsonNode n) {
        return secretKeys.contains(key) ? "a value of the wrong type" : describe(n);
    }

    /** A short, quoted description of a value for messages. */
    static String describe(JsonNode n) {
        if (n == null || n.isNull()) {
            return "empty";
        }
        if (n.isObject()) {
            return "a mapping";
        }
        if (n.isArray()) {
            return "a list";
        }
        if (n.isTextual()) {
            String t = n.asText();
            return "'" + (t.length() > 60 ? t.substring(0, 57) + "..." : t) + "'";
        }
        return n.asText();
    }
}
