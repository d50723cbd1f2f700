package io.chimedialer.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.lambda.SmaBridgeHandler;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code dialer emulator}'s Lambda mode options. */
class EmulatorCommandTest {
    private static final String BRIDGE = "io.chimedialer.lambda.SmaBridgeHandler";
    private static final URI WEBHOOK = URI.create("http://127.0.0.1:8080/v1/sma/invocations");

    @TempDir
    Path dir;

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
