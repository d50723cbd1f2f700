package io.chimedialer.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
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

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
