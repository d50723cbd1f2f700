package io.chimedialer.core.pacing;

import io.chimedialer.core.contacts.Contact;
import java.util.Map;
import java.util.Objects;

/**
 * One call to place: a contact, which attempt of it this is, and extra ArgumentsMap entries for the flow
 * (at most 18: two keys are reserved for the campaign and attempt ids).
 */
public record DialRequest(Contact contact, int attemptNumber, Map<String, String> arguments) {

    public DialRequest {
        Objects.requireNonNull(contact, "contact");
        if (attemptNumber < 1) {
            throw new IllegalArgumentException("attemptNumber must be >= 1, was " + attemptNumber);
        }
        arguments = arguments == null ? Map.of() : Map.copyOf(arguments);
    }

    /** A contact's first attempt, without extra arguments. */
    public static DialRequest first(Contact contact) {
        return new DialRequest(contact, 1, Map.of());
    }
}
