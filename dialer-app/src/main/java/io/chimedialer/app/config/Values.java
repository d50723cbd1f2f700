package io.chimedialer.app.config;

import io.chimedialer.core.contacts.PhoneNumbers;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsers for the configuration's scalar formats; each throws IllegalArgumentException with a short reason. */
final class Values {
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    private static final Pattern HOURS = Pattern.compile("(\\d{1,2}):(\\d{2})\\s*-\\s*(\\d{1,2}):(\\d{2})");
    private static final Pattern E164 = Pattern.compile("\\+[1-9]\\d{1,14}");
    private static final Pattern REGION = Pattern.compile("[a-z]{2}(-gov)?-[a-z]+-\\d{1,2}");

    private Values() {
    }

    /** ISO-8601 local date-time, then an optional offset, then an optional [zone]. */
    private static final java.time.format.DateTimeFormatter DATE_TIME = new java.time.format.DateTimeFormatterBuilder()
            .append(java.time.format.DateTimeFormatter.ISO_LOCAL_DATE_TIME)
            .optionalStart().appendOffsetId().optionalEnd()
            .optionalStart().appendLiteral('[').parseCaseSensitive().appendZoneRegionId().appendLiteral(']')
            .optionalEnd()
            .toFormatter(Locale.ROOT);

    /**
     * Parses an ISO-8601 date and time with an offset or a zone (or both): {@code 2026-12-07T09:00:00-05:00},
     * {@code 2026-12-07T14:00Z}, {@code 2026-12-07T09:00[America/New_York]}. With a zone and no offset, a local time
     * that falls in a daylight-saving gap or overlap resolves as {@link java.time.ZonedDateTime#ofLocal} does (the
     * earlier offset); with both, the offset must be valid in the zone.
     */
    static java.time.ZonedDateTime dateTime(String text) {
        String s = text.trim();
        String example = " (e.g. 2026-12-07T09:00:00-05:00 or 2026-12-07T09:00[America/New_York])";
        java.time.temporal.TemporalAccessor parsed;
        try {
            parsed = DATE_TIME.parse(s);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not an ISO-8601 date and time: '" + text + "'" + example);
        }
        java.time.LocalDateTime local = java.time.LocalDateTime.from(parsed);
        java.time.ZoneOffset offset = parsed.query(java.time.temporal.TemporalQueries.offset());
        ZoneId zone = parsed.query(java.time.temporal.TemporalQueries.zoneId());
        if (zone instanceof java.time.ZoneOffset) {
            zone = null;
        }
        if (offset == null && zone == null) {
            throw new IllegalArgumentException("'" + text + "' has no offset or zone: say which clock it is on"
                    + example);
        }
        if (zone == null) {
            return java.time.ZonedDateTime.of(local, offset);
        }
        if (offset != null) {
            if (!zone.getRules().isValidOffset(local, offset)) {
                throw new IllegalArgumentException("'" + text + "': offset " + offset + " is not valid in " + zone
                        + " at that time");
            }
            return java.time.ZonedDateTime.ofLocal(local, zone, offset);
        }
        return java.time.ZonedDateTime.ofLocal(local, zone, null);
    }

