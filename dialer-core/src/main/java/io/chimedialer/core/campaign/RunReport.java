package io.chimedialer.core.campaign;

import io.chimedialer.core.domain.Disposition;
import java.util.Map;

/**
 * The run report of one campaign (DESIGN.md section 7): what happened to every contact, every attempt's
 * outcome, and how each Region was paced.
 *
 * @param campaign        the campaign id
 * @param state           the campaign's state when the report was taken
 * @param contacts        contact counts
 * @param attempts        Create calls issued (first attempts and follow-ups)
 * @param outcomes        final outcomes by disposition
 * @param regions         per Region figures
 * @param durationSeconds wall time from start to the report
 * @param withdrawn       attempts withdrawn (never sent, or refused for a reason not the contact's; each contact is
 *                        dialed again): not counted in {@code attempts}
 * @param pauseReason     why the campaign paused by itself (e.g. every Region failed), or null
 * @param followUps       the further attempts scheduled and not yet dialed (retries waiting for their delay)
 * @param schedule        the campaign's scheduled start and end and why it stopped at its end, or null when it has
 *                        no schedule
 * @param limits          the campaign's own caps and priority (null in reports made before they existed)
 */
public record RunReport(String campaign, String state, Contacts contacts, long attempts, Map<Disposition, Long> outcomes,
                        Map<String, RegionReport> regions, double durationSeconds, long withdrawn,
                        String pauseReason, FollowUps followUps, Schedule schedule, Limits limits) {

    /** A report of a campaign without a schedule, whose limits are not reported. */
    public RunReport(String campaign, String state, Contacts contacts, long attempts, Map<Disposition, Long> outcomes,
                     Map<String, RegionReport> regions, double durationSeconds, long withdrawn, String pauseReason,
                     FollowUps followUps) {
        this(campaign, state, contacts, attempts, outcomes, regions, durationSeconds, withdrawn, pauseReason,
                followUps, null, null);
    }

    /**
     * The campaign's schedule.
     *
     * @param start     the scheduled start as configured (ISO-8601 with its offset or zone), or null
     * @param end       the scheduled end as configured, or null
     * @param endReason set once the end came: "ended at its scheduled end ..."; null before
     */
    public record Schedule(String start, String end, String endReason) {
    }

    /**
     * The campaign's own limits, beside its Regions'.
     *
     * @param callsPerSecond its Creates per second over all its Regions, or null for none
     * @param maxActiveCalls its live calls at most, or null for none
     * @param priority       its priority in Regions shared with other campaigns
     * @param peakActive     the most live calls it held at once under its own cap, or null without one
     */
    public record Limits(Double callsPerSecond, Integer maxActiveCalls, int priority, Integer peakActive) {
    }

    /** No follow-up pending. */
    public static final FollowUps NO_FOLLOW_UPS = new FollowUps(0, null, null);

    /**
     * The follow-ups (retries) scheduled and not yet dialed: their contacts are not done, and the run does not end
     * before the last one has been dialed and has ended.
     *
     * @param pending the number of follow-ups waiting for their due time (or for their callee's calling window)
     * @param nextDue when the earliest is due (ISO-8601 instant), or null when none is pending
     * @param lastDue when the latest is due (ISO-8601 instant): the run cannot end before it; null when none
     */
    public record FollowUps(long pending, String nextDue, String lastDue) {
    }

    /**
     * What became of the contact list. {@code total = invalid + duplicate + suppressed + windowExpired +
     * dialed + alreadyDone + waiting + notReached}.
     *
     * @param total         rows read
     * @param invalid       rejected rows (bad CSV, no number, invalid number)
     * @param duplicate     numbers seen before in this campaign
     * @param suppressed    numbers on a DNC list at dial time
     * @param windowExpired contacts whose calling window did not open in time
     * @param dialed        contacts dialed at least once
     * @param alreadyDone   contacts finished by an earlier run of the campaign (resume)
     * @param waiting       contacts waiting for their calling window now
     * @param notReached    contacts read but not dialed because the campaign was cancelled or stopped
     */
    public record Contacts(long total, long invalid, long duplicate, long suppressed, long windowExpired, long dialed,
                           long alreadyDone, long waiting, long notReached) {
    }

    /**
     * One Region's pacing.
     *
     * @param attempts      Creates sent there (each retry of a throttled Create counts once)
     * @param throttled     429 answers
     * @param configuredCps the configured calls per second
     * @param achievedCps   attempts divided by the seconds from the first to the last Create, that span counted as
     *                      at least 10 s (so that a short list's burst is not read as a rate)
     * @param effectiveCps  the AIMD-adjusted rate at the end
     * @param peakActive    the highest number of simultaneous active-call permits held
     * @param maxActive     the active-call cap
     * @param failure       why the Region failed (error type and message; no Create is sent there until the
     *                      campaign is resumed), or null while it is up
     * @param recentCps     Creates sent there in the last 10 s, divided by 10: the rate the Region holds now
     */
    public record RegionReport(long attempts, long throttled, double configuredCps, double achievedCps,
                               double effectiveCps, int peakActive, int maxActive, String failure, double recentCps) {
    }
}
