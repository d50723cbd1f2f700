package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.Scenario;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/deploy-dialer.md's first-call smoke test, {@code deploy/smoke-test.sh}, run as documented (bash, curl, jq)
 * against {@code serve} in-process and the embedded emulator: it passes when the call is answered (and again on a
 * second run: the contact is dialed afresh), and fails with a reason for a call that never reaches the callee, a
 * wrong token and a server that is not there. The emulator's call records are the ground truth.
 */
class SmokeTestScriptIT {
    private static final Path SCRIPT = Path.of("..").toAbsolutePath().normalize().resolve("deploy/smoke-test.sh");
    private static final String TOKEN = "smoke-it-token";
    private static final String SECRET = "smoke-it-webhook-secret-0123456789";
    private static final String ANSWERS = "+13125550142";
    private static final String FAILS = "+13125550199";

    @TempDir
    Path dir;

    private ChimeEmulator emulator;
    private DialerRuntime runtime;
    private String base;

    @BeforeEach
    void start() throws Exception {
        List<EmulatorRegion> regions = new ArrayList<>(EmulatorRegion.defaults());
        Scenario scenario = Scenario.builder().ringMs(500, 1000).talkMs(1000, 2000)
                .number(ANSWERS, Scenario.Callee.of(Scenario.Outcome.ANSWERED))
                .number(FAILS, Scenario.Callee.of(Scenario.Outcome.FAILED)).build();
        emulator = ChimeEmulator.builder().regions(regions).scenario(scenario).timeScale(0.2).seed(3).start();
        EmulatorRegion east = regions.get(0);
        StringBuilder yaml = ServedDialer.header(dir);
        ServedDialer.region(yaml, east, "calls-per-second: 1\nmax-active-calls: 5\n");
        yaml.append("campaigns:\n  smoke:\n    regions: [").append(east.name()).append("]\n")
                .append("    flow:\n      message: { text: \"This is the dialer's smoke test. Goodbye.\" }\n");
        runtime = ServedDialer.start(ServedDialer.load(dir, yaml.toString(), emulator, SECRET, TOKEN), emulator);
        base = "http://127.0.0.1:" + runtime.port();
    }

    /** Contact lists uploaded before the test: those it uploads (under the working directory) are deleted after. */
    private final java.util.Set<Path> uploadsBefore = uploads();

    private static java.util.Set<Path> uploads() {
        try (java.util.stream.Stream<Path> files = Files.list(io.chimedialer.app.runtime.CampaignManager.UPLOADS)) {
            return files.collect(java.util.stream.Collectors.toSet());
        } catch (IOException e) {
            return java.util.Set.of();
        }
    }

    @AfterEach
    void stop() throws IOException {
        for (Path upload : uploads()) {
            if (!uploadsBefore.contains(upload)) {
                Files.deleteIfExists(upload);
            }
        }
        if (runtime != null) {
            runtime.close();
        }
        if (emulator != null) {
            emulator.close();
        }
    }

    @Test
    void smokeTest_answeredCall_passes_twice_andNamesNoFullNumber() throws Exception {
        Result first = run(TOKEN, "--url", base, "--campaign", "smoke", "--number", ANSWERS, "--timeout", "60");
        assertThat(first.code).as(first.output).isZero();
        assertThat(first.output).contains("is healthy and ready").contains("campaign smoke started, calling ...0142")
                .contains("ended ANSWERED").contains("smoke-test: PASS").doesNotContain(ANSWERS);
        assertThat(callsTo(ANSWERS)).hasSize(1);

        // Again: the one contact is dialed afresh ("resume": false), not skipped as done.
        Result second = run(TOKEN, "--url", base + "/", "--campaign", "smoke", "--number", ANSWERS,
                "--expect", "ANSWERED");
        assertThat(second.code).as(second.output).isZero();
        assertThat(callsTo(ANSWERS)).hasSize(2).allMatch(c -> c.answered() != null);
        assertThat(emulator.stats().created()).isEqualTo(2);
    }

    @Test
    void smokeTest_callThatFails_wrongToken_noServer_fail() throws Exception {
        Result failed = run(TOKEN, "--url", base, "--campaign", "smoke", "--number", FAILS, "--timeout", "60");
        assertThat(failed.code).as(failed.output).isEqualTo(1);
        assertThat(failed.output).contains("ended FAILED").contains("FAIL: the call did not reach the callee's network");
        assertThat(callsTo(FAILS)).hasSize(1);

        Result wrongToken = run("not-the-token", "--url", base, "--campaign", "smoke", "--number", ANSWERS);
        assertThat(wrongToken.code).isEqualTo(1);
        assertThat(wrongToken.output).contains("POST /v1/campaigns answered 401").doesNotContain("not-the-token");

        Result unknown = run(TOKEN, "--url", base, "--campaign", "nope", "--number", ANSWERS);
        assertThat(unknown.code).isEqualTo(1);
        assertThat(unknown.output).contains("answered 404").contains("no campaign named 'nope' is configured");

        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Result noServer = run(TOKEN, "--url", "http://127.0.0.1:" + closed, "--campaign", "smoke", "--number",
                ANSWERS);
        assertThat(noServer.code).isEqualTo(1);
        assertThat(noServer.output).contains("GET http://127.0.0.1:" + closed + "/healthz answered");

        Result usage = run(TOKEN, "--url", base, "--campaign", "smoke", "--number", "3125550142");
        assertThat(usage.code).isEqualTo(2);
        assertThat(callsTo(ANSWERS)).isEmpty();
    }

    private List<CallRecord> callsTo(String number) {
        return emulator.calls().stream().filter(c -> number.equals(c.to())).toList();
    }

    private record Result(int code, String output) {
    }

    private Result run(String token, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("DIALER_CONTROL_TOKEN", token);
        pb.environment().remove("DIALER_URL");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the script ends by itself").isTrue();
        return new Result(p.exitValue(), output);
    }
}
