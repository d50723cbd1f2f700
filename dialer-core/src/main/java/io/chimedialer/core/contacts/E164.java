package io.chimedialer.core.contacts;

/** Packs E.164 numbers into longs: at most 15 digits after the {@code +}, so a long holds any of them. */
final class E164 {
    private E164() {
    }

    /**
     * Packs {@code +<digits>} into a positive long.
     *
     * @return the packed value, or {@code -1} when the text is not {@code +} followed by 1 to 15 digits
     */
    static long pack(String e164) {
        int length = e164.length();
        if (length < 2 || length > 16 || e164.charAt(0) != '+') {
            return -1;
        }
        long value = 0;
        for (int i = 1; i < length; i++) {
            char c = e164.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        // A country code never starts with 0, so distinct numbers give distinct values and 0 is never produced.
        return value == 0 ? -1 : value;
    }
}
