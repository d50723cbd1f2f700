package io.chimedialer.core.campaign;

/**
 * A campaign's own pacing limits, beside those of each Region it dials in (which still hold), and its priority in
 * the Regions it shares with other campaigns of the same process.
 *
 * @param callsPerSecond Creates per second over all the campaign's Regions together (&gt; 0), or null for no limit
 *                       of its own
 * @param maxActiveCalls the campaign's live calls at most (&gt;= 1), or null for no limit of its own
 * @param priority       a whole number, default 0: in a Region shared with other campaigns, the rate and the live
 *                       calls go to the higher priority first, and a lower one gets what the higher ones leave unused
 *                       (strict priority, work-conserving); equal priorities share first come first served
 */
public record CampaignLimits(Double callsPerSecond, Integer maxActiveCalls, int priority) {

    /** No limit of its own, priority 0. */
    public static final CampaignLimits NONE = new CampaignLimits(null, null, 0);

    public CampaignLimits {
        if (callsPerSecond != null && (!(callsPerSecond > 0) || callsPerSecond.isInfinite())) {
            throw new IllegalArgumentException("calls-per-second must be > 0, was " + callsPerSecond);
        }
        if (maxActiveCalls != null && maxActiveCalls < 1) {
            throw new IllegalArgumentException("max-active-calls must be >= 1, was " + maxActiveCalls);
        }
    }
}
