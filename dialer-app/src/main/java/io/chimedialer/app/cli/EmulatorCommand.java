package io.chimedialer.app.cli;

import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.LambdaEndpoint;
import io.chimedialer.emulator.Scenario;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dialer emulator}: the Chime emulator as a process of its own, until SIGTERM or Ctrl-C. With
 * {@code --lambda-handler} it runs in Lambda mode: every invocation goes through that handler in-process (for
 * the dialer's bridge: signed, to {@code --webhook}), as in production.
 */
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

    @Override
    public Integer call() throws Exception {
        String secret = webhookSecret != null ? webhookSecret : System.getenv("DIALER_WEBHOOK_SECRET");
        if (lambdaHandler != null) {
            return runLambdaMode(secret);
        }
        if (webhook != null && (secret == null || secret.isEmpty())) {
            System.err.println("dialer emulator: --webhook needs --webhook-secret (or DIALER_WEBHOOK_SECRET)");
            return 2;
        }
        ChimeEmulator.Builder builder = builder();
        if (webhook != null) {
            builder.webhook(webhook, secret);
        }
        return runUntilStopped(builder.start(), () -> { });
    }

    private ChimeEmulator.Builder builder() {
        ChimeEmulator.Builder builder = ChimeEmulator.builder()
                .host(host)
                .port(port)
                .timeScale(timeScale)
                .seed(seed)
                .simulateCalls(!apiOnly);
        if (scenario != null) {
            builder.scenario(Scenario.load(scenario));
        }
        return builder;
    }

    private int runLambdaMode(String secret) throws Exception {
        Map<String, String> env = lambdaEnvironment(webhook, secret, lambdaEnv);
        LambdaSetup setup;
        try {
            setup = LambdaSetup.open(lambdaHandler, lambdaJar, env);
        } catch (IllegalArgumentException e) {
            System.err.println("dialer emulator: " + e.getMessage());
            return 2;
        }
        ChimeEmulator emulator;
        try {
            emulator = builder().endpoint(setup.endpoint()).start();
        } catch (RuntimeException e) {
            setup.close();
            throw e;
        }
        return runUntilStopped(emulator, setup::close);
    }

    private static int runUntilStopped(ChimeEmulator emulator, Runnable afterClose) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            emulator.close();
            afterClose.run();
            stopped.countDown();
        }, "emulator-shutdown"));
        System.out.println(emulator.describe());
        System.out.flush();
        stopped.await();
        return 0;
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
