package io.chimedialer.core.contacts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DeduplicatorTest {

    @Test
    void firstSeen_sameNumberTwice_trueThenFalse() {
        Deduplicator dedupe = new Deduplicator();

        assertThat(dedupe.firstSeen("+12125550123")).isTrue();
        assertThat(dedupe.firstSeen("+12125550123")).isFalse();
        assertThat(dedupe.firstSeen("+13105550123")).isTrue();
        assertThat(dedupe.contains("+12125550123")).isTrue();
        assertThat(dedupe.contains("+14155550100")).isFalse();
        assertThat(dedupe.size()).isEqualTo(2);
    }

    @Test
    void firstSeen_manyNumbersWithRepeats_matchesAHashSetExactly() {
        Deduplicator dedupe = new Deduplicator(16);
        Set<String> truth = new HashSet<>();
        Random random = new Random(42);
        int firsts = 0;
        for (int i = 0; i < 300_000; i++) {
            // Drawn from 200,000 numbers so about a third are repeats; also exercises growth from 16 slots.
            String number = SyntheticCsv.number(random.nextInt(200_000));
            boolean first = dedupe.firstSeen(number);
            assertThat(first).isEqualTo(truth.add(number));
            if (first) {
                firsts++;
            }
        }
        assertThat(dedupe.size()).isEqualTo(truth.size()).isEqualTo(firsts);
        assertThat(truth).allMatch(dedupe::contains);
    }

    @Test
    void memoryBytes_oneMillionNumbers_underTwoMegaSlots() {
        Deduplicator dedupe = new Deduplicator();
        for (int i = 0; i < 1_000_000; i++) {
            assertThat(dedupe.firstSeen(SyntheticCsv.number(i))).isTrue();
        }

        // 2^21 slots of 8 bytes in 64 segments: 16 MiB, about 17 bytes per number (a HashSet<String> needs ~100).
        assertThat(dedupe.memoryBytes()).isEqualTo(16L * 64 + 8L * (1 << 21));
        assertThat(dedupe.size()).isEqualTo(1_000_000);
    }

    @Test
    void firstSeen_notE164_throws() {
        Deduplicator dedupe = new Deduplicator();

        assertThatThrownBy(() -> dedupe.firstSeen("2125550123"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("******0123");
        assertThat(dedupe.contains("2125550123")).isFalse();
    }

    @Test
    void longHashSet_largerThanOneSegment_keepsEveryKeyAcrossGrowths_inSegmentsOfBoundedSize() {
        LongHashSet set = new LongHashSet(16);
        int n = 1_600_000;
        for (long i = 1; i <= n; i++) {
            assertThat(set.add(i * 7_919L + 3)).isTrue();
        }
        assertThat(set.add(7_919L + 3)).isFalse();
        assertThat(set.size()).isEqualTo(n);
        for (long i = 1; i <= n; i++) {
            assertThat(set.contains(i * 7_919L + 3)).isTrue();
            assertThat(set.contains(i * 7_919L + 4)).isFalse();
        }
        // 25,000 keys per shard at a load of at most 0.7: 2^16 slots each, in 2 segments of 2^15 (none a G1
        // humongous object); 2^22 slots in all.
        int capacity = 1 << 22;
        assertThat(set.tableBytes()).isEqualTo(16L * (capacity / LongHashSet.SEGMENT_SLOTS) + 8L * capacity);
    }

    @Test
    void longHashSet_growing_holdsOneShardTwiceAtMost_neverTheWholeTable() {
        LongHashSet set = new LongHashSet(0);
        for (long i = 1; i <= 2_000_000; i++) {
            set.add(i * 104_729L);
        }

        // 2^22 slots (32 MiB) at the end. One table growing from 2^21 to 2^22 slots would hold 48 MiB at once; shard
        // by shard, the most ever live is the table plus one shard's new 2^16 slots (512 KiB).
        long table = set.tableBytes();
        assertThat(table).isEqualTo(16L * 128 + 8L * (1 << 22));
        assertThat(set.growthPeakBytes()).isGreaterThan(table / 2).isLessThanOrEqualTo(table + table / 32);
    }

    @Test
    void longHashSet_presizedForItsKeys_neverGrows() {
        for (int n : new int[] {0, 700, 100_000, 1_000_000}) {
            LongHashSet set = new LongHashSet(n);
            long sized = set.tableBytes();
            for (long key = 1; key <= n; key++) {
                set.add(key * 31L);
            }
            assertThat(set.size()).as("keys for %d", n).isEqualTo(n);
            assertThat(set.tableBytes()).as("table for %d", n).isEqualTo(sized);
            assertThat(set.growthPeakBytes()).as("growth for %d", n).isZero();
            // At most twice the slots the keys need at a load of 0.7 for a large set (eight times for a small one,
            // whose shards' shares spread widely), never under the smallest shards.
            int slack = n >= 100_000 ? 2 : 8;
            assertThat(sized).as("slots sized for %d", n).isLessThanOrEqualTo(
                    LongHashSet.SHARDS * (16L + 8L * Math.max(2 * LongHashSet.MIN_SHARD_SLOTS,
                            (long) (slack * n / 0.7 / LongHashSet.SHARDS) + 1)));
        }
    }

    @Test
    void longHashSet_smallSet_growsPastItsSizing_keepsEveryKey() {
        LongHashSet set = new LongHashSet(700);
        long sized = set.tableBytes();
        assertThat(sized).isEqualTo(64L * (16 + 8 * 64));
        for (long key = 1; key <= 20_000; key++) {
            assertThat(set.add(key)).isTrue();
        }
        assertThat(set.tableBytes()).isGreaterThan(sized);
        for (long key = 1; key <= 20_000; key++) {
            assertThat(set.contains(key)).isTrue();
        }
        assertThat(set.contains(20_001)).isFalse();
        assertThat(set.contains(0)).isFalse();
        assertThat(set.add(1)).isFalse();
    }
}
