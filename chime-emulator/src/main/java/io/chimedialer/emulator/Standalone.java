package io.chimedialer.emulator;

import java.net.URI;
import java.nio.file.Path;

/**
 * The options of {@code ./dialer emulator} mapped onto {@link ChimeEmulator.Builder}, so the CLI stays a
 * thin layer. Stateless.
 */
public final class Standalone {
    private Standalone() {
    }

    /**
     * Starts an emulator on 127.0.0.1 with the built-in Regions.
     *
     * @param port          the port (0 = ephemeral)
     * @param webhook       the SMA webhook URL, or null to set it later
     * @param webhookSecret the signing secret (required with a webhook)
     * @param scenario      a scenario file (YAML or JSON), or null for the built-in scenario
     * @param timeScale     the time scale, or null for 1
     * @param seed          the seed, or null for 1
     */
    public static ChimeEmulator startFromOptions(int port, URI webhook, String webhookSecret, Path scenario,
                                                 Double timeScale, Long seed) {
        ChimeEmulator.Builder b = ChimeEmulator.builder().port(port);
        if (webhook != null) {
            if (webhookSecret == null || webhookSecret.isEmpty()) {
                throw new IllegalArgumentException("--webhook-secret is required with --webhook");
            }
            b.webhook(webhook, webhookSecret);
        }
        if (scenario != null) {
            b.scenario(Scenario.load(scenario));
        }
        if (timeScale != null) {
            b.timeScale(timeScale);
        }
        if (seed != null) {
            b.seed(seed);
        }
        return b.start();
    }
}
