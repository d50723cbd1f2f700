package io.chimedialer.app.bench;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Synthetic contact lists: distinct valid US numbers, with optional defects (invalid numbers, duplicates,
 * numbers on a DNC list) at fixed rates. Deterministic.
 */
final class Synthetic {
    private static final String[] AREAS = {"212", "312", "303", "415", "617", "206", "305", "404"};

    private Synthetic() {
    }

    /** The i-th distinct valid number (unique for i below 8 x 799 x 10,000). */
    static String number(long i) {
        String area = AREAS[(int) (i % AREAS.length)];
        long rest = i / AREAS.length;
        long exchange = 200 + (rest / 10_000) % 799;
        if (exchange >= 555) {
            exchange++; // 555 numbers are fictional
        }
        long line = rest % 10_000;
        StringBuilder sb = new StringBuilder(12).append("+1").append(area).append(exchange);
        String l = Long.toString(line);
        for (int k = l.length(); k < 4; k++) {
            sb.append('0');
        }
        return sb.append(l).toString();
    }

    /**
     * Writes a list of {@code rows} rows (header excluded). With {@code defects}, every 200th row has an invalid
     * number, every 100th repeats the previous number and every 100th (offset 50) is also written to
     * {@code dnc}; else every row is a distinct valid number and {@code dnc} may be null.
     *
     * @return how many numbers went to the DNC list
     */
    static long write(Path csv, long rows, boolean defects, Path dnc) throws IOException {
        long dncCount = 0;
        try (BufferedWriter out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8);
             BufferedWriter dncOut = dnc == null ? null : Files.newBufferedWriter(dnc, StandardCharsets.UTF_8)) {
            out.write("id,phone,name,clinic\n");
            String previous = number(0);
            StringBuilder sb = new StringBuilder(96);
            for (long i = 0; i < rows; i++) {
                String phone;
                if (defects && i % 200 == 7) {
                    phone = "12345";
                } else if (defects && i % 100 == 13) {
                    phone = previous;
                } else {
                    phone = number(i);
                    previous = phone;
                    if (defects && dncOut != null && i % 100 == 50) {
                        dncOut.write(phone);
                        dncOut.write('\n');
                        dncCount++;
                    }
                }
                sb.setLength(0);
                sb.append('c').append(i).append(',').append(phone).append(",Patient ").append(i)
                        .append(",Harbor Clinic\n");
                out.append(sb);
            }
        }
        return dncCount;
    }
}
