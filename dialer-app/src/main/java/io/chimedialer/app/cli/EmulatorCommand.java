package io.chimedialer.app.cli;

import io.chimedialer.emulator.ActiveCallLimitError;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.Faults;
import io.chimedialer.emulator.LambdaEndpoint;
import io.chimedialer.emulator.RetrySequence;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.emulator.Standalone;
import java.io.IOException;
import java.net.URI;
import java.net.URLClassLoader;
import java.net.URL;
import java.net.MalformedURLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dialer emulator}: the Chime emulator as a process of its own, until SIGTERM or Ctrl-C. */
@Command(name = "emulator", mixinStandardHelpOptions = true,
        description = "Run the local Chime SDK Voice emulator standalone (REST API + SMA invocations).")
public final class EmulatorCommand implements Callable<Integer> {

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Bind address (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "0", description = "Port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--webhook", description = "URL the SIP media application invokes (the dialer's /v1/sma/invocations).")
    URI webhook;

    @Option(names = "--webhook-secret", description = "Shared secret for signing invocations. "
            + "Defaults to the environment variable DIALER_WEBHOOK_SECRET.")
    String webhookSecret;

    @Option(names = "--scenario", description = "Scenario file (YAML or JSON); default: the built-in scenario.")
    Path scenario;

    @Option(names = "--time-scale", defaultValue = "1.0",
            description = "Multiplier for every emulated duration; 0 = instant (default: ${DEFAULT-VALUE}).")
    double timeScale;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed of the scenario (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--api-only", description = "Answer the REST API only; simulate no calls.")
    boolean apiOnly;

    @Option(names = "--no-call-records", description = "With --api-only: keep no record of each call, only the "
            + "counts, so that memory stays flat over a long load run (/emulator/v1/calls lists nothing and no "
            + "duplicate number is counted).")
    boolean noCallRecords;

    @Option(names = "--create-tps", description = "Create requests per second of every built-in Region "
            + "(default: the built-in quota, 10).")
    Double createTps;

    @Option(names = "--update-tps", description = "Update requests per second of every built-in Region "
            + "(default: the built-in quota, 50).")
    Double updateTps;

    @Option(names = "--max-active-calls", description = "Active-call quota of every built-in Region "
            + "(default: the built-in quota, 100).")
    Integer maxActiveCalls;

    @Option(names = "--create-status", defaultValue = "201",
            description = "Status of a successful Create: 201 (the service model) or 202 (default: ${DEFAULT-VALUE}).")
    int createStatus;

    @Option(names = "--fault-create-5xx-before", paramLabel = "P", defaultValue = "0",
            description = "Probability that a Create answers 500/503 without creating the call (default: ${DEFAULT-VALUE}).")
    double create5xxBefore;

    @Option(names = "--fault-create-5xx-after", paramLabel = "P", defaultValue = "0",
            description = "Probability that a Create answers 500/503 although the call was created (default: ${DEFAULT-VALUE}).")
    double create5xxAfter;

    @Option(names = "--fault-create-429", paramLabel = "P", defaultValue = "0",
            description = "Probability that a Create answers 429 whatever the quota (default: ${DEFAULT-VALUE}).")
    double create429;

    @Option(names = "--fault-reset", paramLabel = "P", defaultValue = "0",
            description = "Probability that a Create's connection is reset without an answer; the call is created "
                    + "in half of these (default: ${DEFAULT-VALUE}).")
    double reset;

    @Option(names = "--fault-duplicate-invocation", paramLabel = "P", defaultValue = "0",
            description = "Probability that an invocation is delivered twice (default: ${DEFAULT-VALUE}).")
    double duplicateInvocation;

    @Option(names = "--fault-drop-hangup", paramLabel = "P", defaultValue = "0",
            description = "Probability that a call's HANGUP invocation is never delivered (default: ${DEFAULT-VALUE}).")
    double dropHangup;

    @Option(names = "--fault-auth", arity = "0..1", fallbackValue = "*", paramLabel = "REGION[,REGION...]",
            description = "Refuse every Create and Update with 403 AccessDeniedException (an IAM policy that does not "
                    + "allow them): in every Region, or in the Regions listed (--fault-auth=us-west-2).")
    String faultAuth;

    @Option(names = "--fault-action-failed", paramLabel = "P", defaultValue = "0",
            description = "Probability that a Speak, SpeakAndGetDigits, PlayAudio or PlayAudioAndGetDigits fails at run "
                    + "time: the callee hears nothing and ACTION_FAILED is invoked (default: ${DEFAULT-VALUE}).")
    double actionFailed;

    @Option(names = "--fault-action-error", paramLabel = "TYPE[:WEIGHT][,...]",
            description = "ErrorTypes of those failures: AccessDenied, InvalidAudioSource (audio only), SystemException, "
                    + "each with an optional weight (default: all three, equally).")
    String actionError;

    @Option(names = "--active-call-limit-error", paramLabel = "ERROR", defaultValue = "resourceLimitExceeded",
            description = "What a Create gets at the active-call quota, which AWS does not document: resourceLimitExceeded "
                    + "(400), throttled (429 ThrottledClientException) or serviceUnavailable (503) (default: ${DEFAULT-VALUE}).")
    String activeCallLimitError;

    @Option(names = "--retry-sequence", paramLabel = "same|increment", defaultValue = "same",
            description = "Sequence of a retried invocation, which AWS does not document: the same as the first "
                    + "delivery's, or the next one (default: ${DEFAULT-VALUE}).")
    String retrySequence;

    @Option(names = "--hangup-without-sip-code", paramLabel = "P",
            description = "Share of calls whose HANGUP invocations carry no SipResponseCode, as in several AWS examples "
                    + "(default: the scenario's hangupWithoutSipCodeProbability, 0 in the built-in scenario).")
    Double hangupWithoutSipCode;

    @Option(names = "--lambda-handler", paramLabel = "CLASS",
            description = "Lambda mode: invoke this RequestStreamHandler in-process for every invocation, e.g. "
                    + "io.chimedialer.lambda.SmaBridgeHandler, which forwards to --webhook (its DIALER_WEBHOOK_URL) "
                    + "signed with --webhook-secret (its DIALER_WEBHOOK_SECRET).")
    String lambdaHandler;

    @Option(names = "--lambda-jar", paramLabel = "JAR",
            description = "Jar with the handler and its dependencies. Default: the class path, then "
                    + DEFAULT_LAMBDA_JAR + " (built by: mvn -B -pl dialer-lambda -am package).")
    Path lambdaJar;

    @Option(names = "--lambda-env", paramLabel = "KEY=VALUE",
            description = "An environment variable of the Lambda function (repeatable), e.g. DIALER_TIMEOUT_MS=3000; "
                    + "wins over the values taken from --webhook and --webhook-secret.")
    Map<String, String> lambdaEnv;

    /** Where the launcher's checkout keeps the bridge's shaded jar. */
    static final String DEFAULT_LAMBDA_JAR = "dialer-lambda/target/dialer-lambda.jar";

    private LambdaSetup lambdaSetup;

    @Override
    public Integer call() throws Exception {
        ChimeEmulator emulator;
        try {
            emulator = start();
        } catch (IllegalArgumentException e) {
            System.err.println("dialer emulator: " + e.getMessage());
            return 2;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            emulator.close();
            if (lambdaSetup != null) {
                lambdaSetup.close();
            }
            stopped.countDown();
        }, "emulator-shutdown"));
        System.out.println(describe(emulator));
        System.out.flush();
        stopped.await();
        return 0;
    }

    /**
     * Starts the emulator the options describe.
     *
     * @throws IllegalArgumentException for a bad option value (a probability outside [0, 1], a status, a missing
     *                                  webhook secret), with a message naming it
     */
    ChimeEmulator start() {
        String secret = webhookSecret != null ? webhookSecret : System.getenv("DIALER_WEBHOOK_SECRET");
        if (webhook != null && lambdaHandler == null && (secret == null || secret.isEmpty())) {
            throw new IllegalArgumentException("--webhook needs --webhook-secret (or DIALER_WEBHOOK_SECRET)");
        }
        Faults.Builder faults = Faults.builder()
                .create5xxBeforeCreate(probability("--fault-create-5xx-before", create5xxBefore))
                .create5xxAfterCreate(probability("--fault-create-5xx-after", create5xxAfter))
                .create429(probability("--fault-create-429", create429))
                .connectionReset(probability("--fault-reset", reset))
                .duplicateInvocation(probability("--fault-duplicate-invocation", duplicateInvocation))
                .dropHangup(probability("--fault-drop-hangup", dropHangup))
                .actionFailure(probability("--fault-action-failed", actionFailed));
        if (faultAuth != null) {
            List<String> denied = Standalone.authRegions(faultAuth);
            List<String> known = EmulatorRegion.defaults().stream().map(EmulatorRegion::name).toList();
            for (String r : denied) {
                if (!r.equals(Faults.ALL_REGIONS) && !known.contains(r)) {
                    throw new IllegalArgumentException("--fault-auth: unknown Region '" + r + "' (the emulator's Regions are "
                            + String.join(", ", known) + ")");
                }
            }
            faults.authDenied(denied.toArray(String[]::new));
        }
        if (actionError != null) {
            faults.actionErrorTypes(option("--fault-action-error", () -> Standalone.actionErrorTypes(actionError)));
        }
        if (createStatus != 201 && createStatus != 202) {
            throw new IllegalArgumentException("--create-status must be 201 or 202, was " + createStatus);
        }
        if (noCallRecords && !apiOnly) {
            throw new IllegalArgumentException("--no-call-records needs --api-only: a simulated call is found by its "
                    + "TransactionId while it lives");
        }
        ChimeEmulator.Builder builder = ChimeEmulator.builder()
                .host(host)
                .port(port)
                .timeScale(timeScale)
                .seed(seed)
                .simulateCalls(!apiOnly)
                .recordCalls(!noCallRecords)
                .faults(option("--fault-action-error", faults::build))
                .createStatus(createStatus)
                .activeCallLimitError(option("--active-call-limit-error", () -> ActiveCallLimitError.ofKey(activeCallLimitError)))
                .retrySequence(option("--retry-sequence", () -> RetrySequence.ofKey(retrySequence)));
        if (createTps != null || updateTps != null || maxActiveCalls != null) {
            List<EmulatorRegion> regions = new ArrayList<>();
            for (EmulatorRegion r : EmulatorRegion.defaults()) {
                regions.add(r.withQuotas(createTps != null ? createTps : r.createTps(),
                        updateTps != null ? updateTps : r.updateTps(),
                        maxActiveCalls != null ? maxActiveCalls : r.maxActiveCalls()));
            }
            builder.regions(regions);
        }
        Scenario s = scenario != null ? Scenario.load(scenario) : Scenario.defaults();
        if (hangupWithoutSipCode != null) {
            s = s.toBuilder().hangupWithoutSipCodeProbability(probability("--hangup-without-sip-code",
                    hangupWithoutSipCode)).build();
        }
        builder.scenario(s);
        if (lambdaHandler != null) {
            // Lambda mode: every invocation goes through the handler in-process, which forwards to --webhook.
            LambdaSetup setup = LambdaSetup.open(lambdaHandler, lambdaJar, lambdaEnvironment(webhook, secret, lambdaEnv));
            try {
                ChimeEmulator emulator = builder.endpoint(setup.endpoint()).start();
                lambdaSetup = setup;
                return emulator;
            } catch (RuntimeException e) {
                setup.close();
                throw e;
            }
        }
        if (webhook != null) {
            builder.webhook(webhook, secret);
        }
        return builder.start();
    }

    /** The emulator's description, plus the Create status and the injected faults when not the defaults. */
    String describe(ChimeEmulator emulator) {
        StringBuilder sb = new StringBuilder(emulator.describe());
        if (createStatus != 201) {
            sb.append("\n  Create answers: ").append(createStatus);
        }
        StringBuilder faults = new StringBuilder();
        fault(faults, "create-5xx-before", create5xxBefore);
        fault(faults, "create-5xx-after", create5xxAfter);
        fault(faults, "create-429", create429);
        fault(faults, "reset", reset);
        fault(faults, "duplicate-invocation", duplicateInvocation);
        fault(faults, "drop-hangup", dropHangup);
        if (faultAuth != null) {
            faults.append(" auth=").append(String.join(",", Standalone.authRegions(faultAuth)));
        }
        fault(faults, "action-failed", actionFailed);
        if (actionFailed > 0 && actionError != null) {
            faults.append(" action-error=").append(actionError);
        }
        if (faults.length() > 0) {
            sb.append("\n  faults:").append(faults);
        }
        ActiveCallLimitError limit = ActiveCallLimitError.ofKey(activeCallLimitError);
        if (limit != ActiveCallLimitError.RESOURCE_LIMIT_EXCEEDED) {
            sb.append("\n  at the active-call quota: ").append(limit.exception());
        }
        if (RetrySequence.ofKey(retrySequence) == RetrySequence.INCREMENT) {
            sb.append("\n  a retried invocation takes the next Sequence");
        }
        double noCode = emulator.scenario().hangupWithoutSipCodeProbability();
        if (noCode > 0) {
            sb.append("\n  HANGUPs without SipResponseCode: ").append(noCode);
        }
        return sb.toString();
    }

    /** The value, or an IllegalArgumentException whose message names the option. */
    private static <T> T option(String option, Supplier<T> value) {
        try {
            return value.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
    }

    private static void fault(StringBuilder sb, String name, double p) {
        if (p > 0) {
            sb.append(' ').append(name).append('=').append(p);
        }
    }

    private static double probability(String option, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(option + " must be a probability in [0, 1], was " + p);
        }
        return p;
    }

    /**
     * The Lambda function's environment: {@code DIALER_WEBHOOK_URL} from {@code --webhook} and
     * {@code DIALER_WEBHOOK_SECRET} from the secret, when given, then every {@code --lambda-env} entry over them.
     */
    static Map<String, String> lambdaEnvironment(URI webhook, String secret, Map<String, String> extra) {
        Map<String, String> env = new LinkedHashMap<>();
        if (webhook != null) {
            env.put("DIALER_WEBHOOK_URL", webhook.toString());
        }
        if (secret != null && !secret.isEmpty()) {
            env.put("DIALER_WEBHOOK_SECRET", secret);
        }
        if (extra != null) {
            env.putAll(extra);
        }
        return env;
    }

    /**
     * A handler loaded for Lambda mode, with the class loader of its jar (if one was needed); closing it
     * releases both.
     */
    record LambdaSetup(LambdaEndpoint endpoint, URLClassLoader jarLoader) implements AutoCloseable {

        /**
         * Loads the handler from the class path, else from {@code jar} (default {@code dialer-lambda/target/dialer-lambda.jar}
         * under the project's home), and creates it with {@code env}.
         *
         * @throws IllegalArgumentException when the class, the jar or the handler's initialisation fails
         */
        static LambdaSetup open(String className, Path jar, Map<String, String> env) {
            ClassLoader parent = EmulatorCommand.class.getClassLoader();
            if (jar == null && loadable(className, parent)) {
                return new LambdaSetup(LambdaEndpoint.load(className, env, parent), null);
            }
            Path file = jar != null ? jar.toAbsolutePath() : Home.resolve(DEFAULT_LAMBDA_JAR);
            if (!Files.isReadable(file)) {
                throw new IllegalArgumentException("Lambda handler " + className + " is not on the class path and "
                        + file + " is not readable; build it with 'mvn -B -pl dialer-lambda -am package' or pass "
                        + "--lambda-jar");
            }
            URLClassLoader loader;
            try {
                loader = new URLClassLoader(new URL[] {file.toUri().toURL()}, parent);
            } catch (MalformedURLException e) {
                throw new IllegalArgumentException("--lambda-jar: " + e.getMessage(), e);
            }
            try {
                return new LambdaSetup(LambdaEndpoint.load(className, env, loader), loader);
            } catch (RuntimeException e) {
                closeQuietly(loader);
                throw e;
            }
        }

        private static boolean loadable(String className, ClassLoader loader) {
            try {
                Class.forName(className, false, loader);
                return true;
            } catch (ClassNotFoundException | LinkageError e) {
                return false;
            }
        }

        private static void closeQuietly(URLClassLoader loader) {
            try {
                loader.close();
            } catch (IOException e) {
                // nothing was loaded from it that is still needed
            }
        }

        @Override
        public void close() {
            endpoint.close();
            if (jarLoader != null) {
                closeQuietly(jarLoader);
            }
        }
    }
}
