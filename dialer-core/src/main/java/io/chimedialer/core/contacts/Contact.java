package io.chimedialer.core.contacts;

import io.chimedialer.core.util.Masking;
import java.time.ZoneId;
import java.util.Map;
import java.util.Objects;

/**
 * One valid, normalized row of a contact list.
 *
 * @param line      the 1-based line number in the source file (for reports)
 * @param id        the row's id column, or a generated one ("line-N") when the list has none
 * @param number    the callee's number in E.164 form
 * @param name      the row's name column, may be empty
 * @param timezone  the row's time zone override, or {@code null} to derive it from the number
 * @param variables every other column of the row, passed to the call flow
 */
public record Contact(long line, String id, String number, String name, ZoneId timezone,
                      Map<String, String> variables) {
    public Contact {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(number, "number");
        name = name == null ? "" : name;
        variables = variables == null ? Map.of() : Map.copyOf(variables);
    }

    /** Masks the number (last four digits kept) and leaves out the variables, so logging a contact is safe. */
    @Override
    public String toString() {
        return "Contact[line=" + line + ", id=" + id + ", number=" + Masking.phone(number) + ", timezone="
                + timezone + "]";
    }
}
