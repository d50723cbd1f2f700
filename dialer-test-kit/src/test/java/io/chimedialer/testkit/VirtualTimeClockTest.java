package io.chimedialer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

class VirtualTimeClockTest {
    private static final Instant T0 = Instant.parse("2026-01-05T15:00:00Z");

    @Test
    void instant_isTheSchedulersVirtualTime() {
        VirtualTimeScheduler scheduler = VirtualTimeScheduler.create();
        VirtualTimeClock clock = new VirtualTimeClock(scheduler);
        assertThat(clock.instant()).isEqualTo(Instant.EPOCH);

        scheduler.advanceTimeTo(T0);
        assertThat(clock.instant()).isEqualTo(T0);
        scheduler.advanceTimeBy(Duration.ofNanos(1_500_000_123L));
        assertThat(clock.instant()).isEqualTo(T0.plusNanos(1_500_000_123L));
        assertThat(clock.millis()).isEqualTo(T0.toEpochMilli() + 1_500);
        assertThat(clock.scheduler()).isSameAs(scheduler);
    }

    @Test
    void advance_runsWhatFallsDue_andTheTaskSeesItsTime() {
        VirtualTimeScheduler scheduler = VirtualTimeScheduler.create();
        scheduler.advanceTimeTo(T0);
        VirtualTimeClock clock = new VirtualTimeClock(scheduler);
        List<Instant> firedAt = new ArrayList<>();
        Mono.delay(Duration.ofSeconds(30), scheduler).subscribe(x -> firedAt.add(clock.instant()));

        assertThat(clock.advance(Duration.ofSeconds(29))).isEqualTo(T0.plusSeconds(29));
        assertThat(firedAt).isEmpty();
        assertThat(clock.advance(Duration.ofSeconds(1))).isEqualTo(T0.plusSeconds(30));
        assertThat(firedAt).containsExactly(T0.plusSeconds(30));
    }

    @Test
    void withZone_utcOnly() {
        VirtualTimeClock clock = new VirtualTimeClock(VirtualTimeScheduler.create());

        assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);
        assertThat(clock.withZone(ZoneOffset.UTC)).isSameAs(clock);
        assertThatThrownBy(() -> clock.withZone(ZoneId.of("Europe/Paris")))
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
