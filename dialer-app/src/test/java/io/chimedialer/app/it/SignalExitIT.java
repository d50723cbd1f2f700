package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.testkit.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exit codes of real {@code dialer} processes stopped by a signal: {@code serve} drains on SIGTERM and exits 0,
 * on SIGINT and exits 130; {@code run} exits 130 on SIGINT, as {@code dialer --help} says. A process started from a
 * non-interactive shell's background job inherits SIGINT ignored: the SIGINT cases start the child through
 * {@code env --default-signal=INT} and are skipped, saying so, where that option is missing.
 */
class SignalExitIT {
    private static final String SECRET = "signal-exit-it-secret-0123456789";

    @TempDir
    Path dir;

    private Process process;

    @AfterEach
    void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void serve_sigterm_drainsAndExits0() throws Exception {
        process = start(false, "serve", "--config", config().toString(), "--port", "0");
        awaitLog("dialer serve: listening on", "serve to listen");

        process.destroy(); // SIGTERM

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("serve exits; log:\n%s", tail()).isTrue();
        assertThat(process.exitValue()).as("exit code; log:\n%s", tail()).isZero();
        assertThat(log()).contains("SIGTERM received").contains("stopping: no new calls")
                .contains("stopped: ledger flushed and closed");
    }

    @Test
    void serve_sigint_drainsAndExits130() throws Exception {
        assumeSigintCanBeRestored();
        process = start(true, "serve", "--config", config().toString(), "--port", "0");
        awaitLog("dialer serve: listening on", "serve to listen");

        signal("INT");

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("serve exits; log:\n%s", tail()).isTrue();
        assertThat(process.exitValue()).as("exit code; log:\n%s", tail()).isEqualTo(130);
        assertThat(log()).contains("SIGINT received").contains("stopped: ledger flushed and closed");
    }

    @Test
    void runSandbox_sigintWhileDialing_exits130_withTheSummarySoFarAndTheReport() throws Exception {
        assumeSigintCanBeRestored();
        Path report = dir.resolve("run-report.json");
        process = start(true, "run", "--sandbox", "--config", config().toString(), "--campaign", "slow",
                "--time-scale", "0.05", "--report", report.toString());
        awaitLog("campaign slow started", "the run to start");

        signal("INT");

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("run exits; log:\n%s", tail()).isTrue();
        assertThat(process.exitValue()).as("exit code; log:\n%s", tail()).isEqualTo(130);
        assertInterrupted(report, "dialer run: interrupted (SIGINT)", "Campaign slow: PAUSED");
    }

    @Test
    void demo_sigintWhileDialing_exits130_withTheSummarySoFarAndTheReport() throws Exception {
        assumeSigintCanBeRestored();
        Path report = dir.resolve("demo-report.json");
        process = start(true, "demo", "--config", config().toString(), "--campaign", "slow", "--cps", "1",
                "--report", report.toString(), "--results", dir.resolve("demo-results.csv").toString());
        awaitLog("campaign slow started", "the demo to start");

        signal("INT");

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("demo exits; log:\n%s", tail()).isTrue();
        assertThat(process.exitValue()).as("exit code; log:\n%s", tail()).isEqualTo(130);
        assertInterrupted(report, "dialer demo: interrupted (SIGINT)", "Campaign slow: PAUSED");
        assertThat(dir.resolve("demo-results.csv")).exists();
    }

    /** The message, the summary of the calls made so far and the report, of a run stopped before its end. */
    private void assertInterrupted(Path report, String message, String summary) throws IOException {
        assertThat(log()).contains(message).contains(summary);
        assertThat(report).as("the report of the calls so far").exists();
        com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(report.toFile());
        assertThat(json.path("state").asText()).isEqualTo("PAUSED");
        assertThat(json.path("contacts").path("total").asLong()).isPositive();
        assertThat(json.path("contacts").path("dialed").asLong()).isLessThan(500);
    }

    private Path config() throws IOException {
        StringBuilder csv = new StringBuilder("id,phone\n");
        for (int i = 0; i < 500; i++) {
            csv.append('c').append(i).append(",+1312300").append(String.format("%04d", i)).append('\n');
        }
        Files.writeString(dir.resolve("slow.csv"), csv, StandardCharsets.UTF_8);
        Path config = dir.resolve("dialer.yaml");
        Files.writeString(config, """
                server: { host: 127.0.0.1, port: 0, webhook-secret: ${DIALER_WEBHOOK_SECRET} }
                ledger: { url: "jdbc:sqlite:%s" }
                regions:
                  us-east-1:
                    sip-media-application-id: 5b2b8d5e-0000-4000-8000-00000000e001
                    calls-per-second: 1
                    from-numbers: ["+12065550100"]
                    endpoint: http://127.0.0.1:9
                campaigns:
                  slow: { contacts: slow.csv, regions: [us-east-1] }
                """.formatted(dir.resolve("ledger.db")), StandardCharsets.UTF_8);
        return config;
    }

    private Process start(boolean defaultSigint, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        if (defaultSigint) {
            command.addAll(List.of("env", "--default-signal=INT"));
        }
        command.addAll(List.of(ChildProcesses.java(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", ChildProcesses.classpath(), "io.chimedialer.app.DialerMain"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("DIALER_WEBHOOK_SECRET", SECRET);
        pb.environment().put("AWS_ACCESS_KEY_ID", "SIGNALTESTKEY");
        pb.environment().put("AWS_SECRET_ACCESS_KEY", "signal-test-secret");
        pb.environment().remove("DIALER_LEDGER_URL");
        pb.redirectErrorStream(true);
        pb.redirectOutput(dir.resolve("dialer.log").toFile());
        return pb.start();
    }

    private void awaitLog(String line, String what) {
        Await.upTo(Duration.ofSeconds(90), what)
                .failFastIf(() -> !process.isAlive(), () -> "it exited (" + process.exitValue() + "); log:\n" + tail())
                .until(() -> log().contains(line));
    }

    private void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    private static void assumeSigintCanBeRestored() throws Exception {
        boolean supported;
        try {
            Process probe = new ProcessBuilder("env", "--default-signal=INT", "true").start();
            supported = probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException e) {
            supported = false;
        }
        Assumptions.assumeTrue(supported, "env --default-signal (GNU coreutils 8.31+) is needed to give the child"
                + " the default SIGINT disposition");
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("dialer.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private String tail() {
        return ChildProcesses.tail(dir.resolve("dialer.log"));
    }
}
