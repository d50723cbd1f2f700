package io.chimedialer.app.it;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Generated contact lists with known ground truth: which rows are invalid, which numbers repeat an earlier
 * row, which are on the DNC list, and so which numbers the dialer must dial exactly once.
 */
final class ContactLists {
    private static final PhoneNumberUtil PHONE = PhoneNumberUtil.getInstance();
    private static final String[] AREAS = {"212", "312", "303", "415", "617", "206", "404", "713", "305", "702"};
    private static final String[] INVALID = {"12345", "+1999", "not a number", "", "+1212000123", "555-CALL-NOW"};

    /** What a generated list holds. */
    record Generated(Path csv, Path dnc, int rows, int invalid, int duplicate, Set<String> suppressed,
                     Set<String> toDial, Set<String> invalidRaw) {
    }

    private ContactLists() {
    }

    /** The i-th distinct valid US number (E.164), checked with libphonenumber. */
    static String number(int i) {
        String area = AREAS[i % AREAS.length];
        int k = i / AREAS.length;
        int exchange = 201 + (k / 10_000) % 700;
        if (exchange % 100 == 11 || exchange == 555) {
            exchange++;
        }
        return String.format("+1%s%03d%04d", area, exchange, k % 10_000);
    }

    /**
     * Writes {@code count} distinct valid numbers ({@link #number}) as {@code id,phone,name} rows with ids
     * {@code k1}, {@code k2}, ... and returns them.
     */
    static Set<String> writeDistinct(Path csv, int count) throws IOException {
        Set<String> numbers = new LinkedHashSet<>();
        try (Writer out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
            out.write("id,phone,name\n");
            for (int i = 0; i < count; i++) {
                String number = number(i);
                numbers.add(number);
                out.write("k" + (i + 1) + "," + number + ",Contact " + (i + 1) + "\n");
            }
        }
        return numbers;
    }

    /** True when libphonenumber considers the E.164 number valid. */
    static boolean valid(String e164) {
        try {
            return PHONE.isValidNumber(PHONE.parse(e164, "US"));
        } catch (NumberParseException e) {
            return false;
        }
    }

    /** The national format of a +1 number, e.g. (212) 201-0001, which must normalize to the same E.164. */
    static String national(String e164) {
        return "(" + e164.substring(2, 5) + ") " + e164.substring(5, 8) + "-" + e164.substring(8);
    }

    /**
     * Writes a list of {@code rows} rows: {@code invalidPct}% invalid, {@code duplicatePct}% repeats of an earlier
     * valid number (half of them in national format), and {@code dncPct}% of the new numbers on the DNC list.
     */
    static Generated write(Path dir, String name, int rows, long seed, int invalidPct, int duplicatePct, int dncPct)
            throws IOException {
        Random random = new Random(seed);
        Path csv = dir.resolve(name + ".csv");
        Path dnc = dir.resolve(name + "-dnc.txt");
        List<String> seen = new ArrayList<>();
        Set<String> seenSet = new HashSet<>();
        Set<String> suppressed = new LinkedHashSet<>();
        Set<String> toDial = new LinkedHashSet<>();
        Set<String> invalidRaw = new HashSet<>();
        int invalid = 0;
        int duplicate = 0;
        int next = 0;
        try (Writer out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
            out.write("id,phone,name,clinic\n");
            for (int i = 0; i < rows; i++) {
                int roll = random.nextInt(100);
                String phone;
                if (roll < invalidPct) {
                    phone = INVALID[random.nextInt(INVALID.length)];
                    invalid++;
                    invalidRaw.add(phone);
                } else if (roll < invalidPct + duplicatePct && !seen.isEmpty()) {
                    String earlier = seen.get(random.nextInt(seen.size()));
                    phone = random.nextBoolean() ? earlier : national(earlier);
                    duplicate++;
                } else {
                    String number = number(next++);
                    while (!valid(number)) {
                        number = number(next++);
                    }
                    phone = number;
                    seen.add(number);
                    seenSet.add(number);
                    if (random.nextInt(100) < dncPct) {
                        suppressed.add(number);
                    } else {
                        toDial.add(number);
                    }
                }
                out.write("c" + i + "," + phone + ",Person " + i + ",Harbor Clinic\n");
            }
        }
        // The DNC list mixes formats; the dialer normalizes both.
        List<String> dncLines = new ArrayList<>();
        int j = 0;
        for (String n : suppressed) {
            dncLines.add(j++ % 2 == 0 ? n : national(n));
        }
        Files.write(dnc, dncLines, StandardCharsets.UTF_8);
        return new Generated(csv, dnc, rows, invalid, duplicate, suppressed, toDial, invalidRaw);
    }

    /** Writes a list of exactly these numbers (E.164), one row each, in order. */
    static Path writeNumbers(Path dir, String name, List<String> numbers) throws IOException {
        Path csv = dir.resolve(name + ".csv");
        try (Writer out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
            out.write("id,phone,name\n");
            for (int i = 0; i < numbers.size(); i++) {
                out.write("c" + i + "," + numbers.get(i) + ",Person " + i + "\n");
            }
        }
        return csv;
    }
}
