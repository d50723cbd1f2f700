package io.chimedialer.core.pacing;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Holds the admission of new calls while the webhook's answers lag (issue 16 §5). The webhook's latency on a
 * saturated host is a queue (invocations in flight / answers per second): admitting new calls while it lags only
 * lengthens it, until Chime gives up on invocations after 5 s. So while the lag ({@code calls.WebhookLag}: the
 * oldest unanswered delivery's age, or the longest recent answer as its sender timed it) is above the threshold,
 * {@link #whenOpen()} does not complete: the {@link Dialer} waits there before it takes a Region's permit, before
 * any intent is written, so nothing is admitted, withdrawn or lost and at-most-once is untouched; calls in progress
 * go on. Admission resumes once the lag is back at or under half the threshold (so that it does not flap at the
 * edge), but not all at once: the latency follows the calls live, and refilling them at the configured rate would
 * bring the lag straight back. So a hold also sets a limit on the calls live, {@link #CUT} of those live when it
 * began (at least {@link #MIN_LIMIT}), under which new calls start once the lag is back; while the lag stays under
 * half the threshold and the calls live reach {@link #BINDING} of the limit, it grows by
 * {@link #GROWTH_PER_SECOND} of itself a second (at least {@link #MIN_LIMIT} a second) and is lifted past
 * {@link #NO_LIMIT_ABOVE}; the next hold cuts it again (additive-increase, multiplicative-decrease, as TCP does).
 * Before the first hold the limit starts at {@link #MIN_LIMIT} and doubles every second while it nearly binds
 * ({@link #SLOW_START_GROWTH}, TCP's slow start): a lag is only seen once answers come late, so a start that
 * admitted a whole cap's worth of calls at once would have its answers late before the first hold.
 *
 * <p>The lag is looked at once per {@link #POLL} by each waiting campaign, on the scheduler's time (virtual in
 * tests). It falls to 0 when no invocation is in flight and none was answered lately, so the hold never outlives the
 * webhook's backlog, and the limit never holds with no call live. The time admission was held (by the lag or the
 * limit) counts only while a campaign waited. The first hold, and then at most one per
 * {@link #LOG_EVERY}, is logged with what was held since the last message. Thread-safe.
 */
public final class AdmissionHold {

    /** How often a waiting campaign looks at the lag again. */
    public static final Duration POLL = Duration.ofMillis(10);

    /** At most one hold message per this long. */
    public static final Duration LOG_EVERY = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(AdmissionHold.class);
    /** A hold cuts the live-call limit to this share of the calls live then. */
    public static final double CUT = 0.5;

    /** The live-call limit never goes below this. */
    public static final int MIN_LIMIT = 10;

    /** While the lag is low the limit grows by this share of itself per second (at least {@link #MIN_LIMIT}/s). */
    public static final double GROWTH_PER_SECOND = 0.1;

    /** The limit grows only while the calls live reach this share of it. */
    public static final double BINDING = 0.8;

    /** Until the first hold the limit grows by this share of itself a second (doubling a second, as TCP starts). */
    public static final double SLOW_START_GROWTH = Math.log(2);

    /** Grown past this, the limit is lifted. */
    public static final int NO_LIMIT_ABOVE = 100_000;

    private static final AdmissionHold NEVER = new AdmissionHold(() -> 0, () -> 0, () -> 0, Duration.ZERO, null);

    private final LongSupplier lagNanos;
    private final IntSupplier inFlight;
    private final IntSupplier live;
    private final long thresholdNanos;
    private final long releaseNanos;
    private final Scheduler scheduler;

    // Guarded by this.
    private boolean held;
    private long heldSince;
    private double limit = MIN_LIMIT;
    private boolean slowStart = true;
    private long lastGrowth = Long.MIN_VALUE;
    private boolean closed;
    private long closedSince;
    private long closedTotal;
    private long lastLooked;
    private long holds;
    private long lastLog = Long.MIN_VALUE;
    private long holdsAtLastLog;
    private long heldAtLastLog;

    private AdmissionHold(LongSupplier lagNanos, IntSupplier inFlight, IntSupplier live, Duration threshold,
                          Scheduler scheduler) {
        this.lagNanos = lagNanos;
        this.inFlight = inFlight;
        this.live = live;
        this.thresholdNanos = threshold.toNanos();
        this.releaseNanos = thresholdNanos / 2;
        this.scheduler = scheduler;
    }

    /**
     * A hold that follows a lag.
     *
     * @param lagNanos  the webhook's lag now, in nanoseconds (the oldest unanswered invocation's age; 0 when none)
     * @param inFlight  invocations unanswered now (for the log only)
     * @param live      calls in progress now (active-call permits held, every Region)
     * @param threshold hold above this lag; zero: never hold
     * @param scheduler the time of the polls, the held time and the log's rate limit
     */
    public static AdmissionHold following(LongSupplier lagNanos, IntSupplier inFlight, IntSupplier live,
                                          Duration threshold, Scheduler scheduler) {
        Objects.requireNonNull(lagNanos, "lagNanos");
        Objects.requireNonNull(inFlight, "inFlight");
        Objects.requireNonNull(live, "live");
        Objects.requireNonNull(scheduler, "scheduler");
        if (threshold.isNegative()) {
            throw new IllegalArgumentException("threshold must be >= 0, was " + threshold);
        }
        return threshold.isZero() ? NEVER : new AdmissionHold(lagNanos, inFlight, live, threshold, scheduler);
    }

    /** A hold that never holds. */
    public static AdmissionHold never() {
        return NEVER;
    }

    /** Completes at once while admission is open; otherwise once the lag has fallen back. */
    public Mono<Void> whenOpen() {
        if (this == NEVER) {
            return Mono.empty();
        }
        // A loop, not a chain: each look re-subscribes the same Mono (repeatWhenEmpty), so a hold of minutes (100
        // looks a second) does not nest one operator per look, whose completion would overflow the stack.
        return Mono.defer(() -> open() ? Mono.just(Boolean.TRUE) : Mono.<Boolean>empty())
                .repeatWhenEmpty(looks -> looks.concatMap(look -> Mono.delay(POLL, scheduler)))
                .then();
    }

    /** Whether admission may go on now; looks at the lag (and may start or end a hold, cut or grow the limit). */
    public boolean open() {
        if (this == NEVER) {
            return true;
        }
        long lag = lagNanos.getAsLong();
        int liveNow = live.getAsInt();
        long now = scheduler.now(TimeUnit.NANOSECONDS);
        synchronized (this) {
            lastLooked = now;
            if (lastGrowth == Long.MIN_VALUE) {
                lastGrowth = now;
            }
            if (!held && lag > thresholdNanos) {
                held = true;
                slowStart = false;
                heldSince = now;
                holds++;
                // What was live when the answers lagged was too much: at most half of it once the lag is back.
                limit = Math.max(MIN_LIMIT, Math.min(limit, liveNow) * CUT);
                logHold(lag, now);
            } else if (held && lag <= releaseNanos) {
                held = false;
                lastGrowth = now;
            } else if (!held && lag <= releaseNanos && limit != Double.POSITIVE_INFINITY
                    && liveNow >= limit * BINDING) {
                double seconds = (now - lastGrowth) / 1e9;
                limit += Math.max(MIN_LIMIT, limit * (slowStart ? SLOW_START_GROWTH : GROWTH_PER_SECOND)) * seconds;
                lastGrowth = now;
                if (limit > NO_LIMIT_ABOVE) {
                    limit = Double.POSITIVE_INFINITY;
                }
            } else if (!held) {
                // Between half the threshold and the threshold, or the limit not reached: neither cut nor grown (a
                // limit grown while nothing tested it would say nothing of what the webhook can carry).
                lastGrowth = now;
            }
            boolean open = !held && liveNow < limit;
            if (open == closed) {
                if (open) {
                    closedTotal += now - closedSince;
                } else {
                    closedSince = now;
                }
                closed = !open;
            }
            return open;
        }
    }

    private void logHold(long lag, long now) {
        if (lastLog == Long.MIN_VALUE || now - lastLog >= LOG_EVERY.toNanos()) {
            long heldBefore = closedTotal - heldAtLastLog;
            long holdsBefore = holds - 1 - holdsAtLastLog;
            log.warn(String.format(Locale.ROOT, "admission held: the webhook's answers lag by %d ms"
                            + " (pacing.webhook-lag-threshold %d ms), %d deliveries in flight; no new call starts"
                            + " until the lag is back under %d ms, then at most %.0f calls live, a limit that grows"
                            + " %.0f%% a second; calls in progress go on (since the previous such message: %d"
                            + " holds, %.1f s held)", lag / 1_000_000, thresholdNanos / 1_000_000, inFlight.getAsInt(),
                    releaseNanos / 1_000_000, limit, GROWTH_PER_SECOND * 100, holdsBefore, heldBefore / 1e9));
            lastLog = now;
            holdsAtLastLog = holds - 1;
            heldAtLastLog = closedTotal;
        }
    }

    /** Whether admission is held (as of the last look). */
    public synchronized boolean held() {
        return held;
    }

    /** How many times admission was held. */
    public synchronized long holds() {
        return holds;
    }

    /**
     * The time admission was held so far, in seconds: by the lag or by the live-call limit after it, while a
     * campaign had a contact to admit (a hold in progress counts until the last look at it).
     */
    public synchronized double heldSeconds() {
        return (closedTotal + (closed ? lastLooked - closedSince : 0)) / 1e9;
    }

    /** The live-call limit the last hold left, as grown since; infinite when none binds. */
    public synchronized double liveLimit() {
        return limit;
    }

    /** The threshold (zero: never holds). */
    public Duration threshold() {
        return Duration.ofNanos(thresholdNanos);
    }
}
