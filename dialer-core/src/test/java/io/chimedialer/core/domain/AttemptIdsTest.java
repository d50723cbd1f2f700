package io.chimedialer.core.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.testkit.ManualClock;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class AttemptIdsTest {

    @Test
    void idsGrowAsStringsWithinOneMillisecondPastItsSequenceAndWhenTheClockStepsBack() {
        ManualClock clock = new ManualClock(Instant.ofEpochMilli(1_765_000_000_000L));
        AttemptIds ids = AttemptIds.timeOrdered(clock);
        List<String> given = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) { // more than the 4,096 one millisecond's sequence holds
            given.add(ids.get());
        }
        clock.set(clock.instant().minusSeconds(60)); // the clock steps back a minute
        for (int i = 0; i < 100; i++) {
            given.add(ids.get());
        }
        clock.set(Instant.ofEpochMilli(1_765_000_100_000L)); // and then well past where the ids ran ahead to
        given.add(ids.get());

        for (int i = 1; i < given.size(); i++) {
            assertThat(given.get(i)).as("id %d after %s", i, given.get(i - 1)).isGreaterThan(given.get(i - 1));
        }
        assertThat(new HashSet<>(given)).hasSize(given.size());
        // the last one starts again at the clock's millisecond, sequence 0
        UUID last = UUID.fromString(given.get(given.size() - 1));
        assertThat(last.getMostSignificantBits() >>> 16).isEqualTo(1_765_000_100_000L);
        assertThat(last.getMostSignificantBits() & 0xFFF).isZero();
    }

    @Test
    void idsAreVersion7UuidsCarryingTheClocksMillisecond() {
        AttemptIds ids = AttemptIds.timeOrdered(new ManualClock(Instant.ofEpochMilli(1_765_432_101_234L)));
        Set<Long> randomParts = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            UUID id = UUID.fromString(ids.get());
            assertThat(id.version()).isEqualTo(7);
            assertThat(id.variant()).isEqualTo(2);
            assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(1_765_432_101_234L);
            randomParts.add(id.getLeastSignificantBits());
        }
        // 62 random bits: a repeat among 1,000 would be a broken generator, not bad luck
        assertThat(randomParts).hasSize(1_000);
    }

    @Test
    void threadsSharingOneGeneratorNeverGetTheSameId() throws InterruptedException {
        AttemptIds ids = AttemptIds.timeOrdered(Clock.fixed(Instant.ofEpochMilli(1_765_000_000_000L), ZoneOffset.UTC));
        Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 5_000; i++) {
                    seen.add(ids.get());
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(seen).hasSize(20_000);
        // the sequence (not the random part) keeps them apart: strip the random bits and they are still distinct
        Set<Long> stamps = new HashSet<>();
        for (String id : seen) {
            stamps.add(UUID.fromString(id).getMostSignificantBits());
        }
        assertThat(stamps).hasSize(20_000);
    }
}
