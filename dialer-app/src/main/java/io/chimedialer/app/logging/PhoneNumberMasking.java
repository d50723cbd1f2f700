package io.chimedialer.app.logging;

import io.chimedialer.core.util.Masking;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Masks every sequence in a log line that may be a phone number, so that no callee's number reaches a log
 * whatever field it came in (a fuzzed {@code TransactionId}, Chime's {@code ErrorMessage}, an exception's message).
 * Each sequence is masked with {@link Masking#phone}: every digit but the last four becomes {@code *}.
 *
 * <p>The rule. A <em>number</em> is an optional {@code +} and groups of digits, each group after the first of at
 * least two digits, joined by one or two of the separators space, {@code -}, {@code (} and {@code )}, or by a
 * single {@code .} between groups of two to four digits ({@code 206.555.0100}); it is masked when it holds 8 to
 * 15 digits (E.164 allows at most 15). Letters around the digits do not protect them ({@code tx17666904195} is
 * masked). Kept as written:
 * <ul>
 *   <li>UUIDs, ISO-8601 dates and date-times ({@code 2026-12-06T15:08:10}), IPv4 addresses and {@code 0x} hex
 *       literals;</li>
 *   <li>a single run of digits without {@code +} that starts with {@code 1} and does not have 11 digits: every
 *       E.164 number that starts with 1 is a North American one of exactly 11 digits, so epoch seconds
 *       ({@code 1765033690}) and epoch milliseconds ({@code 1765033690123}) until 2033 are not numbers;</li>
 *   <li>decimal fractions ({@code 0.33333333}) and runs of more than 15 digits;</li>
 *   <li>anything with fewer than 8 digits: ports, counts below ten million, durations.</li>
 * </ul>
 * A count of 8 or more digits that does not start with 1 is masked like a number: a log line may lose a digit of
 * information, never a callee's number. Stateless and thread-safe.
 */
public final class PhoneNumberMasking {
    /** The fewest digits a masked sequence holds. */
    static final int MIN_DIGITS = 8;
    /** The most digits a masked sequence holds (E.164's maximum). */
    static final int MAX_DIGITS = 15;

    /** Spans kept as written; they also end any number next to them. */
    private static final Pattern KEPT = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"      // UUID
                    + "|\\d{4}-\\d{2}-\\d{2}(?:[T ]\\d{2}:\\d{2}(?::\\d{2}(?:[.,]\\d{1,9})?)?)?" // ISO date(-time)
                    + "|(?<![\\d.])\\d{1,3}(?:\\.\\d{1,3}){3}(?![\\d.])"                      // IPv4
                    + "|0[xX][0-9a-fA-F]+");                                                   // hex literal

    private PhoneNumberMasking() {
    }

    /**
     * The text with every number masked; the same instance when there is nothing to mask.
     *
     * @param text any text, or null (returned as is)
     */
    public static String mask(String text) {
        if (text == null || digits(text, 0, text.length()) < MIN_DIGITS) {
            return text;
        }
        StringBuilder out = null;
        Matcher kept = KEPT.matcher(text);
        int from = 0;
        while (from < text.length()) {
            int keptStart = text.length();
            int keptEnd = text.length();
            if (kept.find(from)) {
                keptStart = kept.start();
                keptEnd = kept.end();
            }
            String segment = text.substring(from, keptStart);
            String masked = maskSegment(segment);
            if (out == null && !masked.equals(segment)) {
                out = new StringBuilder(text.length()).append(text, 0, from);
            }
            if (out != null) {
                out.append(masked).append(text, keptStart, keptEnd);
            }
            from = keptEnd;
        }
        return out == null ? text : out.toString();
    }

    /** Masks the numbers of a text that holds no kept span. */
    private static String maskSegment(String s) {
        if (digits(s, 0, s.length()) < MIN_DIGITS) {
            return s;
        }
        // The runs of digits, as [start, end) pairs.
        int[] starts = new int[s.length() / 2 + 1];
        int[] ends = new int[starts.length];
        int runs = 0;
        for (int i = 0; i < s.length(); ) {
            if (Character.isDigit(s.charAt(i))) {
                int start = i;
                while (i < s.length() && Character.isDigit(s.charAt(i))) {
                    i++;
                }
                starts[runs] = start;
                ends[runs] = i;
                runs++;
            } else {
                i++;
            }
        }
        char[] out = null;
        int i = 0;
        while (i < runs) {
            if (isFraction(s, starts[i])) {
                i++;
                continue;
            }
            int digits = ends[i] - starts[i];
            int last = i;
            while (last + 1 < runs && joins(s, ends[last], starts[last + 1], ends[last] - starts[last],
                    ends[last + 1] - starts[last + 1]) && digits + ends[last + 1] - starts[last + 1] <= MAX_DIGITS) {
                last++;
                digits += ends[last] - starts[last];
            }
            boolean plus = starts[i] > 0 && s.charAt(starts[i] - 1) == '+';
            if (digits >= MIN_DIGITS && digits <= MAX_DIGITS && !(last == i && !plus && isNotE164(s, starts[i], ends[i]))) {
                if (out == null) {
                    out = s.toCharArray();
                }
                String masked = Masking.phone(s.substring(starts[i], ends[last]));
                masked.getChars(0, masked.length(), out, starts[i]);
            }
            i = last + 1;
        }
        return out == null ? s : new String(out);
    }

    /**
     * Whether two runs of digits are groups of one number: the text between them is one or two of space,
     * {@code -}, {@code (}, {@code )}, or a lone {@code .} between groups of 2 to 4 digits; the second group has at
     * least 2 digits.
     */
    private static boolean joins(String s, int gapStart, int gapEnd, int before, int after) {
        int gap = gapEnd - gapStart;
        if (after < 2 || gap < 1 || gap > 2) {
            return false;
        }
        if (gap == 1 && s.charAt(gapStart) == '.') {
            return before >= 2 && before <= 4 && after <= 4;
        }
        for (int k = gapStart; k < gapEnd; k++) {
            char c = s.charAt(k);
            if (c != ' ' && c != '-' && c != '(' && c != ')') {
                return false;
            }
        }
        return true;
    }

    /** A run right after {@code <digit>.} that did not join the run before it is the fraction of a decimal. */
    private static boolean isFraction(String s, int start) {
        return start >= 2 && s.charAt(start - 1) == '.' && Character.isDigit(s.charAt(start - 2));
    }

    /** A lone run that starts with 1 and is not 11 digits long cannot be an E.164 number (country code 1 is NANP). */
    private static boolean isNotE164(String s, int start, int end) {
        return s.charAt(start) == '1' && end - start != 11;
    }

    private static int digits(String s, int from, int to) {
        int n = 0;
        for (int k = from; k < to; k++) {
            if (Character.isDigit(s.charAt(k))) {
                n++;
            }
        }
        return n;
    }
}
