package io.chimedialer.core.calls;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * How far behind the webhook's answers are (issue 16 §5), the larger of two ages:
 * <ul>
 *   <li>the age of the oldest delivery received and not yet answered (its time in this process: a HANGUP waiting
 *       for its outcome's commit, a starved event loop);</li>
 *   <li>the largest answer latency of the last {@link #WINDOW} as the sender saw it, from the time it sent the
 *       request (the emulator, the Lambda bridge) to the answer. The send time is the {@code X-Dialer-Sent-At}
 *       header (epoch milliseconds) when the sender gave one within the second of its signature's timestamp
 *       ({@code X-Dialer-Timestamp}, whole seconds, signed, so an altered {@code Sent-At} moves a delivery's count
 *       by less than 1 s); without it, a timestamp of whole seconds only bounds the send time from below, so the
 *       delivery counts {@code answer - (timestamp + 1 s)}, never more than it waited, and a wait under 1 s is not
 *       seen at all. This is what sees the queue before the request reaches this process (the sender's connection
 *       pool, sockets), which the first cannot. It counts only deliveries whose signature was good (a forged old
 *       timestamp does not hold admission), and assumes the sender's clock is synchronised with this one (NTP): a
 *       clock ahead of the sender's by d adds d.</li>
 * </ul>
 * Each delivery calls {@link #begin(long)} when it is received and {@link #end(long, boolean)} once it is answered
 * (or failed, or its connection went away). With nothing in flight and no answer in the last two windows the lag is
 * 0. A delivery unanswered for longer than {@code staleAfter} is taken for lost (a token never ended; Chime gave up
 * on it after 5 s in any case) and forgotten, so a leaked token cannot keep the lag up for ever. Thread-safe.
 */
public final class WebhookLag {

    /** A delivery unanswered for longer than this by default is forgotten: twice Chime's 5 s retry. */
    public static final Duration DEFAULT_STALE_AFTER = Duration.ofSeconds(10);

    /** The sender-side latencies count for one to two of these. */
    public static final Duration WINDOW = Duration.ofMillis(500);

    /** {@link #begin(long)}'s argument when the delivery carried no usable timestamp. */
    public static final long NO_TIMESTAMP = Long.MIN_VALUE;

    private static final long WINDOW_NANOS = WINDOW.toNanos();

    private final LongSupplier nanoTime;
    private final LongSupplier epochMillis;
    private final long staleNanos;
    private final AtomicLong tokens = new AtomicLong();
    /** By token; tokens increase with time, so the first entry is the oldest delivery in flight. */
    private final ConcurrentSkipListMap<Long, Delivery> inFlight = new ConcurrentSkipListMap<>();

    // The largest sender-side latency (nanoseconds) of the current window and of the one before. Guarded by this.
    private long window = Long.MIN_VALUE;
    private long currentMax;
    private long previousMax;

    private record Delivery(long startNanos, long sentEpochMillis) {
    }

    /**
     * @param nanoTime    a monotonic clock in nanoseconds ({@code System::nanoTime}, or a test's)
     * @param epochMillis the wall clock in epoch milliseconds, to compare with the senders' timestamps
     * @param staleAfter  a delivery unanswered for longer than this is forgotten
     */
    public WebhookLag(LongSupplier nanoTime, LongSupplier epochMillis, Duration staleAfter) {
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.epochMillis = Objects.requireNonNull(epochMillis, "epochMillis");
        if (staleAfter.isNegative() || staleAfter.isZero()) {
            throw new IllegalArgumentException("staleAfter must be > 0, was " + staleAfter);
        }
        this.staleNanos = staleAfter.toNanos();
    }

    /** On {@code System.nanoTime()} and {@code System.currentTimeMillis()}, forgetting after 10 s. */
    public static WebhookLag onSystemTime() {
        return new WebhookLag(System::nanoTime, System::currentTimeMillis, DEFAULT_STALE_AFTER);
    }

    /** The signature's timestamp header as epoch seconds, or {@link #NO_TIMESTAMP} when absent or not a number. */
    public static long timestamp(String header) {
        if (header == null) {
            return NO_TIMESTAMP;
        }
        try {
            return Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            return NO_TIMESTAMP;
        }
    }

    /** The send-time header ({@code X-Dialer-Sent-At}) as epoch milliseconds, or {@link #NO_TIMESTAMP}. */
    public static long sentAt(String header) {
        return timestamp(header);
    }

    /**
     * A delivery was received; returns the token to {@link #end(long, boolean)} it with.
     *
     * @param sentEpochSeconds its signature's timestamp (when the sender signed it), or {@link #NO_TIMESTAMP}
     */
    public long begin(long sentEpochSeconds) {
        return begin(sentEpochSeconds, NO_TIMESTAMP);
    }

    /**
     * A delivery was received; returns the token to {@link #end(long, boolean)} it with.
     *
     * @param sentEpochSeconds its signature's timestamp (when the sender signed it), or {@link #NO_TIMESTAMP}
     * @param sentEpochMillis  when the sender sent it ({@link #sentAt(String)}), or {@link #NO_TIMESTAMP}; used only
     *                         within the second of {@code sentEpochSeconds}
     */
    public long begin(long sentEpochSeconds, long sentEpochMillis) {
        long start = nanoTime.getAsLong();
        long sent;
        if (sentEpochSeconds == NO_TIMESTAMP || sentEpochSeconds > Long.MAX_VALUE / 1000 - 1
                || sentEpochSeconds < 0) {
            sent = NO_TIMESTAMP;
        } else if (sentEpochMillis != NO_TIMESTAMP && Math.floorDiv(sentEpochMillis, 1000) == sentEpochSeconds) {
            sent = sentEpochMillis;
        } else {
            sent = (sentEpochSeconds + 1) * 1000;
        }
        long token = tokens.incrementAndGet();
        inFlight.put(token, new Delivery(start, sent));
        return token;
    }

    /**
     * The delivery of this token was answered (or will never be); ending a token twice changes nothing.
     *
     * @param authenticated whether its signature was good: only then does its sender-side latency count
     */
    public void end(long token, boolean authenticated) {
        Delivery d = inFlight.remove(token);
        if (d == null || !authenticated || d.sentEpochMillis == NO_TIMESTAMP) {
            return;
        }
        long waited = Math.max(0, epochMillis.getAsLong() - d.sentEpochMillis) * 1_000_000;
        long now = nanoTime.getAsLong();
        synchronized (this) {
            roll(now);
            currentMax = Math.max(currentMax, Math.min(waited, staleNanos));
        }
    }

    /** The webhook's lag in nanoseconds: the larger of the two ages above; 0 when nothing lags. */
    public long lagNanos() {
        long now = nanoTime.getAsLong();
        long recent;
        synchronized (this) {
            roll(now);
            recent = Math.max(currentMax, previousMax);
        }
        return Math.max(recent, oldestInFlight(now));
    }

    /** The age of the oldest delivery received and not yet answered, in nanoseconds; 0 when none is. */
    public long oldestInFlightNanos() {
        return oldestInFlight(nanoTime.getAsLong());
    }

    private long oldestInFlight(long now) {
        while (true) {
            var oldest = inFlight.firstEntry();
            if (oldest == null) {
                return 0;
            }
            long age = now - oldest.getValue().startNanos;
            if (age <= staleNanos) {
                return Math.max(0, age);
            }
            // Never answered within twice Chime's patience: lost, not lagging.
            inFlight.remove(oldest.getKey(), oldest.getValue());
        }
    }

    /** Moves the windows on to the one of {@code now}. Guarded by this. */
    private void roll(long now) {
        long w = Math.floorDiv(now, WINDOW_NANOS);
        if (w == window) {
            return;
        }
        previousMax = w == window + 1 ? currentMax : 0;
        currentMax = 0;
        window = w;
    }

    /** Deliveries received and not yet answered (stale ones included until {@link #lagNanos()} forgets them). */
    public int inFlight() {
        return inFlight.size();
    }
}
