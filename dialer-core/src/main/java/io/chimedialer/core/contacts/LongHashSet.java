package io.chimedialer.core.contacts;

/**
 * A set of positive longs in one open-addressing table (linear probing, 0 marks a free slot).
 *
 * <p>About 11 to 23 bytes per element instead of the ~100 of a {@code HashSet<String>}. Not thread-safe.
 *
 * <p>The table is stored in segments of at most {@value #SEGMENT_SLOTS} slots (256 KiB), never as one array: a
 * large single array is a "humongous" object for G1 on a small heap, which needs that many contiguous free regions
 * (and is never moved to make them), so that growing a table of a million numbers under {@code -Xmx64m} could fail
 * with free memory to spare. Segments fit in any free region.
 */
final class LongHashSet {
    private static final long PHI = 0x9E3779B97F4A7C15L;
    private static final double MAX_LOAD = 0.7;
    /** Slots per segment: 2^15 longs, 256 KiB, under G1's humongous threshold for its smallest (1 MiB) regions. */
    static final int SEGMENT_SLOTS = 1 << 15;
    private static final int SEGMENT_SHIFT = 15;

    private long[][] segments;
    private int capacity;
    private int size;
    private int shift;
    private int resizeAt;

    LongHashSet(int expected) {
        int c = 16;
        while (c * MAX_LOAD < expected) {
            c <<= 1;
        }
        allocate(c);
    }

    private void allocate(int newCapacity) {
        int perSegment = Math.min(newCapacity, SEGMENT_SLOTS);
        long[][] s = new long[newCapacity / perSegment][];
        for (int i = 0; i < s.length; i++) {
            s[i] = new long[perSegment];
        }
        segments = s;
        capacity = newCapacity;
        shift = 64 - Integer.numberOfTrailingZeros(newCapacity);
        resizeAt = (int) (newCapacity * MAX_LOAD);
    }

    private int slot(long key) {
        // Fibonacci hashing: the high bits of key * phi spread consecutive numbers across the table.
        return (int) ((key * PHI) >>> shift);
    }

    private static long get(long[][] s, int i) {
        return s[i >>> SEGMENT_SHIFT][i & (SEGMENT_SLOTS - 1)];
    }

    private static void set(long[][] s, int i, long key) {
        s[i >>> SEGMENT_SHIFT][i & (SEGMENT_SLOTS - 1)] = key;
    }

    /** Adds a positive key; returns true when it was not present. */
    boolean add(long key) {
        if (key <= 0) {
            throw new IllegalArgumentException("key must be > 0");
        }
        long[][] s = segments;
        int mask = capacity - 1;
        for (int i = slot(key); ; i = (i + 1) & mask) {
            long k = get(s, i);
            if (k == key) {
                return false;
            }
            if (k == 0) {
                set(s, i, key);
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
        long[][] s = segments;
        int mask = capacity - 1;
        for (int i = slot(key); ; i = (i + 1) & mask) {
            long k = get(s, i);
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

    /** The bytes held by the table: its slots and their segments' array headers (16 bytes each). */
    long tableBytes() {
        return 16L * segments.length + 8L * capacity;
    }

    private void grow() {
        long[][] old = segments;
        allocate(capacity << 1);
        long[][] s = segments;
        int mask = capacity - 1;
        for (long[] segment : old) {
            for (long key : segment) {
                if (key != 0) {
                    int i = slot(key);
                    while (get(s, i) != 0) {
                        i = (i + 1) & mask;
                    }
                    set(s, i, key);
                }
            }
        }
    }
}
