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
        int n = 200_000;
        for (long i = 1; i <= n; i++) {
            assertThat(set.add(i * 7_919L + 3)).isTrue();
        }
        assertThat(set.add(7_919L + 3)).isFalse();
        assertThat(set.size()).isEqualTo(n);
        for (long i = 1; i <= n; i++) {
            assertThat(set.contains(i * 7_919L + 3)).isTrue();
            assertThat(set.contains(i * 7_919L + 4)).isFalse();
        }
        // 200,000 keys at a load of at most 0.7: 2^19 slots, in 16 segments of 2^15 (none a G1 humongous object).
        int capacity = 1 << 19;
        assertThat(set.tableBytes()).isEqualTo(16L * (capacity / LongHashSet.SEGMENT_SLOTS) + 8L * capacity);
    }

    @Test
    void longHashSet_presizedTable_doesNotGrowUntilLoadLimit() {
        LongHashSet set = new LongHashSet(700);

        assertThat(set.tableBytes()).isEqualTo(16L + 8L * 1024);
        for (long key = 1; key <= 716; key++) {
            set.add(key);
        }
        assertThat(set.tableBytes()).isEqualTo(16L + 8L * 1024);
        set.add(717);
        assertThat(set.tableBytes()).isEqualTo(16L + 8L * 2048);
        for (long key = 1; key <= 717; key++) {
            assertThat(set.contains(key)).isTrue();
        }
        assertThat(set.contains(718)).isFalse();
        assertThat(set.contains(0)).isFalse();
    }
}
