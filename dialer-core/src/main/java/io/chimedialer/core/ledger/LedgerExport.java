package io.chimedialer.core.ledger;

import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.ledger.Ledger.AttemptRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Instant;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Writes attempts as CSV (RFC 4180: comma-separated, CRLF line ends, fields with a comma, quote or line
 * break quoted with doubled quotes), one row per attempt after a header row:
 *
 * <pre>{@value #HEADER_LINE}</pre>
 *
 * Times are ISO-8601 UTC ({@code 2026-01-02T03:04:05.678Z}), durations are milliseconds; fields of an
 * attempt without a result (live or UNKNOWN after a crash) are empty. {@code action_failure} is the attempt's first
 * failed action as its ACTION_FAILED event recorded it ({@code Speak failed: AccessDenied: <message>}), empty
 * when none failed.
 */
public final class LedgerExport {
    /** The header row's columns, in order. */
    public static final List<String> COLUMNS = List.of("attempt_id", "contact_id", "number", "attempt_number",
            "region", "from_number", "transaction_id", "intended_at", "placed_at", "ended_at", "disposition",
            "sip_code", "ring_ms", "talk_ms", "digits", "invocations", "action_failure");
    /** The header row as written. */
    public static final String HEADER_LINE = "attempt_id,contact_id,number,attempt_number,region,from_number,"
            + "transaction_id,intended_at,placed_at,ended_at,disposition,sip_code,ring_ms,talk_ms,digits,invocations,"
            + "action_failure";

    /** The header row of {@link #writeContactsCsv}, as written. */
    public static final String CONTACTS_HEADER_LINE = "contact_id,number,status,reason,attempts,last_attempt_id,updated_at";

    private LedgerExport() {
    }

    /**
     * Writes each contact's final status, one row per contact of the campaign the ledger holds after a header
     * row ({@value #CONTACTS_HEADER_LINE}), in the same CSV form as the attempts: {@code status} is the last
     * attempt's disposition, {@code IN_PROGRESS}, {@code WITHDRAWN}, or the reason a row was never dialed
     * ({@code INVALID}, its {@code contact_id} {@code line-N}; {@code DUPLICATE}; {@code SUPPRESSED};
     * {@code WINDOW_EXPIRED}), with {@code reason} for those. The writer is not closed.
     *
     * @param contacts e.g. {@link Ledger#contacts(String)}
     * @return the number of rows written (without the header), once all are written and flushed
     */
    public static Mono<Long> writeContactsCsv(Flux<Ledger.ContactProgress> contacts, Writer out) {
        return Mono.defer(() -> {
            write(out, CONTACTS_HEADER_LINE + "\r\n");
            return contacts.doOnNext(contact -> write(out, contactRow(contact)))
                    .count()
                    .doOnSuccess(count -> flush(out));
        });
    }

    static String contactRow(Ledger.ContactProgress contact) {
        StringBuilder line = new StringBuilder(120);
        field(line, contact.contactKey());
        field(line, contact.number());
        field(line, contact.status());
        field(line, contact.reason());
        field(line, Integer.toString(contact.attempts()));
        field(line, contact.lastAttemptId());
        field(line, time(contact.updatedAt()));
        line.setLength(line.length() - 1);
        return line.append("\r\n").toString();
    }

    /**
     * The header line {@value #CONTACTS_HEADER_LINE}, then one CSV line per contact as they arrive (each with its
     * CRLF), as {@link #writeContactsCsv} writes them: for streaming over HTTP.
     */
    public static Flux<String> contactCsvLines(Flux<Ledger.ContactProgress> contacts) {
        return Flux.concat(Flux.just(CONTACTS_HEADER_LINE + "\r\n"), contacts.map(LedgerExport::contactRow));
    }

    /** The header line, then one CSV line per attempt as they arrive (each with its CRLF): for streaming over HTTP. */
    public static Flux<String> csvLines(Flux<AttemptRecord> attempts) {
        return Flux.concat(Flux.just(HEADER_LINE + "\r\n"), attempts.map(LedgerExport::row));
    }

    /**
     * Writes the header, then one row per attempt as they arrive (on the thread that emits them, e.g. the
     * ledger's reader), and flushes at the end. The writer is not closed.
     *
     * @param attempts e.g. {@link Ledger#attempts(String)}
     * @param out      where to write
     * @return the number of rows written (without the header), once all are written and flushed
     */
    public static Mono<Long> writeCsv(Flux<AttemptRecord> attempts, Writer out) {
        return Mono.defer(() -> {
            write(out, HEADER_LINE + "\r\n");
            return attempts.doOnNext(attempt -> write(out, row(attempt)))
                    .count()
                    .doOnSuccess(count -> flush(out));
        });
    }

    /** One attempt as a CSV line, with its CRLF. */
    static String row(AttemptRecord attempt) {
        CallResult result = attempt.result();
        StringBuilder line = new StringBuilder(160);
        field(line, attempt.attemptId());
        field(line, attempt.contactKey());
        field(line, attempt.number());
        field(line, Integer.toString(attempt.attemptNumber()));
        field(line, attempt.region());
        field(line, attempt.fromNumber());
        field(line, attempt.transactionId() != null ? attempt.transactionId()
                : result == null ? null : result.transactionId());
        field(line, time(attempt.intendedAt()));
        field(line, time(attempt.placedAt()));
        field(line, result == null ? null : time(result.endedAt()));
        field(line, result != null ? result.disposition().name() : attempt.withdrawn() ? JdbcLedger.WITHDRAWN : null);
        field(line, result == null || result.sipCode() == null ? null : result.sipCode().toString());
        field(line, result == null ? null : Long.toString(result.ring().toMillis()));
        field(line, result == null ? null : Long.toString(result.talk().toMillis()));
        field(line, result == null ? null : result.digits());
        field(line, result == null ? null : Integer.toString(result.invocations()));
        field(line, result == null || result.actionFailure() == null ? null : result.actionFailure().detail());
        line.setLength(line.length() - 1);
        return line.append("\r\n").toString();
    }

    private static void field(StringBuilder line, String value) {
        if (value != null) {
            if (value.indexOf(',') >= 0 || value.indexOf('"') >= 0 || value.indexOf('\n') >= 0
                    || value.indexOf('\r') >= 0) {
                line.append('"').append(value.replace("\"", "\"\"")).append('"');
            } else {
                line.append(value);
            }
        }
        line.append(',');
    }

    private static String time(Instant instant) {
        return instant == null ? null : instant.toString();
    }

    private static void write(Writer out, String text) {
        try {
            out.write(text);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the export", e);
        }
    }

    private static void flush(Writer out) {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("flushing the export", e);
        }
    }
}
