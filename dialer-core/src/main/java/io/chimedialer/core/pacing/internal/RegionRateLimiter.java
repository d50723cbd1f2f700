package io.chimedialer.core.pacing.internal;

import io.chimedialer.core.pacing.AdaptiveRate;
import io.github.resilience4j.core.EventConsumer;
import io.github.resilience4j.core.EventProcessor;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.event.RateLimiterEvent;
import io.github.resilience4j.ratelimiter.event.RateLimiterOnFailureEvent;
import io.github.resilience4j.ratelimiter.event.RateLimiterOnSuccessEvent;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
import java.util.function.LongConsumer;
import reactor.core.scheduler.Scheduler;

/**
 * A resilience4j {@link RateLimiter} whose time is a reactor {@link Scheduler}'s, so that it paces on a
 * {@code VirtualTimeScheduler} in tests exactly as it does on real time.
 *
 * <p>Why not resilience4j's own {@code AtomicRateLimiter}: even given a nano-time supplier it hands out
 * {@code limitForPeriod} permits per fixed refresh cycle, so the end of one cycle and the start of the next
 * can together give up to twice the rate within one second, and its rate can only change in whole permits
 * per cycle. This one guarantees what the quota means, in two rules checked on every reservation:
 * <ol>
 *   <li>a GCRA token bucket (emission interval 1/rate, burst {@code burst}) gives the steady rate and
 *       lets at most {@code burst} calls go at once after an idle period;</li>
 *   <li>a sliding log of the last grants admits a grant only if fewer than {@code floor(rate)} grants fall
 *       in the second before it, so no 1-second window ever holds more than the rate (for rates below 1,
 *       one grant per 1/rate seconds).</li>
 * </ol>
 * The rate is read from a supplier on every reservation (the Region's {@link AdaptiveRate}); it is capped at
 * {@code maxRate}. Reservations are granted in order: {@link #reservePermission(int)} returns how long the
 * caller must wait, or -1 when that exceeds the timeout (then nothing is reserved).
 *
 * <p><b>At send time.</b> A reservation is a promise about the future; a caller that wakes late (a stalled
 * scheduler, a busy CPU) would send late, and the calls delayed together would go together, above the rate.
 * So the caller confirms with {@link #nanosToSend()} right before it sends: a second sliding log holds the times
 * calls were really sent, and a send is allowed only if fewer than {@code floor(rate)} sends fall within the
 * last second plus a guard ({@link #SEND_GUARD} unless {@link #setSendGuard set}: it absorbs the scheduler clock's millisecond resolution and the
 * jitter between here and the service), and if a schedule of the send times (one interval per send, the
 * configured burst) lets it go; otherwise the caller waits the returned time and asks again. The schedule may fall
 * behind the clock by up to {@link #CATCH_UP}: the calls a stall delayed are then made up, spaced at twice the
 * rate at most (never all at once), so that a starved scheduler's stalls do not lower the mean rate; and no 1 s
 * window of sends ever holds more than the rate, whatever the timers do.
 *
 * <p><b>Until the answer.</b> A send confirmed by {@link #trySend()} (what the dialer's Creates use) also holds one
 * of the {@code floor(rate)} places while it is in flight and for a window after its answer, less the fastest round
 * trip seen (once {@link #WARM_ANSWERS} came): a request slowed on its way (a stalled thread, a queue) reaches the
 * service later than its send time says, and counted from its send alone it could share a second there with
 * {@code floor(rate)} later sends. Held
 * until its answer, it cannot; no second at the service holds more than the rate from this limiter, however
 * uneven the way there, as long as no request's way there and another's way back together take less than the
 * fastest round trip.
 *
 * <p>Both logs grow with the rate actually used (up to {@code floor(maxRate)} entries), and every operation on
 * the path of a call is O(1) (holding a place until the answer: O(log n)). Thread-safe (a short lock per reservation
 * and per send; an answer is told without taking it).
 */
public final class RegionRateLimiter implements RateLimiter {

    private static final long SECOND = 1_000_000_000L;

    /**
     * Added to the 1 s window of the send-time check: sends are spaced so that none of them sees {@code
     * floor(rate)} others within the last 1.005 s (costs at most 0.5% of the rate when it is saturated).
     */
    public static final Duration SEND_GUARD = Duration.ofMillis(5);

