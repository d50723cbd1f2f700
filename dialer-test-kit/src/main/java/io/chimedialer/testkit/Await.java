package io.chimedialer.testkit;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A bounded wait, built on Awaitility, for an integration test that must wait on something real (a child process,
 * a server, a database row): it polls a condition until it holds, and fails with an {@link AssertionError} that
 * names what was awaited and the last value seen when it does not hold within the bound, or at once when a
 * {@linkplain #failFastIf fail-fast condition} (e.g. "the process exited") holds. Unit tests use virtual time
 * ({@link VirtualTimeClock}, {@link ManualClock}) instead. An {@code Await} is a builder: not thread-safe, reusable.
 *
 * <pre>{@code
 * long created = Await.upTo(Duration.ofMinutes(2), "1,000 calls created")
 *         .failFastIf(() -> !dialer.isAlive(), () -> "the dialer exited; log:\n" + tail(log))
 *         .untilValue(() -> emulator.stats().created(), n -> n >= 1_000);
 * }</pre>
 */
public final class Await {
    /** How often the condition is polled unless {@link #pollEvery(Duration)} says otherwise. */
    public static final Duration DEFAULT_POLL = Duration.ofMillis(20);

    private final Duration atMost;
    private final String what;
    private Duration poll = DEFAULT_POLL;
    private BooleanSupplier failFast;
    private Supplier<String> failFastWhy;
    private Supplier<String> context = () -> "";

    private Await(Duration atMost, String what) {
        if (atMost.isNegative() || atMost.isZero()) {
            throw new IllegalArgumentException("atMost must be positive: " + atMost);
        }
        this.atMost = atMost;
        this.what = Objects.requireNonNull(what, "what");
    }

    /**
     * A wait of at most {@code atMost} for {@code what} (a description of the condition, for the failure message).
     */
    public static Await upTo(Duration atMost, String what) {
        return new Await(Objects.requireNonNull(atMost, "atMost"), what);
    }

    /** Shorthand for {@code upTo(atMost, what).until(condition)}. */
    public static void until(Duration atMost, String what, Callable<Boolean> condition) {
        upTo(atMost, what).until(condition);
    }

    /**
     * Checks that {@code invariant} holds at every poll for the whole of {@code period}, failing at the first poll
     * where it does not: for a test that must watch a real system do nothing for a while (no Create while a
     * campaign is paused). Prefer a condition that ends the watch when there is one.
     *
     * @throws AssertionError naming {@code what} at the first poll where the invariant is false
     */
    public static void holdsFor(Duration period, String what, Callable<Boolean> invariant) {
        Objects.requireNonNull(period, "period");
        try {
            // Waits for the invariant to break; the wait running out is the invariant having held.
            Awaitility.await(what)
                    .atMost(period)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(DEFAULT_POLL)
                    .pollInSameThread()
                    .until(() -> !Boolean.TRUE.equals(invariant.call()));
        } catch (ConditionTimeoutException held) {
            return;
        }
        throw new AssertionError("did not hold for " + period + ": " + what);
    }

    /** Polls every {@code interval} (default {@link #DEFAULT_POLL}). */
    public Await pollEvery(Duration interval) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive: " + interval);
        }
        this.poll = interval;
        return this;
    }

    /**
     * Gives up at once, failing with {@code why}, when {@code broken} holds at a poll (checked before the condition):
     * for a wait that can no longer succeed, such as on a process that has exited.
     */
    public Await failFastIf(BooleanSupplier broken, Supplier<String> why) {
        this.failFast = Objects.requireNonNull(broken, "broken");
        this.failFastWhy = Objects.requireNonNull(why, "why");
        return this;
    }

    /**
     * Appends {@code context} (read only on failure, e.g. the tail of a process's log) to the failure message of a
     * timeout or a fail-fast.
     */
    public Await withContext(Supplier<String> context) {
        Objects.requireNonNull(context, "context");
        this.context = () -> "; " + context.get();
        return this;
    }

    /**
     * Returns once {@code condition} is true.
     *
     * @throws AssertionError when it is not true within the bound, or the fail-fast condition holds first
     */
    public void until(Callable<Boolean> condition) {
        untilValue(condition, Boolean.TRUE::equals);
    }

    /**
     * Returns the first value of {@code value} that satisfies {@code done}.
     *
     * @throws AssertionError when no value does within the bound (the message has the last one), or the fail-fast
     *                        condition holds first
     */
    public <T> T untilValue(Callable<T> value, Predicate<? super T> done) {
        AtomicReference<T> last = new AtomicReference<>();
        AtomicBoolean read = new AtomicBoolean();
        AtomicBoolean failedFast = new AtomicBoolean();
        try {
            Awaitility.await(what)
                    .atMost(atMost)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(poll)
                    .pollInSameThread()
                    .until(() -> {
                        if (failFast != null && failFast.getAsBoolean()) {
                            failedFast.set(true);
                            return true;
                        }
                        T v = value.call();
                        last.set(v);
                        read.set(true);
                        return done.test(v);
                    });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("waited " + atMost + " for " + what + "; last value: "
                    + (read.get() ? last.get() : "(none read)") + context.get(), e);
        }
        if (failedFast.get()) {
            throw new AssertionError("gave up waiting for " + what + ": " + failFastWhy.get() + context.get());
        }
        return last.get();
    }
}
