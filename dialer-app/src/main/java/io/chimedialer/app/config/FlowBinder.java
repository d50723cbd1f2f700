package io.chimedialer.app.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Binds a campaign's {@code flow:} mapping to {@link T} generically: kebab-case keys map to record components
 * (and bean properties), durations use the configuration's format ({@code 10s}, {@code 500ms}), times of day
 * {@code HH:MM}, enums ignore case. Unknown keys are all collected (not just the first) with a hint; a type error
 * stops the binding and is reported at its key path. The flow's own constructors validate its content.
 *
 * @param <T> the flow configuration type
 */
final class FlowBinder<T> {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .addModule(new SimpleModule("dialer-config-values")
                    .addDeserializer(Duration.class, new ScalarDeserializer<>(Duration.class, Values::duration))
                    .addDeserializer(LocalTime.class, new ScalarDeserializer<>(LocalTime.class, FlowBinder::timeOfDay))
                    .addDeserializer(ZoneId.class, new ScalarDeserializer<>(ZoneId.class, FlowBinder::zone)))
            .build();

    private static final PropertyNamingStrategies.NamingBase KEBAB =
            (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.KEBAB_CASE;

    /** A problem that names its key: {@code flow.menu.options.1.prompt.text: reason}. */
    private static final Pattern KEYED_LINE = Pattern.compile("([A-Za-z0-9_.#*-]+): (.+)");

    private final Class<T> type;

    FlowBinder(Class<T> type) {
        this.type = type;
    }

    /**
     * Binds {@code node} (the value at {@code path}); returns null after reporting problems to {@code ctx}.
     */
    T bind(FileContext ctx, String path, JsonNode node) {
        List<String[]> unknown = new ArrayList<>();
        ObjectReader reader = MAPPER.readerFor(type).withHandler(new DeserializationProblemHandler() {
            @Override
            public boolean handleUnknownProperty(DeserializationContext ctxt, JsonParser p, JsonDeserializer<?> deserializer,
                                                 Object beanOrClass, String propertyName) throws IOException {
                String at = pointerPath(p.getParsingContext().pathAsPointer());
                if (!at.endsWith(propertyName)) {
                    at = at.isEmpty() ? propertyName : at + "." + propertyName;
                }
                Collection<Object> knownNames = deserializer.getKnownPropertyNames();
                List<String> names = new ArrayList<>();
                if (knownNames != null) {
                    knownNames.forEach(k -> names.add(String.valueOf(k)));
                }
                unknown.add(new String[] {at, Section.unknownKey(propertyName, names)});
                p.skipChildren();
                return true;
            }
        });
        // Jackson reports a record's unknown keys only after its constructor ran, so a typo would surface as the
        // constructor's complaint about the missing key instead: check the keys against the record tree first.
        checkKeys(node, type, "", unknown);
        if (!unknown.isEmpty()) {
            for (String[] u : unknown) {
                ctx.error(join(path, u[0]), u[1]);
            }
            return null;
        }
        T value = null;
        try {
            value = reader.readValue(MAPPER.treeAsTokens(node));
        } catch (JsonMappingException e) {
            report(ctx, path, join(path, referencePath(e)), reason(e));
        } catch (IOException e) {
            ctx.error(path, "cannot read: " + e.getMessage());
        }
        for (String[] u : unknown) {
            ctx.error(join(path, u[0]), u[1]);
        }
        return unknown.isEmpty() ? value : null;
    }

    /**
     * Walks the tree along the record components of {@code type} (kebab-case names, or {@code @JsonProperty}),
     * into maps' values and lists' items, and lists every key that names no component.
     */
    private static void checkKeys(JsonNode node, Type type, String path, List<String[]> unknown) {
        if (node == null || node.isNull()) {
            return;
        }
        Class<?> raw = rawClass(type);
        if (raw == null) {
            return;
        }
        if (raw.isRecord() && node.isObject()) {
            Map<String, Type> components = new LinkedHashMap<>();
            for (RecordComponent c : raw.getRecordComponents()) {
                JsonProperty named = c.getAccessor().getAnnotation(JsonProperty.class);
                String name = named != null && !named.value().isEmpty() ? named.value() : KEBAB.translate(c.getName());
                components.put(name, c.getGenericType());
            }
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                String child = join(path, e.getKey());
                Type componentType = components.get(e.getKey());
                if (componentType == null) {
                    unknown.add(new String[] {child, Section.unknownKey(e.getKey(), components.keySet())});
                } else {
                    checkKeys(e.getValue(), componentType, child, unknown);
                }
            }
        } else if (Map.class.isAssignableFrom(raw) && node.isObject() && type instanceof ParameterizedType pt) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                checkKeys(e.getValue(), pt.getActualTypeArguments()[1], join(path, e.getKey()), unknown);
            }
        } else if (Collection.class.isAssignableFrom(raw) && node.isArray() && type instanceof ParameterizedType pt) {
            for (int i = 0; i < node.size(); i++) {
                checkKeys(node.get(i), pt.getActualTypeArguments()[0], path + "[" + i + "]", unknown);
            }
        }
    }

    private static Class<?> rawClass(Type type) {
        if (type instanceof Class<?> c) {
            return c;
        }
        if (type instanceof ParameterizedType pt && pt.getRawType() instanceof Class<?> c) {
            return c;
        }
        return null;
    }

    private static String join(String path, String sub) {
        if (path.isEmpty()) {
            return sub;
        }
        if (sub.isEmpty()) {
            return path;
        }
        return sub.startsWith("[") ? path + sub : path + "." + sub;
    }

    /**
     * Reports a binding failure at {@code at}, one problem per line of {@code message}. A record's own check may
     * name the key a line is about ({@code flow.voice.engine: Matthew has no standard voice}, with the binding's
     * root named as the last segment of {@code path}): that line is reported at that key instead.
     */
    private static void report(FileContext ctx, String path, String at, String message) {
        int dot = path.lastIndexOf('.');
        String root = path.substring(dot + 1);
        for (String line : message.split("\n")) {
            Matcher keyed = KEYED_LINE.matcher(line);
            if (!root.isEmpty() && keyed.matches()
                    && (keyed.group(1).equals(root) || keyed.group(1).startsWith(root + "."))) {
                ctx.error(path + keyed.group(1).substring(root.length()), keyed.group(2));
            } else {
                ctx.error(at, line);
            }
        }
    }

    private static String referencePath(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (sb.length() > 0) {
                    sb.append('.');
                }
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String pointerPath(JsonPointer pointer) {
        StringBuilder sb = new StringBuilder();
        for (JsonPointer p = pointer; p != null && !p.matches(); p = p.tail()) {
            if (p.mayMatchElement() && p.getMatchingProperty().chars().allMatch(Character::isDigit)) {
                sb.append('[').append(p.getMatchingIndex()).append(']');
            } else {
                if (sb.length() > 0) {
                    sb.append('.');
                }
                sb.append(p.getMatchingProperty());
            }
        }
        return sb.toString();
    }

    private static String reason(JsonMappingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            List<String> names = new ArrayList<>();
            if (u.getKnownPropertyIds() != null) {
                u.getKnownPropertyIds().forEach(k -> names.add(String.valueOf(k)));
            }
            return Section.unknownKey(u.getPropertyName(), names);
        }
        if (e instanceof InvalidFormatException f) {
            return f.getOriginalMessage();
        }
        if (e instanceof ValueInstantiationException v && v.getType() != null && v.getType().getRawClass().isEnum()) {
            return "expected " + describeType(v.getType().getRawClass());
        }
        if (e instanceof ValueInstantiationException v && v.getCause() != null) {
            return String.valueOf(v.getCause().getMessage());
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return "expected " + describeType(m.getTargetType()) + " here";
        }
        String msg = e.getOriginalMessage();
        return msg == null ? e.getClass().getSimpleName() : msg.lines().findFirst().orElse(msg);
    }

    private static String describeType(Class<?> t) {
        if (t == String.class) {
            return "a text value";
        }
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
            return "a whole number";
        }
        if (t == double.class || t == Double.class) {
            return "a number";
        }
        if (t == boolean.class || t == Boolean.class) {
            return "true or false";
        }
        if (Collection.class.isAssignableFrom(t) || t.isArray()) {
            return "a list";
        }
        if (t.isEnum()) {
            List<String> names = new ArrayList<>();
            for (Object c : t.getEnumConstants()) {
                names.add(((Enum<?>) c).name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
            }
            return "one of " + String.join(", ", names);
        }
        if (t.isRecord() || Map.class.isAssignableFrom(t)) {
            return "a mapping";
        }
        return "a " + t.getSimpleName();
    }

    private static LocalTime timeOfDay(String text) {
        try {
            return LocalTime.parse(text.trim());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("not a time of day: '" + text + "' (use HH:MM)");
        }
    }

    private static ZoneId zone(String text) {
        try {
            return ZoneId.of(text.trim());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("not a time zone: '" + text + "'");
        }
    }

    /** Reads a scalar with one of the configuration's parsers; a bad value becomes an InvalidFormatException. */
    private static final class ScalarDeserializer<V> extends JsonDeserializer<V> {
        private final Class<V> type;
        private final java.util.function.Function<String, V> parser;

        ScalarDeserializer(Class<V> type, java.util.function.Function<String, V> parser) {
            this.type = type;
            this.parser = parser;
        }

        @Override
        public V deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            if (t != JsonToken.VALUE_STRING && t != JsonToken.VALUE_NUMBER_INT) {
                return type.cast(ctxt.handleUnexpectedToken(type, p));
            }
            String text = p.getText();
            try {
                return parser.apply(text);
            } catch (IllegalArgumentException e) {
                throw InvalidFormatException.from(p, e.getMessage(), text, type);
            }
        }
    }
}
