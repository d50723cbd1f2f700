package io.chimedialer.core.contacts;

import io.chimedialer.core.util.Masking;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A do-not-call (suppression) list: a set of E.164 numbers checked right before each dial.
 *
 * <p>Lists are loaded from text: one number per line, or a CSV whose {@code phone} (or {@code number},
 * {@code phone_number}, {@code to}) column holds the number, else its first column. Lines starting with
 * {@code #} and blank lines are skipped; a line whose number does not parse is reported by source and line and
 * skipped. Numbers are normalized with the list's {@link PhoneNumbers}, so {@code (212) 555-0123} and
 * {@code +12125550123} are the same entry. Opt-outs are added at run time with {@link #add(String)}.
 *
 * <p>Thread-safe: lookups share a read lock, additions take the write lock. Numbers are kept as packed longs in
 * a primitive table (about 11 to 23 bytes each).
 */
public final class DncList {
    /** How many bad lines a {@link LoadReport} keeps verbatim; the rest are only counted. */
    public static final int MAX_REPORTED_BAD_LINES = 100;

    private final PhoneNumbers numbers;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final LongHashSet entries = new LongHashSet(1024);

    /**
     * An empty list.
     *
     * @param numbers normalizes the numbers of loaded lines and of {@link #add(String)}
     */
    public DncList(PhoneNumbers numbers) {
        this.numbers = Objects.requireNonNull(numbers, "numbers");
    }

    /**
     * Adds every number of a list. The reader is read to its end but not closed.
     *
     * @param sourceName the name used in the report (e.g. the file path)
     * @param reader     the list's text
     * @return what was added and which lines were skipped
     * @throws IOException when reading fails
     */
    public LoadReport load(String sourceName, Reader reader) throws IOException {
        Objects.requireNonNull(sourceName, "sourceName");
        CsvRecords records = new CsvRecords(reader, ',', true, 4096);
        long added = 0;
        long present = 0;
        long bad = 0;
        List<BadLine> badLines = new ArrayList<>();
        int column = -1;
        CsvRecords.Record record;
        while ((record = records.next()) != null) {
            String raw;
            String reason;
            if (record instanceof CsvRecords.Fields fields) {
                if (column < 0) {
                    column = numberColumn(fields.values());
                    if (column >= 0) {
                        continue;
                    }
                    // No header: the first column of every line, this one included.
                    column = 0;
                }
                raw = column < fields.values().size() ? fields.values().get(column).strip() : "";
                PhoneNumbers.Normalized number = numbers.normalize(raw);
                if (number.isValid()) {
                    if (addPacked(E164.pack(number.e164()))) {
                        added++;
                    } else {
                        present++;
                    }
                    continue;
                }
                reason = number.reason();
            } else {
                raw = "";
                reason = ((CsvRecords.Malformed) record).reason();
            }
            bad++;
            if (badLines.size() < MAX_REPORTED_BAD_LINES) {
                badLines.add(new BadLine(sourceName, record.line(), raw, reason));
            }
        }
        return new LoadReport(sourceName, added, present, bad, badLines);
    }

    /**
     * Finds the number column of a header row.
     *
     * @return the column index when the row is a header naming the number column, {@code 0} for a header
     *         without such a name (no digit in its first cell), {@code -1} when the row is data
     */
    private static int numberColumn(List<String> row) {
        for (int i = 0; i < row.size(); i++) {
            if (CsvOptions.DEFAULT_NUMBER_COLUMNS.contains(row.get(i).strip().toLowerCase(Locale.ROOT))) {
                return i;
            }
        }
        String first = row.isEmpty() ? "" : row.get(0);
        return first.chars().anyMatch(Character::isDigit) ? -1 : 0;
    }

    /**
     * Adds a number at run time (an opt-out).
     *
     * @param number any form {@link PhoneNumbers} accepts, normally E.164
     * @return true when the number was not yet on the list
     * @throws IllegalArgumentException when the number is not valid
     */
    public boolean add(String number) {
        PhoneNumbers.Normalized normalized = numbers.normalize(number);
        if (!normalized.isValid()) {
            throw new IllegalArgumentException("not a valid number: " + Masking.phone(number) + " ("
                    + normalized.reason() + ")");
        }
        return addPacked(E164.pack(normalized.e164()));
    }

    private boolean addPacked(long key) {
        lock.writeLock().lock();
        try {
            return entries.add(key);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Whether a number is suppressed. Called right before each dial.
     *
     * @param number an E.164 number; any other form is normalized first (and an invalid one is not on the list)
     * @return true when the number must not be dialed
     */
    public boolean contains(String number) {
        long key = number == null ? -1 : E164.pack(number);
        if (key <= 0) {
            PhoneNumbers.Normalized normalized = numbers.normalize(number);
            if (!normalized.isValid()) {
                return false;
            }
            key = E164.pack(normalized.e164());
        }
        lock.readLock().lock();
        try {
            return entries.contains(key);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** How many numbers are on the list. */
    public int size() {
        lock.readLock().lock();
        try {
            return entries.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * One skipped line of a list.
     *
     * @param source the list's name
     * @param line   the 1-based line
     * @param text   the number as written (empty when the line could not be read)
     * @param reason why it was skipped
     */
    public record BadLine(String source, long line, String text, String reason) {
        @Override
        public String toString() {
            return source + ":" + line + ": " + reason + " (" + Masking.phone(text) + ")";
        }
    }

    /**
     * The outcome of one {@link #load}.
     *
     * @param source         the list's name
     * @param added          numbers newly added
     * @param alreadyPresent numbers that were already on the list (repeated in this or an earlier list)
     * @param badLineCount   lines skipped
     * @param badLines       the first {@link #MAX_REPORTED_BAD_LINES} skipped lines
     */
    public record LoadReport(String source, long added, long alreadyPresent, long badLineCount,
                             List<BadLine> badLines) {
        public LoadReport {
            badLines = List.copyOf(badLines);
        }
    }
}