    /**
     * How much of the send schedule a stall may cost before it is lost: sends delayed by a late timer are made up,
     * spaced at twice the rate (and never above the rate within any 1 s), until the sends are back on schedule or
     * this much time behind it. Without it every stall of a starved scheduler would lower the mean rate for good.
     */
    public static final Duration CATCH_UP = Duration.ofMillis(500);

    /**
     * How many tracked sends must have been answered before the fastest round trip among them is taken off the time
     * a send holds its place (see {@link #trySend()}): the first answers may all be slow ones (a new connection), and
     * a later, faster way there would then share a second at the service with them.
     */
    public static final int WARM_ANSWERS = 100;

    /** The bounds of the wait before asking again while every place of the window is held by a send in flight. */
    private static final long MIN_POLL = 1_000_000L;
    private static final long MAX_POLL = 20_000_000L;

    private final String name;
    private final DoubleSupplier rate;
    private final double maxRate;
    private final int burst;
    private final Scheduler clock;
    private final Map<String, String> tags;
    private final Events events = new Events();
    private final int maxWindow;
    /** Reserved grant times (the future included). */
    private final TimeLog grants;
    /** Times calls were really sent (confirmed by {@link #nanosToSend()}). */
    private final TimeLog sends;

    private volatile Duration timeout;
    /** Added to the send-time check's 1 s window: {@link #SEND_GUARD} unless set (a cluster sets more). */
    private long sendGuard = SEND_GUARD.toNanos();
    /** Told of every confirmed send's time (under the lock), or null. */
    private LongConsumer sendListener;
    private long tat = Long.MIN_VALUE;
    /** The send schedule: advances one interval per send, lagging {@code now} by at most {@link #CATCH_UP}. */
    private long sendTat = Long.MIN_VALUE;
    /** The spacing of sends: advances half an interval per send from {@code now}, so catching up is spaced. */
    private long spaceTat = Long.MIN_VALUE;
    private int sentInSecond;
    private int maxSentInSecond;
    private long lastNow = Long.MIN_VALUE;
    private long granted;
    /** Sends confirmed by {@link #trySend} whose answer was not taken in yet (see {@link #answered}). */
    private int inFlight;
    /** Sends confirmed by {@link #trySend} whose answer was not told yet: {@link #answered} checks it, lock-free. */
    private final AtomicInteger unanswered = new AtomicInteger();
    /** Answers told and not yet taken in: {sentAt, answered at}. */
    private final ConcurrentLinkedQueue<long[]> answersToTake = new ConcurrentLinkedQueue<>();
    /** When each answered tracked send stops counting (a min-heap; ends at or before now are dropped). */
    private long[] held = new long[16];
    private int heldSize;
    /** The fastest round trip of a tracked send so far (its answer's time less its send's), or MAX_VALUE. */
    private long fastestAnswer = Long.MAX_VALUE;
    /** Tracked sends answered so far. */
    private long answers;

    /**
     * @param name    the limiter's name (the Region; resilience4j's metric binders use it as the {@code name} tag)
     * @param rate    the current rate in permits per second, read on every reservation
     * @param maxRate the highest rate the supplier may give (sizes the sliding log)
     * @param burst   permits that may go at once after an idle period (&gt;= 1)
     * @param timeout the longest wait a reservation may be given
     * @param clock   the scheduler whose time is used
     */
    public RegionRateLimiter(String name, DoubleSupplier rate, double maxRate, int burst, Duration timeout,
                             Scheduler clock) {
        this.name = Objects.requireNonNull(name, "name");
        this.rate = Objects.requireNonNull(rate, "rate");
        if (!(maxRate > 0)) {
            throw new IllegalArgumentException("maxRate must be > 0, was " + maxRate);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be >= 1, was " + burst);
        }
        this.maxRate = maxRate;
        this.burst = burst;
        this.timeout = requireNonNegative(timeout);
        this.clock = Objects.requireNonNull(clock, "clock");
        this.tags = Map.of();
        this.maxWindow = windowCount(maxRate);
        this.grants = new TimeLog(maxWindow);
        this.sends = new TimeLog(maxWindow);
    }

