package io.chimedialer.core.pacing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

class AdaptiveRateTest {

    @Test
    void onThrottled_halvesThenClimbsBackLinearlyToConfigured() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        AdaptiveRate rate = new AdaptiveRate("r", 10, AimdSettings.ofDefaults(), clock);

        assertThat(rate.onThrottled()).isTrue();
        assertThat(rate.effectiveRate()).isCloseTo(5.0, within(1e-9));
        clock.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(rate.effectiveRate()).isCloseTo(7.5, within(1e-9));
        clock.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(rate.effectiveRate()).isCloseTo(10.0, within(1e-9));
        clock.advanceTimeBy(Duration.ofSeconds(60));
        assertThat(rate.effectiveRate()).isEqualTo(10.0);
    }

    @Test
    void onThrottled_withinCooldown_countsAsOneCongestionEvent() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        AdaptiveRate rate = new AdaptiveRate("r", 10, AimdSettings.ofDefaults(), clock);

        rate.onThrottled();
        clock.advanceTimeBy(Duration.ofMillis(500));
        assertThat(rate.onThrottled()).isFalse();
        assertThat(rate.decreases()).isEqualTo(1);
        assertThat(rate.throttles()).isEqualTo(2);
        clock.advanceTimeBy(Duration.ofMillis(500));
        assertThat(rate.onThrottled()).isTrue();
        // 5 + 0.5/s * 1 s = 5.5, halved.
        assertThat(rate.effectiveRate()).isCloseTo(2.75, within(1e-9));
    }

    @Test
    void onThrottled_repeatedly_stopsAtFloor() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        AdaptiveRate rate = new AdaptiveRate("r", 10, new AimdSettings(0.5, 0.2, 0.05, Duration.ZERO), clock);

        for (int i = 0; i < 10; i++) {
            rate.onThrottled();
        }

        assertThat(rate.effectiveRate()).isEqualTo(2.0);
    }

    @Test
    void rates_sampledOnTheScheduler_emitsTheDropAndTheClimbBack() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        AdaptiveRate rate = new AdaptiveRate("r", 10, AimdSettings.ofDefaults(), clock);

        reactor.test.StepVerifier.withVirtualTime(() -> rate.rates(Duration.ofSeconds(5)).take(4),
                        () -> clock, Long.MAX_VALUE)
                .expectNext(10.0)
                .then(rate::onThrottled)
                .thenAwait(Duration.ofSeconds(5))
                .expectNext(7.5)
                .thenAwait(Duration.ofSeconds(5))
                .expectNext(10.0)
                .then(rate::onThrottled)
                .thenAwait(Duration.ofSeconds(5))
                .expectNext(7.5)
                .verifyComplete();
    }
}
