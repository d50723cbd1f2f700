package io.chimedialer.app.cli;

import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.Scenario;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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

    @Option(names = "--create-tps", description = "Create requests per second of every built-in Region "
            + "(default: the built-in quota, 10).")
    Double createTps;

    @Option(names = "--update-tps", description = "Update requests per second of every built-in Region "
            + "(default: the built-in quota, 50).")
    Double updateTps;

    @Option(names = "--max-active-calls", description = "Active-call quota of every built-in Region "
            + "(default: the built-in quota, 100).")
    Integer maxActiveCalls;

    @Override
    public Integer call() throws Exception {
        String secret = webhookSecret != null ? webhookSecret : System.getenv("DIALER_WEBHOOK_SECRET");
        if (webhook != null && (secret == null || secret.isEmpty())) {
            System.err.println("dialer emulator: --webhook needs --webhook-secret (or DIALER_WEBHOOK_SECRET)");
            return 2;
        }
        ChimeEmulator.Builder builder = ChimeEmulator.builder()
                .host(host)
                .port(port)
                .timeScale(timeScale)
                .seed(seed)
                .simulateCalls(!apiOnly);
        if (createTps != null || updateTps != null || maxActiveCalls != null) {
            List<EmulatorRegion> regions = new ArrayList<>();
            for (EmulatorRegion r : EmulatorRegion.defaults()) {
                regions.add(r.withQuotas(createTps != null ? createTps : r.createTps(),
                        updateTps != null ? updateTps : r.updateTps(),
                        maxActiveCalls != null ? maxActiveCalls : r.maxActiveCalls()));
            }
            builder.regions(regions);
        }
        if (scenario != null) {
            builder.scenario(Scenario.load(scenario));
        }
        if (webhook != null) {
            builder.webhook(webhook, secret);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        ChimeEmulator emulator = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            emulator.close();
            stopped.countDown();
        }, "emulator-shutdown"));
        System.out.println(emulator.describe());
        System.out.flush();
        stopped.await();
        return 0;
    }
}
