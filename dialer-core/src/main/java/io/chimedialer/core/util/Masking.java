package io.chimedialer.core.util;

/**
 * The one way the dialer masks phone numbers for logs, messages and {@code toString}s: every digit but the last
 * four becomes {@code *}, every other character is kept, so {@code +12125550123} gives {@code +*******0123} and
 * {@code (212) 555-0123} gives {@code (***) ***-0123}. Logs never carry a whole number. Text with four digits or
 * fewer is shown as written (it reveals no more than the four digits always shown); text without digits, such as
 * a cell that holds a word, is shown unchanged. dialer-core and dialer-app mask numbers only through this method
 * (the emulator and the Lambda bridge do not depend on dialer-core and mask no numbers today).
 */
public final class Masking {
    private static final int KEPT_DIGITS = 4;

    private Masking() {
    }

    /**
     * Masks a phone number, keeping every non-digit (a leading {@code +}, spaces, brackets) and the last 4 digits.
     *
     * @param number any text; {@code null} gives {@code "null"}
     * @return the masked form, e.g. {@code +*******1234}; the same length as {@code number}
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
                out.append(seen > digits - KEPT_DIGITS ? c : '*');
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
