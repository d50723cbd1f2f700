package io.chimedialer.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.LedgerOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code dialer export} only reads: no file created or converted, no secret needed, clear errors. */
class ExportCommandTest {
    private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

    @TempDir
    Path dir;

    private record Outcome(int code, String out, String err) {
    }

    private static Outcome export(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = new CommandLine(new ExportCommand(Map.of())).execute(args);
            return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** A configuration whose server secrets come from variables that are not set, and this ledger. */
    private Path config(Path ledger) throws Exception {
        Path config = dir.resolve("dialer.yaml");
        Files.writeString(config, """
                server:
                  webhook-secret: ${EXPORT_TEST_WEBHOOK_SECRET}
                  control-token: ${EXPORT_TEST_CONTROL_TOKEN}
                ledger:
                  url: "jdbc:sqlite:%s"
                regions:
                  us-east-1:
                    sip-media-application-id: "11111111-1111-4111-8111-111111111111"
                    from-numbers: ["+17035550100"]
                """.formatted(ledger), StandardCharsets.UTF_8);
        return config;
    }

    /** A ledger with campaign "spring": two dialed contacts (one answered, one live) and three skipped rows. */
    private Path ledger() {
        Path file = dir.resolve("ledger.db");
        try (JdbcLedger ledger = JdbcLedger.open(LedgerOptions.of("jdbc:sqlite:" + file, Clock.systemUTC()))) {
            ledger.upsertCampaign("spring", null, T0).block(Duration.ofSeconds(10));
            Attempt answered = new Attempt("a-1", "spring", new Contact(2, "c1", "+12125550101", "", null, Map.of()),
                    1, "us-east-1", "+17035550100");
            Attempt live = new Attempt("a-2", "spring", new Contact(3, "c2", "+12125550102", "", null, Map.of()),
                    1, "us-east-1", "+17035550100");
            ledger.recordIntents(List.of(answered, live)).block(Duration.ofSeconds(10));
            ledger.recordPlaced("a-1", "tx-1", T0.plusSeconds(1)).block(Duration.ofSeconds(10));
            ledger.recordResult(new CallResult("a-1", "spring", "tx-1", Disposition.ANSWERED, 200, Duration.ofSeconds(3),
                    Duration.ofSeconds(20), "", 4, T0.plusSeconds(30))).block(Duration.ofSeconds(10));
            ledger.recordSkipped("spring", "line-4", "12345", "INVALID", "not a phone number").block(Duration.ofSeconds(10));
            ledger.recordSkipped("spring", "c3", "+12125550101", "DUPLICATE", "number already in this campaign")
                    .block(Duration.ofSeconds(10));
            ledger.recordSkipped("spring", "c4", "+12125550104", "SUPPRESSED", "on a DNC list").block(Duration.ofSeconds(10));
            ledger.addDnc("campaign:spring", "+12125550199", T0).block(Duration.ofSeconds(10));
        }
        return file;
    }

    @Test
    void export_ledgerFileMissing_exit2AndNothingCreated_noSecretNeeded() throws Exception {
        Path missing = dir.resolve("data/dialer.db");
        Path config = config(missing);

        Outcome outcome = export("--config", config.toString(), "--campaign", "spring",
                "--out", dir.resolve("out.csv").toString());

        assertThat(outcome.code).isEqualTo(2);
        assertThat(outcome.err.strip()).isEqualTo("dialer export: Ledger database " + missing + ": no such file "
                + "(nothing is created when reading a ledger: give the ledger of the run with --ledger "
                + "jdbc:sqlite:FILE or ledger.url)");
        assertThat(dir.resolve("data")).doesNotExist();
        assertThat(dir.resolve("out.csv")).doesNotExist();
    }

    @Test
    void export_anotherApplicationsSqliteFile_exit2AndTheFileIsUnchanged() throws Exception {
        Path foreign = dir.resolve("other.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + foreign);
             Statement st = c.createStatement()) {
            st.execute("PRAGMA journal_mode=DELETE");
            st.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
            st.execute("INSERT INTO notes (text) VALUES ('keep me')");
        }
        byte[] before = Files.readAllBytes(foreign);

        Outcome outcome = export("--ledger", "jdbc:sqlite:" + foreign, "--campaign", "spring",
                "--out", dir.resolve("out.csv").toString());

        assertThat(outcome.code).isEqualTo(2);
        assertThat(outcome.err.strip()).isEqualTo("dialer export: Ledger database " + foreign
                + ": not a ledger of the dialer (it has no schema_version table); nothing was changed");
        assertThat(Files.readAllBytes(foreign)).isEqualTo(before);
        // Byte 18 of the header is 1 in rollback-journal mode, 2 in WAL mode: still 1.
        assertThat(before[18]).isEqualTo((byte) 1);
        assertThat(dir.resolve("other.db-wal")).doesNotExist();
    }

    @Test
    void export_unknownCampaign_exit2ListingTheKnownOnes() throws Exception {
        Path ledger = ledger();

        Outcome outcome = export("--config", config(ledger).toString(), "--campaign", "autumn",
                "--out", dir.resolve("out.csv").toString());

        assertThat(outcome.code).isEqualTo(2);
        assertThat(outcome.err.strip()).isEqualTo("dialer export: no campaign 'autumn' in the ledger " + ledger
                + " (campaigns: spring)");
    }

    @Test
    void export_attemptsAndContacts_everyContactWithItsFinalStatus_withoutSecrets() throws Exception {
        Path ledger = ledger();
        byte[] before = Files.readAllBytes(ledger);
        Path attempts = dir.resolve("out/attempts.csv");
        Path contacts = dir.resolve("out/contacts.csv");

        Outcome outcome = export("--config", config(ledger).toString(), "--campaign", "spring",
                "--out", attempts.toString(), "--contacts", contacts.toString());

        assertThat(outcome.code).as(outcome.err).isZero();
        assertThat(outcome.out).contains("2 attempts of campaign spring").contains("5 contacts of campaign spring");
        assertThat(Files.readAllLines(attempts)).hasSize(3);
        assertThat(Files.readAllLines(contacts)).containsExactly(
                "contact_id,number,status,reason,attempts,last_attempt_id,updated_at",
                "c1,+12125550101,ANSWERED,,1,a-1,2026-03-01T10:00:30Z",
                "c2,+12125550102,IN_PROGRESS,,1,a-2," + contactUpdatedAt(contacts, "c2"),
                "c3,+12125550101,DUPLICATE,number already in this campaign,0,," + contactUpdatedAt(contacts, "c3"),
                "c4,+12125550104,SUPPRESSED,on a DNC list,0,," + contactUpdatedAt(contacts, "c4"),
                "line-4,12345,INVALID,not a phone number,0,," + contactUpdatedAt(contacts, "line-4"));
        assertThat(Files.readAllBytes(ledger)).as("the ledger is not written").isEqualTo(before);
    }

    @Test
    void exportDnc_optOutsOfTheCampaign() throws Exception {
        Path ledger = ledger();
        Path file = dir.resolve("opt-outs.txt");

        Outcome outcome = export("--config", config(ledger).toString(), "--campaign", "spring", "--dnc",
                "--out", file.toString());

        assertThat(outcome.code).as(outcome.err).isZero();
        assertThat(Files.readAllLines(file)).filteredOn(l -> !l.startsWith("#")).containsExactly("+12125550199");
    }

    /** The updated_at column of a contact's row, as written (the ledger stamps skips and intents itself). */
    private static String contactUpdatedAt(Path contacts, String key) throws Exception {
        return Files.readAllLines(contacts).stream().filter(l -> l.startsWith(key + ","))
                .map(l -> l.substring(l.lastIndexOf(',') + 1)).findFirst().orElseThrow();
    }
}
