package io.chimedialer.core.contacts;

import io.chimedialer.core.util.Masking;

/**
 * Remembers which numbers a campaign has already taken, so a duplicate is dialed once.
 *
 * <p>Numbers are kept as packed longs in a primitive open-addressing table (about 11 to 23 bytes per number;
 * see {@link #memoryBytes()}), never as strings. Thread-safe (methods are synchronized; the contact stream
 * calls it from one thread at a time).
 */
public final class Deduplicator {
    private final LongHashSet seen;

    /** An empty deduplicator sized for 1024 numbers; it grows as needed. */
    public Deduplicator() {
        this(1024);
    }

    /**
     * An empty deduplicator.
     *
     * @param expectedNumbers how many distinct numbers to size the table for (it grows past that)
     */
    public Deduplicator(int expectedNumbers) {
        if (expectedNumbers < 0) {
            throw new IllegalArgumentException("expectedNumbers must be >= 0, was " + expectedNumbers);
        }
        this.seen = new LongHashSet(expectedNumbers);
    }

    /**
     * Records a number.
     *
     * @param e164 a number in E.164 form ({@code +} and up to 15 digits), as {@link PhoneNumbers} produces
     * @return true the first time the number is seen, false for a duplicate
     * @throws IllegalArgumentException when the number is not in E.164 form
     */
    public synchronized boolean firstSeen(String e164) {
        return seen.add(packOrThrow(e164));
    }

    /** True when {@link #firstSeen(String)} has already recorded this E.164 number. */
    public synchronized boolean contains(String e164) {
        long key = E164.pack(e164);
        return key > 0 && seen.contains(key);
    }

    /** How many distinct numbers were recorded. */
    public synchronized int size() {
        return seen.size();
    }

    /** The bytes held by the number table (grows in powers of two as numbers are added). */
    public synchronized long memoryBytes() {
        return seen.tableBytes();
    }

    static long packOrThrow(String e164) {
        long key = E164.pack(e164);
        if (key <= 0) {
            throw new IllegalArgumentException("not an E.164 number: " + Masking.phone(e164));
        }
        return key;
    }
}