    /** A limiter at a fixed rate. */
    public static RegionRateLimiter fixed(String name, double ratePerSecond, int burst, Duration timeout,
                                          Scheduler clock) {
        return new RegionRateLimiter(name, () -> ratePerSecond, ratePerSecond, burst, timeout, clock);
    }

    /** The rate in effect now, permits per second. */
    public double currentRate() {
        return Math.min(maxRate, rate.getAsDouble());
    }

    /**
     * Sets how much longer than 1 s the send-time window is: with guard {@code g}, no window of {@code 1 s + g} holds
     * more than {@code floor(rate)} sends, so a Create that reaches the service up to {@code g} later than another
     * one sent before it cannot put more than the rate into any 1 s there. It costs up to {@code g / (1 s + g)} of
     * the rate when the rate is saturated. Several nodes pacing shares of one Region's rate need it: each node's
     * sends, delayed by different amounts on their way, must together stay at or under the rate where they arrive.
     *
     * @param guard from 0 to 1 s
     */
    public synchronized void setSendGuard(Duration guard) {
        Objects.requireNonNull(guard, "guard");
        if (guard.isNegative() || guard.compareTo(Duration.ofSeconds(1)) > 0) {
            throw new IllegalArgumentException("send guard must be 0 to 1s, was " + guard);
        }
        this.sendGuard = guard.toNanos();
    }

    /** The send-time window's guard (see {@link #setSendGuard}). */
    public synchronized Duration sendGuard() {
        return Duration.ofNanos(sendGuard);
    }

    /**
     * Sets what is told of every send this limiter confirms, with the send's time on the limiter's clock (the
     * scheduler's, nanoseconds), right when it confirms it (under its lock: keep it short); e.g. a test that times
     * the sends against where they arrive. Null for none.
     */
    public synchronized void onSend(LongConsumer listener) {
        this.sendListener = listener;
    }

    /** How many permits were granted so far. */
    public synchronized long granted() {
        return granted;
    }

    @Override
    public void changeTimeoutDuration(Duration timeoutDuration) {
        this.timeout = requireNonNegative(timeoutDuration);
    }

    /** Unsupported: the rate follows the supplier given at construction (the Region's AIMD). */
    @Override
    public void changeLimitForPeriod(int limitForPeriod) {
        throw new UnsupportedOperationException("the rate of " + name + " follows its AdaptiveRate");
    }

    @Override
    public boolean acquirePermission(int permits) {
        boolean ok = reserve(permits, 0L) == 0L;
        publish(ok, permits);
        return ok;
    }

    @Override
    public long reservePermission(int permits) {
        long wait = reserve(permits, timeout.toNanos());
        publish(wait >= 0, permits);
        return wait;
    }

    @Override
    public synchronized void drainPermissions() {
        long now = now();
        double r = currentRate();
        long interval = interval(r);
        // Pretend a full burst was just taken: the next permit comes one interval from now.
        tat = Math.max(tat, now + (long) (burst - 1) * interval + interval);
    }

    /**
     * How long until the {@code nth} next permit could be granted, without reserving anything (0: it is
     * free now). Lets a caller keep work from running ahead of the Region's rate instead of queueing it
     * inside the limiter. Exact for {@code nth = 1}; for later permits a lower bound (each rule's own
     * earliest time, the later of the two), computed in O(1 + nth / rate) whatever the rate's ceiling.
     */
    public synchronized long nanosToPermit(int nth) {
        if (nth < 1) {
            throw new IllegalArgumentException("nth must be >= 1, was " + nth);
        }
        long now = now();
        double r = currentRate();
        long interval = interval(r);
        long tolerance = (long) (burst - 1) * interval;
        long base = tat == Long.MIN_VALUE ? now : Math.max(tat, now);
        int n = Math.min(windowCount(r), maxWindow);
        long window = window(r, interval);
        // The kth grant from now is no earlier than the token bucket alone allows ((k - 1) intervals after the
        // first), nor than the grant n before it (a logged one, or the (k - n)th from now) plus the window. Walk
        // up from the first k of the chain nth, nth - n, ... (one step when nth is within a window's worth).
        int k = (nth - 1) % n + 1;
        int back = n - k + 1;
        long grant = Math.max(now, base - tolerance + (long) (k - 1) * interval);
        if (back <= grants.count) {
            grant = Math.max(grant, grants.back(back) + window);
        }
        for (k += n; k <= nth; k += n) {
            grant = Math.max(Math.max(now, base - tolerance + (long) (k - 1) * interval), grant + window);
        }
        return grant - now;
    }