    /**
     * Parses {@code 500ms}, {@code 10s}, {@code 10m}, {@code 2h}, {@code 1d}, combinations such as {@code 1h30m},
     * a plain {@code 0}, or ISO-8601 ({@code PT10M}).
     */
    static Duration duration(String text) {
        String s = text.trim();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.startsWith("P") || s.startsWith("p")) {
            try {
                return Duration.parse(s);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("not a duration: '" + text + "'");
            }
        }
        Matcher m = DURATION_PART.matcher(s);
        Duration total = Duration.ZERO;
        int at = 0;
        while (at < s.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("not a duration: '" + text
                        + "' (use a number and a unit: 500ms, 10s, 10m, 2h, 1d, or combinations such as 1h30m)");
            }
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            });
            at = m.end();
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException("not a duration: empty");
        }
        return total;
    }

    /** Parses {@code HH:MM-HH:MM}; {@code 24:00} is accepted as the end (midnight). Returns {start, end}. */
    static LocalTime[] hours(String text) {
        Matcher m = HOURS.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a range of hours: '" + text + "' (use HH:MM-HH:MM, e.g. 09:00-20:00)");
        }
        LocalTime start = time(m.group(1), m.group(2), false, text);
        LocalTime end = time(m.group(3), m.group(4), true, text);
        return new LocalTime[] {start, end};
    }

    private static LocalTime time(String h, String m, boolean end, String text) {
        int hour = Integer.parseInt(h);
        int minute = Integer.parseInt(m);
        if (end && hour == 24 && minute == 0) {
            return LocalTime.MIDNIGHT;
        }
        if (hour > 23 || minute > 59) {
            throw new IllegalArgumentException("not a time of day: '" + h + ":" + m + "' in '" + text + "'");
        }
        return LocalTime.of(hour, minute);
    }

    /** Parses {@code MON-SAT}, {@code MON,WED,FRI}, {@code FRI-MON} (wrapping), full names, any case. */
    static Set<DayOfWeek> days(String text) {
        Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
        for (String part : text.split(",")) {
            String p = part.trim();
            int dash = p.indexOf('-');
            if (dash > 0) {
                DayOfWeek from = day(p.substring(0, dash), text);
                DayOfWeek to = day(p.substring(dash + 1), text);
                for (DayOfWeek d = from; ; d = d.plus(1)) {
                    days.add(d);
                    if (d == to) {
                        break;
                    }
                }
            } else {
                days.add(day(p, text));
            }
        }
        return days;
    }

    /** Parses each item of a list of day specifications (each item may itself be a range). */
    static Set<DayOfWeek> days(Collection<String> items) {
        Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
        for (String item : items) {
            days.addAll(days(item));
        }
        return days;
    }

    private static DayOfWeek day(String name, String text) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        for (DayOfWeek d : DayOfWeek.values()) {
            if (n.length() >= 3 && d.name().startsWith(n) && (n.length() == 3 || n.equals(d.name()))) {
                return d;
            }
        }
        throw new IllegalArgumentException("not a day: '" + name.trim() + "' in '" + text
                + "' (use MON TUE WED THU FRI SAT SUN, ranges such as MON-SAT, or lists such as MON,WED,FRI)");
    }

    /** Validates a time zone setting: {@code callee} or a zone id such as {@code America/New_York}. */
    static String timezone(String text) {
        String s = text.trim();
        if (s.equalsIgnoreCase("callee")) {
            return "callee";
        }
        try {
            return ZoneId.of(s).getId();
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("not a time zone: '" + text
                    + "' (use callee, or a zone id such as America/New_York)");
        }
    }

    /** Checks that a number is in E.164 form and valid for its country. */
    static String e164(String text) {
        String s = text.trim();
        if (!E164.matcher(s).matches()) {
            throw new IllegalArgumentException("not an E.164 number: '" + text + "' (use +<country><number>, e.g. +12065552368)");
        }
        // The region only reads numbers without +, and s has one.
        if (!PhoneNumbers.forRegion("US").normalize(s).isValid()) {
            throw new IllegalArgumentException("not a valid number: '" + text + "'");
        }
        return s;
    }

    /**
     * The AWS Regions with an Amazon Chime SDK voice endpoint ({@code voice-chime.REGION.amazonaws.com}), where
     * SIP media applications and so PSTN audio calls exist. Chime-owned phone numbers (from-numbers) are offered in
     * us-east-1 and us-west-2 only.
     */
    static final List<String> CHIME_VOICE_REGIONS = List.of("us-east-1", "us-west-2", "ca-central-1", "eu-central-1",
            "eu-west-1", "eu-west-2", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2");

    /** True when the name is one of {@link #CHIME_VOICE_REGIONS}. */
    static boolean chimeVoiceRegion(String name) {
        return CHIME_VOICE_REGIONS.contains(name);
    }

    /** True when the name looks like an AWS Region name, e.g. {@code us-east-1}. */
    static boolean regionName(String name) {
        return REGION.matcher(name).matches();
    }

    /** Suggestions among {@code candidates} for a mistyped {@code key}, best first (at most 1). */
    static List<String> didYouMean(String key, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        String normalizedKey = normalize(key);
        for (String c : candidates) {
            int d = normalize(c).equals(normalizedKey) ? 0 : levenshtein(key.toLowerCase(Locale.ROOT), c.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        List<String> out = new ArrayList<>(1);
        if (best != null && bestDistance <= Math.max(2, key.length() / 3)) {
            out.add(best);
        }
        return out;
    }

    private static String normalize(String s) {
        return s.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
    }

    static int levenshtein(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
