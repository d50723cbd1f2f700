package io.chimedialer.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code dialer run} against a Chime endpoint (the emulator standing in for AWS, no --sandbox). */
class RunCommandTest {

    @TempDir
    Path dir;

    @Test
    void run_withServerPublicUrl_everyCallCarriesDialerUrlInItsArgumentsMap() throws Exception {
        // No SMA endpoint: the emulator's invocations fail, the calls end there, and the dialer closes them by
        // their lifetime. Only what the dialer sent in CreateSipMediaApplicationCall matters here.
        EmulatorRegion region = EmulatorRegion.defaults().get(0);
        try (ChimeEmulator emulator = ChimeEmulator.builder().port(0).regions(List.of(region)).start()) {
            Files.writeString(dir.resolve("contacts.csv"), "id,phone,name\nc1,+14152000001,A\nc2,+14152000002,B\n",
                    StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("secret"), "run-command-test-secret\n", StandardCharsets.UTF_8);
            Path config = dir.resolve("dialer.yaml");
            Files.writeString(config, """
                    server:
                      host: 127.0.0.1
                      port: 0
                      webhook-secret: "file:%s"
                      public-url: "https://dialer-1.example.com"
                    ledger:
                      url: "jdbc:sqlite:%s"
                    regions:
                      %s:
                        sip-media-application-id: "%s"
                        calls-per-second: 10
                        burst: 2
                        max-active-calls: 10
                        update-calls-per-second: 5
                        from-numbers: ["%s"]
                        endpoint: "%s"
                    campaigns:
                      nodes:
                        contacts: contacts.csv
                        regions: { %s: 1 }
                        max-call-lifetime: 1s
                    """.formatted(dir.resolve("secret"), dir.resolve("ledger.db"), region.name(), region.sipMediaApplicationId(),
                    region.fromNumbers().get(0), emulator.url(), region.name()), StandardCharsets.UTF_8);
            String oldKey = System.getProperty("aws.accessKeyId");
            String oldSecret = System.getProperty("aws.secretAccessKey");
            System.setProperty("aws.accessKeyId", "RUNTESTACCESSKEY");
            System.setProperty("aws.secretAccessKey", "run-test-secret-key");
            int code;
            try {
                code = new CommandLine(new RunCommand()).execute("--config", config.toString(), "--campaign", "nodes");
            } finally {
                restore("aws.accessKeyId", oldKey);
                restore("aws.secretAccessKey", oldSecret);
            }

            assertThat(code).isZero();
            assertThat(emulator.awaitIdle(Duration.ofSeconds(20))).isTrue();
            assertThat(emulator.calls()).hasSize(2).extracting(CallRecord::arguments)
                    .allSatisfy(args -> assertThat(args).containsEntry("dialerUrl", "https://dialer-1.example.com"));
        }
    }

