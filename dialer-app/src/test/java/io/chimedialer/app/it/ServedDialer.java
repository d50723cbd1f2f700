package io.chimedialer.app.it;

import io.chimedialer.app.config.ConfigLoader;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * What {@code dialer serve} sets up, in the test's JVM, for the ITs that drive its control API (the API, the status
 * command, the console, the smoke test): a configuration file written from YAML (server on 127.0.0.1 port 0 with the
 * webhook secret and control token from the environment, a SQLite ledger, one block per emulator Region), loaded as
 * serve loads it, a {@link DialerRuntime} with its control API, and the emulator's webhook pointed at it.
 */
final class ServedDialer {
    private ServedDialer() {
    }

    /** The {@code server:} and {@code ledger:} sections and the {@code regions:} key. */
    static StringBuilder header(Path dir) {
        return new StringBuilder()
                .append("server:\n  host: 127.0.0.1\n  port: 0\n")
                .append("  webhook-secret: ${DIALER_WEBHOOK_SECRET}\n  control-token: ${DIALER_CONTROL_TOKEN}\n")
                .append("ledger:\n  url: \"jdbc:sqlite:").append(dir.resolve("ledger.db")).append("\"\n")
                .append("regions:\n");
    }

    /**
     * One Region's block, dialing from its first number against the emulator ({@code ${EMU}}).
     *
     * @param pacing the Region's own keys, one per line, each ending with a newline (e.g.
     *               {@code "calls-per-second: 5\nmax-active-calls: 60\n"})
     */
    static void region(StringBuilder yaml, EmulatorRegion r, String pacing) {
        yaml.append("  ").append(r.name()).append(":\n")
                .append("    sip-media-application-id: ").append(r.sipMediaApplicationId()).append('\n');
        pacing.lines().forEach(line -> yaml.append("    ").append(line).append('\n'));
        yaml.append("    from-numbers: [\"").append(r.fromNumbers().get(0)).append("\"]\n")
                .append("    endpoint: ${EMU}\n");
    }

    /** Writes {@code yaml} to {@code dir/dialer.yaml} and loads it with the emulator's URL, the secret and token. */
    static DialerConfig load(Path dir, String yaml, ChimeEmulator emulator, String secret, String token)
            throws IOException, io.chimedialer.app.config.ConfigException {
        Path config = dir.resolve("dialer.yaml");
        Files.writeString(config, yaml, StandardCharsets.UTF_8);
        return ConfigLoader.load(config, Map.of("EMU", emulator.url().toString(), "DIALER_WEBHOOK_SECRET", secret,
                "DIALER_CONTROL_TOKEN", token));
    }

    /** Starts the runtime as {@code serve} does (port 0), gives it the configuration, points the emulator at it. */
    static DialerRuntime start(DialerConfig loaded, ChimeEmulator emulator) {
        DialerRuntime runtime = DialerRuntime.start(new DialerRuntime.Options(
                new ArrayList<>(loaded.regions().values()),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("ITACCESSKEY", "it-secret-key")),
                loaded.ledger().url(), loaded.server().webhookSecret().reveal(), "127.0.0.1", 0,
                loaded.server().controlToken().reveal(), true, null, null));
        runtime.campaigns().config(loaded);
        emulator.webhook(URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations"),
                loaded.server().webhookSecret().reveal());
        return runtime;
    }
}
