package io.chimedialer.core.pacing;

import io.chimedialer.core.pacing.internal.RegionRateLimiter;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import reactor.core.scheduler.Scheduler;

/**
 * A campaign's own pacing, beside its Regions': an optional rate over all its Regions ({@code calls-per-second}),
 * an optional cap on its live calls ({@code max-active-calls}), and its {@code priority} in the Regions it shares
 * with other campaigns of the same process ({@link RegionDemand}: strict priority, work-conserving). The
 * {@link Dialer} holds a call to both its campaign's and its Region's limits, whichever binds first.
 *
 * <p>The campaign's rate is a {@link RegionRateLimiter} (burst 1) on the run's scheduler, taken in the same chain
 * step as the Region's ({@link ResilientCreate}); its live calls are {@link ActivePermits} whose permit is tied to
 * the call's Region permit, so that everything that ends a call (its HANGUP, the lifetime guard, a withdrawal)
 * frees both. Thread-safe.
 */
public final class CampaignPacing {

    /** How long a call may be told to wait for the campaign's rate before it is NotSent (and retried). */
    static final Duration MAX_RATE_WAIT = Duration.ofMinutes(1);
    /** Beyond the call's lifetime: the Region permit's guard frees the campaign's first; this is a backstop. */
    private static final Duration LIFETIME_MARGIN = Duration.ofMinutes(1);

    private final String campaign;
    private final int priority;
    private final Double callsPerSecond;
    private final Integer maxActiveCalls;
    private final RegionRateLimiter rate;
    private final ActivePermits liveCalls;
    /** The rate this process paces the campaign at: its {@code calls-per-second}, or its share in a cluster. */
    private volatile double rateShare;

    private CampaignPacing(String campaign, int priority, Double callsPerSecond, Integer maxActiveCalls,
                           RegionRateLimiter rate, ActivePermits liveCalls) {
        this.campaign = campaign;
        this.priority = priority;
        this.callsPerSecond = callsPerSecond;
        this.maxActiveCalls = maxActiveCalls;
        this.rate = rate;
        this.liveCalls = liveCalls;
        this.rateShare = callsPerSecond == null ? 0 : callsPerSecond;
    }

    /** A campaign held only by its Regions' limits, of priority 0. */
    public static CampaignPacing unlimited(String campaign) {
        return new CampaignPacing(Objects.requireNonNull(campaign, "campaign"), 0, null, null, null, null);
    }

    /**
     * A campaign's pacing.
     *
     * @param campaign        the campaign's name (names its limiter: {@code campaign:NAME})
     * @param callsPerSecond  the campaign's Creates per second over all its Regions (&gt; 0), or null for none
     * @param maxActiveCalls  the campaign's live calls at most (&gt;= 1), or null for none
     * @param priority        its priority in shared Regions (higher first)
     * @param maxCallLifetime the calls' lifetime (the live-call permits' backstop guard is a minute longer)
     * @param scheduler       the run's time
     */
    public static CampaignPacing of(String campaign, Double callsPerSecond, Integer maxActiveCalls, int priority,
                                    Duration maxCallLifetime, Scheduler scheduler) {
        Objects.requireNonNull(campaign, "campaign");
        Objects.requireNonNull(scheduler, "scheduler");
        if (callsPerSecond != null && (!(callsPerSecond > 0) || callsPerSecond.isInfinite())) {
            throw new IllegalArgumentException("calls-per-second must be > 0, was " + callsPerSecond);
        }
        ActivePermits live = null;
        if (maxActiveCalls != null) {
            if (maxActiveCalls < 1) {
                throw new IllegalArgumentException("max-active-calls must be >= 1, was " + maxActiveCalls);
            }
            live = new ActivePermits("campaign:" + campaign, maxActiveCalls,
                    Objects.requireNonNull(maxCallLifetime, "maxCallLifetime").plus(LIFETIME_MARGIN),
                    Duration.ofSeconds(1), 1, scheduler, permit -> { });
        }
        CampaignPacing[] self = new CampaignPacing[1];
        RegionRateLimiter rate = callsPerSecond == null ? null : new RegionRateLimiter("campaign:" + campaign,
                () -> self[0].rateShare, callsPerSecond, 1, MAX_RATE_WAIT, scheduler);
        self[0] = new CampaignPacing(campaign, priority, callsPerSecond, maxActiveCalls, rate, live);
        return self[0];
    }

    /**
     * Sets this process's share of the campaign's caps, when several processes (a cluster's nodes) run it: the rate
     * it paces the campaign at (at most its {@code calls-per-second}) and the live calls it may hold (0 stops new
     * calls here). A cap the campaign does not have is ignored.
     *
     * @param callsPerSecond the share of the rate (&gt; 0)
     * @param maxActiveCalls the share of the live calls (&gt;= 0)
     */
    public void setShare(double callsPerSecond, int maxActiveCalls) {
        if (rate != null) {
            if (!(callsPerSecond > 0)) {
                throw new IllegalArgumentException("callsPerSecond must be > 0, was " + callsPerSecond);
            }
            rateShare = Math.min(callsPerSecond, this.callsPerSecond);
        }
        if (liveCalls != null) {
            liveCalls.setConfiguredCap(Math.min(maxActiveCalls, this.maxActiveCalls));
        }
    }

    /**
     * Counts a call that is already live (taken over from a previous run) against the campaign's live-call cap, ahead
     * of every waiter: a permit of the cap is tied to the call's Region permit and comes back with it. Nothing without
     * a cap.
     */
    public void holdLive(Permit regionPermit) {
        Objects.requireNonNull(regionPermit, "regionPermit");
        if (liveCalls != null) {
            liveCalls.acquireAheadFor(regionPermit.attemptId() == null ? "" : regionPermit.attemptId())
                    .subscribe(regionPermit::tie);
        }
    }

    /** The rate this process paces the campaign at now (its share in a cluster), when it has a rate. */
    public OptionalDouble rateShare() {
        return rate == null ? OptionalDouble.empty() : OptionalDouble.of(rateShare);
    }

    /** The campaign. */
    public String campaign() {
        return campaign;
    }

    /** Its priority in shared Regions (higher first; default 0). */
    public int priority() {
        return priority;
    }

    /** The campaign's own rate, when it has one. */
    public OptionalDouble callsPerSecond() {
        return callsPerSecond == null ? OptionalDouble.empty() : OptionalDouble.of(callsPerSecond);
    }

    /** The campaign's own live-call cap, when it has one. */
    public OptionalInt maxActiveCalls() {
        return maxActiveCalls == null ? OptionalInt.empty() : OptionalInt.of(maxActiveCalls);
    }

    /** The campaign's rate limiter, or null when it has no rate of its own. */
    public RegionRateLimiter rate() {
        return rate;
    }

    /**
     * Sets the guard of the campaign's own rate's send-time check, when it has a rate (a cluster node pacing its share
     * of it); see {@link RegionRateLimiter#setSendGuard}.
     */
    public void setRateGuard(Duration guard) {
        if (rate != null) {
            rate.setSendGuard(guard);
        }
    }

    /** The campaign's live-call permits, when it has a cap. */
    public Optional<ActivePermits> liveCalls() {
        return Optional.ofNullable(liveCalls);
    }

    @Override
    public String toString() {
        return "CampaignPacing{" + campaign + ", priority=" + priority + ", cps=" + callsPerSecond + ", maxActive="
                + maxActiveCalls + "}";
    }
}
