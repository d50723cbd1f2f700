package io.chimedialer.lambda;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Set;

/**
 * The answer the bridge gives Chime when the dialer does not answer in time or answers badly: a safe
 * end of the call rather than silence, which Chime would retry and finally drop with a 480.
 * <ul>
 *   <li>{@code CALL_ANSWERED}, {@code ACTION_*}, {@code DIGITS_RECEIVED}, {@code CALL_UPDATE_REQUESTED}:
 *       a {@code Speak} of the configured text and a {@code Hangup} (code "0") on LEG-A;</li>
 *   <li>{@code NEW_INBOUND_CALL}: a {@code Hangup} alone (code "480", the call is never answered; an
 *       empty list is an error for inbound calls);</li>
 *   <li>anything else ({@code NEW_OUTBOUND_CALL}, {@code RINGING}, {@code HANGUP},
 *       {@code INVALID_LAMBDA_RESPONSE}, unknown or unreadable): an empty action list.</li>
 * </ul>
 * Without a LEG-A {@code CallId} the Speak (which needs one) is left out and the Hangup targets
 * {@code "ParticipantTag":"LEG-A"}. No {@code TransactionAttributes} are sent, so Chime keeps the stored ones.
 */
final class Fallback {

    private static final Set<String> SPEAK_AND_HANG_UP =
            Set.of("CALL_ANSWERED", "DIGITS_RECEIVED", "CALL_UPDATE_REQUESTED");

    private Fallback() {
    }

    /** What kind of fallback an event type gets. */
    enum Kind { SPEAK_AND_HANG_UP, HANG_UP, NO_ACTIONS }

    static Kind kindOf(String eventType) {
        if (eventType == null) {
            return Kind.NO_ACTIONS;
        }
        if (SPEAK_AND_HANG_UP.contains(eventType) || eventType.startsWith("ACTION_")) {
            return Kind.SPEAK_AND_HANG_UP;
        }
        return eventType.equals("NEW_INBOUND_CALL") ? Kind.HANG_UP : Kind.NO_ACTIONS;
    }

    static byte[] answer(SmaEvent event, String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator json = Json.FACTORY.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("SchemaVersion", "1.0");
            json.writeArrayFieldStart("Actions");
            String callId = event.legACallId();
            switch (kindOf(event.type())) {
                case SPEAK_AND_HANG_UP:
                    if (callId != null) {
                        json.writeStartObject();
                        json.writeStringField("Type", "Speak");
                        json.writeObjectFieldStart("Parameters");
                        json.writeStringField("Text", text);
                        json.writeStringField("CallId", callId);
                        json.writeEndObject();
                        json.writeEndObject();
                    }
                    hangup(json, "0", callId);
                    break;
                case HANG_UP:
                    hangup(json, "480", callId);
                    break;
                default:
                    break;
            }
            json.writeEndArray();
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void hangup(JsonGenerator json, String code, String callId) throws IOException {
        json.writeStartObject();
        json.writeStringField("Type", "Hangup");
        json.writeObjectFieldStart("Parameters");
        json.writeStringField("SipResponseCode", code);
        if (callId != null) {
            json.writeStringField("CallId", callId);
        } else {
            json.writeStringField("ParticipantTag", "LEG-A");
        }
        json.writeEndObject();
        json.writeEndObject();
    }
}
