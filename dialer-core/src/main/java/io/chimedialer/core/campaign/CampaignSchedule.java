package io.chimedialer.core.campaign;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Optional;

/**
 * When a campaign may place calls: not before {@code start}, and no new call from {@code end} on (calls in progress
 * then finish and their outcomes are recorded; contacts not dialed stay dialable for a later run). Either may be
 * absent. Times carry their offset or zone, as configured ({@code 2026-12-07T09:00:00-05:00},
 * {@code 2026-12-07T09:00[America/New_York]}); the run compares them with its scheduler's clock.
 *
 * @param start the scheduled start, or null to start at once
 * @param end   the scheduled end, or null for none; after {@code start} when both are set
 */
public record CampaignSchedule(ZonedDateTime start, ZonedDateTime end) {

    /** No start and no end: the campaign dials from its launch until it is done. */
    public static final CampaignSchedule NONE = new CampaignSchedule(null, null);

    public CampaignSchedule {
        if (start != null && end != null && !end.toInstant().isAfter(start.toInstant())) {
            throw new IllegalArgumentException("end (" + end + ") must be after start (" + start + ")");
        }
    }

    /** The start as an instant, when set. */
    public Optional<Instant> startInstant() {
        return Optional.ofNullable(start).map(ZonedDateTime::toInstant);
    }

    /** The end as an instant, when set. */
    public Optional<Instant> endInstant() {
        return Optional.ofNullable(end).map(ZonedDateTime::toInstant);
    }

    /** Whether a start or an end is set. */
    public boolean isScheduled() {
        return start != null || end != null;
    }
}