    /**
     * Confirms a send now, when the limiter allows it: 0 when fewer than {@code floor(rate)} calls were sent
     * within the last second plus {@link #SEND_GUARD} (the send is then recorded); otherwise how long to wait
     * before asking again (nothing is recorded). Call it right before sending, after the reservation's wait.
     */
    public synchronized long nanosToSend() {
        long now = now();
        long wait = sendWait(now);
        if (wait > 0) {
            return wait;
        }
        recordSend(now);
        return 0L;
    }

    /**
     * A send-time check's result ({@link #trySend}, {@link #trySendBoth}): {@code waitNanos} 0 when the send was
     * confirmed at {@code sentAt} (the limiter's clock; pass it to {@link #answered}), otherwise how long to wait
     * before asking again (nothing was recorded).
     */
    public record Send(long waitNanos, long sentAt) {
        /** Whether the send was confirmed. */
        public boolean confirmed() {
            return waitNanos == 0;
        }
    }

    /**
     * Like {@link #nanosToSend()}, for a send that counts against the rate until its answer: the send holds one of
     * the {@code floor(rate)} places of the window while it is in flight, and after its answer for one window (1 s)
     * more (plus {@link #SEND_GUARD} for the clock's resolution), less the fastest round trip seen once
     * {@link #WARM_ANSWERS} answers came, and never less than the send-time rule's own 1 s plus the guard. So a
     * request that took longer than others to reach the service (a stalled thread, a queue on the way) still
     * counts in every second it could share with a later send, and no second at the service holds more than the
     * rate from this limiter, however long the way was. The caller must call {@link #answered} with the returned
     * {@code sentAt} exactly once, whatever the outcome (an error and a cancellation too).
     */
    public synchronized Send trySend() {
        long now = now();
        long wait = sendWait(now);
        if (wait > 0) {
            return new Send(wait, now);
        }
        recordSend(now);
        inFlight++;
        unanswered.incrementAndGet();
        return new Send(0L, now);
    }

    /**
     * Tells the limiter that the answer of a send confirmed by {@link #trySend} (or {@link #trySendBoth}) at
     * {@code sentAt} came now: it stops holding a place of the window one window after now, less the fastest round
     * trip seen, and no earlier than the send-time rule's 1 s plus the guard after {@code sentAt}.
     */
    public void answered(long sentAt) {
        // No lock here: answers come on the client's I/O threads while the sender checks; they are taken in under
        // the lock by the next check (until then the send still counts as in flight, which errs on the safe side).
        if (unanswered.getAndDecrement() <= 0) {
            unanswered.incrementAndGet();
            throw new IllegalStateException(name + ": an answer without a send in flight");
        }
        answersToTake.add(new long[] {sentAt, clock.now(TimeUnit.NANOSECONDS)});
    }

    /** Takes in the answers told since the last check (see {@link #answered}). Holds the lock. */
    private void takeAnswers() {
        long[] answer;
        while ((answer = answersToTake.poll()) != null) {
            long sentAt = answer[0];
            long at = answer[1];
            inFlight--;
            double r = currentRate();
            long window = window(r, interval(r));
            fastestAnswer = Math.min(fastestAnswer, Math.max(0L, at - sentAt));
            answers++;
            long fromSend = sentAt + window + sendGuard;
            // Until enough answers came, the fastest of them may be a cold one (a new connection): nothing is taken
            // off.
            long fromAnswer = at + window + SEND_GUARD.toNanos() - (answers >= WARM_ANSWERS ? fastestAnswer : 0L);
            long end = Math.max(fromSend, fromAnswer);
            if (end > lastNow) {
                hold(end);
            }
        }
    }

    /** Tracked sends answered so far. */
    public synchronized long answeredCount() {
        takeAnswers();
        return answers;
    }

