package io.chimedialer.core.flow;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One action of an SMA response (CHIME.md section 4.3), serialized as {@code {"Type":..,"Parameters":{..}}}.
 *
 * @param type       the action type, e.g. {@code Speak}
 * @param parameters its parameters in insertion order (values: strings, numbers, lists and maps)
 */
@JsonPropertyOrder({"Type", "Parameters"})
public record Action(@JsonProperty("Type") String type, @JsonProperty("Parameters") Map<String, Object> parameters) {
    public Action {
        Objects.requireNonNull(type, "type");
        parameters = parameters == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    /** A Hangup of the invoked leg with SIP code 0 (normal clearing). */
    public static Action hangup() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("SipResponseCode", "0");
        return new Action("Hangup", p);
    }

    /** A Hangup of the leg with this tag ({@code LEG-A}/{@code LEG-B}) with SIP code 0. */
    public static Action hangup(String participantTag) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("SipResponseCode", "0");
        p.put("ParticipantTag", participantTag);
        return new Action("Hangup", p);
    }
}
