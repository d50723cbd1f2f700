package io.chimedialer.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ManualClockTest {
    private static final Instant T0 = Instant.parse("2026-01-05T15:00:00Z");

    @Test
    void instant_untouched_staysAtStart() {
        ManualClock clock = new ManualClock(T0);

        assertThat(clock.instant()).isEqualTo(T0);
        assertThat(clock.instant()).isEqualTo(T0);
        assertThat(clock.millis()).isEqualTo(T0.toEpochMilli());
        assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);
    }

    @Test
    void advance_andSet_moveTheClockExactly() {
        ManualClock clock = ManualClock.at("2026-01-05T15:00:00Z");

        assertThat(clock.advance(Duration.ofSeconds(90))).isEqualTo(T0.plusSeconds(90));
        assertThat(clock.advanceMillis(250)).isEqualTo(T0.plusSeconds(90).plusMillis(250));
        assertThat(clock.advance(Duration.ofSeconds(-30))).isEqualTo(T0.plusSeconds(60).plusMillis(250));
        clock.set(T0.minusSeconds(3600));
        assertThat(clock.instant()).isEqualTo(T0.minusSeconds(3600));
        assertThat(clock.millis()).isEqualTo(T0.minusSeconds(3600).toEpochMilli());
    }

    @Test
    void withZone_otherZone_sharesTheTime() {
        ManualClock clock = new ManualClock(T0);
        ManualClock paris = clock.withZone(ZoneId.of("Europe/Paris"));

        clock.advance(Duration.ofMinutes(5));
        assertThat(paris.instant()).isEqualTo(T0.plusSeconds(300));
        paris.advance(Duration.ofMinutes(5));
        assertThat(clock.instant()).isEqualTo(T0.plusSeconds(600));
        assertThat(paris.getZone()).isEqualTo(ZoneId.of("Europe/Paris"));
        assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);
        assertThat(clock.withZone(ZoneOffset.UTC)).isSameAs(clock);
    }

    @Test
    void advance_fromManyThreadsAtOnce_everyAdvanceCounts() throws Exception {
        ManualClock clock = new ManualClock(T0);
        int threads = 8;
        int perThread = 10_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        clock.advanceMillis(1);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(1, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(clock.instant()).isEqualTo(T0.plusMillis((long) threads * perThread));
    }
}
