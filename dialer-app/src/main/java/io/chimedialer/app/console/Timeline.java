package io.chimedialer.app.console;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A campaign's attempts and answers per minute, and its last failed attempts, gathered from the control API's
 * results CSV (every attempt of every run and node, from the ledger) in one streamed pass: only the per-minute
 * counts of the last {@link #MINUTES} minutes that had attempts and the last {@link #LAST_ERRORS} failures are held.
 *
 * @param minutes    per minute (epoch minute, ascending): attempts placed in it and how many of them were answered
 * @param lastErrors the last attempts that failed (FAILED or UNKNOWN, or with a failed action), oldest first
 */
record Timeline(List<Minute> minutes, List<Failure> lastErrors) {
    /** Minutes kept. */
    static final int MINUTES = 30;
    /** Failures kept. */
    static final int LAST_ERRORS = 5;

    static final Timeline EMPTY = new Timeline(List.of(), List.of());

    /** One minute: when it began, the attempts placed in it, and those of them that were answered. */
    record Minute(Instant start, long attempts, long answered) {
    }

    /** One failed attempt, without its number: when it was placed, its Region, disposition, SIP code and failure. */
    record Failure(String at, String region, String disposition, String sipCode, String actionFailure) {
    }

    /** Gathers the timeline of a results CSV (the header line first). */
    static Mono<Timeline> of(Flux<String> csvLines) {
        return csvLines.reduce(new Builder(), Builder::line).map(Builder::build);
    }

    private static final class Builder {
        private int placedAt = -1;
        private int intendedAt = -1;
        private int disposition = -1;
        private int region = -1;
        private int sipCode = -1;
        private int actionFailure = -1;
        private boolean header = true;
        private final TreeMap<Long, long[]> minutes = new TreeMap<>();
        private final Deque<Failure> errors = new ArrayDeque<>();

        Builder line(String line) {
            List<String> cells = cells(line);
            if (header) {
                header = false;
                placedAt = cells.indexOf("placed_at");
                intendedAt = cells.indexOf("intended_at");
                disposition = cells.indexOf("disposition");
                region = cells.indexOf("region");
                sipCode = cells.indexOf("sip_code");
                actionFailure = cells.indexOf("action_failure");
                return this;
            }
            String placed = cell(cells, placedAt);
            String when = placed.isEmpty() ? cell(cells, intendedAt) : placed;
            String result = cell(cells, disposition);
            if (!placed.isEmpty()) {
                try {
                    long minute = Instant.parse(placed).getEpochSecond() / 60;
                    long[] counts = minutes.computeIfAbsent(minute, k -> new long[2]);
                    counts[0]++;
                    if ("ANSWERED".equals(result)) {
                        counts[1]++;
                    }
                    while (minutes.size() > MINUTES) {
                        minutes.pollFirstEntry();
                    }
                } catch (java.time.format.DateTimeParseException notATime) {
                    // a row without a usable time is left out of the chart
                }
            }
            String failure = cell(cells, actionFailure);
            if ("FAILED".equals(result) || "UNKNOWN".equals(result) || !failure.isEmpty()) {
                errors.addLast(new Failure(when, cell(cells, region), result, cell(cells, sipCode), failure));
                if (errors.size() > LAST_ERRORS) {
                    errors.removeFirst();
                }
            }
            return this;
        }

        Timeline build() {
            List<Minute> out = new ArrayList<>();
            for (Map.Entry<Long, long[]> e : minutes.entrySet()) {
                out.add(new Minute(Instant.ofEpochSecond(e.getKey() * 60), e.getValue()[0], e.getValue()[1]));
            }
            return new Timeline(List.copyOf(out), List.copyOf(errors));
        }

        private static String cell(List<String> cells, int index) {
            return index < 0 || index >= cells.size() ? "" : cells.get(index);
        }
    }

    /** The fields of one RFC 4180 CSV line (its CRLF ignored; quoted fields with doubled quotes). */
    static List<String> cells(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        int n = line.length();
        while (n > 0 && (line.charAt(n - 1) == '\n' || line.charAt(n - 1) == '\r')) {
            n--;
        }
        for (int i = 0; i < n; i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < n && line.charAt(i + 1) == '"') {
                        cell.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    cell.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        out.add(cell.toString());
        return out;
    }
}
