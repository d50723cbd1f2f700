package io.chimedialer.core.contacts;

/**
 * A set of positive longs in open-addressing tables (linear probing, 0 marks a free slot).
 *
 * <p>About 11 to 23 bytes per element instead of the ~100 of a {@code HashSet<String>}. Not thread-safe.
 *
 * <p>The keys are spread over {@value #SHARDS} shards by the top bits of their hash, and each shard is a table of
 * its own that doubles when it passes a load of 0.7. Growth therefore never holds the whole old table and a whole
 * new one at once, only one shard's: a set of 10 million numbers in 128 MB of slots needs 4 MB more while a shard
 * grows, where one table would need 192 MB (the old 64 MB and the new 128 MB) at the moment it passes 5.9 million.
 *
 * <p>A shard's table is stored in segments of at most {@value #SEGMENT_SLOTS} slots (256 KiB), never as one array: a
 * large single array is a "humongous" object for G1 on a small heap, which needs that many contiguous free regions
 * (and is never moved to make them). Segments fit in any free region.
 */
final class LongHashSet {
    private static final long PHI = 0x9E3779B97F4A7C15L;
    private static final double MAX_LOAD = 0.7;
    /** Shards: 2^6, chosen by the top 6 bits of the hash. */
    static final int SHARDS = 1 << 6;
    private static final int SHARD_BITS = 6;
    /** The smallest shard table, in slots. */
    static final int MIN_SHARD_SLOTS = 16;
    /** Slots per segment: 2^15 longs, 256 KiB, under G1's humongous threshold for its smallest (1 MiB) regions. */
    static final int SEGMENT_SLOTS = 1 << 15;
    private static final int SEGMENT_SHIFT = 15;

    private final Shard[] shards = new Shard[SHARDS];
    private long growthPeakBytes;

    /**
     * @param expected how many keys to size the shards for; each gets room for its share of them, plus four standard
     *                 deviations of the spread of a uniform hash, so a set sized for its keys does not grow
     */
    LongHashSet(int expected) {
        double share = Math.max(0, expected) / (double) SHARDS;
        double keysPerShard = share + 4 * Math.sqrt(share);
        int c = MIN_SHARD_SLOTS;
        while (c * MAX_LOAD < keysPerShard) {
            c <<= 1;
        }
        for (int i = 0; i < SHARDS; i++) {
            shards[i] = new Shard(c);
        }
    }

    private static long hash(long key) {
        // Fibonacci hashing: the high bits of key * phi spread consecutive numbers across shards and slots.
        return key * PHI;
    }

    private Shard shardOf(long h) {
        return shards[(int) (h >>> (64 - SHARD_BITS))];
    }

    /** Adds a positive key; returns true when it was not present. */
    boolean add(long key) {
        if (key <= 0) {
            throw new IllegalArgumentException("key must be > 0");
        }
        long h = hash(key);
        Shard shard = shardOf(h);
        if (!shard.add(key, h)) {
            return false;
        }
        if (shard.size > shard.resizeAt) {
            long before = tableBytes();
            shard.grow();
            // While the shard was copied its old table and its new one were both live.
            growthPeakBytes = Math.max(growthPeakBytes, before + shard.bytes());
        }
        return true;
    }

    boolean contains(long key) {
        if (key <= 0) {
            return false;
        }
        long h = hash(key);
        return shardOf(h).contains(key, h);
    }

    int size() {
        int size = 0;
        for (Shard s : shards) {
            size += s.size;
        }
        return size;
    }

    /** The bytes held by the tables: their slots and their segments' array headers (16 bytes each). */
    long tableBytes() {
        long bytes = 0;
        for (Shard s : shards) {
            bytes += s.bytes();
        }
        return bytes;
    }

    /** The most table bytes live at once during any growth so far (0 when the set never grew). */
    long growthPeakBytes() {
        return growthPeakBytes;
    }

    /** One shard: a table of {@code capacity} slots (a power of two), in segments. */
    private static final class Shard {
        private long[][] segments;
        private int capacity;
        private int size;
        private int shift;
        private int resizeAt;

        Shard(int capacity) {
            allocate(capacity);
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

        long bytes() {
            return 16L * segments.length + 8L * capacity;
        }

        private int slot(long h) {
            // The bits under the shard's: the top bits chose the shard, the next ones choose the slot.
            return (int) ((h << SHARD_BITS) >>> shift);
        }

        private static long get(long[][] s, int i) {
            return s[i >>> SEGMENT_SHIFT][i & (SEGMENT_SLOTS - 1)];
        }

        private static void set(long[][] s, int i, long key) {
            s[i >>> SEGMENT_SHIFT][i & (SEGMENT_SLOTS - 1)] = key;
        }

        /** The slot that holds {@code key}, or else the free slot where its probe ends. */
        private int probe(long key, long h) {
            long[][] s = segments;
            int mask = capacity - 1;
            int i = slot(h);
            for (long k = get(s, i); k != key && k != 0; k = get(s, i)) {
                i = (i + 1) & mask;
            }
            return i;
        }

        boolean add(long key, long h) {
            int i = probe(key, h);
            if (get(segments, i) == key) {
                return false;
            }
            set(segments, i, key);
            size++;
            return true;
        }

        boolean contains(long key, long h) {
            return get(segments, probe(key, h)) == key;
        }

        void grow() {
            long[][] old = segments;
            allocate(capacity << 1);
            for (long[] segment : old) {
                for (long key : segment) {
                    if (key != 0) {
                        // The keys are distinct, so each one's probe ends at a free slot.
                        set(segments, probe(key, hash(key)), key);
                    }
                }
            }
        }
    }
}
