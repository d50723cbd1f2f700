package io.chimedialer.core.contacts;

/**
 * A set of positive longs in one open-addressing table (linear probing, 0 marks a free slot).
 *
 * <p>About 11 to 23 bytes per element instead of the ~100 of a {@code HashSet<String>}. Not thread-safe.
 */
final class LongHashSet {
    private static final long PHI = 0x9E3779B97F4A7C15L;
    private static final double MAX_LOAD = 0.7;

    private long[] table;
    private int size;
    private int shift;
    private int resizeAt;

    LongHashSet(int expected) {
        int capacity = 16;
        while (capacity * MAX_LOAD < expected) {
            capacity <<= 1;
        }
        allocate(capacity);
    }

    private void allocate(int capacity) {
        table = new long[capacity];
        shift = 64 - Integer.numberOfTrailingZeros(capacity);
        resizeAt = (int) (capacity * MAX_LOAD);
    }

    private int slot(long key) {
        // Fibonacci hashing: the high bits of key * phi spread consecutive numbers across the table.
        return (int) ((key * PHI) >>> shift);
    }

    /** Adds a positive key; returns true when it was not present. */
    boolean add(long key) {
        if (key <= 0) {
            throw new IllegalArgumentException("key must be > 0");
        }
        long[] t = table;
        int mask = t.length - 1;
        for (int i = slot(key); ; i = (i + 1) & mask) {
            long k = t[i];
            if (k == key) {
                return false;
            }
            if (k == 0) {
                t[i] = key;
                if (++size > resizeAt) {
                    grow();
                }
                return true;
            }
        }
    }

    boolean contains(long key) {
        if (key <= 0) {
            return false;
        }
        long[] t = table;
        int mask = t.length - 1;
        for (int i = slot(key); ; i = (i + 1) & mask) {
            long k = t[i];
            if (k == key) {
                return true;
            }
            if (k == 0) {
                return false;
            }
        }
    }

    int size() {
        return size;
    }

    /** The bytes held by the table (the array's header and slots). */
    long tableBytes() {
        return 16L + 8L * table.length;
    }

    private void grow() {
        long[] old = table;
        allocate(old.length << 1);
        long[] t = table;
        int mask = t.length - 1;
        for (long key : old) {
            if (key != 0) {
                int i = slot(key);
                while (t[i] != 0) {
                    i = (i + 1) & mask;
                }
                t[i] = key;
            }
        }
    }
}
