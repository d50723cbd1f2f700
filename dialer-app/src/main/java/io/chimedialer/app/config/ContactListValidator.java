package io.chimedialer.app.config;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Checks a contact list CSV the way {@code dialer validate} reports it: a header row naming a phone column
 * ({@link #PHONE_COLUMNS}, any case), then one row per contact whose number must parse as a valid number
 * (libphonenumber; numbers without {@code +} are read with the default region), and whose optional
 * {@code timezone} column, when not empty, must be a zone id. Bad rows are listed by line with the reason;
 * duplicates (same number in E.164) and numbers on a DNC list are counted and listed as notes, not errors,
 * since the dialer suppresses them. Reads the file as a stream; keeps one entry per distinct number.
 * Instances are immutable and thread-safe.
 */
public final class ContactListValidator {
    /** Header names accepted for the phone column, in order of preference (as dialer-core's CsvOptions). */
    public static final List<String> PHONE_COLUMNS = List.of("phone", "number", "phone_number", "to");
    /** At most this many errors and this many notes are kept in a report; the counts are always exact. */
    public static final int MAX_LISTED = 1000;

    private final String defaultRegion;
    private final Set<String> dnc;
    private final String dncName;

    /**
     * @param defaultRegion ISO country for numbers without {@code +} (e.g. {@code US})
     */
    public ContactListValidator(String defaultRegion) {
        this(defaultRegion, Set.of(), "");
    }

    private ContactListValidator(String defaultRegion, Set<String> dnc, String dncName) {
        this.defaultRegion = Objects.requireNonNull(defaultRegion, "defaultRegion").toUpperCase(Locale.ROOT);
        this.dnc = Set.copyOf(dnc);
        this.dncName = dncName;
    }

    /** A validator that also notes rows whose number is in {@code dncNumbers} (E.164). */
    public ContactListValidator withDnc(Collection<String> dncNumbers, String listName) {
        return new ContactListValidator(defaultRegion, new HashSet<>(dncNumbers), listName);
    }

    /**
     * One finding.
     *
     * @param line    the 1-based line in the file (1 is the header)
     * @param message the reason; numbers in it are masked but for their last 4 digits
     */
    public record RowProblem(long line, String message) {
    }

    /**
     * The result of checking one list.
     *
     * @param file            the list
     * @param rows            data rows read (the header and blank lines excluded)
     * @param invalidRows     rows that cannot be dialed
     * @param duplicateRows   rows whose number appeared on an earlier row
     * @param suppressedRows  rows whose number is on the DNC list
     * @param errors          the file's problems and its invalid rows, by line (at most {@link #MAX_LISTED})
     * @param notes           duplicate and suppressed rows, by line (at most {@link #MAX_LISTED})
     */
    public record Report(Path file, long rows, long invalidRows, long duplicateRows, long suppressedRows,
                         List<RowProblem> errors, List<RowProblem> notes) {
        public Report {
            errors = List.copyOf(errors);
            notes = List.copyOf(notes);
        }

        /** True when the list has no errors (duplicates and DNC entries are not errors). */
        public boolean ok() {
            return errors.isEmpty();
        }

        /** Rows that would be dialed: neither invalid, duplicate nor suppressed. */
        public long dialable() {
            return rows - invalidRows - duplicateRows - suppressedRows;
        }
    }

    /**
     * Checks a contact list. I/O problems become errors of the report rather than exceptions.
     */
    public Report validate(Path csv) {
        List<RowProblem> errors = new ArrayList<>();
        List<RowProblem> notes = new ArrayList<>();
        long rows = 0;
        long invalid = 0;
        long duplicates = 0;
        long suppressed = 0;
        Map<String, Long> firstLine = new HashMap<>();
        try (Reader reader = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
            CsvRows p = new CsvRows(reader);
            Row headerRow = p.next();
            if (headerRow == null) {
                errors.add(new RowProblem(1, "empty file: a header row with a phone column is required"));
                return new Report(csv, 0, 0, 0, 0, errors, notes);
            }
            List<String> header = headerRow.fields();
            int phone = phoneColumn(header);
            int timezone = indexOf(header, "timezone");
            if (phone < 0) {
                errors.add(new RowProblem(1, "no phone column: the header needs one of " + String.join(", ", PHONE_COLUMNS)
                        + " (found: " + String.join(", ", header) + ")"));
                return new Report(csv, 0, 0, 0, 0, errors, notes);
            }
            Set<String> seen = new HashSet<>();
            for (String h : header) {
                if (!seen.add(h.trim().toLowerCase(Locale.ROOT))) {
                    errors.add(new RowProblem(1, "column '" + h.trim() + "' appears twice in the header"));
                }
            }
            while (true) {
                Row next = p.next();
                if (next == null) {
                    break;
                }
                long line = next.line();
                List<String> row = next.fields();
                rows++;
                String reason = row.size() > header.size()
                        ? row.size() + " fields, but the header has " + header.size()
                        : null;
                String e164 = null;
                if (reason == null) {
                    Checked checked = checkRow(phone < row.size() ? row.get(phone) : "",
                            timezone >= 0 && timezone < row.size() ? row.get(timezone) : "", defaultRegion);
                    reason = checked.reason();
                    e164 = checked.e164();
                }
                if (reason != null) {
                    invalid++;
                    add(errors, new RowProblem(line, reason));
                } else if (dnc.contains(e164)) {
                    suppressed++;
                    add(notes, new RowProblem(line, "on the DNC list" + (dncName.isEmpty() ? "" : " " + dncName)
                            + " (" + mask(e164) + ")"));
                } else {
                    Long first = firstLine.putIfAbsent(e164, line);
                    if (first != null) {
                        duplicates++;
                        add(notes, new RowProblem(line, "duplicate of line " + first + " (" + mask(e164) + ")"));
                    }
                }
            }
        } catch (NoSuchFileException e) {
            errors.add(new RowProblem(0, "file not found"));
        } catch (IOException e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            errors.add(new RowProblem(0, "cannot read the CSV: " + reason));
        }
        return new Report(csv, rows, invalid, duplicates, suppressed, errors, notes);
    }

    /**
     * Why one row cannot be dialed, or its number in E.164. The only row rule here; the contacts package of
     * dialer-core will replace it with its own normalization.
     */
    static Checked checkRow(String phone, String timezone, String defaultRegion) {
        String raw = phone == null ? "" : phone.trim();
        if (raw.isEmpty()) {
            return new Checked(null, "no phone number");
        }
        String reason = PhoneNumbers.whyInvalid(raw, defaultRegion);
        if (reason != null) {
            return new Checked(null, reason + " (" + mask(raw) + ")");
        }
        if (timezone != null && !timezone.isBlank()) {
            try {
                ZoneId.of(timezone.trim());
            } catch (DateTimeException e) {
                return new Checked(null, "timezone '" + timezone.trim() + "' is not a zone id (e.g. America/Chicago)");
            }
        }
        return new Checked(PhoneNumbers.e164(raw, defaultRegion), null);
    }

    /** A row's number in E.164, or the reason it is not dialable. */
    record Checked(String e164, String reason) {
    }

    /**
     * Reads a DNC list: one number per line (E.164, or national with the default region); blank lines and lines
     * starting with {@code #} are skipped. Lines that are not numbers are reported.
     *
     * @return the numbers in E.164, and the lines that are not numbers
     */
    public DncList readDnc(Path file) {
        Set<String> numbers = new HashSet<>();
        List<RowProblem> problems = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            long lineNr = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lineNr++;
                String s = line.strip();
                if (s.isEmpty() || s.startsWith("#")) {
                    continue;
                }
                String e164 = PhoneNumbers.e164(s, defaultRegion);
                if (e164 == null) {
                    add(problems, new RowProblem(lineNr, "not a valid number (" + mask(s) + ")"));
                } else {
                    numbers.add(e164);
                }
            }
        } catch (NoSuchFileException e) {
            problems.add(new RowProblem(0, "file not found"));
        } catch (IOException e) {
            problems.add(new RowProblem(0, "cannot read: " + e.getClass().getSimpleName()));
        }
        return new DncList(file, numbers, problems);
    }

    /**
     * A read DNC list.
     *
     * @param file     the list
     * @param numbers  its numbers in E.164
     * @param problems lines that are not numbers
     */
    public record DncList(Path file, Set<String> numbers, List<RowProblem> problems) {
        public DncList {
            numbers = Set.copyOf(numbers);
            problems = List.copyOf(problems);
        }
    }

    /** Masks all but the last 4 characters of a number: {@code +*******2368}. */
    static String mask(String number) {
        String s = number.strip();
        if (s.length() <= 4) {
            return "*".repeat(s.length());
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(i >= s.length() - 4 || c == '+' && i == 0 ? c : '*');
        }
        return sb.toString();
    }

    private static void add(List<RowProblem> list, RowProblem problem) {
        if (list.size() < MAX_LISTED) {
            list.add(problem);
        }
    }

    private static int phoneColumn(List<String> header) {
        for (String name : PHONE_COLUMNS) {
            int i = indexOf(header, name);
            if (i >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static int indexOf(List<String> header, String name) {
        for (int i = 0; i < header.size(); i++) {
            if (header.get(i).trim().equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }

    private record Row(long line, List<String> fields) {
    }

    /**
     * A minimal RFC 4180 reader (quotes, doubled quotes, CR/LF, fields spanning lines) that knows the line each
     * row starts on, which Jackson's CSV parser does not report reliably. Blank lines are skipped.
     */
    private static final class CsvRows {
        private final Reader in;
        private long line = 1;
        private int pending = -2;

        CsvRows(Reader in) {
            this.in = in;
        }

        private int read() throws IOException {
            if (pending != -2) {
                int c = pending;
                pending = -2;
                return c;
            }
            return in.read();
        }

        Row next() throws IOException {
            int c = read();
            while (c == '\n' || c == '\r') {
                if (c == '\r') {
                    int d = read();
                    if (d != '\n') {
                        pending = d;
                    }
                }
                line++;
                c = read();
            }
            if (c == -1) {
                return null;
            }
            if (line == 1 && c == '\uFEFF') {
                c = read();
            }
            long start = line;
            List<String> fields = new ArrayList<>();
            StringBuilder field = new StringBuilder();
            boolean quoted = false;
            while (true) {
                if (quoted) {
                    if (c == -1) {
                        throw new IOException("line " + start + ": a quoted field is not closed");
                    }
                    if (c == '"') {
                        int d = read();
                        if (d == '"') {
                            field.append('"');
                        } else {
                            quoted = false;
                            c = d;
                            continue;
                        }
                    } else {
                        if (c == '\n') {
                            line++;
                        }
                        field.append((char) c);
                    }
                } else if (c == '"' && field.length() == 0) {
                    quoted = true;
                } else if (c == ',') {
                    fields.add(field.toString());
                    field.setLength(0);
                } else if (c == '\n' || c == '\r' || c == -1) {
                    if (c == '\r') {
                        int d = read();
                        if (d != '\n') {
                            pending = d;
                        }
                    }
                    if (c != -1) {
                        line++;
                    }
                    fields.add(field.toString());
                    return new Row(start, fields);
                } else {
                    field.append((char) c);
                }
                c = read();
            }
        }
    }
}
