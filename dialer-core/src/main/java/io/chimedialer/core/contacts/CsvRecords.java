package io.chimedialer.core.contacts;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.csv.CsvFactory;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Reads CSV records one at a time, with the 1-based physical line each record starts on.
 *
 * <p>Record boundaries are found here (a quoted field may span lines); the fields of each record are parsed by
 * jackson-dataformat-csv. Jackson's own streaming parser counts records, not physical lines, and cannot resume
 * after a broken record, so it gets one record at a time. When a record that spans lines turns out broken (an
 * unterminated quote, too long, or rejected by Jackson), only its first line is reported and reading resumes at
 * its second line, so one stray quote costs one row rather than the rest of the file. Memory is bounded by
 * {@code maxRecordChars}. Not thread-safe.
 */
final class CsvRecords implements Closeable {
    private static final CsvFactory FACTORY = new CsvFactory();
    private static final char QUOTE = '"';

    sealed interface Record permits Fields, Malformed {
        long line();
    }

    record Fields(long line, List<String> values) implements Record {
    }

    record Malformed(long line, String reason) implements Record {
    }

    private record Line(long number, String text, boolean tooLong) {
    }

    private final Reader reader;
    private final char separator;
    private final boolean comments;
    private final int maxRecordChars;
    private final CsvSchema schema;
    private final char[] buffer = new char[8192];
    private final Deque<Line> pushedBack = new ArrayDeque<>();
    private int position;
    private int limit;
    private long lineNumber;
    private boolean eof;
    private boolean pendingCr;

    /**
     * @param comments       when true, lines whose first non-blank character is {@code #} are skipped
     * @param maxRecordChars the longest record accepted; longer ones are reported malformed
     */
    CsvRecords(Reader reader, char separator, boolean comments, int maxRecordChars) {
        this.reader = reader;
        this.separator = separator;
        this.comments = comments;
        this.maxRecordChars = maxRecordChars;
        this.schema = CsvSchema.emptySchema().withColumnSeparator(separator).withQuoteChar(QUOTE);
    }

    /** The physical lines read so far. */
    long lines() {
        return lineNumber;
    }

    /** The next record, or {@code null} at the end of the input. Blank lines are skipped. */
    Record next() throws IOException {
        while (true) {
            Line first = nextLine();
            if (first == null) {
                return null;
            }
            if (first.tooLong()) {
                return new Malformed(first.number(), "line longer than " + maxRecordChars + " characters");
            }
            String text = first.text();
            if (text.isBlank() || (comments && text.strip().startsWith("#"))) {
                continue;
            }
            int state = scan(text, START);
            if (state != QUOTED) {
                return parse(first.number(), text, List.of());
            }
            // A quoted field continues on the next line: gather lines until the quote closes.
            List<Line> continuation = new ArrayList<>();
            StringBuilder record = new StringBuilder(text);
            while (state == QUOTED) {
                Line next = nextLine();
                if (next == null) {
                    return rewind(first, continuation, "unterminated quoted field");
                }
                continuation.add(next);
                if (next.tooLong() || record.length() + 1 + next.text().length() > maxRecordChars) {
                    return rewind(first, continuation,
                            "unterminated quoted field (record longer than " + maxRecordChars + " characters)");
                }
                record.append('\n').append(next.text());
                state = scan(next.text(), state);
            }
            return parse(first.number(), record.toString(), continuation);
        }
    }

    private Record rewind(Line first, List<Line> continuation, String reason) {
        for (int i = continuation.size() - 1; i >= 0; i--) {
            pushedBack.addFirst(continuation.get(i));
        }
        return new Malformed(first.number(), reason);
    }

    private Record parse(long line, String record, List<Line> continuation) throws IOException {
        List<String> values = new ArrayList<>();
        try (CsvParser parser = FACTORY.createParser(record)) {
            parser.setSchema(schema);
            parser.enable(CsvParser.Feature.WRAP_AS_ARRAY);
            JsonToken token;
            while ((token = parser.nextToken()) != null) {
                if (token == JsonToken.VALUE_STRING) {
                    values.add(parser.getText());
                }
            }
        } catch (JacksonException e) {
            String reason = "broken quoting: " + e.getOriginalMessage();
            return continuation.isEmpty() ? new Malformed(line, reason) : rewind(new Line(line, "", false),
                    continuation, reason);
        }
        return new Fields(line, values);
    }

    private static final int START = 0;
    private static final int UNQUOTED = 1;
    private static final int QUOTED = 2;
    private static final int QUOTE_IN_QUOTED = 3;
    private static final int AFTER_QUOTED = 4;

    /**
     * Runs the quote state machine over one physical line.
     *
     * @return the state at the end of the line; {@code QUOTED} means the record continues on the next line
     */
    private int scan(String text, int initial) {
        int state = initial == QUOTED ? QUOTED : START;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (state) {
                case START -> state = c == QUOTE ? QUOTED : c == separator ? START : UNQUOTED;
                case UNQUOTED, AFTER_QUOTED -> state = c == separator ? START : state;
                case QUOTED -> state = c == QUOTE ? QUOTE_IN_QUOTED : QUOTED;
                // "" inside quotes is an escaped quote; anything else after the closing quote is junk for Jackson.
                case QUOTE_IN_QUOTED -> state = c == QUOTE ? QUOTED : c == separator ? START : AFTER_QUOTED;
                default -> throw new IllegalStateException("state " + state);
            }
        }
        return state;
    }

    /** The next physical line without its terminator (LF, CRLF or CR); a leading BOM is dropped. */
    private Line nextLine() throws IOException {
        if (!pushedBack.isEmpty()) {
            return pushedBack.removeFirst();
        }
        StringBuilder text = null;
        int start;
        boolean tooLong = false;
        boolean any = false;
        while (true) {
            if (position == limit) {
                if (eof || !fill()) {
                    if (!any && text == null) {
                        return null;
                    }
                    return endLine(text, tooLong);
                }
            }
            if (pendingCr) {
                pendingCr = false;
                if (buffer[position] == '\n') {
                    position++;
                    continue;
                }
            }
            any = true;
            start = position;
            while (position < limit) {
                char c = buffer[position];
                if (c == '\n' || c == '\r') {
                    text = append(text, start, position, tooLong);
                    tooLong = tooLong || text == null;
                    position++;
                    if (c == '\r') {
                        pendingCr = true;
                    }
                    return endLine(text, tooLong);
                }
                position++;
            }
            text = append(text, start, position, tooLong);
            tooLong = tooLong || text == null;
        }
    }

    private StringBuilder append(StringBuilder text, int from, int to, boolean tooLong) {
        if (tooLong) {
            return null;
        }
        StringBuilder out = text == null ? new StringBuilder(Math.max(16, to - from)) : text;
        if (out.length() + (to - from) > maxRecordChars) {
            return null;
        }
        out.append(buffer, from, to - from);
        return out;
    }

    private Line endLine(StringBuilder text, boolean tooLong) {
        lineNumber++;
        if (tooLong) {
            return new Line(lineNumber, "", true);
        }
        String line = text == null ? "" : text.toString();
        if (lineNumber == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
            line = line.substring(1);
        }
        return new Line(lineNumber, line, false);
    }

    private boolean fill() throws IOException {
        int n;
        do {
            n = reader.read(buffer, 0, buffer.length);
        } while (n == 0);
        if (n < 0) {
            eof = true;
            position = limit = 0;
            return false;
        }
        position = 0;
        limit = n;
        return true;
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
