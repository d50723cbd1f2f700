package io.chimedialer.core.contacts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CallingWindowTest {
    private static final Set<DayOfWeek> MON_SAT = EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.SATURDAY);
    private static final Set<DayOfWeek> MON_FRI = EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.FRIDAY);
    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
    private static final ZoneId LONDON = ZoneId.of("Europe/London");

    private static final Contact NY = contact("+12125550123", null);
    private static final Contact LA = contact("+13105550123", null);
    private static final Contact ALASKA = contact("+19075550123", null);

    private static Contact contact(String number, ZoneId zone) {
        return new Contact(2, "c", number, "", zone, Map.of());
    }

    private static CallingWindow window(String start, String end, Set<DayOfWeek> days, String zone) {
        return CallingWindow.of(new CallingWindowConfig(LocalTime.parse(start), LocalTime.parse(end), days, zone));
    }

    private static Instant at(String instant) {
        return Instant.parse(instant);
    }

    @Test
    void timeZonesFor_numbers_giveGeocoderZonesOrEmpty() {
        assertThat(TimeZones.zonesFor("+12125550123")).containsExactly(NEW_YORK);
        assertThat(TimeZones.zonesFor("+13105550123")).containsExactly(ZoneId.of("America/Los_Angeles"));
        assertThat(TimeZones.zonesFor("+19075550123"))
                .containsExactly(ZoneId.of("America/Adak"), ZoneId.of("America/Anchorage"));
        assertThat(TimeZones.zonesFor("+442079460018")).containsExactly(LONDON);
        assertThat(TimeZones.zonesFor("+10995550101")).isEmpty();
        assertThat(TimeZones.zonesFor("nonsense")).isEmpty();
        assertThat(TimeZones.zonesFor("")).isEmpty();
    }

    @Test
    void nextOpening_newYorkOpenLosAngelesEarly_nowForNyAndNineAmForLa() {
        CallingWindow window = window("09:00", "20:00", MON_SAT, "callee");
        Instant now = at("2026-01-14T15:00:00Z"); // Wednesday: 10:00 in New York, 07:00 in Los Angeles

        assertThat(window.nextOpening(NY, now)).isEqualTo(now);
        assertThat(window.isOpen(NY, now)).isTrue();
        assertThat(window.nextOpening(LA, now)).isEqualTo(at("2026-01-14T17:00:00Z"));
        assertThat(window.isOpen(LA, now)).isFalse();
    }

    @Test
    void nextOpening_atEndOfWindow_nextDaysStart() {
        CallingWindow window = window("09:00", "20:00", MON_SAT, "callee");

        assertThat(window.nextOpening(NY, at("2026-01-15T01:00:00Z"))) // Wed 20:00 EST: end is exclusive
                .isEqualTo(at("2026-01-15T14:00:00Z"));
        assertThat(window.nextOpening(NY, at("2026-01-15T00:59:59Z"))).isEqualTo(at("2026-01-15T00:59:59Z"));
        assertThat(window.nextOpening(NY, at("2026-01-14T14:00:00Z"))).isEqualTo(at("2026-01-14T14:00:00Z"));
    }

    @Test
    void nextOpening_saturdayEvening_skipsSundayToMonday() {
        CallingWindow window = window("09:00", "20:00", MON_SAT, "callee");

        // Saturday 2026-01-17 20:30 EST; Sunday is not a calling day.
        assertThat(window.nextOpening(NY, at("2026-01-18T01:30:00Z"))).isEqualTo(at("2026-01-19T14:00:00Z"));
        // Sunday noon in Los Angeles: Monday 09:00 PST.
        assertThat(window.nextOpening(LA, at("2026-01-18T20:00:00Z"))).isEqualTo(at("2026-01-19T17:00:00Z"));
    }

    @Test
    void nextOpening_dayOfWeekIsTheCalleesLocalDate() {
        CallingWindow window = window("09:00", "20:00", MON_FRI, "callee");
        Instant fridayEveningInLa = at("2026-01-17T03:00:00Z"); // Saturday in UTC and New York, Friday 19:00 in LA

        assertThat(window.isOpen(LA, fridayEveningInLa)).isTrue();
        assertThat(window.isOpen(NY, fridayEveningInLa)).isFalse();
        assertThat(window.nextOpening(NY, fridayEveningInLa)).isEqualTo(at("2026-01-19T14:00:00Z"));
    }

    @Test
    void nextOpening_overnightWindow_belongsToTheDayItStarts() {
        CallingWindow window = window("22:00", "02:00", MON_FRI, "callee");
        Contact london = contact("+442079460018", null);

        assertThat(window.isOpen(london, at("2026-01-16T23:00:00Z"))).isTrue();  // Friday 23:00
        assertThat(window.isOpen(london, at("2026-01-17T01:59:00Z"))).isTrue();  // Saturday 01:59, Friday's window
        assertThat(window.isOpen(london, at("2026-01-17T02:00:00Z"))).isFalse(); // end is exclusive
        assertThat(window.isOpen(london, at("2026-01-17T23:00:00Z"))).isFalse(); // Saturday night
        assertThat(window.isOpen(london, at("2026-01-19T01:00:00Z"))).isFalse(); // Monday 01:00: Sunday's window
        assertThat(window.nextOpening(london, at("2026-01-17T23:00:00Z"))).isEqualTo(at("2026-01-19T22:00:00Z"));
        assertThat(window.nextOpening(london, at("2026-01-19T12:00:00Z"))).isEqualTo(at("2026-01-19T22:00:00Z"));
    }

    @Test
    void nextOpening_acrossDstChanges_opensAtLocalNine() {
        CallingWindow window = window("09:00", "20:00", EnumSet.allOf(DayOfWeek.class), "callee");

        // Spring forward on Sunday 2026-03-08: Saturday 20:00 EST -> Sunday 09:00 EDT (13:00Z, not 14:00Z).
        assertThat(window.nextOpening(NY, at("2026-03-08T01:00:00Z"))).isEqualTo(at("2026-03-08T13:00:00Z"));
        // Fall back on Sunday 2026-11-01: Saturday 22:00 EDT -> Sunday 09:00 EST (14:00Z).
        assertThat(window.nextOpening(NY, at("2026-11-01T02:00:00Z"))).isEqualTo(at("2026-11-01T14:00:00Z"));
    }

    @Test
    void nextOpening_startInsideDstGap_opensWhenTheGapEnds() {
        CallingWindow window = window("02:30", "05:00", EnumSet.allOf(DayOfWeek.class), "America/New_York");

        // 2026-03-08 02:30 does not exist in New York; 03:30 EDT (07:30Z) is the first instant inside.
        assertThat(window.nextOpening(LA, at("2026-03-08T05:00:00Z"))).isEqualTo(at("2026-03-08T07:30:00Z"));
        assertThat(window.nextOpening(LA, at("2026-03-09T05:00:00Z"))).isEqualTo(at("2026-03-09T06:30:00Z"));
    }

    @Test
    void nextOpening_twoZoneNumber_waitsForTheLaterZoneAndClosesWithTheEarlier() {
        CallingWindow window = window("09:00", "17:00", EnumSet.allOf(DayOfWeek.class), "callee");

        // 18:00Z: 09:00 in Anchorage (AKST, -9) but 08:00 in Adak (HST, -10).
        assertThat(window.nextOpening(ALASKA, at("2026-01-15T18:00:00Z"))).isEqualTo(at("2026-01-15T19:00:00Z"));
        assertThat(window.isOpen(ALASKA, at("2026-01-16T01:59:59Z"))).isTrue();
        // 02:00Z: 17:00 in Anchorage (closed) while Adak is still open: closed for the number.
        assertThat(window.isOpen(ALASKA, at("2026-01-16T02:00:00Z"))).isFalse();
        assertThat(window.nextOpening(ALASKA, at("2026-01-16T02:30:00Z"))).isEqualTo(at("2026-01-16T19:00:00Z"));
    }

    @Test
    void nextOpening_zonesNeverOpenTogether_never() {
        CallingWindow window = window("09:00", "10:00", EnumSet.allOf(DayOfWeek.class), "callee");
        Contact tollFree = contact("+18005550123", null); // every NANP zone, Guam to St. John's

        assertThat(window.zonesOf(tollFree)).hasSizeGreaterThan(10);
        assertThat(window.nextOpening(tollFree, at("2026-01-15T12:00:00Z"))).isEqualTo(CallingWindow.NEVER);
    }

    @Test
    void zonesOf_rowTimezoneOverridesNumberAndFixedZoneOverridesBoth() {
        CallingWindow callee = window("09:00", "20:00", MON_SAT, "callee");
        Contact laNumberInNewYork = contact("+13105550123", NEW_YORK);
        Instant now = at("2026-01-14T15:00:00Z");

        assertThat(callee.zonesOf(laNumberInNewYork)).containsExactly(NEW_YORK);
        assertThat(callee.nextOpening(laNumberInNewYork, now)).isEqualTo(now);

        CallingWindow fixed = window("09:00", "20:00", MON_SAT, "Europe/London");
        assertThat(fixed.zonesOf(laNumberInNewYork)).containsExactly(LONDON);
        assertThat(fixed.nextOpening(laNumberInNewYork, at("2026-01-14T07:00:00Z")))
                .isEqualTo(at("2026-01-14T09:00:00Z"));
    }

    @Test
    void zonesOf_unknownNumber_usesTheFallbackZone() {
        Contact unknown = contact("+10995550101", null);
        CallingWindowConfig config = new CallingWindowConfig(LocalTime.of(9, 0), LocalTime.of(20, 0), MON_SAT,
                "callee");

        assertThat(CallingWindow.of(config).zonesOf(unknown)).containsExactly(ZoneOffset.UTC);
        assertThat(CallingWindow.of(config, ZoneId.of("Asia/Tokyo")).zonesOf(unknown))
                .containsExactly(ZoneId.of("Asia/Tokyo"));
        assertThat(CallingWindow.of(config).nextOpening(unknown, at("2026-01-14T07:00:00Z")))
                .isEqualTo(at("2026-01-14T09:00:00Z"));
    }

    @Test
    void of_unknownFixedZone_throwsNamingTheKey() {
        assertThatThrownBy(() -> window("09:00", "20:00", MON_SAT, "Mars/Olympus"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("calling-window.timezone")
                .hasMessageContaining("Mars/Olympus");
    }

    @Test
    void nextOpening_always_returnsNow() {
        CallingWindow window = CallingWindow.of(CallingWindowConfig.ALWAYS);
        Instant now = at("2026-01-18T03:17:00Z");

        assertThat(window.nextOpening(ALASKA, now)).isEqualTo(now);
        assertThat(window.isOpen(ALASKA, now)).isTrue();
    }

    @Test
    void nextOpening_allDayOnWeekdays_opensAtLocalMidnight() {
        CallingWindow window = window("00:00", "00:00", MON_FRI, "callee");

        assertThat(window.nextOpening(NY, at("2026-01-17T15:00:00Z"))).isEqualTo(at("2026-01-19T05:00:00Z"));
        assertThat(window.isOpen(NY, at("2026-01-19T04:59:59Z"))).isFalse();
    }

    @Test
    void nextOpening_matchesAMinuteByMinuteSearch() {
        // Brute force over two weeks around the spring DST change, for one and two zones, day and overnight windows.
        List<List<ZoneId>> zoneSets = List.of(List.of(NEW_YORK),
                List.of(ZoneId.of("America/Adak"), ZoneId.of("America/Anchorage")), List.of(NEW_YORK, LONDON));
        List<CallingWindow> windows = List.of(window("09:00", "17:00", MON_FRI, "callee"),
                window("22:00", "02:00", EnumSet.of(DayOfWeek.FRIDAY, DayOfWeek.SATURDAY), "callee"),
                window("07:30", "21:00", MON_SAT, "callee"));
        Instant from = at("2026-03-02T00:00:00Z");
        int checked = 0;
        for (CallingWindow window : windows) {
            for (List<ZoneId> zones : zoneSets) {
                for (Instant now = from; now.isBefore(from.plus(Duration.ofDays(14)));
                     now = now.plus(Duration.ofMinutes(317))) {
                    Instant expected = now;
                    while (!openInAll(window, zones, expected) && expected.isBefore(now.plus(Duration.ofDays(9)))) {
                        expected = expected.plus(Duration.ofMinutes(1));
                    }
                    Instant actual = window.nextOpening(zones, now);
                    if (openInAll(window, zones, expected)) {
                        assertThat(actual).as("%s %s from %s", window, zones, now).isEqualTo(expected);
                    } else {
                        assertThat(actual).as("%s %s from %s", window, zones, now).isAfter(expected);
                    }
                    checked++;
                }
            }
        }
        assertThat(checked).isEqualTo(9 * 64);
    }

    private static boolean openInAll(CallingWindow window, List<ZoneId> zones, Instant t) {
        return zones.stream().allMatch(zone -> window.isOpen(zone, t));
    }
}
