package io.chimedialer.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import io.chimedialer.core.contacts.DncList;
import io.chimedialer.core.contacts.PhoneNumbers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContactListValidatorTest {
    static final Path SAMPLES = Path.of("..", "config", "samples");

    @TempDir
    Path dir;

    final ContactListValidator validator = new ContactListValidator("US");

    Path csv(String text) throws IOException {
        Path f = dir.resolve("list.csv");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void validate_badRows_areWarningsByLineWithReasonAndTheListStaysRunnable() throws IOException {
        Path f = csv("""
                id,Phone,name,timezone
                1,+12125552368,Ann,
                2,,Ben,
                3,not a number,Cy,
                4,"+1 212 555 23",Di,

                5,+12125552369,Ed,Mars/Base
                6,+12125552370,Flo,,extra
                7,"(212) 555-2371",Gus,America/New_York
                """);

        ContactListValidator.Report r = validator.validate(f);

        assertThat(r.warnings()).extracting(ContactListValidator.RowProblem::line, ContactListValidator.RowProblem::message)
                .containsExactly(
                        tuple(3L, "no number in column 'phone'"),
                        tuple(4L, "not a phone number (not a number)"),
                        tuple(5L, "not a valid number (default region US) (+* *** *55 23)"),
                        tuple(7L, "unknown time zone 'Mars/Base'"),
                        tuple(8L, "row has 5 fields, the header has 4"));
        assertThat(r.rows()).isEqualTo(7);
        assertThat(r.invalidRows()).isEqualTo(5);
        assertThat(r.dialable()).isEqualTo(2);
        assertThat(r.errors()).isEmpty();
        assertThat(r.ok()).isTrue();
    }

    @Test
    void validate_quotedFieldSpanningLines_keepsLineNumbersOfLaterRows() throws IOException {
        Path f = csv("phone,note\n+12125552368,\"two\nlines\"\nbad,x\n");

        ContactListValidator.Report r = validator.validate(f);

        assertThat(r.warnings()).extracting(ContactListValidator.RowProblem::line).containsExactly(4L);
    }

    @Test
    void validate_windows1252List_readWithoutErrors_mixedEncodings_oneErrorNamingTheLine() throws IOException {
        Path cp1252 = dir.resolve("excel.csv");
        Files.write(cp1252, "id,Mobile Phone,name\n1,+12125550101,Jos\u00e9\n2,+13125550102,Ren\u00e9e\n"
                .getBytes(java.nio.charset.Charset.forName("windows-1252")));
        ContactListValidator.Report ok = validator.validate(cp1252);
        assertThat(ok.errors()).isEmpty();
        assertThat(ok.rows()).isEqualTo(2);

        Path mixed = dir.resolve("mixed.csv");
        byte[] utf8 = "id,phone,name\n1,+12125550101,Zo\u00eb\n2,+13125550102,Jos".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = java.util.Arrays.copyOf(utf8, utf8.length + 2);
        bytes[utf8.length] = (byte) 0xE9;
        bytes[utf8.length + 1] = '\n';
        Files.write(mixed, bytes);
        assertThat(validator.validate(mixed).errors()).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(3);
            assertThat(p.message()).startsWith("line 3 is not valid UTF-8 text (byte 0xE9)");
        });
    }

    @Test
    void validate_headerWithoutPhoneColumn_isOneErrorOnLineOne() throws IOException {
        ContactListValidator.Report r = validator.validate(csv("id,name\n1,Ann\n"));

        assertThat(r.errors()).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(1);
            assertThat(p.message()).startsWith("no number column: the header needs one of phone, number, phone_number, "
                    + "to, phone number, mobile, ").endsWith(" (any case; spaces, '_' and '-' alike) (found: id, name)");
        });
    }

    @Test
    void validate_emptyAndMissingFiles_areErrors() throws IOException {
        assertThat(validator.validate(csv("")).errors()).extracting(ContactListValidator.RowProblem::message)
                .singleElement().asString().startsWith("empty file: a header row naming the number column (one of "
                        + "phone, number, phone_number, to, phone number, mobile, ").endsWith(") is required");
        assertThat(validator.validate(dir.resolve("nope.csv")).errors())
                .extracting(ContactListValidator.RowProblem::message).containsExactly("file not found");
    }

    @Test
    void validate_duplicatesAndDnc_areNotesNotErrors() throws IOException {
        Path f = csv("phone\n+12125552368\n212-555-2368\n+13125554321\n");

        ContactListValidator.Report r = validator.withDnc(dnc("+13125554321"), "dnc.txt").validate(f);

        assertThat(r.ok()).isTrue();
        assertThat(r.notes()).extracting(ContactListValidator.RowProblem::line, ContactListValidator.RowProblem::message)
                .containsExactly(
                        tuple(3L, "duplicate of line 2 (+*******2368)"),
                        tuple(4L, "on the DNC list dnc.txt (+*******4321)"));
        assertThat(r.dialable()).isEqualTo(1);
    }

    @Test
    void validate_numberOnTheDncListTwice_isSuppressedOnceAndThenADuplicateAsInARun() throws IOException {
        Path f = csv("phone\n+13125554321\n(312) 555-4321\n");

        ContactListValidator.Report r = validator.withDnc(dnc("+13125554321"), "dnc.txt").validate(f);

        assertThat(r.suppressedRows()).isEqualTo(1);
        assertThat(r.duplicateRows()).isEqualTo(1);
        assertThat(r.notes()).extracting(ContactListValidator.RowProblem::line, ContactListValidator.RowProblem::message)
                .containsExactly(
                        tuple(2L, "on the DNC list dnc.txt (+*******4321)"),
                        tuple(3L, "duplicate of line 2 (+*******4321)"));
    }

    @Test
    void validate_strayQuote_costsOneRowAndLaterRowsAreRead() throws IOException {
        Path f = csv("phone,name\n\"+12125552368,Ann\n+12125552369,Ben\n+12125552370,Cy\n");

        ContactListValidator.Report r = validator.validate(f);

        assertThat(r.warnings()).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(2);
            assertThat(p.message()).startsWith("unterminated quoted field");
        });
        assertThat(r.rows()).isEqualTo(3);
        assertThat(r.dialable()).isEqualTo(2);
    }

    @Test
    void validate_whitespaceOnlyLinesAndTrailingEmptyFields_areNotErrors() throws IOException {
        Path f = csv("\uFEFFphone,name\n   \n+12125552368,Ann,,\n");

        ContactListValidator.Report r = validator.validate(f);

        assertThat(r.ok()).isTrue();
        assertThat(r.rows()).isEqualTo(1);
        assertThat(r.dialable()).isEqualTo(1);
    }

    @Test
    void readDnc_badLines_reportedByLineWithMaskedText() throws IOException {
        Path f = dir.resolve("dnc.txt");
        Files.writeString(f, "# opt-outs\n+13125554321\n\n555-01\nbanana\n");
        DncList dnc = validator.newDncList();

        ContactListValidator.DncFile read = validator.readDnc(f, dnc);

        assertThat(dnc.size()).isEqualTo(1);
        assertThat(read.problems()).isEqualTo(2);
        assertThat(read.listed()).extracting(ContactListValidator.RowProblem::line).containsExactly(4L, 5L);
        assertThat(read.listed().get(1).message()).isEqualTo("not a phone number (banana)");
        assertThat(validator.readDnc(dir.resolve("nope.txt"), dnc).listed())
                .extracting(ContactListValidator.RowProblem::message).containsExactly("file not found");
    }

    // ------------------------------------------------------------------ the samples in config/samples

    @Test
    void samples_contactsCsv_hasTheDocumentedCounts() {
        DncList dnc = validator.newDncList();
        ContactListValidator.DncFile read = validator.readDnc(SAMPLES.resolve("dnc.txt"), dnc);
        ContactListValidator.Report r = validator.withDnc(dnc, "dnc.txt").validate(SAMPLES.resolve("contacts.csv"));

        assertThat(read.problems()).isZero();
        assertThat(read.listed()).isEmpty();
        assertThat(dnc.size()).isEqualTo(5);
        assertThat(r.rows()).isEqualTo(200);
        assertThat(r.invalidRows()).isEqualTo(8);
        assertThat(r.warnings()).extracting(ContactListValidator.RowProblem::line)
                .containsExactly(12L, 35L, 58L, 81L, 104L, 127L, 150L, 173L);
        assertThat(r.duplicateRows()).isEqualTo(6);
        assertThat(r.suppressedRows()).isEqualTo(5);
        assertThat(r.notes()).extracting(ContactListValidator.RowProblem::line)
                .contains(26L, 44L, 73L, 124L, 161L, 195L);
        assertThat(r.dialable()).isEqualTo(181);
    }

    @Test
    void samples_contactsCsv_coversSeveralUsTimeZonesAndOtherCountries() throws Exception {
        PhoneNumberUtil util = PhoneNumberUtil.getInstance();
        List<String> lines = Files.readAllLines(SAMPLES.resolve("contacts.csv"));
        assertThat(lines.get(0)).isEqualTo("id,phone,name,timezone,appointment_date,appointment_time,clinic");
        java.util.Set<String> usAreaCodes = new java.util.TreeSet<>();
        java.util.Set<String> countries = new java.util.TreeSet<>();
        for (String line : lines.subList(1, lines.size())) {
            String phone = line.split(",")[1];
            String e164 = PhoneNumbers.forRegion("US").normalize(phone).e164();
            if (e164 != null) {
                countries.add(util.getRegionCodeForNumber(util.parse(e164, "ZZ")));
                if (e164.startsWith("+1")) {
                    usAreaCodes.add(e164.substring(2, 5));
                }
            }
        }
        // Eastern, Central, Mountain, Arizona, Pacific, Alaska and Hawaii area codes
        assertThat(usAreaCodes).contains("212", "312", "303", "602", "206", "907", "808");
        assertThat(countries).contains("US", "CA", "GB", "DE", "AU", "MX", "FR");
    }

    @Test
    void samples_everyNumberInTheReferenceConfigAndDncList_isValidForLibphonenumber() throws Exception {
        PhoneNumberUtil util = PhoneNumberUtil.getInstance();
        List<String> numbers = new java.util.ArrayList<>(Files.readAllLines(SAMPLES.resolve("dnc.txt")));
        numbers.addAll(List.of("+17035552601", "+17035552602", "+15035552701", "+15035552702"));
        for (String n : numbers) {
            assertThat(util.isValidNumber(util.parse(n, "ZZ"))).as(n).isTrue();
        }
        assertThat(Files.readString(Path.of("..", "config", "dialer.yaml")))
                .contains("+17035552601", "+17035552602", "+15035552701", "+15035552702");
    }

    DncList dnc(String... numbers) {
        DncList list = validator.newDncList();
        for (String n : numbers) {
            list.add(n);
        }
        return list;
    }
}
