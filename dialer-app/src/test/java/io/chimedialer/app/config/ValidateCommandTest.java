package io.chimedialer.app.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ValidateCommandTest {
    @TempDir
    Path dir;

    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    int run(String... args) {
        CommandLine cmd = new CommandLine(new ValidateCommand(Map.of()));
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    @Test
    void validate_referenceConfig_exitsZero() {
        int code = run("--config", ConfigLoaderTest.REFERENCE.toString());

        assertThat(code).isEqualTo(ValidateCommand.OK).isZero();
        assertThat(err.toString()).isEmpty();
        assertThat(out.toString()).contains("OK (2 Regions, 1 campaigns: demo)");
    }

    @Test
    void validate_configWithFiveMistakes_printsAllFiveAndExitsTwo() {
        int code = run("--config", ConfigLoaderTest.BAD_FIVE.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString().lines().toList()).containsExactly(
                ConfigLoaderTest.BAD_FIVE + ":4: server.port: expected a whole number, was 'eighty'",
                ConfigLoaderTest.BAD_FIVE + ":8: regions.us-east-1.calls-per-secnd: unknown key, did you mean 'calls-per-second'?",
                ConfigLoaderTest.BAD_FIVE + ":12: regions.us-west-2.from-numbers[0]: not an E.164 number: '5035552701' "
                        + "(use +<country><number>, e.g. +12065552368)",
                ConfigLoaderTest.BAD_FIVE + ":15: campaigns.reminders.regions.eu-west-9: Region 'eu-west-9' is not defined "
                        + "under regions:, did you mean 'us-west-2'?",
                ConfigLoaderTest.BAD_FIVE + ":17: campaigns.reminders.retry.BUSY.after: not a duration: '10 minutes' "
                        + "(use a number and a unit: 500ms, 10s, 10m, 2h, 1d, or combinations such as 1h30m)",
                "5 problems found");
    }

    @Test
    void validate_demoCampaign_warnsOfTheSampleBadRowsByLineAndExitsZero() {
        int code = run("--config", ConfigLoaderTest.REFERENCE.toString(), "--campaign", "demo");

        assertThat(code).isZero();
        assertThat(err.toString().lines().filter(l -> l.contains("contacts.csv:")).map(l -> l.replaceAll(".*contacts\\.csv:(\\d+): warning: .*", "$1")))
                .containsExactly("12", "35", "58", "81", "104", "127", "150", "173");
        assertThat(out.toString()).contains("200 rows: 181 to dial, 8 invalid, 6 duplicate, 5 on a DNC list")
                .endsWith("No errors; 8 warnings (rows a run skips)" + System.lineSeparator());
        assertThat(err.toString()).doesNotContain("problem");
    }

    @Test
    void validate_listWithoutPhoneColumn_isAnErrorAndExitsTwo() throws IOException {
        Path list = dir.resolve("no-phone.csv");
        Files.writeString(list, "id,name\n1,Ann\n", StandardCharsets.UTF_8);

        int code = run("--contacts", list.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).endsWith("1 problem found" + System.lineSeparator());
    }

    @Test
    void validate_cleanContactsWithoutConfig_exitsZero() throws IOException {
        Path list = dir.resolve("ok.csv");
        Files.writeString(list, "phone,name\n+12125552368,Ann\n(312) 555-4321,Ben\n");

        int code = run("--contacts", list.toString(), "--config", ConfigLoaderTest.REFERENCE.toString());

        assertThat(code).isZero();
        assertThat(out.toString()).contains("2 rows: 2 to dial, 0 invalid, 0 duplicate, 0 on a DNC list");
    }

    @Test
    void validate_unknownCampaign_exitsTwo() {
        int code = run("--config", ConfigLoaderTest.REFERENCE.toString(), "--campaign", "nope");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("campaigns.nope: no such campaign (configured: demo)");
    }

    @Test
    void validate_badConfigWithCampaign_printsTheConfigProblemsAndExitsTwo() {
        int code = run("--config", ConfigLoaderTest.BAD_FIVE.toString(), "--campaign", "reminders");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString().lines().toList()).hasSize(6).last().isEqualTo("5 problems found");
    }

    @Test
    void validate_help_documentsOptionsAndExitCodes() {
        int code = run("--help");

        assertThat(code).isZero();
        assertThat(out.toString()).contains("--config=FILE", "--contacts=FILE", "--campaign=NAME", "Exit codes:",
                "0   valid", "2   errors found (or invalid usage)");
    }

    @Test
    void validate_missingConfigFile_exitsTwo() {
        int code = run("--config", dir.resolve("missing.yaml").toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("missing.yaml: file not found");
    }

    /** A small configuration with this Region name and ledger URL. */
    private Path config(String region, String ledgerUrl) throws IOException {
        Path config = dir.resolve("dialer.yaml");
        Files.writeString(config, """
                ledger:
                  url: "%s"
                regions:
                  %s:
                    sip-media-application-id: "11111111-1111-4111-8111-111111111111"
                    from-numbers: ["+17035550100"]
                """.formatted(ledgerUrl, region), StandardCharsets.UTF_8);
        return config;
    }

    @Test
    void validate_regionWithoutChimeVoice_isAnErrorNamingTheKey() throws IOException {
        Path config = config("us-west-9", "jdbc:sqlite:" + dir.resolve("ledger.db"));

        int code = run("--config", config.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString().lines().toList()).containsExactly(
                config + ":4: regions.us-west-9: 'us-west-9' is not a Region with Amazon Chime SDK PSTN audio, "
                        + "did you mean 'us-west-2'? (Regions: us-east-1, us-west-2, ca-central-1, eu-central-1, "
                        + "eu-west-1, eu-west-2, ap-northeast-1, ap-northeast-2, ap-southeast-1, ap-southeast-2)",
                "1 problem found");
    }

    @Test
    void validate_ledgerInAReadOnlyDirectory_isAnErrorNamingTheDirectory() throws IOException {
        Path readOnly = Files.createDirectory(dir.resolve("read-only"));
        Path config = config("us-east-1", "jdbc:sqlite:" + readOnly.resolve("ledger.db"));
        readOnly.toFile().setWritable(false, false);
        try {
            int code = run("--config", config.toString());

            assertThat(code).isEqualTo(2);
            assertThat(err.toString().lines().toList()).containsExactly(
                    config + ": ledger.url: Ledger database " + readOnly.resolve("ledger.db") + ": its directory "
                            + readOnly + " is read-only; the ledger cannot create the database there",
                    "1 problem found");
        } finally {
            readOnly.toFile().setWritable(true, false);
        }
    }

    @Test
    void validate_ledgerFileNotADatabase_isAnErrorAndTheFileIsUntouched() throws IOException {
        Path garbage = dir.resolve("garbage.db");
        Files.writeString(garbage, "not a database\n".repeat(10), StandardCharsets.UTF_8);
        Path config = config("us-east-1", "jdbc:sqlite:" + garbage);

        int code = run("--config", config.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains(config + ": ledger.url: Ledger database " + garbage
                + ": not an SQLite database");
        assertThat(Files.readString(garbage, StandardCharsets.UTF_8)).isEqualTo("not a database\n".repeat(10));
        // The file is not called OK before (or after) its ledger's problem.
        assertThat(out.toString()).doesNotContain(": OK");
    }

    @Test
    void validate_ledgerWhoseDirectoryIsMissing_passesAndCreatesNothing() throws IOException {
        Path config = config("us-east-1", "jdbc:sqlite:" + dir.resolve("data/sub/ledger.db"));

        int code = run("--config", config.toString());

        assertThat(code).as(err.toString()).isZero();
        assertThat(dir.resolve("data")).doesNotExist();
    }
}
