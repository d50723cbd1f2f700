package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.app.DialerMain;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 14's acceptance: {@code dialer validate} and {@code dialer run} give the same counts (invalid, duplicate,
 * suppressed) for the same list. One list holds every defect the contact reader knows, each row written down with
 * the verdict it must get; {@code validate --campaign} and a real {@code run --sandbox} of the same campaign (the
 * embedded emulator over HTTP) must both agree with that ground truth, so the test fails when both sides are wrong
 * the same way as well as when they disagree.
 */
class ValidateRunAgreementIT {
    private static final Pattern SUMMARY = Pattern.compile(
            "contacts\\.csv: (\\d+) rows: (\\d+) to dial, (\\d+) invalid, (\\d+) duplicate, (\\d+) on a DNC list");

    @TempDir
    Path dir;

    private enum Verdict { DIAL, INVALID, DUPLICATE, SUPPRESSED, SKIPPED_LINE }

    private record Row(String text, Verdict verdict, String defect) {
    }

    /** The list, one physical line per row; the header (with a BOM) comes first. */
    private static List<Row> everyDefect() {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("1,+12125550101,Ann,,", Verdict.DIAL, "E.164"));
        rows.add(new Row("2,(212) 555-0102,Ben,,", Verdict.DIAL, "national format, normalized to E.164"));
        rows.add(new Row("3,212.555.0101,Cy,,", Verdict.DUPLICATE, "line 2's number written another way"));
        rows.add(new Row("", Verdict.SKIPPED_LINE, "blank line"));
        rows.add(new Row("   ", Verdict.SKIPPED_LINE, "whitespace-only line"));
        rows.add(new Row("4,,Di,,", Verdict.INVALID, "missing number"));
        rows.add(new Row("5,not a number,Ed,,", Verdict.INVALID, "unparseable number"));
        rows.add(new Row("6,+1 212 555 01,Flo,,", Verdict.INVALID, "too few digits"));
        rows.add(new Row("7,+121255501019999999,Gus,,", Verdict.INVALID, "too many digits"));
        rows.add(new Row("8,+1 099 555 0101,Hal,,", Verdict.INVALID, "unassigned area code"));
        rows.add(new Row("9,020 7946 0019,Ida,,", Verdict.INVALID, "a UK number without +, read as US"));
        rows.add(new Row("10,+12125550103,Jo,Mars/Base,", Verdict.INVALID, "unknown time zone"));
        rows.add(new Row("11,+12125550104,Kim,,note,extra", Verdict.INVALID, "more fields than the header"));
        rows.add(new Row("12,+12125550105", Verdict.DIAL, "fewer fields than the header"));
        rows.add(new Row("13,+12125550106,Lee,,,,", Verdict.DIAL, "trailing empty fields"));
        rows.add(new Row("14,\"+1212555010\"7\",Mo,,", Verdict.INVALID, "junk after a closing quote"));
        rows.add(new Row("15,+12125550108,Ned,," + "x".repeat(70_000), Verdict.INVALID, "row over 65536 chars"));
        rows.add(new Row("16,+13125550110,Ola,America/Chicago,", Verdict.DIAL, "per-row time zone"));
        rows.add(new Row("17,+13125550111,Pat,,", Verdict.SUPPRESSED, "on dnc-a.txt"));
        rows.add(new Row("18,312-555-0112,Quin,,", Verdict.SUPPRESSED, "on dnc-b.txt (CSV), national format"));
        rows.add(new Row("19,+1 (312) 555-0111,Rae,,", Verdict.DUPLICATE, "a DNC number again: a duplicate first"));
        rows.add(new Row("20,+442079460018,Sam,Europe/London,", Verdict.DIAL, "another country"));
        rows.add(new Row("21,+12125550101,Ann,,", Verdict.DUPLICATE, "line 2 again, the same way"));
        rows.add(new Row(",+12125550113,,,", Verdict.DIAL, "no id"));
        rows.add(new Row("22,+12125550114,Tia,,\"a note\non two lines\"", Verdict.DIAL, "quoted field spanning lines"));
        rows.add(new Row("23,\"+12125550115\",Uma,,", Verdict.DIAL, "quoted number"));
        // Last: an unterminated quote swallows nothing after it only when nothing comes after it.
        rows.add(new Row("24,\"+12125550116,Val,,", Verdict.INVALID, "unterminated quote"));
        return rows;
    }

    @Test
    void validateAndRun_listWithEveryDefect_giveTheSameCountsAsTheGroundTruth() throws Exception {
        List<Row> rows = everyDefect();
        StringBuilder csv = new StringBuilder("\uFEFFid,phone,name,timezone,note\r\n");
        for (Row r : rows) {
            csv.append(r.text()).append("\r\n");
        }
        Files.writeString(dir.resolve("contacts.csv"), csv, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("dnc-a.txt"), "# opt-outs\n+13125550111\n\nbanana\n+16175550199\n");
        Files.writeString(dir.resolve("dnc-b.txt"), "phone,reason\n(312) 555-0112,asked\n");
        Path config = dir.resolve("dialer.yaml");
        Files.writeString(config, """
                server:
                  host: 127.0.0.1
                  port: 0
                ledger:
                  url: jdbc:sqlite:%s
                regions:
                  us-east-1:
                    sip-media-application-id: 5b2b8d5e-0000-4000-8000-00000000e001
                    calls-per-second: 50
                    burst: 10
                    max-active-calls: 50
                    update-calls-per-second: 50
                    from-numbers: ["+17035552601"]
                campaigns:
                  every-defect:
                    contacts: contacts.csv
                    regions: [us-east-1]
                    default-region: US
                    dnc-lists: [dnc-a.txt, dnc-b.txt]
                """.formatted(dir.resolve("ledger.db").toString().replace('\\', '/')));

        long expectedRows = rows.stream().filter(r -> r.verdict() != Verdict.SKIPPED_LINE).count();
        long expectedInvalid = count(rows, Verdict.INVALID);
        long expectedDuplicate = count(rows, Verdict.DUPLICATE);
        long expectedSuppressed = count(rows, Verdict.SUPPRESSED);
        long expectedDial = count(rows, Verdict.DIAL);
        // The list really has every defect: the ground truth is not trivially zero anywhere.
        assertThat(List.of(expectedInvalid, expectedDuplicate, expectedSuppressed, expectedDial))
                .containsExactly(11L, 3L, 2L, 9L);

        // validate
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine validate = DialerMain.commandLine();
        validate.setOut(new PrintWriter(out, true));
        validate.setErr(new PrintWriter(err, true));
        int validateCode = validate.execute("validate", "--config", config.toString(), "--campaign", "every-defect");
        // Invalid rows are warnings (a run skips them), not errors: the list is runnable.
        assertThat(validateCode).as(err.toString()).isZero();
        Matcher m = SUMMARY.matcher(out.toString());
        assertThat(m.find()).as(out.toString()).isTrue();
        long vRows = Long.parseLong(m.group(1));
        long vDial = Long.parseLong(m.group(2));
        long vInvalid = Long.parseLong(m.group(3));
        long vDuplicate = Long.parseLong(m.group(4));
        long vSuppressed = Long.parseLong(m.group(5));
        // Each invalid row is listed by its line; no whole number is printed.
        assertThat(err.toString().lines().filter(l -> l.contains("contacts.csv:")).count()).isEqualTo(expectedInvalid);
        assertThat(out + err.toString()).doesNotContainPattern("\\+1\\d{10}");

        // run, on the embedded emulator
        Path report = dir.resolve("report.json");
        int runCode = DialerMain.commandLine().execute("run", "--sandbox", "--time-scale", "0.002", "--config",
                config.toString(), "--campaign", "every-defect", "--report", report.toString());
        assertThat(runCode).isZero();
        JsonNode c = new ObjectMapper().readTree(report.toFile()).path("contacts");

        assertThat(List.of(vRows, vInvalid, vDuplicate, vSuppressed, vDial)).as("validate: rows, invalid, duplicate, "
                + "suppressed, to dial").containsExactly(expectedRows, expectedInvalid, expectedDuplicate,
                expectedSuppressed, expectedDial);
        assertThat(List.of(c.path("total").asLong(), c.path("invalid").asLong(), c.path("duplicate").asLong(),
                c.path("suppressed").asLong(), c.path("dialed").asLong())).as("run: total, invalid, duplicate, "
                + "suppressed, dialed " + c).containsExactly(expectedRows, expectedInvalid, expectedDuplicate,
                expectedSuppressed, expectedDial);
    }

    private static long count(List<Row> rows, Verdict verdict) {
        return rows.stream().filter(r -> r.verdict() == verdict).count();
    }
}