    /** Tracked sends whose answer has not come yet. */
    public synchronized int inFlight() {
        takeAnswers();
        return inFlight;
    }

    /**
     * Like {@link #trySend} on two limiters at once (a campaign's own rate and its Region's): the send is recorded in
     * both only when both allow it now; otherwise nothing is recorded and the longer wait is returned. Recording one
     * and then waiting for the other would log a send that really goes later, and a later send than logged could put
     * more calls in a second than the rate. A confirmed send is held by both until {@link #answered} is called on
     * both with the returned {@code sentAt} (the inner limiter's time). Locks {@code outer}, then {@code inner}: pass
     * a campaign's limiter as {@code outer} and a Region's as {@code inner}, always in that order.
     */
    public static Send trySendBoth(RegionRateLimiter outer, RegionRateLimiter inner) {
        synchronized (outer) {
            synchronized (inner) {
                long outerNow = outer.now();
                long innerNow = inner.now();
                long wait = Math.max(outer.sendWait(outerNow), inner.sendWait(innerNow));
                if (wait > 0) {
                    return new Send(wait, innerNow);
                }
                outer.recordSend(outerNow);
                inner.recordSend(innerNow);
                outer.inFlight++;
                inner.inFlight++;
                outer.unanswered.incrementAndGet();
                inner.unanswered.incrementAndGet();
                return new Send(0L, innerNow);
            }
        }
    }

    /** How long until a send is allowed at {@code now} (0 or less: now); records nothing. Holds the lock. */
    private long sendWait(long now) {
        double r = currentRate();
        long interval = interval(r);
        int n = Math.min(windowCount(r), maxWindow);
        long window = window(r, interval) + sendGuard;
        // Two buckets on send times. The schedule (one interval per send) lets the configured burst go at once and
        // keeps the long-run rate; it may lag now by up to CATCH_UP, so that sends a stall delayed are made up
        // instead of lost. The spacing (half an interval per send, from now) lets the made-up sends go at twice the
        // rate at most, not all at once. The sliding log keeps every 1 s (plus the guard) at or under the rate.
        // The guard is the schedule's slack for the clock's resolution; sends ahead of the schedule do not move it.
        long tolerance = (long) (burst - 1) * interval;
        long free = sendTat == Long.MIN_VALUE ? now : sendTat - tolerance - SEND_GUARD.toNanos();
        if (spaceTat != Long.MIN_VALUE) {
            free = Math.max(free, spaceTat - tolerance / 2);
        }
        if (sends.count >= n) {
            free = Math.max(free, sends.back(n) + window);
        }
        // Tracked sends hold their place while in flight and for a window after their answer (see trySend).
        takeAnswers();
        while (heldSize > 0 && held[0] <= now) {
            unhold();
        }
        if (inFlight + heldSize >= n) {
            // Places free only as held ones end (the earliest end is a lower bound: ask again then) or as answers
            // come (unknown: ask again after about an interval).
            long poll = now + Math.max(MIN_POLL, Math.min(interval, MAX_POLL));
            long heldFree = inFlight >= n || heldSize == 0 ? poll : held[0];
            free = Math.max(free, heldFree);
            // The reservations follow: none is granted before this send can go, so callers do not queue up at this
            // check (with their intents written) while the places are held longer than the reservations assumed.
            tat = Math.max(tat, heldFree + interval + tolerance);
        }
        return free > now ? free - now : 0L;
    }

