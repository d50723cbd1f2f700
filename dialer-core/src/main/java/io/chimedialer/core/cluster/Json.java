package io.chimedialer.core.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;

/** The small JSON documents kept in text columns (contact variables, node members and shares). */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final TypeReference<Map<String, String>> STRINGS = new TypeReference<>() { };
    private static final TypeReference<List<String>> LIST = new TypeReference<>() { };
    private static final TypeReference<Map<String, RegionShare>> SHARES = new TypeReference<>() { };

    private Json() {
    }

    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    static Map<String, String> strings(String json) {
        return json == null || json.isEmpty() ? Map.of() : read(json, STRINGS);
    }

    static List<String> list(String json) {
        return json == null || json.isEmpty() ? List.of() : read(json, LIST);
    }

    static Map<String, RegionShare> shares(String json) {
        return json == null || json.isEmpty() ? Map.of() : read(json, SHARES);
    }

    private static <T> T read(String json, TypeReference<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new ClusterException("unreadable JSON in a cluster table: " + e.getOriginalMessage(), e);
        }
    }
}
