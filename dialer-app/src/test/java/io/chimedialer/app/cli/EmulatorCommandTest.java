package io.chimedialer.app.cli;

import io.chimedialer.lambda.SmaBridgeHandler;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.app.DialerMain;
import io.chimedialer.emulator.ChimeEmulator;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code dialer emulator}'s options reach the emulator: started in-process on port 0 and read back. */
class EmulatorCommandTest {
    private static final String BRIDGE = "io.chimedialer.lambda.SmaBridgeHandler";
    private static final URI WEBHOOK = URI.create("http://127.0.0.1:8080/v1/sma/invocations");

    @TempDir
    Path dir;


    private static JsonNode config(ChimeEmulator emulator) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(emulator.url().resolve("/emulator/v1/config"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return new ObjectMapper().readTree(response.body());
    }

    private static EmulatorCommand parse(String... args) {
        EmulatorCommand command = new EmulatorCommand();
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @Test
    void start_faultFlags_mappedToEmulatorFaults() throws Exception {
        EmulatorCommand command = parse("--port", "0", "--fault-create-5xx-before", "0.1",
                "--fault-create-5xx-after", "0.2", "--fault-create-429", "0.3", "--fault-reset", "0.05",
                "--fault-duplicate-invocation", "0.4", "--fault-drop-hangup", "0.5", "--create-status", "202",
                "--time-scale", "0.5", "--seed", "9");

        try (ChimeEmulator emulator = command.start()) {
            JsonNode config = config(emulator);
            JsonNode faults = config.path("faults");
            assertThat(faults.path("create5xxBeforeCreate").asDouble()).isEqualTo(0.1);
            assertThat(faults.path("create5xxAfterCreate").asDouble()).isEqualTo(0.2);
            assertThat(faults.path("create429").asDouble()).isEqualTo(0.3);
            assertThat(faults.path("connectionReset").asDouble()).isEqualTo(0.05);
            assertThat(faults.path("duplicateInvocation").asDouble()).isEqualTo(0.4);
            assertThat(faults.path("dropHangup").asDouble()).isEqualTo(0.5);
            assertThat(faults.path("latency").asDouble()).isZero();
            assertThat(config.path("createStatus").asInt()).isEqualTo(202);
            assertThat(config.path("timeScale").asDouble()).isEqualTo(0.5);
            assertThat(config.path("seed").asLong()).isEqualTo(9);
            assertThat(config.path("simulateCalls").asBoolean()).isTrue();
            assertThat(command.describe(emulator)).contains("listening on " + emulator.url())
                    .contains("Create answers: 202")
                    .contains("faults: create-5xx-before=0.1 create-5xx-after=0.2 create-429=0.3 reset=0.05"
                            + " duplicate-invocation=0.4 drop-hangup=0.5");
        }
    }

    @Test
    void start_defaults_noFaultsAnd201() throws Exception {
        EmulatorCommand command = parse("--api-only", "--webhook", "http://127.0.0.1:9/v1/sma/invocations",
                "--webhook-secret", "s3cret");

        try (ChimeEmulator emulator = command.start()) {
            JsonNode config = config(emulator);
            assertThat(config.path("createStatus").asInt()).isEqualTo(201);
            assertThat(config.path("simulateCalls").asBoolean()).isFalse();
            assertThat(config.path("webhook").asText()).isEqualTo("http://127.0.0.1:9/v1/sma/invocations");
            for (String field : new String[] {"create5xxBeforeCreate", "create5xxAfterCreate", "create429",
                    "connectionReset", "duplicateInvocation", "dropHangup"}) {
                assertThat(config.path("faults").path(field).asDouble()).as(field).isZero();
            }
            assertThat(URI.create(emulator.url().toString()).getPort()).isPositive();
            assertThat(command.describe(emulator)).doesNotContain("faults:").doesNotContain("Create answers");
        }
    }

    @Test
    void start_issue15Flags_mappedToFaultsChoicesAndScenario() throws Exception {
        EmulatorCommand command = parse("--port", "0", "--fault-auth=us-west-2", "--fault-action-failed", "0.1",
                "--fault-action-error", "AccessDenied:2,InvalidAudioSource", "--active-call-limit-error", "throttled",
                "--retry-sequence", "increment", "--hangup-without-sip-code", "0.05");

        try (ChimeEmulator emulator = command.start()) {
            JsonNode config = config(emulator);
            JsonNode faults = config.path("faults");
            assertThat(faults.path("authDeniedRegions").size()).isEqualTo(1);
            assertThat(faults.path("authDeniedRegions").get(0).asText()).isEqualTo("us-west-2");
            assertThat(faults.path("actionFailure").asDouble()).isEqualTo(0.1);
            assertThat(faults.path("actionErrorTypes").path("AccessDenied").asDouble()).isEqualTo(2.0);
            assertThat(faults.path("actionErrorTypes").path("InvalidAudioSource").asDouble()).isEqualTo(1.0);
            assertThat(faults.path("actionErrorTypes").has("SystemException")).isFalse();
            assertThat(config.path("activeCallLimitError").asText()).isEqualTo("throttled");
            assertThat(config.path("retrySequence").asText()).isEqualTo("increment");
            assertThat(config.path("scenario").path("hangupWithoutSipCodeProbability").asDouble()).isEqualTo(0.05);
            assertThat(command.describe(emulator))
                    .contains("faults: auth=us-west-2 action-failed=0.1 action-error=AccessDenied:2,InvalidAudioSource")
                    .contains("at the active-call quota: ThrottledClientException")
                    .contains("a retried invocation takes the next Sequence")
                    .contains("HANGUPs without SipResponseCode: 0.05");
        }
    }

    @Test
    void start_faultAuthWithoutValue_deniesEveryRegion() throws Exception {
        EmulatorCommand command = parse("--fault-auth", "--port", "0");

        try (ChimeEmulator emulator = command.start()) {
            JsonNode config = config(emulator);
            assertThat(config.path("faults").path("authDeniedRegions").get(0).asText()).isEqualTo("*");
            assertThat(config.path("activeCallLimitError").asText()).isEqualTo("resourceLimitExceeded");
            assertThat(config.path("retrySequence").asText()).isEqualTo("same");
            assertThat(command.describe(emulator)).contains("faults: auth=*");
        }
    }

    @Test
    void start_badIssue15Values_rejectedNamingTheOption() {
        assertThatThrownBy(parse("--fault-auth=eu-north-9")::start).hasMessageStartingWith("--fault-auth: ")
                .hasMessageContaining("eu-north-9");
        assertThatThrownBy(parse("--fault-action-error", "Gremlins")::start).hasMessageStartingWith("--fault-action-error: ");
        assertThatThrownBy(parse("--fault-action-failed", "2")::start).hasMessageStartingWith("--fault-action-failed ");
        assertThatThrownBy(parse("--active-call-limit-error", "teapot")::start)
                .hasMessageStartingWith("--active-call-limit-error: ");
        assertThatThrownBy(parse("--retry-sequence", "twice")::start).hasMessageStartingWith("--retry-sequence: ");
        assertThatThrownBy(parse("--hangup-without-sip-code", "-1")::start)
                .hasMessageStartingWith("--hangup-without-sip-code ");
    }

    @Test
    void start_probabilityAboveOne_rejectedNamingTheOption() {
        EmulatorCommand command = parse("--fault-drop-hangup", "1.5");

        assertThatThrownBy(command::start).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--fault-drop-hangup must be a probability in [0, 1], was 1.5");
    }

    @Test
    void start_noCallRecords_keepsNoRecordAndSaysSo() throws Exception {
        EmulatorCommand command = parse("--api-only", "--no-call-records", "--port", "0");

        try (ChimeEmulator emulator = command.start()) {
            JsonNode config = config(emulator);
            assertThat(config.path("simulateCalls").asBoolean()).isFalse();
            assertThat(config.path("recordCalls").asBoolean()).isFalse();
            assertThat(emulator.describe()).contains("API-only (no call simulation), no call records");
        }
        try (ChimeEmulator emulator = parse("--api-only", "--port", "0").start()) {
            assertThat(config(emulator).path("recordCalls").asBoolean()).isTrue();
        }
    }

    @Test
    void start_noCallRecordsWithoutApiOnly_rejectedNamingBothOptions() {
        assertThatThrownBy(parse("--no-call-records")::start).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--no-call-records needs --api-only");
    }

    @Test
    void start_createStatus200_rejected() {
        assertThatThrownBy(parse("--create-status", "200")::start).hasMessageContaining("--create-status");
    }

    @Test
    void execute_badProbability_exitCode2() {
        StringWriter err = new StringWriter();
        CommandLine cli = DialerMain.commandLine();
        cli.setErr(new PrintWriter(err));

        int code = cli.execute("emulator", "--fault-create-429", "-0.1");

        assertThat(code).isEqualTo(2);
    }

    @Test
    void execute_nonNumericProbability_exitCode2() {
        StringWriter err = new StringWriter();
        CommandLine cli = DialerMain.commandLine();
        cli.setErr(new PrintWriter(err));

        int code = cli.execute("emulator", "--fault-reset", "often");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--fault-reset");
    }

    @Test
    void parse_lambdaOptions_boundToFields() {
        EmulatorCommand command = new EmulatorCommand();
        new CommandLine(command).parseArgs("--lambda-handler", BRIDGE, "--lambda-jar", "bridge.jar",
                "--lambda-env", "DIALER_TIMEOUT_MS=2500", "--lambda-env", "DIALER_FALLBACK_TEXT=Bye", "--webhook",
                WEBHOOK.toString(), "--webhook-secret", "s3cret");

        assertThat(command.lambdaHandler).isEqualTo(BRIDGE);
        assertThat(command.lambdaJar).isEqualTo(Path.of("bridge.jar"));
        assertThat(command.lambdaEnv).containsExactly(Map.entry("DIALER_TIMEOUT_MS", "2500"),
                Map.entry("DIALER_FALLBACK_TEXT", "Bye"));
    }

    @Test
    void lambdaEnvironment_webhookSecretAndExtras_extrasWin() {
        Map<String, String> env = EmulatorCommand.lambdaEnvironment(WEBHOOK, "s3cret",
                Map.of("DIALER_TIMEOUT_MS", "2500", "DIALER_WEBHOOK_SECRET", "other"));

        assertThat(env).containsOnly(Map.entry("DIALER_WEBHOOK_URL", WEBHOOK.toString()),
                Map.entry("DIALER_WEBHOOK_SECRET", "other"), Map.entry("DIALER_TIMEOUT_MS", "2500"));
        assertThat(EmulatorCommand.lambdaEnvironment(null, "", null)).isEmpty();
    }

    @Test
    void open_bridgeOnTheClassPath_createdWithTheEnvironment() {
        Map<String, String> env = EmulatorCommand.lambdaEnvironment(WEBHOOK, "s3cret", Map.of("DIALER_TIMEOUT_MS", "2500"));

        try (EmulatorCommand.LambdaSetup setup = EmulatorCommand.LambdaSetup.open(BRIDGE, null, env)) {
            assertThat(setup.jarLoader()).isNull();
            assertThat(setup.endpoint().handler()).isInstanceOf(SmaBridgeHandler.class);
            SmaBridgeHandler bridge = (SmaBridgeHandler) setup.endpoint().handler();
            assertThat(bridge.config().webhookUrl()).isEqualTo(WEBHOOK);
            assertThat(bridge.config().secret()).isEqualTo("s3cret");
            assertThat(bridge.config().timeout().toMillis()).isEqualTo(2500);
        }
    }

    @Test
    void open_bridgeWithoutWebhookUrl_failsNamingTheVariable() {
        assertThatThrownBy(() -> EmulatorCommand.LambdaSetup.open(BRIDGE, null, Map.of("DIALER_WEBHOOK_SECRET", "s")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DIALER_WEBHOOK_URL: required")
                .hasMessageNotContaining("DIALER_WEBHOOK_SECRET");
    }

    @Test
    void open_classNotOnClassPathAndJarMissing_failsWithHowToBuildIt() {
        Path missing = dir.resolve("missing.jar");

        assertThatThrownBy(() -> EmulatorCommand.LambdaSetup.open("com.example.NoSuchHandler", missing, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("mvn -B -pl dialer-lambda -am package");
    }
}
