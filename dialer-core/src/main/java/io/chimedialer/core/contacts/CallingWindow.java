package io.chimedialer.core.contacts;

import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * When a contact may be called: the campaign's hours and weekdays in the callee's local time.
 *
 * <p>The callee's zones are, in order of precedence: the config's fixed {@code timezone} (anything but
 * {@code callee}); the contact's own {@link Contact#timezone()} (the row's timezone column); the zones of the
 * number ({@link TimeZones#zonesFor}); else the fallback zone (default {@link #DEFAULT_FALLBACK_ZONE}, UTC). A
 * number with several zones may be called only when the window is open in all of them (the most restrictive).
 *
 * <p>A window with {@code end} before {@code start} runs overnight and belongs to the day it starts on: with
 * days MON-FRI and hours 22:00-02:00, Friday 23:00 and Saturday 01:00 are inside, Saturday 23:00 is not. A
 * window whose start falls in a daylight-saving gap opens when the gap ends. Immutable and thread-safe.
 */
public final class CallingWindow {
    /** The zone used for numbers whose zones are unknown, unless another is given: UTC. */
    public static final ZoneId DEFAULT_FALLBACK_ZONE = ZoneOffset.UTC;
    /** Returned by {@link #nextOpening} when the window never opens in all the callee's zones within a year. */
    public static final Instant NEVER = Instant.MAX;

    private static final Duration SEARCH_LIMIT = Duration.ofDays(366);

    private final LocalTime start;
    private final LocalTime end;
    private final Set<DayOfWeek> days;
    private final boolean allDay;
    private final boolean overnight;
    private final List<ZoneId> fixedZone;
    private final List<ZoneId> fallback;
    private final boolean always;

    private CallingWindow(CallingWindowConfig config, ZoneId fallbackZone) {
        this.start = config.start();
        this.end = config.end();
        this.days = EnumSet.copyOf(config.days());
        this.allDay = config.allDay();
        this.overnight = end.isBefore(start);
        this.fallback = List.of(Objects.requireNonNull(fallbackZone, "fallbackZone"));
        if ("callee".equalsIgnoreCase(config.timezone())) {
            this.fixedZone = null;
        } else {
            try {
                this.fixedZone = List.of(ZoneId.of(config.timezone()));
            } catch (DateTimeException e) {
                throw new IllegalArgumentException("calling-window.timezone: unknown time zone '"
                        + config.timezone() + "' (use an IANA id such as America/New_York, or callee)", e);
            }
        }
        this.always = allDay && days.size() == DayOfWeek.values().length;
    }

    /** A window with the {@link #DEFAULT_FALLBACK_ZONE} for numbers of unknown zone. */
    public static CallingWindow of(CallingWindowConfig config) {
        return of(config, DEFAULT_FALLBACK_ZONE);
    }

    /**
     * A window.
     *
     * @param config       hours, days and zone policy
     * @param fallbackZone the zone of contacts whose number maps to no known zone
     * @return the window
     * @throws IllegalArgumentException when the config's fixed zone is unknown
     */
    public static CallingWindow of(CallingWindowConfig config, ZoneId fallbackZone) {
        return new CallingWindow(Objects.requireNonNull(config, "config"), fallbackZone);
    }

    /** The zones the window is judged in for this contact (never empty). */
    public List<ZoneId> zonesOf(Contact contact) {
        if (fixedZone != null) {
            return fixedZone;
        }
        if (contact.timezone() != null) {
            return List.of(contact.timezone());
        }
        List<ZoneId> zones = TimeZones.zonesFor(contact.number());
        return zones.isEmpty() ? fallback : zones;
    }

    /** Whether the contact may be called at this instant (the window is open in all its zones). */
    public boolean isOpen(Contact contact, Instant now) {
        if (always) {
            return true;
        }
        for (ZoneId zone : zonesOf(contact)) {
            if (!isOpen(zone, now)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The first instant at or after {@code now} at which the contact may be called.
     *
     * @return {@code now} when the contact may be called now; {@link #NEVER} when the window does not open in
     *         all the contact's zones at once within a year (e.g. a short window over zones hours apart)
     */
    public Instant nextOpening(Contact contact, Instant now) {
        if (always) {
            return now;
        }
        return nextOpening(zonesOf(contact), now);
    }

    Instant nextOpening(List<ZoneId> zones, Instant now) {
        Instant limit = now.plus(SEARCH_LIMIT);
        Instant t = now;
        while (!t.isAfter(limit)) {
            // Every zone closed at t stays closed until its own next opening, so none of the instants before the
            // latest of those openings has all zones open: jump there and check again.
            Instant latest = t;
            for (ZoneId zone : zones) {
                if (!isOpen(zone, t)) {
                    Instant opening = nextOpeningIn(zone, t);
                    if (opening.isAfter(latest)) {
                        latest = opening;
                    }
                }
            }
            if (latest.equals(t)) {
                return t;
            }
            t = latest;
        }
        return NEVER;
    }

    /** The first instant after {@code t} (closed in {@code zone}) at which the window opens in that zone. */
    private Instant nextOpeningIn(ZoneId zone, Instant t) {
        LocalDate today = t.atZone(zone).toLocalDate();
        for (int i = -1; i <= 8; i++) {
            LocalDate day = today.plusDays(i);
            if (!days.contains(day.getDayOfWeek())) {
                continue;
            }
            // ZonedDateTime.of moves a start inside a DST gap to the end of the gap.
            Instant candidate = allDay ? day.atStartOfDay(zone).toInstant()
                    : ZonedDateTime.of(day, start, zone).toInstant();
            if (candidate.isAfter(t) && isOpen(zone, candidate)) {
                return candidate;
            }
        }
        return NEVER;
    }

    boolean isOpen(ZoneId zone, Instant t) {
        ZonedDateTime local = t.atZone(zone);
        LocalDate day = local.toLocalDate();
        boolean today = days.contains(day.getDayOfWeek());
        if (allDay) {
            return today;
        }
        LocalTime time = local.toLocalTime();
        if (!overnight) {
            return today && !time.isBefore(start) && time.isBefore(end);
        }
        return (today && !time.isBefore(start))
                || (time.isBefore(end) && days.contains(day.minusDays(1).getDayOfWeek()));
    }

    @Override
    public String toString() {
        return "CallingWindow[" + start + "-" + end + " " + days + " "
                + (fixedZone == null ? "callee, fallback " + fallback.get(0) : fixedZone.get(0)) + "]";
    }
}
