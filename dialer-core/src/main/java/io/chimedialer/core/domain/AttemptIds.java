package io.chimedialer.core.domain;

import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Attempt ids in the layout of RFC 9562's UUID version 7: 48 bits of Unix milliseconds, a 12-bit sequence within
 * the millisecond, then 62 random bits. Each id this generator gives is greater than the one before it, as a
 * number and as its lower-case string, even when the clock stands still or steps back (the millisecond field then
 * runs ahead of the clock until the clock catches up).
 *
 * <p>Why not random UUIDs: every attempt's id is a key of the ledger's {@code attempts} table, and a random key
 * lands on a random page of its index. With a few hundred thousand attempts a commit of a few hundred intents then
 * dirties a few hundred index pages, each written again to the write-ahead log and synced. In
 * {@code LedgerWriteBenchmark}, with random TransactionIds as Chime's are, the writer spent 92 us of CPU per attempt
 * with random attempt ids and 54 with these (docs/benchmarks.md). Ids that grow append to the index's last pages.
 * Ids from several nodes interleave by their milliseconds, which keeps the inserts near the end as well.
 *
 * <p>The random part comes from {@link ThreadLocalRandom}, not from {@link UUID#randomUUID()}, whose
 * {@code SecureRandom} is one lock that every admitting thread would queue on. The ids need to be unique, not
 * unguessable: the sequence makes those of one process unique, and 62 random bits separate those of two processes
 * that share a millisecond and a sequence number.
 */
public final class AttemptIds implements Supplier<String> {
    private static final int SEQUENCE_BITS = 12;
    private static final long SEQUENCE_MASK = (1L << SEQUENCE_BITS) - 1;
    private static final long MILLIS_MASK = (1L << 48) - 1;

    private final Clock clock;
    // millis << 12 | sequence of the last id given; guarded by this
    private long last = Long.MIN_VALUE;

    private AttemptIds(Clock clock) {
        this.clock = clock;
    }

    /** A generator whose ids grow with {@code clock}'s milliseconds. One per process: share it across campaigns. */
    public static AttemptIds timeOrdered(Clock clock) {
        return new AttemptIds(java.util.Objects.requireNonNull(clock, "clock"));
    }

    @Override
    public String get() {
        return next().toString();
    }

    /** The next id as a {@link UUID} (version 7, variant 2). */
    public UUID next() {
        long stamp = nextStamp(clock.millis());
        long millis = (stamp >>> SEQUENCE_BITS) & MILLIS_MASK;
        long sequence = stamp & SEQUENCE_MASK;
        long most = (millis << 16) | (0x7L << 12) | sequence;
        long least = (ThreadLocalRandom.current().nextLong() >>> 2) | 0x8000_0000_0000_0000L;
        return new UUID(most, least);
    }

    private synchronized long nextStamp(long now) {
        long candidate = Math.max(0, now) << SEQUENCE_BITS;
        // the clock moved on: start its millisecond at sequence 0; otherwise count on (past 4095 into the next ms)
        last = candidate > last ? candidate : last + 1;
        return last;
    }
}
