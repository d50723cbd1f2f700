package io.chimedialer.emulator;

import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The options of {@code ./dialer emulator} mapped onto {@link ChimeEmulator.Builder}, so the CLI stays a
 * thin layer: the start options, and the behaviour flags (faults and the choices AWS leaves open) in their
 * command-line spelling. Stateless.
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
        return startFromOptions(port, webhook, webhookSecret, scenario, timeScale, seed, List.of());
    }

    /**
     * Starts an emulator on 127.0.0.1 with the built-in Regions and behaviour flags as on the command line:
     * <ul>
     *   <li>{@code --fault-auth} (every Region) or {@code --fault-auth=us-west-2,...}: Create and Update answer 403
     *       AccessDeniedException there;</li>
     *   <li>{@code --fault-action-failed=P}: probability that a Speak/PlayAudio(-AndGetDigits) fails at run time;</li>
     *   <li>{@code --fault-action-error=TYPE[:WEIGHT],...}: the ErrorTypes of those failures (AccessDenied,
     *       InvalidAudioSource, SystemException; default all three, equally);</li>
     *   <li>{@code --active-call-limit-error=resourceLimitExceeded|throttled|serviceUnavailable};</li>
     *   <li>{@code --retry-sequence=same|increment};</li>
     *   <li>{@code --hangup-without-sip-code=P}: the scenario's hangupWithoutSipCodeProbability.</li>
     * </ul>
     *
     * @param flags the flags, each {@code --name=value} (or {@code --fault-auth} alone)
     * @throws IllegalArgumentException for an unknown flag or a bad value, naming the flag
     */
    public static ChimeEmulator startFromOptions(int port, URI webhook, String webhookSecret, Path scenario,
                                                 Double timeScale, Long seed, List<String> flags) {
        ChimeEmulator.Builder b = ChimeEmulator.builder().port(port);
        if (webhook != null) {
            if (webhookSecret == null || webhookSecret.isEmpty()) {
                throw new IllegalArgumentException("--webhook-secret is required with --webhook");
            }
            b.webhook(webhook, webhookSecret);
        }
        Scenario s = scenario != null ? Scenario.load(scenario) : Scenario.defaults();
        if (timeScale != null) {
            b.timeScale(timeScale);
        }
        if (seed != null) {
            b.seed(seed);
        }
        Faults.Builder faults = Faults.builder();
        for (String flag : flags) {
            int eq = flag.indexOf('=');
            String name = eq < 0 ? flag : flag.substring(0, eq);
            String value = eq < 0 ? null : flag.substring(eq + 1);
            try {
                switch (name) {
                    case "--fault-auth" -> faults.authDenied(authRegions(value).toArray(String[]::new));
                    case "--fault-action-failed" -> faults.actionFailure(Double.parseDouble(required(value)));
                    case "--fault-action-error" -> faults.actionErrorTypes(actionErrorTypes(required(value)));
                    case "--active-call-limit-error" -> b.activeCallLimitError(ActiveCallLimitError.ofKey(required(value)));
                    case "--retry-sequence" -> b.retrySequence(RetrySequence.ofKey(required(value)));
                    case "--hangup-without-sip-code" -> s = s.toBuilder()
                            .hangupWithoutSipCodeProbability(Double.parseDouble(required(value))).build();
                    default -> throw new IllegalArgumentException("unknown flag");
                }
            } catch (IllegalArgumentException e) {
                // NumberFormatException included.
                throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
            }
        }
        try {
            b.faults(faults.build());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--fault-action-failed/--fault-action-error: " + e.getMessage(), e);
        }
        return b.scenario(s).start();
    }

    private static String required(String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("a value is required");
        }
        return value;
    }

    /**
     * The Regions of {@code --fault-auth}: no value (or {@code *}) means every Region, else a comma-separated list.
     */
    public static List<String> authRegions(String value) {
        if (value == null || value.isBlank()) {
            return List.of(Faults.ALL_REGIONS);
        }
        return List.of(value.trim().split("\\s*,\\s*"));
    }

    /**
     * Parses {@code --fault-action-error}: comma-separated ErrorTypes, each with an optional {@code :WEIGHT}
     * (default 1), e.g. {@code AccessDenied:3,SystemException}.
     *
     * @throws IllegalArgumentException for an unknown ErrorType or a bad weight
     */
    public static Map<String, Double> actionErrorTypes(String value) {
        Map<String, Double> weights = new LinkedHashMap<>();
        for (String item : value.trim().split("\\s*,\\s*")) {
            int colon = item.indexOf(':');
            String type = colon < 0 ? item : item.substring(0, colon).trim();
            if (!Faults.ACTION_ERROR_TYPES.contains(type)) {
                throw new IllegalArgumentException("unknown ErrorType '" + type + "' (expected "
                        + String.join(", ", Faults.ACTION_ERROR_TYPES) + ")");
            }
            weights.put(type, colon < 0 ? 1.0 : Double.parseDouble(item.substring(colon + 1).trim()));
        }
        return weights;
    }
}