    /** Adds an end to the heap of held places. Holds the lock. */
    private void hold(long end) {
        if (heldSize == held.length) {
            held = Arrays.copyOf(held, held.length * 2);
        }
        int i = heldSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (held[parent] <= end) {
                break;
            }
            held[i] = held[parent];
            i = parent;
        }
        held[i] = end;
    }

    /** Drops the earliest end of the heap of held places. Holds the lock. */
    private void unhold() {
        long last = held[--heldSize];
        int i = 0;
        int half = heldSize >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < heldSize && held[child + 1] < held[child]) {
                child++;
            }
            if (last <= held[child]) {
                break;
            }
            held[i] = held[child];
            i = child;
        }
        if (heldSize > 0) {
            held[i] = last;
        }
    }

    /** Records a send at {@code now}. Holds the lock. */
    private void recordSend(long now) {
        double r = currentRate();
        long interval = interval(r);
        int n = Math.min(windowCount(r), maxWindow);
        long behind = now - CATCH_UP.toNanos();
        sendTat = Math.max(behind, sendTat == Long.MIN_VALUE ? now : sendTat) + interval;
        spaceTat = Math.max(now, spaceTat == Long.MIN_VALUE ? now : spaceTat) + interval / 2;
        sends.add(now, n);
        // The sends within (now - 1 s, now]: this one, and those of the last count still in that second.
        sentInSecond = Math.min(sentInSecond + 1, sends.count);
        while (sentInSecond > 0 && sends.back(sentInSecond) <= now - SECOND) {
            sentInSecond--;
        }
        maxSentInSecond = Math.max(maxSentInSecond, sentInSecond);
        if (sendListener != null) {
            sendListener.accept(now);
        }
    }

    /**
     * The most sends confirmed by {@link #nanosToSend()} within any 1 s (a half-open second ending at a send), so
     * far: what this limiter let out, as its clock saw it.
     */
    public synchronized int maxSentInOneSecond() {
        return maxSentInSecond;
    }

    private synchronized long reserve(int permits, long maxWaitNanos) {
        if (permits < 1) {
            throw new IllegalArgumentException("permits must be >= 1, was " + permits);
        }
        long now = now();
        double r = currentRate();
        long interval = interval(r);
        long tolerance = (long) (burst - 1) * interval;
        int n = Math.min(windowCount(r), maxWindow);
        long window = window(r, interval);
        grants.ensure(n);
        // Several permits at once (rare: resilience4j's API) save the slots they overwrite, to undo a refusal.
        TimeLog.Mark mark = permits > 1 ? grants.mark(permits) : null;
        long savedTat = tat;
        long grant = now;
        for (int i = 0; i < permits; i++) {
            grant = Math.max(now, tat == Long.MIN_VALUE ? now : tat - tolerance);
            if (grants.count >= n) {
                grant = Math.max(grant, grants.back(n) + window);
            }
            if (grant - now > maxWaitNanos && permits == 1) {
                return -1L;
            }
            tat = Math.max(grant, tat == Long.MIN_VALUE ? grant : tat) + interval;
            grants.add(grant, n);
        }
        if (grant - now > maxWaitNanos) {
            grants.reset(mark);
            tat = savedTat;
            return -1L;
        }
        granted += permits;
        return grant - now;
    }

    private long now() {
        // Keep time monotonic even if the scheduler's clock (wall time on real schedulers) steps back.
        long now = Math.max(clock.now(TimeUnit.NANOSECONDS), lastNow);
        lastNow = now;
        return now;
    }

    private static long interval(double rate) {
        return (long) Math.ceil(SECOND / rate);
    }

    /** The sliding log's window: 1 s, or one interval for rates below 1. */
    private static long window(double rate, long interval) {
        return rate >= 1 ? SECOND : interval;
    }

    private static int windowCount(double rate) {
        return Math.max(1, (int) Math.floor(rate + 1e-9));
    }

    private void publish(boolean success, int permits) {
        if (!events.hasConsumers()) {
            return;
        }
        events.processEvent(success ? new RateLimiterOnSuccessEvent(name, permits)
                : new RateLimiterOnFailureEvent(name, permits));
    }

    @Override
    public String getName() {
        return name;
    }

    /** A description in resilience4j's terms: {@code floor(rate)} permits per second, the current timeout. */
    @Override
    public RateLimiterConfig getRateLimiterConfig() {
        return RateLimiterConfig.custom()
                .limitForPeriod(windowCount(currentRate()))
                .limitRefreshPeriod(Duration.ofSeconds(1))
                .timeoutDuration(timeout)
                .build();
    }

    @Override
    public Map<String, String> getTags() {
        return tags;
    }

    @Override
    public Metrics getMetrics() {
        return new Metrics() {
            @Override
            public int getNumberOfWaitingThreads() {
                return waiting();
            }

            @Override
            public int getAvailablePermissions() {
                return available();
            }
        };
    }

    /** Reservations whose grant time is still in the future (callers waiting for their permit). */
    synchronized int waiting() {
        long now = now();
        int waiting = 0;
        for (int i = 1; i <= grants.count; i++) {
            if (grants.back(i) > now) {
                waiting++;
            }
        }
        return waiting;
    }

    /** Permits that could be granted right now without waiting. */
    synchronized int available() {
        long now = now();
        double r = currentRate();
        long interval = interval(r);
        int n = Math.min(windowCount(r), maxWindow);
        long window = window(r, interval);
        int inWindow = 0;
        for (int i = 1; i <= Math.min(grants.count, n); i++) {
            if (grants.back(i) > now - window) {
                inWindow++;
            }
        }
        long bucket = tat == Long.MIN_VALUE ? burst
                : Math.min(burst, Math.max(0, (now - (tat - (long) (burst - 1) * interval)) / interval + 1));
        return (int) Math.max(0, Math.min(bucket, n - inWindow));
    }

    @Override
    public EventPublisher getEventPublisher() {
        return events;
    }

    @Override
    public String toString() {
        return "RegionRateLimiter{" + name + ", rate=" + currentRate() + ", burst=" + burst + "}";
    }

    /**
     * A ring of the latest times, newest last, that grows (to at most {@code max} entries) as the rate in use
     * needs: a limiter configured for a high ceiling does not hold that ceiling's log until it is used.
     */
    private static final class TimeLog {
        private final int max;
        private long[] ring;
        private int head;
        int count;

        TimeLog(int max) {
            this.max = max;
            this.ring = new long[Math.min(max, 64)];
        }

        /** The {@code k}-th latest time, 1 &lt;= k &lt;= count. */
        long back(int k) {
            int i = head - k;
            return ring[i < 0 ? i + ring.length : i];
        }

        /** Makes room for the latest {@code n} times. */
        void ensure(int n) {
            if (n <= ring.length || ring.length >= max) {
                return;
            }
            long[] grown = new long[Math.min(max, Math.max(n, ring.length * 2))];
            for (int k = count; k >= 1; k--) {
                grown[count - k] = back(k);
            }
            ring = grown;
            head = count % grown.length;
        }

        /** Appends a time, keeping at least the latest {@code n}. */
        void add(long time, int n) {
            ensure(n);
            ring[head] = time;
            head = head + 1 == ring.length ? 0 : head + 1;
            count = Math.min(count + 1, ring.length);
        }

        /** The state before appending up to {@code appends} times, to {@link #reset} to. */
        Mark mark(int appends) {
            int touched = Math.min(appends, ring.length);
            long[] saved = new long[touched];
            for (int i = 0; i < touched; i++) {
                saved[i] = ring[(head + i) % ring.length];
            }
            return new Mark(ring, head, count, saved);
        }

        void reset(Mark mark) {
            if (mark == null) {
                return;
            }
            if (ring == mark.ring) {
                for (int i = 0; i < mark.saved.length; i++) {
                    ring[(mark.head + i) % ring.length] = mark.saved[i];
                }
            }
            // A ring grown meanwhile (a rate raised between two reservations, never within one) keeps its times.
            head = ring == mark.ring ? mark.head : head;
            count = ring == mark.ring ? mark.count : count;
        }

        record Mark(long[] ring, int head, int count, long[] saved) {
        }
    }

    /**
     * The limiter's event publisher, on resilience4j's public {@link EventProcessor} (consumers for all events
     * via {@code onEvent}, or per event type), so that nothing here depends on resilience4j's internal package.
     */
    private static final class Events extends EventProcessor<RateLimiterEvent> implements EventPublisher {

        @Override
        public EventPublisher onSuccess(EventConsumer<RateLimiterOnSuccessEvent> consumer) {
            registerConsumer(RateLimiterOnSuccessEvent.class.getName(), consumer);
            return this;
        }

        @Override
        public EventPublisher onFailure(EventConsumer<RateLimiterOnFailureEvent> consumer) {
            registerConsumer(RateLimiterOnFailureEvent.class.getName(), consumer);
            return this;
        }
    }

    private static Duration requireNonNegative(Duration d) {
        Objects.requireNonNull(d, "timeout");
        if (d.isNegative()) {
            throw new IllegalArgumentException("timeout must be >= 0, was " + d);
        }
        return d;
    }
}
