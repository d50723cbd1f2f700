package io.chimedialer.core.contacts;

import java.time.DayOfWeek;
import java.time.LocalTime;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * When a callee may be called, in the callee's local time (or a fixed zone).
 *
 * @param start    first local time of day a call may start (inclusive)
 * @param end      local time of day after which no call starts (exclusive); may be before start (overnight)
 * @param days     weekdays on which calls may start, judged at the callee's local date
 * @param timezone {@code "callee"} to derive the zone from the number (or the row's timezone column),
 *                 otherwise a fixed zone id such as {@code America/New_York}
 */
public record CallingWindowConfig(LocalTime start, LocalTime end, Set<DayOfWeek> days, String timezone) {
    /** Any time, any day: the window that never makes a contact wait. */
    public static final CallingWindowConfig ALWAYS =
            new CallingWindowConfig(LocalTime.MIDNIGHT, LocalTime.MIDNIGHT, EnumSet.allOf(DayOfWeek.class), "callee");

    public CallingWindowConfig {
        Objects.requireNonNull(start, "hours");
        Objects.requireNonNull(end, "hours");
        days = days == null || days.isEmpty() ? EnumSet.allOf(DayOfWeek.class) : EnumSet.copyOf(days);
        timezone = timezone == null || timezone.isBlank() ? "callee" : timezone;
    }

    /** True when start equals end: the whole day is inside the window. */
    public boolean allDay() {
        return start.equals(end);
    }
}