    @Test
    void run_sandboxTwice_neitherWritesTheConfiguredLedgerAndBothDialEveryContact() throws Exception {
        Path config = sandboxConfig();

        Run first = run("--config", config.toString(), "--campaign", "sb", "--sandbox", "--time-scale", "0.001",
                "--report", dir.resolve("first.json").toString());
        Run second = run("--config", config.toString(), "--campaign", "sb", "--sandbox", "--time-scale", "0.001",
                "--report", dir.resolve("second.json").toString());

        assertThat(first.code).isZero();
        assertThat(second.code).isZero();
        assertThat(second.out).doesNotContain("Resuming");
        for (String report : List.of("first.json", "second.json")) {
            JsonNode contacts = Reports.JSON.readTree(dir.resolve(report).toFile()).get("contacts");
            assertThat(contacts.get("dialed").asLong()).as(report).isEqualTo(3);
            assertThat(contacts.get("alreadyDone").asLong()).as(report).isZero();
        }
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void run_sandboxWithLedgerTwice_secondResumesAndSaysSo_freshDialsAgain() throws Exception {
        Path config = sandboxConfig();
        String ledger = "jdbc:sqlite:" + dir.resolve("sandbox.db");
        String[] args = {"--config", config.toString(), "--campaign", "sb", "--sandbox", "--time-scale", "0.001",
                "--ledger", ledger};

        Run first = run(concat(args, "--report", dir.resolve("first.json").toString()));
        Run resumed = run(concat(args, "--report", dir.resolve("resumed.json").toString()));
        Run fresh = run(concat(args, "--fresh", "--results", dir.resolve("results.csv").toString()));

        assertThat(first.code).isZero();
        assertThat(first.out).doesNotContain("Resuming");
        assertThat(resumed.code).isZero();
        assertThat(resumed.out).contains("Resuming campaign sb: the ledger holds 3 contacts already");
        JsonNode contacts = Reports.JSON.readTree(dir.resolve("resumed.json").toFile()).get("contacts");
        assertThat(contacts.get("dialed").asLong()).isZero();
        assertThat(contacts.get("alreadyDone").asLong()).isEqualTo(3);
        assertThat(fresh.code).isZero();
        assertThat(fresh.out).doesNotContain("Resuming");
        // The ledger holds the attempts of both runs that dialed: 3 + 3, none from the resumed one.
        assertThat(Files.readAllLines(dir.resolve("results.csv"), StandardCharsets.UTF_8)).hasSize(1 + 6);
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 120, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void run_sandbox_retryDelaysScaledAsDemoDoes_twoHourFollowUpsDialedWithinSeconds() throws Exception {
        Path config = sandboxConfig("""
                    retry:
                      ANSWERED: { after: 2h, max-attempts: 2 }
                      BUSY: { after: 2h, max-attempts: 2 }
                      NO_ANSWER: { after: 2h, max-attempts: 2 }
                      REJECTED: { after: 2h, max-attempts: 2 }
                      FAILED: { after: 2h, max-attempts: 2 }
                """);

        // 2 h at 0.0005 is 3.6 s: unscaled, the run would wait two hours for its follow-ups.
        Run run = run("--config", config.toString(), "--campaign", "sb", "--sandbox", "--time-scale", "0.0005",
                "--report", dir.resolve("report.json").toString());

        assertThat(run.code).as(run.out).isZero();
        assertThat(run.out).contains("retry delays scaled by 5.0E-4");
        JsonNode report = Reports.JSON.readTree(dir.resolve("report.json").toFile());
        assertThat(report.get("attempts").asLong()).as("3 first attempts and 3 follow-ups").isEqualTo(6);
        assertThat(report.at("/followUps/pending").asLong()).isZero();
    }

    @Test
    void run_sandbox_listWhoseEncodingChangesMidway_oneLineNamingTheLine_exit2() throws Exception {
        Path config = sandboxConfig();
        byte[] utf8 = "id,phone,name\nc1,+14152000001,Zo\u00eb\nc2,+14152000002,Jos".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = java.util.Arrays.copyOf(utf8, utf8.length + 2);
        bytes[utf8.length] = (byte) 0xE9; // Windows-1252 after UTF-8
        bytes[utf8.length + 1] = '\n';
        Files.write(dir.resolve("contacts.csv"), bytes);
        java.io.PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        Run run;
        try {
            run = run("--config", config.toString(), "--campaign", "sb", "--sandbox", "--time-scale", "0.001");
        } finally {
            System.setErr(oldErr);
        }

        assertThat(run.code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("dialer run: contact list ")
                .contains("line 3 is not valid UTF-8 text (byte 0xE9)").doesNotContain("\tat ");
    }

    /** A campaign of 3 valid contacts whose configured ledger is ./data/ledger.db under the test's directory. */
    private Path sandboxConfig() throws Exception {
        return sandboxConfig("");
    }

    /** As {@link #sandboxConfig()}, with more keys of the campaign (indented under it). */
    @Test
    void run_withNotifications_waitsUntilTheCompletionNoticeIsDelivered_aRetryIncluded() throws Exception {
        EmulatorRegion region = EmulatorRegion.defaults().get(0);
        java.util.List<String> bodies = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
        // The receiver answers 503 first: run exits only after the retry got its 200.
        reactor.netty.DisposableServer receiver = reactor.netty.http.server.HttpServer.create().host("127.0.0.1")
                .port(0).route(routes -> routes.post("/hook", (request, response) -> request.receive().aggregate()
                        .asString().defaultIfEmpty("").flatMap(body -> {
                            bodies.add(body);
                            return response.status(answered.getAndIncrement() == 0 ? 503 : 200).send().then();
                        }))).bindNow(Duration.ofSeconds(10));
        try (ChimeEmulator emulator = ChimeEmulator.builder().port(0).regions(List.of(region)).start()) {
            Files.writeString(dir.resolve("contacts.csv"), "id,phone,name\nc1,+14152000001,A\n",
                    StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("secret"), "run-command-test-secret\n", StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("notify-secret"), "run-notify-secret\n", StandardCharsets.UTF_8);
            Path config = dir.resolve("dialer.yaml");
            Files.writeString(config, """
                    server:
                      host: 127.0.0.1
                      port: 0
                      webhook-secret: "file:%s"
                    ledger:
                      url: "jdbc:sqlite:%s"
                    notifications:
                      url: "http://127.0.0.1:%d/hook"
                      secret: "file:%s"
                      initial-backoff: 100ms
                    regions:
                      %s:
                        sip-media-application-id: "%s"
                        calls-per-second: 10
                        burst: 2
                        max-active-calls: 10
                        update-calls-per-second: 5
                        from-numbers: ["%s"]
                        endpoint: "%s"
                    campaigns:
                      told:
                        contacts: contacts.csv
                        regions: { %s: 1 }
                        max-call-lifetime: 1s
                    """.formatted(dir.resolve("secret"), dir.resolve("ledger.db"), receiver.port(),
                    dir.resolve("notify-secret"), region.name(), region.sipMediaApplicationId(),
                    region.fromNumbers().get(0), emulator.url(), region.name()), StandardCharsets.UTF_8);
            String oldKey = System.getProperty("aws.accessKeyId");
            String oldSecret = System.getProperty("aws.secretAccessKey");
            System.setProperty("aws.accessKeyId", "RUNTESTACCESSKEY");
            System.setProperty("aws.secretAccessKey", "run-test-secret-key");
            Run run;
            try {
                run = run("--config", config.toString(), "--campaign", "told");
            } finally {
                restore("aws.accessKeyId", oldKey);
                restore("aws.secretAccessKey", oldSecret);
            }

            assertThat(run.code()).isZero();
            assertThat(bodies).hasSize(2).allSatisfy(body -> assertThat(body).contains("\"event\":\"completed\"")
                    .contains("\"campaign\":\"told\""));
            assertThat(run.out()).contains("Notice:  sending the completion notice to http://127.0.0.1:"
                    + receiver.port() + "/hook");
        } finally {
            receiver.disposeNow(Duration.ofSeconds(10));
        }
    }

    private Path sandboxConfig(String campaignKeys) throws Exception {
        EmulatorRegion region = EmulatorRegion.defaults().get(0);
        Files.writeString(dir.resolve("contacts.csv"),
                "id,phone\nc1,+14152000001\nc2,+14152000002\nc3,+14152000003\n", StandardCharsets.UTF_8);
        Path config = dir.resolve("dialer.yaml");
        Files.writeString(config, """
                ledger:
                  url: "jdbc:sqlite:%s"
                regions:
                  %s:
                    sip-media-application-id: "%s"
                    calls-per-second: 20
                    burst: 2
                    max-active-calls: 10
                    update-calls-per-second: 5
                    from-numbers: ["%s"]
                campaigns:
                  sb:
                    contacts: contacts.csv
                    regions: { %s: 1 }
                """.formatted(dir.resolve("data").resolve("ledger.db"), region.name(), region.sipMediaApplicationId(),
                region.fromNumbers().get(0), region.name()) + campaignKeys, StandardCharsets.UTF_8);
        return config;
    }

    private record Run(int code, String out) {
    }

    /** Runs {@code dialer run} in-process with its standard output captured. */
    private static Run run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = new CommandLine(new RunCommand()).execute(args);
        } finally {
            System.setOut(old);
        }
        return new Run(code, buffer.toString(StandardCharsets.UTF_8));
    }

    private static String[] concat(String[] args, String... more) {
        String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
