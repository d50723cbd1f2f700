package io.chimedialer.core.contacts;

/** Why a contact row was skipped. */
public enum RejectKind {
    /** The row could not be read as CSV (broken quoting, too long, more fields than the header). */
    MALFORMED_ROW,
    /** The number column is empty or absent in this row. */
    MISSING_NUMBER,
    /** The number does not parse, or libphonenumber says it is not a valid number: final state INVALID_NUMBER. */
    INVALID_NUMBER,
    /** The row's time zone column names no known zone. */
    BAD_TIMEZONE
}
