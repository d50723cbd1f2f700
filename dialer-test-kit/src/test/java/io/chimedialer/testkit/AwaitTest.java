package io.chimedialer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AwaitTest {

    @Test
    void untilValue_conditionBecomesTrue_returnsTheFirstValueThatSatisfiesIt() {
        AtomicInteger polls = new AtomicInteger();

        int value = Await.upTo(Duration.ofMinutes(1), "the fifth poll").pollEvery(Duration.ofMillis(1))
                .untilValue(polls::incrementAndGet, n -> n >= 5);

        assertThat(value).isEqualTo(5);
        assertThat(polls).hasValue(5);
    }

    @Test
    void until_trueAtOnce_pollsOnce() {
        AtomicInteger polls = new AtomicInteger();

        Await.until(Duration.ofMinutes(1), "true", () -> polls.incrementAndGet() > 0);

        assertThat(polls).hasValue(1);
    }

    @Test
    void until_setByAnotherThread_returns() throws Exception {
        AtomicInteger flag = new AtomicInteger();
        Thread setter = new Thread(() -> flag.set(1));
        setter.start();

        Await.until(Duration.ofMinutes(1), "the flag set", () -> flag.get() == 1);

        setter.join(60_000);
        assertThat(flag).hasValue(1);
    }

    @Test
    void untilValue_neverTrue_failsNamingWhatAndTheLastValue() {
        AtomicInteger polls = new AtomicInteger();

        assertThatThrownBy(() -> Await.upTo(Duration.ofMillis(200), "a negative count").pollEvery(Duration.ofMillis(5))
                .untilValue(() -> 40 + Math.min(2, polls.incrementAndGet()), n -> n < 0))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("waited PT0.2S for a negative count")
                .hasMessageContaining("last value: 42");
        assertThat(polls.get()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void until_failFastConditionHolds_failsWithItsReasonWithoutReadingTheCondition() {
        AtomicInteger reads = new AtomicInteger();

        assertThatThrownBy(() -> Await.upTo(Duration.ofHours(1), "the process to print READY")
                .failFastIf(() -> true, () -> "the process exited with 3")
                .until(() -> reads.incrementAndGet() < 0))
                .isInstanceOf(AssertionError.class)
                .hasMessage("gave up waiting for the process to print READY: the process exited with 3");
        assertThat(reads).hasValue(0);
    }

    @Test
    void withContext_onTimeoutAndOnFailFast_appendedToTheMessage() {
        assertThatThrownBy(() -> Await.upTo(Duration.ofMillis(50), "false").withContext(() -> "log: boom")
                .until(() -> false))
                .hasMessageStartingWith("waited PT0.05S for false; last value: false; log: boom");
        assertThatThrownBy(() -> Await.upTo(Duration.ofHours(1), "x").withContext(() -> "log: boom")
                .failFastIf(() -> true, () -> "dead").until(() -> false))
                .hasMessage("gave up waiting for x: dead; log: boom");
    }

    @Test
    void until_conditionThrows_theExceptionPropagates() {
        assertThatThrownBy(() -> Await.until(Duration.ofMinutes(1), "a read", () -> {
            throw new IllegalStateException("broken read");
        })).isInstanceOf(IllegalStateException.class).hasMessage("broken read");
    }

    @Test
    void holdsFor_invariantTrueThroughout_pollsUntilThePeriodEnds() {
        AtomicInteger polls = new AtomicInteger();

        Await.holdsFor(Duration.ofMillis(200), "always true", () -> polls.incrementAndGet() > 0);

        assertThat(polls.get()).isGreaterThan(1);
    }

    @Test
    void holdsFor_invariantTurnsFalse_failsNamingIt() {
        AtomicInteger polls = new AtomicInteger();

        assertThatThrownBy(() -> Await.holdsFor(Duration.ofHours(1), "no Create while paused",
                () -> polls.incrementAndGet() < 3))
                .isInstanceOf(AssertionError.class)
                .hasMessage("did not hold for PT1H: no Create while paused");
        // It gave up at the first poll that broke it, not after the hour.
        assertThat(polls).hasValue(3);
    }

    @Test
    void upTo_nonPositiveBound_rejected() {
        assertThatThrownBy(() -> Await.upTo(Duration.ZERO, "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Await.upTo(Duration.ofSeconds(1), "x").pollEvery(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
