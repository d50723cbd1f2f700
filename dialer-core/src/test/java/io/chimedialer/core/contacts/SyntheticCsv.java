package io.chimedialer.core.contacts;

import java.io.Reader;

/**
 * A contact list synthesized row by row as it is read, so a million-row list needs no file and no memory.
 *
 * <p>Row {@code i} (0-based, on line {@code i + 2}) has a unique valid US number, except in the defective variant:
 * <ul>
 *   <li>{@code i % 100_000 == 99_999}: broken quoting (MALFORMED_ROW)</li>
 *   <li>{@code i % 100_000 == 99_998}: an empty number (MISSING_NUMBER)</li>
 *   <li>{@code i % 50 == 7}: an invalid number (INVALID_NUMBER)</li>
 *   <li>{@code i % 100 == 13}: the number of row {@code i - 1} again (a duplicate)</li>
 *   <li>{@code i % 100 == 51}: a number that {@link #dncList} lists</li>
 * </ul>
 */
final class SyntheticCsv extends Reader {
    private static final String[] AREAS = {"212", "310", "415", "617", "713", "202", "305", "404", "206", "312"};
    static final String HEADER = "id,name,phone,segment\n";

    private final long rows;
    private final boolean defects;
    private long next;
    private String current = HEADER;
    private int position;

    private SyntheticCsv(long rows, boolean defects) {
        this.rows = rows;
        this.defects = defects;
    }

    /** Every row valid and distinct. */
    static SyntheticCsv clean(long rows) {
        return new SyntheticCsv(rows, false);
    }

    /** With the defects listed on the class. */
    static SyntheticCsv withDefects(long rows) {
        return new SyntheticCsv(rows, true);
    }

    /** The unique valid number of row {@code i} (i < 1,000,000). */
    static String number(long i) {
        long rest = i / 10;
        // 10,000 + line keeps the leading zeros of the 4-digit line number without String.format.
        return "+1" + AREAS[(int) (i % 10)] + (230 + rest / 10_000) + String.valueOf(10_000 + rest % 10_000).substring(1);
    }

    static boolean malformed(long i) {
        return i % 100_000 == 99_999;
    }

    static boolean missing(long i) {
        return i % 100_000 == 99_998;
    }

    static boolean invalid(long i) {
        return i % 50 == 7;
    }

    static boolean duplicate(long i) {
        return i % 100 == 13;
    }

    static boolean listed(long i) {
        return i % 100 == 51;
    }

    /** A DNC list (one number per line, with a header, comments and bad lines) naming every listed row. */
    static Reader dncList(long rows) {
        StringBuilder text = new StringBuilder("# synthetic suppression list\nphone,added\n");
        for (long i = 0; i < rows; i++) {
            if (listed(i)) {
                text.append(number(i)).append(",2026-01-01\n");
            }
        }
        text.append("not-a-number,2026-01-01\n\n# end\n");
        return new java.io.StringReader(text.toString());
    }

    private String row(long i) {
        String id = "c" + i;
        if (defects) {
            if (malformed(i)) {
                return id + ",\"broken\"x," + number(i) + ",gold\n";
            }
            if (missing(i)) {
                return id + ",Missing,,gold\n";
            }
            if (invalid(i)) {
                return id + ",Invalid,+1 099 555 0101,gold\n";
            }
            if (duplicate(i)) {
                return id + ",Again," + number(i - 1) + ",gold\n";
            }
        }
        return id + ",\"Name " + i + "\"," + number(i) + ",segment-" + (i % 7) + "\n";
    }

    @Override
    public int read(char[] buffer, int offset, int length) {
        if (length == 0) {
            return 0;
        }
        int written = 0;
        while (written < length) {
            if (position == current.length()) {
                if (next == rows) {
                    break;
                }
                current = row(next++);
                position = 0;
            }
            int n = Math.min(length - written, current.length() - position);
            current.getChars(position, position + n, buffer, offset + written);
            position += n;
            written += n;
        }
        return written == 0 ? -1 : written;
    }

    @Override
    public void close() {
        // Nothing to release.
    }
}
