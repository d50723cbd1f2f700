package io.chimedialer.core.contacts;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * How a contact list CSV is read.
 *
 * <p>Header names are matched case-insensitively after trimming. The number column is the first header that
 * matches one of {@code numberColumns}, in that list's order, spaces, {@code _}, {@code -} and {@code .} ignored
 * ({@code Phone Number}, {@code phone_number} and {@code PhoneNumber} are one name).
 *
 * @param numberColumns  accepted names of the phone-number column (default {@link #DEFAULT_NUMBER_COLUMNS}: phone,
 *                       number, phone_number, to, phone number, mobile, mobile phone, mobile number, cell, cell phone,
 *                       cellphone, telephone, tel, msisdn)
 * @param idColumn       name of the optional id column (default {@code id}); rows without one get {@code line-N}
 * @param nameColumn     name of the optional name column (default {@code name})
 * @param timezoneColumn name of the optional time zone column (default {@code timezone}), an IANA zone id that
 *                       overrides the zones derived from the number
 * @param defaultRegion  ISO country for numbers without a leading {@code +} (default {@code US})
 * @param separator      the column separator (default {@code ,})
 * @param maxRowChars    the longest row accepted, in characters, quoted line breaks included (default 65536)
 */
public record CsvOptions(List<String> numberColumns, String idColumn, String nameColumn, String timezoneColumn,
                         String defaultRegion, char separator, int maxRowChars) {
    /** The default number column names. */
    public static final List<String> DEFAULT_NUMBER_COLUMNS = List.of("phone", "number", "phone_number", "to",
            "phone number", "mobile", "mobile phone", "mobile number", "cell", "cell phone", "cellphone", "telephone",
            "tel", "msisdn");

    public CsvOptions {
        numberColumns = numberColumns == null || numberColumns.isEmpty()
                ? DEFAULT_NUMBER_COLUMNS
                : numberColumns.stream().map(CsvOptions::normalizeName).toList();
        if (numberColumns.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("numberColumns must not contain a blank name");
        }
        idColumn = normalizeName(idColumn == null ? "id" : idColumn);
        nameColumn = normalizeName(nameColumn == null ? "name" : nameColumn);
        timezoneColumn = normalizeName(timezoneColumn == null ? "timezone" : timezoneColumn);
        defaultRegion = defaultRegion == null || defaultRegion.isBlank() ? "US" : defaultRegion.trim();
        if (separator == '"' || separator == '\n' || separator == '\r') {
            throw new IllegalArgumentException("separator must not be a quote or a line break");
        }
        if (maxRowChars < 256) {
            throw new IllegalArgumentException("maxRowChars must be >= 256, was " + maxRowChars);
        }
    }

    /** The defaults: number column {@code phone|number|phone_number|to}, region US, comma-separated. */
    public static CsvOptions defaults() {
        return new CsvOptions(null, null, null, null, null, ',', 65_536);
    }

    /** A copy with other accepted number column names. */
    public CsvOptions withNumberColumns(String... names) {
        return new CsvOptions(List.of(names), idColumn, nameColumn, timezoneColumn, defaultRegion, separator,
                maxRowChars);
    }

    /** A copy with another default region. */
    public CsvOptions withDefaultRegion(String region) {
        return new CsvOptions(numberColumns, idColumn, nameColumn, timezoneColumn, region, separator, maxRowChars);
    }

    /** A copy with another column separator. */
    public CsvOptions withSeparator(char newSeparator) {
        return new CsvOptions(numberColumns, idColumn, nameColumn, timezoneColumn, defaultRegion, newSeparator,
                maxRowChars);
    }

    static String normalizeName(String name) {
        Objects.requireNonNull(name, "column name");
        return name.strip().toLowerCase(Locale.ROOT);
    }
}
