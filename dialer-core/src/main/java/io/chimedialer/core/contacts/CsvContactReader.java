package io.chimedialer.core.contacts;

import java.io.IOException;
import java.io.Reader;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns CSV records into contact rows; the state of one {@link ContactSource#csv} subscription. */
final class CsvContactReader {
    private final CsvRecords records;
    private final String sourceName;
    private final CsvOptions options;
    private final PhoneNumbers numbers;
    private String[] header;
    private int numberIndex = -1;
    private int idIndex = -1;
    private int nameIndex = -1;
    private int timezoneIndex = -1;

    CsvContactReader(Reader reader, String sourceName, CsvOptions options, PhoneNumbers numbers) {
        this.records = new CsvRecords(reader, options.separator(), false, options.maxRowChars());
        this.sourceName = sourceName;
        this.options = options;
        this.numbers = numbers;
    }

    /** The next row, or {@code null} at the end of the list. */
    ContactRow next() {
        try {
            if (header == null) {
                readHeader();
            }
            CsvRecords.Record record = records.next();
            if (record == null) {
                return null;
            }
            if (record instanceof CsvRecords.Malformed malformed) {
                return new ContactRow.Rejected(malformed.line(), "", malformed.reason(), RejectKind.MALFORMED_ROW);
            }
            return toRow((CsvRecords.Fields) record);
        } catch (ListReader.EncodingException e) {
            throw new ContactSourceException("contact list " + sourceName + ": " + e.getMessage(), e.line(),
                    e.getMessage(), e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ContactSourceException("contact list " + sourceName + " is not UTF-8 text (after line "
                    + records.lines() + "); save it as UTF-8 CSV", records.lines() + 1,
                    "not UTF-8 text (after line " + records.lines() + "); save it as UTF-8 CSV", e);
        } catch (IOException e) {
            throw new ContactSourceException("contact list " + sourceName + " cannot be read: " + e.getMessage(), 0,
                    "cannot be read: " + e.getMessage(), e);
        }
    }

    private void readHeader() throws IOException {
        CsvRecords.Record first = records.next();
        if (first == null) {
            String reason = "a header row naming the number column (one of "
                    + String.join(", ", options.numberColumns()) + ") is required";
            throw new ContactSourceException("contact list " + sourceName + " is empty: " + reason, 1,
                    "empty file: " + reason, null);
        }
        if (first instanceof CsvRecords.Malformed malformed) {
            throw new ContactSourceException("contact list " + sourceName + ": header row on line "
                    + malformed.line() + " cannot be read: " + malformed.reason(), malformed.line(),
                    "header row cannot be read: " + malformed.reason(), null);
        }
        List<String> names = ((CsvRecords.Fields) first).values();
        String[] normalized = new String[names.size()];
        for (int i = 0; i < normalized.length; i++) {
            String name = CsvOptions.normalizeName(names.get(i));
            normalized[i] = name.isEmpty() ? "column" + (i + 1) : name;
        }
        for (String candidate : options.numberColumns()) {
            numberIndex = indexOfLoosely(normalized, candidate);
            if (numberIndex >= 0) {
                break;
            }
        }
        if (numberIndex < 0) {
            String hint = separatorHint(normalized);
            throw new ContactSourceException("contact list " + sourceName + " has no number column: expected one of "
                    + options.numberColumns() + " in the header, found " + List.of(normalized) + hint, first.line(),
                    "no number column: the header needs one of " + String.join(", ", options.numberColumns())
                            + " (any case; spaces, '_' and '-' alike) (found: " + String.join(", ", normalized) + ")"
                            + hint, null);
        }
        idIndex = indexOf(normalized, options.idColumn());
        nameIndex = indexOf(normalized, options.nameColumn());
        timezoneIndex = indexOf(normalized, options.timezoneColumn());
        header = normalized;
    }

    /**
     * When the header is one column holding another common separator, a hint that the list is separated by it;
     * else "".
     */
    private String separatorHint(String[] names) {
        if (names.length != 1) {
            return "";
        }
        for (char candidate : new char[] {';', '\t', '|', ','}) {
            if (candidate != options.separator() && names[0].indexOf(candidate) >= 0) {
                String name = candidate == '\t' ? "tabs" : candidate == ';' ? "semicolons (';')"
                        : "'" + candidate + "'";
                return "; the header seems separated by " + name + ", not '" + options.separator()
                        + "': save the list as comma-separated CSV";
            }
        }
        return "";
    }

    /** The first column whose name is {@code name} once case, spaces, '_' and '-' are ignored, or -1. */
    private static int indexOfLoosely(String[] names, String name) {
        String wanted = loose(name);
        for (int i = 0; i < names.length; i++) {
            if (loose(names[i]).equals(wanted)) {
                return i;
            }
        }
        return -1;
    }

    private static String loose(String name) {
        return name.replaceAll("[\\s_\\-.]+", "");
    }

    private static int indexOf(String[] names, String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private ContactRow toRow(CsvRecords.Fields record) {
        long line = record.line();
        List<String> values = record.values();
        String rawNumber = value(values, numberIndex);
        if (values.size() > header.length && !blankFrom(values, header.length)) {
            return new ContactRow.Rejected(line, rawNumber, "row has " + values.size() + " fields, the header has "
                    + header.length, RejectKind.MALFORMED_ROW);
        }
        if (rawNumber.isEmpty()) {
            return new ContactRow.Rejected(line, "", "no number in column '" + header[numberIndex] + "'",
                    RejectKind.MISSING_NUMBER);
        }
        PhoneNumbers.Normalized number = numbers.normalize(rawNumber);
        if (!number.isValid()) {
            return new ContactRow.Rejected(line, rawNumber, number.reason(), RejectKind.INVALID_NUMBER);
        }
        ZoneId zone = null;
        String zoneText = value(values, timezoneIndex);
        if (!zoneText.isEmpty()) {
            try {
                zone = ZoneId.of(zoneText);
            } catch (DateTimeException e) {
                return new ContactRow.Rejected(line, rawNumber, "unknown time zone '" + zoneText + "'",
                        RejectKind.BAD_TIMEZONE);
            }
        }
        String id = value(values, idIndex);
        Map<String, String> variables = new LinkedHashMap<>();
        for (int i = 0; i < header.length; i++) {
            if (i != numberIndex && i != idIndex && i != nameIndex && i != timezoneIndex) {
                variables.put(header[i], i < values.size() ? values.get(i) : "");
            }
        }
        return new ContactRow.Valid(new Contact(line, id.isEmpty() ? "line-" + line : id, number.e164(),
                value(values, nameIndex), zone, variables));
    }

    // Spreadsheets often end rows with empty trailing fields; only real extra data means the row is shifted.
    private static boolean blankFrom(List<String> values, int from) {
        for (int i = from; i < values.size(); i++) {
            if (!values.get(i).isBlank()) {
                return false;
            }
        }
        return true;
    }

    private static String value(List<String> values, int index) {
        return index >= 0 && index < values.size() ? values.get(index).strip() : "";
    }

    static void closeQuietly(CsvContactReader reader) {
        try {
            reader.records.close();
        } catch (IOException ignored) {
            // Nothing is left to read; a failing close cannot lose data.
        }
    }
}
