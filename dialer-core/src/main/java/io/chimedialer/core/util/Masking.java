package io.chimedialer.core.util;

/**
 * Masks phone numbers for logs: every digit but the last four becomes {@code *}. Logs never carry a
 * whole number.
 */
public final class Masking {
    private Masking() {
    }

    /**
     * Masks a phone number, keeping a leading {@code +} and the last 4 digits.
     *
     * @param number any string; {@code null} gives {@code "null"}
     * @return the masked form, e.g. {@code +*******1234}
     */
    public static String phone(String number) {
        if (number == null) {
            return "null";
        }
        int digits = 0;
        for (int i = 0; i < number.length(); i++) {
            if (Character.isDigit(number.charAt(i))) {
                digits++;
            }
        }
        StringBuilder out = new StringBuilder(number.length());
        int seen = 0;
        for (int i = 0; i < number.length(); i++) {
            char c = number.charAt(i);
            if (Character.isDigit(c)) {
                seen++;
                out.append(seen > digits - 4 ? c : '*');
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
