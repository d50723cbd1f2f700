package io.chimedialer.core.contacts;

import java.io.Reader;
import java.util.Objects;
import java.util.concurrent.Callable;
import reactor.core.publisher.Flux;

/**
 * Contact lists as streams of {@link ContactRow}s, pulled row by row.
 */
public final class ContactSource {
    private ContactSource() {
    }

    /**
     * Streams a CSV contact list.
     *
     * <p>The first non-blank line is the header; a number column (see {@link CsvOptions#numberColumns()}) is
     * required, {@code id}, {@code name} and {@code timezone} are optional, and every other column becomes one of
     * {@link Contact#variables()}. Each data row becomes a {@link ContactRow.Valid} (number normalized to E.164)
     * or a {@link ContactRow.Rejected} with its 1-based line and reason; bad rows never end the stream.
     *
     * <p>The reader is opened on subscription and one row is read per unit of demand, so memory does not grow
     * with the list; it is closed on completion, error or cancellation. Reading blocks: subscribe on a scheduler
     * meant for blocking I/O. Each subscription opens the list again.
     *
     * <p>The stream fails with a {@link ContactSourceException} naming the source when the reader cannot be
     * opened, the list is empty, the header has no number column, or reading fails with an I/O error.
     *
     * @param opener     opens the list (e.g. {@code () -> Files.newBufferedReader(path)}); called per subscription
     * @param sourceName the name used in messages (e.g. the file path)
     * @param options    columns, default region and separator
     * @return the rows, in file order
     */
    public static Flux<ContactRow> csv(Callable<? extends Reader> opener, String sourceName, CsvOptions options) {
        Objects.requireNonNull(opener, "opener");
        Objects.requireNonNull(sourceName, "sourceName");
        Objects.requireNonNull(options, "options");
        PhoneNumbers numbers = PhoneNumbers.forRegion(options.defaultRegion());
        return Flux.generate(
                () -> open(opener, sourceName, options, numbers),
                (reader, sink) -> {
                    ContactRow row;
                    try {
                        row = reader.next();
                    } catch (ContactSourceException e) {
                        sink.error(e);
                        return reader;
                    }
                    if (row == null) {
                        sink.complete();
                    } else {
                        sink.next(row);
                    }
                    return reader;
                },
                CsvContactReader::closeQuietly);
    }

    private static CsvContactReader open(Callable<? extends Reader> opener, String sourceName, CsvOptions options,
                                         PhoneNumbers numbers) {
        Reader reader;
        try {
            reader = Objects.requireNonNull(opener.call(), "opener returned null");
        } catch (Exception e) {
            throw new ContactSourceException("contact list " + sourceName + " cannot be opened: " + e, 0,
                    "cannot be opened: " + e, e);
        }
        return new CsvContactReader(reader, sourceName, options, numbers);
    }
}
