package io.chimedialer.core.contacts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

class ContactSourceTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static Flux<ContactRow> source(String csv) {
        return ContactSource.csv(() -> new StringReader(csv), "test.csv", CsvOptions.defaults());
    }

    private static List<ContactRow> rows(String csv) {
        return source(csv).collectList().block(TIMEOUT);
    }

    private static Contact valid(ContactRow row) {
        assertThat(row).isInstanceOf(ContactRow.Valid.class);
        return ((ContactRow.Valid) row).contact();
    }

    private static ContactRow.Rejected rejected(ContactRow row) {
        assertThat(row).isInstanceOf(ContactRow.Rejected.class);
        return (ContactRow.Rejected) row;
    }

    @Test
    void csv_quotedFields_unquotesCommasAndDoubledQuotes() {
        List<ContactRow> rows = rows("id,name,phone,note\n7,\"Doe, Jane\",(212) 555-0123,\"say \"\"hi\"\"\"\n");

        assertThat(rows).hasSize(1);
        assertThat(valid(rows.get(0))).isEqualTo(new Contact(2, "7", "+12125550123", "Doe, Jane", null,
                Map.of("note", "say \"hi\"")));
    }

    @Test
    void csv_extraColumns_becomeVariablesAndIdDefaultsToLine() {
        List<ContactRow> rows = rows("Phone,Segment,Language,Balance\n+13105550123,gold,es,12.50\n");

        Contact contact = valid(rows.get(0));
        assertThat(contact.id()).isEqualTo("line-2");
        assertThat(contact.name()).isEmpty();
        assertThat(contact.timezone()).isNull();
        assertThat(contact.variables()).containsExactlyInAnyOrderEntriesOf(
                Map.of("segment", "gold", "language", "es", "balance", "12.50"));
    }

    @Test
    void csv_quotedLineBreak_laterRowsKeepTheirPhysicalLineNumbers() {
        List<ContactRow> rows = rows("phone,name\n+12125550123,\"two\nlines\"\n+13105550123,next\n");

        assertThat(rows).hasSize(2);
        assertThat(valid(rows.get(0)).line()).isEqualTo(2);
        assertThat(valid(rows.get(0)).name()).isEqualTo("two\nlines");
        assertThat(valid(rows.get(1)).line()).isEqualTo(4);
    }

    @Test
    void csv_junkAfterClosingQuote_rejectsThatLineOnly() {
        List<ContactRow> rows = rows("phone,name\n+12125550123,\"Bob\"x\n+13105550123,Al\n");

        assertThat(rows).hasSize(2);
        ContactRow.Rejected bad = rejected(rows.get(0));
        assertThat(bad.line()).isEqualTo(2);
        assertThat(bad.kind()).isEqualTo(RejectKind.MALFORMED_ROW);
        assertThat(bad.reason()).startsWith("broken quoting");
        assertThat(valid(rows.get(1)).line()).isEqualTo(3);
    }

    @Test
    void csv_unterminatedQuote_rejectsItsLineAndResumesOnTheNext() {
        List<ContactRow> rows = rows("phone,name\n+12125550123,Ann\n+13105550123,\"Bob\n+14155550100,Cy\n"
                + "+12125550199,Di\n");

        assertThat(rows).extracting(ContactRow::line).containsExactly(2L, 3L, 4L, 5L);
        assertThat(valid(rows.get(0)).name()).isEqualTo("Ann");
        ContactRow.Rejected bad = rejected(rows.get(1));
        assertThat(bad.kind()).isEqualTo(RejectKind.MALFORMED_ROW);
        assertThat(bad.reason()).contains("unterminated quoted field");
        assertThat(valid(rows.get(2)).number()).isEqualTo("+14155550100");
        assertThat(valid(rows.get(3)).number()).isEqualTo("+12125550199");
    }

    @Test
    void csv_quoteSpanningLinesThenJunk_rejectsFirstLineAndKeepsTheNext() {
        // Line 3 opens a quote that line 4 closes with junk after it: only line 3 is lost.
        List<ContactRow> rows = rows("phone,name\n+12125550123,Ann\n+13105550123,\"Bob\n+14155550100,\"Cy\"\n");

        assertThat(rows).extracting(ContactRow::line).containsExactly(2L, 3L, 4L);
        assertThat(rejected(rows.get(1)).kind()).isEqualTo(RejectKind.MALFORMED_ROW);
        assertThat(valid(rows.get(2)).name()).isEqualTo("Cy");
    }

    @Test
    void csv_overlongQuotedRecord_rejectedWithoutReadingTheRestIntoMemory() {
        StringBuilder csv = new StringBuilder("phone,name\n+12125550123,\"open\n");
        for (int i = 0; i < 2_000; i++) {
            csv.append("+13105550123,row").append(i).append('\n');
        }
        CsvOptions options = new CsvOptions(null, null, null, null, null, ',', 1_000);

        List<ContactRow> rows = ContactSource.csv(() -> new StringReader(csv.toString()), "big.csv", options)
                .collectList().block(TIMEOUT);

        assertThat(rows).hasSize(2_001);
        assertThat(rejected(rows.get(0)).reason()).contains("longer than 1000");
        assertThat(rows.subList(1, rows.size())).allMatch(row -> row instanceof ContactRow.Valid);
        assertThat(rows.get(1).line()).isEqualTo(3);
    }

    @Test
    void csv_missingNumber_rejectedAsMissing() {
        List<ContactRow> rows = rows("id,phone,name\na,,Ann\nb,   ,Bo\nc\n");

        assertThat(rows).hasSize(3).allSatisfy(row -> {
            assertThat(rejected(row).kind()).isEqualTo(RejectKind.MISSING_NUMBER);
            assertThat(rejected(row).reason()).contains("'phone'");
        });
        assertThat(rows).extracting(ContactRow::line).containsExactly(2L, 3L, 4L);
    }

    @Test
    void csv_invalidOrUnparsableNumber_rejectedWithRawNumber() {
        List<ContactRow> rows = rows("phone\n+1 099 555 0101\nnot a number\n12\n");

        assertThat(rows).hasSize(3).allSatisfy(row ->
                assertThat(rejected(row).kind()).isEqualTo(RejectKind.INVALID_NUMBER));
        assertThat(rows).extracting(row -> ((ContactRow.Rejected) row).rawNumber())
                .containsExactly("+1 099 555 0101", "not a number", "12");
        assertThat(rejected(rows.get(1)).reason()).isEqualTo("not a phone number");
        assertThat(rejected(rows.get(0)).reason()).contains("not a valid number");
    }

    @Test
    void csv_hashAtLineStart_isDataNotAComment() {
        List<ContactRow> rows = rows("id,phone\n#1,+12125550123\n");

        assertThat(valid(rows.get(0)).id()).isEqualTo("#1");
    }

    @Test
    void csv_moreFieldsThanHeader_rejectedAsMalformed() {
        List<ContactRow> rows = rows("phone,name\n+12125550123,Smith, John\n");

        assertThat(rejected(rows.get(0)).kind()).isEqualTo(RejectKind.MALFORMED_ROW);
        assertThat(rejected(rows.get(0)).reason()).isEqualTo("row has 3 fields, the header has 2");
    }

    @Test
    void csv_emptyTrailingFieldsBeyondHeader_ignored() {
        List<ContactRow> rows = rows("phone,name\n+12125550123,Ann,,\n");

        assertThat(valid(rows.get(0)).name()).isEqualTo("Ann");
        assertThat(valid(rows.get(0)).variables()).isEmpty();
    }

    @Test
    void csv_timezoneColumn_overridesOrRejectsUnknownZone() {
        List<ContactRow> rows = rows("phone,timezone\n+12125550123,America/Chicago\n+12125550124,Mars/Olympus\n"
                + "+12125550125,\n");

        assertThat(valid(rows.get(0)).timezone()).isEqualTo(ZoneId.of("America/Chicago"));
        ContactRow.Rejected bad = rejected(rows.get(1));
        assertThat(bad.kind()).isEqualTo(RejectKind.BAD_TIMEZONE);
        assertThat(bad.line()).isEqualTo(3);
        assertThat(bad.reason()).contains("Mars/Olympus");
        assertThat(valid(rows.get(2)).timezone()).isNull();
        assertThat(valid(rows.get(2)).variables()).isEmpty();
    }

    @Test
    void csv_bomCrlfAndBlankLines_handled() {
        List<ContactRow> rows = rows("\uFEFFPHONE,Name\r\n+12125550123,Ann\r\n\r\n+13105550123,\"Bo\r\nB\"\r\n"
                + "+14155550100,Cy\r\n");

        assertThat(rows).hasSize(3);
        assertThat(valid(rows.get(0)).line()).isEqualTo(2);
        assertThat(valid(rows.get(0)).name()).isEqualTo("Ann");
        assertThat(valid(rows.get(1)).line()).isEqualTo(4);
        assertThat(valid(rows.get(1)).name()).isEqualTo("Bo\nB");
        assertThat(valid(rows.get(2)).line()).isEqualTo(6);
        assertThat(valid(rows.get(2)).variables()).isEmpty();
    }

    @Test
    void csv_numberColumnAliasesAndCustomNames_accepted() {
        assertThat(valid(rows("name,To\nAnn,2125550123\n").get(0)).number()).isEqualTo("+12125550123");
        assertThat(valid(rows("Phone_Number\n2125550123\n").get(0)).number()).isEqualTo("+12125550123");

        CsvOptions mobile = CsvOptions.defaults().withNumberColumns("Mobile").withDefaultRegion("GB");
        List<ContactRow> rows = ContactSource.csv(() -> new StringReader("mobile;phone\n020 7946 0018;x\n"),
                "gb.csv", mobile.withSeparator(';')).collectList().block(TIMEOUT);
        Contact contact = valid(rows.get(0));
        assertThat(contact.number()).isEqualTo("+442079460018");
        assertThat(contact.variables()).containsExactly(Map.entry("phone", "x"));
    }

    @Test
    void csv_noNumberColumn_failsNamingFileAndColumns() {
        StepVerifier.create(source("id,name,email\n1,Ann,a@example.com\n"))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOf(ContactSourceException.class)
                        .hasMessageContaining("test.csv")
                        .hasMessageContaining("[phone, number, phone_number, to, phone number, mobile, ")
                        .hasMessageContaining("[id, name, email]"))
                .verify(TIMEOUT);
    }

    @Test
    void csv_missingFile_failsNamingFile(@org.junit.jupiter.api.io.TempDir Path dir) {
        Path missing = dir.resolve("missing.csv");

        StepVerifier.create(ContactSource.csv(() -> Files.newBufferedReader(missing), missing.toString(),
                        CsvOptions.defaults()))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOf(ContactSourceException.class)
                        .hasMessageContaining(missing.toString())
                        .hasMessageContaining("cannot be opened"))
                .verify(TIMEOUT);
    }

    @Test
    void csv_emptyFile_failsNamingFile() {
        StepVerifier.create(source("\n\n"))
                .expectErrorSatisfies(error -> assertThat(error).hasMessageContaining("test.csv is empty"))
                .verify(TIMEOUT);
    }

    @Test
    void csv_sampleFile_everyRowValidOrRejectedWithItsLine() {
        List<ContactRow> rows = ContactSource.csv(() -> new InputStreamReader(Objects.requireNonNull(
                        ContactSourceTest.class.getResourceAsStream("/contacts/sample.csv")), StandardCharsets.UTF_8),
                "sample.csv", CsvOptions.defaults()).collectList().block(TIMEOUT);

        assertThat(rows).extracting(ContactRow::line).containsExactly(2L, 3L, 4L, 5L, 6L, 8L);
        assertThat(valid(rows.get(0))).isEqualTo(new Contact(2, "c-1", "+12125550123", "Doe, Jane", null,
                Map.of("segment", "gold")));
        assertThat(valid(rows.get(1)).timezone()).isEqualTo(ZoneId.of("America/Chicago"));
        assertThat(rejected(rows.get(2)).kind()).isEqualTo(RejectKind.MISSING_NUMBER);
        assertThat(rejected(rows.get(3)).kind()).isEqualTo(RejectKind.INVALID_NUMBER);
        assertThat(valid(rows.get(4))).isEqualTo(new Contact(6, "c-5", "+14155550100", "Multi\nLine", null,
                Map.of("segment", "say \"hi\"")));
        assertThat(rejected(rows.get(5)).kind()).isEqualTo(RejectKind.BAD_TIMEZONE);
    }

    @Test
    void csv_demandOfThreeThenCancel_readsOnlyABufferAndClosesTheReader() {
        CountingReader reader = new CountingReader(SyntheticCsv.clean(100_000));

        StepVerifier.create(ContactSource.csv(() -> reader, "synthetic.csv", CsvOptions.defaults()), 0)
                .thenRequest(3)
                .expectNextCount(3)
                .thenCancel()
                .verify(TIMEOUT);

        assertThat(reader.closed).isTrue();
        // The line reader fills one 8192-char buffer at a time: far less than the ~3 MB list.
        assertThat(reader.charsRead.get()).isLessThanOrEqualTo(8192);
    }

    @Test
    void csv_completionAndError_closeTheReader() {
        CountingReader complete = new CountingReader(new StringReader("phone\n+12125550123\n"));
        StepVerifier.create(ContactSource.csv(() -> complete, "a.csv", CsvOptions.defaults()))
                .expectNextCount(1).verifyComplete();
        assertThat(complete.closed).isTrue();

        CountingReader noColumn = new CountingReader(new StringReader("email\nx@example.com\n"));
        StepVerifier.create(ContactSource.csv(() -> noColumn, "b.csv", CsvOptions.defaults()))
                .expectError(ContactSourceException.class).verify(TIMEOUT);
        assertThat(noColumn.closed).isTrue();
    }

    @Test
    void csv_eachSubscription_opensTheListAgain() {
        AtomicLong opens = new AtomicLong();
        Flux<ContactRow> flux = ContactSource.csv(() -> {
            opens.incrementAndGet();
            return new StringReader("phone\n+12125550123\n");
        }, "a.csv", CsvOptions.defaults());

        assertThat(opens.get()).isZero();
        assertThat(flux.count().block(TIMEOUT)).isEqualTo(1);
        assertThat(flux.count().block(TIMEOUT)).isEqualTo(1);
        assertThat(opens.get()).isEqualTo(2);
    }

    @Test
    void rejected_toString_masksTheNumber() {
        ContactRow.Rejected row = new ContactRow.Rejected(4, "+12125550123", "x", RejectKind.INVALID_NUMBER);

        assertThat(row.toString()).contains("+*******0123").doesNotContain("2125550123");
    }

    private static final class CountingReader extends Reader {
        private final Reader delegate;
        private final AtomicLong charsRead = new AtomicLong();
        private volatile boolean closed;

        CountingReader(Reader delegate) {
            this.delegate = delegate;
        }

        @Override
        public int read(char[] buffer, int offset, int length) throws IOException {
            int n = delegate.read(buffer, offset, length);
            if (n > 0) {
                charsRead.addAndGet(n);
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            closed = true;
            delegate.close();
        }
    }
}
