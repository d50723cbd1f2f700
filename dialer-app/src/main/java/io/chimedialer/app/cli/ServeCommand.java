package io.chimedialer.app.cli;

import io.chimedialer.app.config.ConfigException;
import io.chimedialer.app.config.ConfigLoader;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.app.http.DialerHttpServer;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.cluster.ClusterSettings;
import io.chimedialer.core.campaign.CampaignConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/**
 * {@code dialer serve}: the webhook, the control API, /metrics, /healthz and /readyz, until SIGTERM. On
 * SIGTERM (or SIGINT) it stops dialing, lets live calls finish up to {@code --drain-timeout}, and flushes the
 * ledger; it then exits 0 (1 when live calls were cut off by the drain timeout), or 130 after SIGINT.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve the webhook, the control API and /metrics; campaigns are started through the API.")
public final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

    @Option(names = "--config", defaultValue = "config/dialer.yaml", description = "Configuration file (default: ${DEFAULT-VALUE}).")
    String configFile;

    @Option(names = "--port", description = "HTTP port (default: server.port of the config).")
    Integer port;

    @Option(names = "--node-id", description = "This node's id in a cluster (default: cluster.node-id of the config), "
            + "so that nodes can share one configuration file.")
    String nodeId;

    @Option(names = "--public-url", description = "The URL the Lambda bridge reaches this node at (default: "
            + "server.public-url; with --port and no --public-url, the configured URL with that port).")
    String publicUrl;

    @Option(names = "--no-resume", description = "Do not start again the campaigns that were running when the "
            + "previous serve on this ledger stopped (they are still listed, and resumed by their resume action).")
    boolean noResume;

    @Option(names = "--drain-timeout", defaultValue = "30s",
            description = "On SIGTERM, how long live calls may still finish (default: ${DEFAULT-VALUE}).")
    String drainTimeout;

    @Override
    public Integer call() throws Exception {
        DialerConfig config;
        try {
            config = ConfigLoader.load(Home.resolve(configFile));
        } catch (ConfigException e) {
            System.err.println("dialer serve: " + e.getMessage());
            return 2;
        }
        if (config.server().webhookSecret() == null) {
            System.err.println("dialer serve: server.webhook-secret is required: set it in the configuration (config/dialer.yaml reads it from DIALER_WEBHOOK_SECRET, or give file:PATH)");
            return 2;
        }
        try {
            config = withNodeFlags(config, nodeId, publicUrl, port);
        } catch (IllegalArgumentException e) {
            System.err.println("dialer serve: " + e.getMessage());
            return 2;
        }
        Duration drain;
        try {
            drain = Duration.parse("PT" + drainTimeout.toUpperCase(java.util.Locale.ROOT));
        } catch (java.time.format.DateTimeParseException e) {
            System.err.println("dialer serve: --drain-timeout must be a duration such as 30s or 2m, was " + drainTimeout);
            return 2;
        }
        DialerConfig.Tls tls = config.server().tls();
        DialerRuntime.Options options;
        try {
            options = new DialerRuntime.Options(new ArrayList<>(config.regions().values()),
                    DefaultCredentialsProvider.builder().build(), config.ledger().jdbcUrl(),
                    config.server().webhookSecret().reveal(), config.server().host(),
                    port != null ? port : config.server().port(),
                    config.server().controlToken() == null ? null : config.server().controlToken().reveal(), true,
                    config.pacing().settings(), null, tls == null ? null : new DialerHttpServer.Tls(tls.certFile(), tls.keyFile()),
                    clusterSettings(config)).withSpillQueue(config.server().spillQueue());
        } catch (IllegalArgumentException e) {
            System.err.println("dialer serve: " + e.getMessage());
            return 2;
        }
        DialerRuntime runtime = StartFailures.start("serve", options);
        if (runtime == null) {
            return StartFailures.EXIT; // the reason is printed
        }
        runtime.campaigns().config(config);
        if (config.server().publicUrl() != null) {
            runtime.campaigns().callArguments(Map.of("dialerUrl", config.server().publicUrl().toString()));
        }
        if (runtime.cluster() != null) {
            // Campaigns the cluster runs (launched on any node, not cancelled, with work left) run here too.
            List<String> joined = runtime.campaigns().joinRunning();
            if (!joined.isEmpty()) {
                log.info("joined the cluster's running campaigns: {}", String.join(", ", joined));
            }
        } else {
            // Campaigns that were running when the previous serve on this ledger stopped go on where they were.
            List<String> resumed = runtime.campaigns().restore(!noResume);
            if (!resumed.isEmpty()) {
                log.info("resumed the campaigns that were running when this ledger's last serve stopped: {}",
                        String.join(", ", resumed));
            }
        }
        if (config.server().controlToken() == null) {
            log.warn("server.control-token is not set: the control API and the web console accept requests without a "
                    + "token");
        }
        // The handlers are in place before the line that says serve is up: a SIGTERM right after it is ours.
        StopSignals signals = StopSignals.install();
        System.out.println("dialer serve: listening on " + runtime.scheme() + "://" + config.server().host() + ":"
                + runtime.port());
        System.out.flush();
        return awaitStopAndDrain(runtime, drain, signals);
    }

    /**
     * Serves until SIGTERM or SIGINT, then drains ({@link #stop}) and returns the exit code: 0 after SIGTERM when
     * every live call ended in time, 1 when some were cut off, 130 after SIGINT. The signals are handled here
     * ({@link StopSignals}), not by the JVM's shutdown, whose exit code would be 143 or 130 however clean the stop.
     * A shutdown hook still drains when the JVM ends another way (SIGHUP, a signal left to the JVM's default),
     * and then the JVM's code stands.
     */
    private static int awaitStopAndDrain(DialerRuntime runtime, Duration drain, StopSignals signals)
            throws InterruptedException {
        AtomicBoolean stopping = new AtomicBoolean();
        CountDownLatch drained = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            if (stopping.compareAndSet(false, true)) {
                stop(runtime, drain);
                drained.countDown();
            } else {
                awaitQuietly(drained); // the main thread is draining: the JVM must not end before it has
            }
        }, "serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (!signals.installed()) {
            drained.await();
            return 0; // not reached in practice: the JVM's shutdown sets the exit code
        }
        StopSignals.Stop stop = signals.await();
        log.info("SIG{} received", stop.name());
        if (!stopping.compareAndSet(false, true)) {
            drained.await(); // the JVM is shutting down and its hook drains
            return stop.exitCode(0);
        }
        long left;
        try {
            left = stop(runtime, drain);
        } finally {
            drained.countDown();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting anyway; the hook finds the drain done
        }
        return stop.exitCode(left);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The configuration with this node's own values from the command line: {@code --node-id} replaces
     * {@code cluster.node-id}; {@code --public-url} replaces {@code server.public-url}, and without it {@code --port}
     * moves a configured public URL that named the configured port to the new one.
     *
     * @throws IllegalArgumentException naming the flag, for a bad value
     */
    public static DialerConfig withNodeFlags(DialerConfig config, String nodeId, String publicUrl, Integer port) {
        DialerConfig.Server s = config.server();
        java.net.URI url = s.publicUrl();
        if (publicUrl != null) {
            try {
                url = java.net.URI.create(publicUrl.trim());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--public-url is not a URL: '" + publicUrl + "'");
            }
            if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme()) || url.getHost() == null) {
                throw new IllegalArgumentException("--public-url must be an http:// or https:// URL with a host, was '"
                        + publicUrl + "'");
            }
        } else if (port != null && url != null && url.getPort() == s.port()) {
            try {
                url = new java.net.URI(url.getScheme(), url.getUserInfo(), url.getHost(), port, url.getPath(),
                        url.getQuery(), url.getFragment());
            } catch (java.net.URISyntaxException e) {
                throw new IllegalArgumentException("server.public-url with --port " + port + ": " + e.getMessage());
            }
        }
        DialerConfig.Cluster c = config.cluster();
        if (nodeId != null) {
            if (!c.enabled()) {
                throw new IllegalArgumentException("--node-id needs cluster.enabled: true in the configuration");
            }
            if (nodeId.isBlank()) {
                throw new IllegalArgumentException("--node-id must not be blank");
            }
            c = new DialerConfig.Cluster(true, nodeId.trim(), c.heartbeat(), c.nodeTimeout(), c.lease(),
                    c.claimsAhead(), c.rateGuard());
        }
        DialerConfig.Server server = new DialerConfig.Server(s.host(), port != null ? port : s.port(),
                s.webhookSecret(), s.controlToken(), s.tls(), url, s.maxUploadSize(), s.spillQueue());
        return new DialerConfig(config.source(), server, config.ledger(), config.regions(), config.campaignsDir(),
                config.campaigns(), c, config.pacing(), config.notifications());
    }

    /**
     * This node's cluster settings from {@code cluster:}, or null when clustering is off. Open calls of a node
     * that is gone are held back from the Region caps for the longest max-call-lifetime of the campaigns.
     */
    public static ClusterSettings clusterSettings(DialerConfig config) {
        DialerConfig.Cluster c = config.cluster();
        if (!c.enabled()) {
            return null;
        }
        Duration hold = config.campaigns().values().stream().map(CampaignConfig::maxCallLifetime)
                .max(Duration::compareTo).orElse(null);
        return ClusterSettings.of(c.nodeId(), config.server().publicUrl().toString())
                .withHeartbeat(c.heartbeat(), c.nodeTimeout())
                .withLease(c.lease())
                .withCallHold(hold)
                .withRateGuard(c.rateGuard());
    }

    /** How long a stop waits at least, so that Creates sent just before the pause are answered and counted. */
    static final Duration CREATE_SETTLE = Duration.ofSeconds(2);

    /**
     * What SIGTERM does: pauses every campaign (no new Create), waits up to {@code drain} for the live calls to end,
     * then closes the runtime, which flushes the ledger's queued writes before closing it. Blocks the caller.
     *
     * @param runtime the running dialer
     * @param drain   how long live calls may still take
     * @return the live calls left when the drain ended (0 when all ended in time)
     */
    public static long stop(DialerRuntime runtime, Duration drain) {
        log.info("stopping: no new calls; {} live calls may finish within {}", runtime.campaigns().liveCalls(), drain);
        runtime.campaigns().pauseAll();
        long start = System.nanoTime();
        long deadline = start + drain.toNanos();
        // Creates already on the wire get their answer (and a TransactionId) within the settle time.
        long settled = start + Math.min(drain.toNanos(), CREATE_SETTLE.toNanos());
        while ((System.nanoTime() - settled < 0 || runtime.campaigns().liveCalls() > 0)
                && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        long left = runtime.campaigns().liveCalls();
        if (left > 0) {
            log.warn("stopping with {} live calls after {}: their attempts stay in the ledger without an outcome",
                    left, drain);
        }
        runtime.close();
        log.info("stopped: ledger flushed and closed");
        return left;
    }
}
