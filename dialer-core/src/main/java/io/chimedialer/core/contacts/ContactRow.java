package io.chimedialer.core.contacts;

import io.chimedialer.core.util.Masking;
import java.util.Objects;

/** One data row of a contact list: a {@link Valid} contact, or a {@link Rejected} row with its reason. */
public sealed interface ContactRow permits ContactRow.Valid, ContactRow.Rejected {

    /** The 1-based line of the source the row starts on. */
    long line();

    /**
     * A row that became a dialable contact (its number is valid E.164).
     *
     * @param contact the contact
     */
    record Valid(Contact contact) implements ContactRow {
        public Valid {
            Objects.requireNonNull(contact, "contact");
        }

        @Override
        public long line() {
            return contact.line();
        }

        @Override
        public String toString() {
            return "Valid[line=" + contact.line() + ", id=" + contact.id() + ", number="
                    + Masking.phone(contact.number()) + "]";
        }
    }

    /**
     * A row that is skipped, reported with its line and reason.
     *
     * @param line      the 1-based line the row starts on
     * @param rawNumber the number column as written; empty when the row has none or could not be read
     * @param reason    a human-readable reason
     * @param kind      the reason's category
     */
    record Rejected(long line, String rawNumber, String reason, RejectKind kind) implements ContactRow {
        public Rejected {
            rawNumber = rawNumber == null ? "" : rawNumber;
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(kind, "kind");
        }

        @Override
        public String toString() {
            return "Rejected[line=" + line + ", number=" + Masking.phone(rawNumber) + ", kind=" + kind
                    + ", reason=" + reason + "]";
        }
    }
}
