package io.chimedialer.app.config;

import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.ContactSource;
import io.chimedialer.core.contacts.ContactSourceException;
import io.chimedialer.core.contacts.CsvOptions;
import io.chimedialer.core.contacts.Deduplicator;
import io.chimedialer.core.contacts.DncList;
import io.chimedialer.core.contacts.PhoneNumbers;
import io.chimedialer.core.contacts.RejectKind;
import io.chimedialer.core.util.Masking;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Checks a contact list the way {@code dialer run} reads it, for {@code dialer validate}: the rows come from
 * dialer-core's {@link ContactSource#csv} with the campaign's default region (the same reader, number
 * normalization and reasons as a run), and each valid row then meets a {@link Deduplicator} and a {@link DncList}
 * in the order a run applies them: a repeated number is a duplicate (even when it is also on a DNC list), and only
 * a number's first row is checked against the DNC list. This class only counts and formats: errors are what
 * stops a run (a missing or unreadable file, no phone column); invalid rows are warnings listed by line with the
 * reader's reason, and duplicate and suppressed rows notes, since a run skips them by design and goes on. A run can also skip rows whose calling window does not open before its horizon, and numbers opted
 * out at run time; those depend on the clock and the ledger and are not checked here.
 *
 * <p>Reads the list as a stream. Besides the deduplicator's table it remembers the first line of up to
 * {@value #MAX_FIRST_LINES} distinct numbers, to say which line a duplicate repeats. Instances are immutable; a
 * {@link #validate} call is thread-safe when the DNC list is not changed meanwhile.
 */
public final class ContactListValidator {
    /** At most this many errors and this many notes are kept in a report; the counts are always exact. */
    public static final int MAX_LISTED = 1000;
    /** Distinct numbers whose first line is remembered; a later duplicate says "an earlier line". */
    static final int MAX_FIRST_LINES = 100_000;

    private final CsvOptions options;
    private final PhoneNumbers numbers;
    private final DncList dnc;
    private final String dncName;

    /**
     * @param defaultRegion ISO country for numbers without {@code +} (e.g. {@code US})
     * @throws IllegalArgumentException when libphonenumber does not know the region
     */
    public ContactListValidator(String defaultRegion) {
        this(PhoneNumbers.forRegion(Objects.requireNonNull(defaultRegion, "defaultRegion")), null, "");
    }

    private ContactListValidator(PhoneNumbers numbers, DncList dnc, String dncName) {
        this.numbers = numbers;
        // As CampaignManager reads a campaign's list: the defaults, with the campaign's region.
        this.options = CsvOptions.defaults().withDefaultRegion(numbers.defaultRegion());
        this.dnc = dnc;
        this.dncName = dncName;
    }

    /** An empty DNC list that normalizes numbers with this validator's default region, for {@link #readDnc}. */
    public DncList newDncList() {
        return new DncList(numbers);
    }

    /**
     * A validator that also counts rows whose number is on {@code dncList}.
     *
     * @param dncList  the suppression list, as filled by {@link #readDnc}; read, never changed
     * @param listName the name shown in notes (e.g. {@code dnc.txt})
     */
    public ContactListValidator withDnc(DncList dncList, String listName) {
        return new ContactListValidator(numbers, Objects.requireNonNull(dncList, "dncList"),
                Objects.requireNonNull(listName, "listName"));
    }

    /**
     * One finding.
     *
     * @param line    the 1-based line in the file (1 is the header), or 0 when it is about the whole file
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
     * @param errors          what stops a run of the list: it cannot be read (missing, empty, no phone column)
     * @param warnings        invalid rows, which a run skips, by line (at most {@link #MAX_LISTED})
     * @param notes           duplicate and suppressed rows, by line (at most {@link #MAX_LISTED})
     */
    public record Report(Path file, long rows, long invalidRows, long duplicateRows, long suppressedRows,
                         List<RowProblem> errors, List<RowProblem> warnings, List<RowProblem> notes) {
        public Report {
            errors = List.copyOf(errors);
            warnings = List.copyOf(warnings);
            notes = List.copyOf(notes);
        }

        /** True when a run can read the list (invalid, duplicate and DNC rows are skipped by a run, not errors). */
        public boolean ok() {
            return errors.isEmpty();
        }

        /** Rows that would be dialed: neither invalid, duplicate nor suppressed. */
        public long dialable() {
            return rows - invalidRows - duplicateRows - suppressedRows;
        }
    }

    /**
     * Checks a contact list. A list that cannot be read (missing, empty, no number column, an I/O error) gives a
     * report with one error for it, and the counts of the rows read before it, rather than an exception.
     */
    public Report validate(Path csv) {
        Tally tally = new Tally();
        try {
            ContactSource.csv(() -> io.chimedialer.core.contacts.ListReader.open(csv), csv.toString(), options)
                    .doOnNext(tally::count)
                    .then()
                    .block();
        } catch (ContactSourceException e) {
            tally.errors.add(new RowProblem(e.line(), e.getCause() instanceof NoSuchFileException
                    ? "file not found"
                    : e.reason()));
        }
        return new Report(csv, tally.rows, tally.invalid, tally.duplicates, tally.suppressed, tally.errors,
                tally.warnings, tally.notes);
    }

    /** The verdicts of one {@link #validate} call; confined to its thread (the source reads on the caller's). */
    private final class Tally {
        final Deduplicator dedupe = new Deduplicator();
        final Map<String, Long> firstLines = new HashMap<>();
        final List<RowProblem> errors = new ArrayList<>();
        final List<RowProblem> warnings = new ArrayList<>();
        final List<RowProblem> notes = new ArrayList<>();
        long rows;
        long invalid;
        long duplicates;
        long suppressed;

        // The order is CampaignRun's: a rejected row is invalid; then the deduplicator; then the DNC list.
        void count(ContactRow row) {
            rows++;
            if (row instanceof ContactRow.Rejected rejected) {
                invalid++;
                add(warnings, new RowProblem(rejected.line(), rejected.kind() == RejectKind.INVALID_NUMBER
                        ? rejected.reason() + " (" + Masking.phone(rejected.rawNumber()) + ")"
                        : rejected.reason()));
                return;
            }
            String number = ((ContactRow.Valid) row).contact().number();
            if (!dedupe.firstSeen(number)) {
                duplicates++;
                Long first = firstLines.get(number);
                add(notes, new RowProblem(row.line(), "duplicate of " + (first == null ? "an earlier line"
                        : "line " + first) + " (" + Masking.phone(number) + ")"));
                return;
            }
            if (firstLines.size() < MAX_FIRST_LINES) {
                firstLines.put(number, row.line());
            }
            if (dnc != null && dnc.contains(number)) {
                suppressed++;
                add(notes, new RowProblem(row.line(), "on the DNC list" + (dncName.isEmpty() ? "" : " " + dncName)
                        + " (" + Masking.phone(number) + ")"));
            }
        }
    }

    /**
     * Reads a DNC list into {@code into} as a run does ({@link DncList#load}: one number per line or a CSV with a
     * number column; blank lines and {@code #} comments skipped; numbers normalized with this validator's default
     * region). Lines that are not numbers are reported; a run skips them with a warning.
     *
     * @return the lines that are not numbers (a line 0 problem when the file cannot be read)
     */
    public DncFile readDnc(Path file, DncList into) {
        List<RowProblem> problems = new ArrayList<>();
        long badLines = 0;
        try (Reader reader = io.chimedialer.core.contacts.ListReader.open(file)) {
            DncList.LoadReport report = into.load(file.toString(), reader);
            for (DncList.BadLine bad : report.badLines()) {
                problems.add(new RowProblem(bad.line(), bad.text().isEmpty() ? bad.reason()
                        : bad.reason() + " (" + Masking.phone(bad.text()) + ")"));
            }
            badLines = report.badLineCount();
        } catch (NoSuchFileException e) {
            problems.add(new RowProblem(0, "file not found"));
            badLines = 1;
        } catch (IOException e) {
            problems.add(new RowProblem(0, "cannot read: " + e));
            badLines = 1;
        }
        return new DncFile(file, badLines, problems);
    }

    /**
     * The problems of one read DNC list.
     *
     * @param file     the list
     * @param problems the count of its problems (lines that are not numbers, or 1 when it cannot be read)
     * @param listed   the first {@link DncList#MAX_REPORTED_BAD_LINES} of them
     */
    public record DncFile(Path file, long problems, List<RowProblem> listed) {
        public DncFile {
            listed = List.copyOf(listed);
        }
    }

    private static void add(List<RowProblem> list, RowProblem problem) {
        if (list.size() < MAX_LISTED) {
            list.add(problem);
        }
    }
}
