package io.chimedialer.emulator;

import java.util.Locale;

/**
 * The {@code Sequence} of a retried invocation (Chime retries an invocation that got no answer in time, or an error,
 * once; CHIME.md §4.4). AWS does not say whether the retry repeats the Sequence or takes the next one (CHIME.md §5.3),
 * so the emulator lets you choose; the default is {@link #SAME}. An injected duplicate delivery always repeats it.
 */
public enum RetrySequence {
    /** The retry is the same body, Sequence included (the default). */
    SAME("same"),
    /** The retry carries the next Sequence, and the call's later invocations count on from there. */
    INCREMENT("increment");

    private final String key;

    RetrySequence(String key) {
        this.key = key;
    }

    /** The name used on the command line and in {@code GET /emulator/v1/config}. */
    public String key() {
        return key;
    }

    /** Parses {@link #key()}, case-insensitively. */
    public static RetrySequence ofKey(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        for (RetrySequence r : values()) {
            if (r.key.equals(v)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown retry sequence '" + value + "' (expected same or increment)");
    }
}
