package io.chimedialer.emulator;

import io.chimedialer.emulator.internal.Engine;
import io.chimedialer.emulator.internal.HttpWebhookEndpoint;
import io.chimedialer.emulator.internal.RestApi;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.LoopResources;

/**
 * A local Amazon Chime SDK Voice: the CreateSipMediaApplicationCall / UpdateSipMediaApplicationCall
 * REST API on the real wire format, and SIP media application calls that invoke an {@link SmaEndpoint}
 * (by default a signed HTTP webhook) as CHIME.md describes. Options and the scenario format are in
 * docs/emulator.md.
 *
 * <pre>{@code
 * try (ChimeEmulator emu = ChimeEmulator.builder().port(0).webhook(url, secret).timeScale(0.01).start()) {
 *     URI api = emu.url();   // endpointOverride for ChimeSdkVoiceAsyncClient
 * }
 * }</pre>
 *
 * <p>Thread-safe. The emulator owns its event loops and call scheduler and releases them in
 * {@link #close()}.
 */
public final class ChimeEmulator implements AutoCloseable {
    private final Engine engine;
    private final LoopResources loops;
    private final DisposableServer server;
    private final URI url;
    private volatile HttpWebhookEndpoint webhook;
    private volatile SmaEndpoint current;
    private final LambdaEndpoint ownedLambda;
    private volatile boolean closed;

    private ChimeEmulator(Builder b) {
        for (String r : b.faults.authDeniedRegions()) {
            if (!r.equals(Faults.ALL_REGIONS) && b.regions.stream().noneMatch(x -> x.name().equals(r))) {
                throw new IllegalArgumentException("faults.authDeniedRegions: unknown Region '" + r + "' (the Regions are "
                        + b.regions.stream().map(EmulatorRegion::name).toList() + ")");
            }
        }
        if (b.simulateCalls && !b.recordCalls) {
            throw new IllegalArgumentException("recordCalls(false) needs simulateCalls(false): a simulated call is "
                    + "found by its TransactionId while it lives");
        }
        Engine.Config config = new Engine.Config(b.regions, b.scenario, b.faults, b.timeScale, b.seed,
                b.simulateCalls, b.createStatus, b.webhookTimeout, b.activeCallLimitError, b.retrySequence,
                b.recordCalls);
        SmaEndpoint endpoint = b.endpoint;
        LambdaEndpoint lambda = null;
        if (endpoint == null && b.lambdaClass != null) {
            // First, so that a handler that cannot be created fails the start before anything is allocated.
            lambda = LambdaEndpoint.load(b.lambdaClass, b.lambdaEnvironment);
            endpoint = lambda;
        }
        this.ownedLambda = lambda;
        this.loops = LoopResources.create("chime-emulator", 2, true);
        if (endpoint == null && b.webhookUrl != null) {
            webhook = new HttpWebhookEndpoint(b.webhookUrl, b.webhookSecret, loops);
            endpoint = webhook;
        }
        this.current = endpoint;
        this.engine = new Engine(config, endpoint);
        RestApi api = new RestApi(engine, () -> {
            HttpWebhookEndpoint w = webhook;
            return w == null ? null : w.url().toString();
        });
        try {
            this.server = HttpServer.create()
                    .host(b.host)
                    .port(b.port)
                    .runOn(loops)
                    .route(api::routes)
                    .bindNow(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            engine.close();
            loops.dispose();
            if (ownedLambda != null) {
                ownedLambda.close();
            }
            throw e;
        }
        InetSocketAddress address = (InetSocketAddress) server.address();
        String host = b.host.contains(":") ? "[" + b.host + "]" : b.host;
        this.url = URI.create("http://" + host + ":" + address.getPort());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The base URI of the REST API, e.g. {@code http://127.0.0.1:41234}: the SDK's endpointOverride. */
    public URI url() {
        return url;
    }

    /** The effective Regions. */
    public List<EmulatorRegion> regions() {
        return engine.config().regions();
    }

    /** The effective scenario. */
    public Scenario scenario() {
        return engine.config().scenario();
    }

    /** Points the calls created from now on (and the in-flight ones' next invocations) at a signed webhook. */
    public ChimeEmulator webhook(URI url, String secret) {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(secret, "secret");
        HttpWebhookEndpoint next = new HttpWebhookEndpoint(url, secret, loops);
        HttpWebhookEndpoint previous = webhook;
        webhook = next;
        current = next;
        engine.endpoint(next);
        if (previous != null) {
            previous.close();
        }
        return this;
    }

    /**
     * Points invocations at another endpoint (e.g. {@link LambdaEndpoint#of} an in-process Lambda handler).
     * The caller keeps ownership of the endpoint and closes it after the emulator.
     */
    public ChimeEmulator endpoint(SmaEndpoint endpoint) {
        Objects.requireNonNull(endpoint, "endpoint");
        current = endpoint;
        engine.endpoint(endpoint);
        return this;
    }

    /** A snapshot of the counters ({@code GET /emulator/v1/stats}). */
    public EmulatorStats stats() {
        return engine.stats();
    }

    /** A snapshot of every call so far, in creation order ({@code GET /emulator/v1/calls}). */
    public List<CallRecord> calls() {
        return engine.calls();
    }

    /**
     * Waits (blocking the caller, never an event loop) until no call is active and no invocation is in
     * flight, or the timeout passes.
     *
     * @return true when idle, false on timeout
     */
    public boolean awaitIdle(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!engine.idle()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            LockSupport.parkNanos(2_000_000);
        }
        return true;
    }

    /** The URL and the SIP media application of each Region, one per line, for a console. */
    public String describe() {
        StringBuilder sb = new StringBuilder("Chime SDK Voice emulator listening on ").append(url).append('\n');
        for (EmulatorRegion r : regions()) {
            sb.append("  ").append(r.name()).append(": sipMediaApplicationId=").append(r.sipMediaApplicationId())
                    .append(" fromNumbers=").append(r.fromNumbers())
                    .append(" quotas(create/s=").append(r.createTps()).append(", update/s=").append(r.updateTps())
                    .append(", activeCalls=").append(r.maxActiveCalls()).append(")\n");
        }
        SmaEndpoint e = current;
        if (e instanceof HttpWebhookEndpoint w) {
            sb.append("  webhook: ").append(w.url()).append('\n');
        } else if (e instanceof LambdaEndpoint l) {
            sb.append("  endpoint: ").append(l).append('\n');
        } else {
            sb.append("  webhook: ").append(e == null ? "(none)" : "(custom endpoint)").append('\n');
        }
        sb.append("  time scale: ").append(engine.config().timeScale())
                .append(", seed: ").append(engine.config().seed())
                .append(engine.config().simulateCalls() ? "" : ", API-only (no call simulation)")
                .append(engine.config().recordCalls() ? "" : ", no call records");
        return sb.toString();
    }

    /** Stops the server, the calls and the webhook client. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.disposeNow(Duration.ofSeconds(5));
        engine.close();
        HttpWebhookEndpoint w = webhook;
        if (w != null) {
            w.close();
        }
        if (ownedLambda != null) {
            ownedLambda.close();
        }
        loops.disposeLater(Duration.ZERO, Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
    }

    /**
     * Configures and starts an emulator. Defaults: 127.0.0.1, an ephemeral port,
     * {@link EmulatorRegion#defaults()}, {@link Scenario#defaults()}, no faults, time scale 1, seed 1,
     * calls simulated, Create answers 201, webhook timeout 5 s, ResourceLimitExceededException at the active-call
     * quota, a retried invocation repeats its Sequence. Not thread-safe.
     */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port;
        private List<EmulatorRegion> regions = EmulatorRegion.defaults();
        private Scenario scenario = Scenario.defaults();
        private URI webhookUrl;
        private String webhookSecret;
        private SmaEndpoint endpoint;
        private String lambdaClass;
        private Map<String, String> lambdaEnvironment = Map.of();
        private double timeScale = 1.0;
        private long seed = 1;
        private Faults faults = Faults.none();
        private boolean simulateCalls = true;
        private boolean recordCalls = true;
        private int createStatus = 201;
        private Duration webhookTimeout = Duration.ofSeconds(5);
        private ActiveCallLimitError activeCallLimitError = ActiveCallLimitError.RESOURCE_LIMIT_EXCEEDED;
        private RetrySequence retrySequence = RetrySequence.SAME;

        private Builder() {
        }

        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** The port; 0 (the default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be in [0, 65535], was " + port);
            }
            this.port = port;
            return this;
        }

        /** The Regions; names and SMA ids must be unique. */
        public Builder regions(List<EmulatorRegion> regions) {
            List<EmulatorRegion> copy = List.copyOf(regions);
            if (copy.isEmpty()) {
                throw new IllegalArgumentException("regions must not be empty");
            }
            Set<String> names = new HashSet<>();
            Set<String> smas = new HashSet<>();
            for (EmulatorRegion r : copy) {
                if (!names.add(r.name())) {
                    throw new IllegalArgumentException("regions: duplicate Region " + r.name());
                }
                if (!smas.add(r.sipMediaApplicationId())) {
                    throw new IllegalArgumentException("regions: SIP media application " + r.sipMediaApplicationId()
                            + " appears in more than one Region");
                }
            }
            this.regions = copy;
            return this;
        }

        public Builder scenario(Scenario scenario) {
            this.scenario = Objects.requireNonNull(scenario, "scenario");
            return this;
        }

        /** The SMA endpoint as an HTTP webhook, signed with the secret (DESIGN.md §7a). */
        public Builder webhook(URI url, String secret) {
            this.webhookUrl = Objects.requireNonNull(url, "url");
            this.webhookSecret = Objects.requireNonNull(secret, "secret");
            return this;
        }

        /**
         * Lambda mode: invocations run the named {@link com.amazonaws.services.lambda.runtime.RequestStreamHandler}
         * in-process (see {@link LambdaEndpoint}), created when the emulator starts and closed with it; takes
         * precedence over {@link #webhook}. The class is loaded from the emulator's class loader.
         *
         * @param className   the handler class, e.g. {@code io.chimedialer.lambda.SmaBridgeHandler}
         * @param environment the function's environment variables (see {@link LambdaEndpoint#instantiate});
         *                    for the dialer's bridge {@code DIALER_WEBHOOK_URL} and {@code DIALER_WEBHOOK_SECRET}
         */
        public Builder lambdaHandler(String className, Map<String, String> environment) {
            this.lambdaClass = Objects.requireNonNull(className, "className");
            this.lambdaEnvironment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
            return this;
        }

        /** Another SMA endpoint, owned by the caller; takes precedence over {@link #lambdaHandler} and {@link #webhook}. */
        public Builder endpoint(SmaEndpoint endpoint) {
            this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
            return this;
        }

        /** Multiplies every emulated duration (ring, talk, actions); 0 = instant. Quotas and the webhook timeout stay real time. */
        public Builder timeScale(double timeScale) {
            if (!(timeScale >= 0) || Double.isInfinite(timeScale)) {
                throw new IllegalArgumentException("timeScale must be finite and >= 0, was " + timeScale);
            }
            this.timeScale = timeScale;
            return this;
        }

        /** Seeds callee behaviour and faults. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder faults(Faults faults) {
            this.faults = Objects.requireNonNull(faults, "faults");
            return this;
        }

        /** False = API-only: Creates are validated, throttled and counted, but no call is simulated. */
        public Builder simulateCalls(boolean simulateCalls) {
            this.simulateCalls = simulateCalls;
            return this;
        }

        /**
         * False (API-only mode only): keep no record of each call or number, only the counts, so that a long load
         * run's memory stays flat (every call kept, the API-only emulator of the originations benchmark held 640 MB
         * after two minutes). {@link ChimeEmulator#calls()} is then empty and no duplicate number is counted.
         */
        public Builder recordCalls(boolean recordCalls) {
            this.recordCalls = recordCalls;
            return this;
        }

        /** The Create success status: 201 (the model) or 202 (the developer guide). */
        public Builder createStatus(int status) {
            if (status != 201 && status != 202) {
                throw new IllegalArgumentException("createStatus must be 201 or 202, was " + status);
            }
            this.createStatus = status;
            return this;
        }

        /** How long an invocation may take before it is retried (once); real time. */
        public Builder webhookTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("webhookTimeout must be positive");
            }
            this.webhookTimeout = timeout;
            return this;
        }

        /**
         * The error a Create gets when its Region's active-call quota is reached (AWS does not document which):
         * 400 ResourceLimitExceededException (the default), 429 ThrottledClientException or 503 ServiceUnavailableException.
         */
        public Builder activeCallLimitError(ActiveCallLimitError error) {
            this.activeCallLimitError = Objects.requireNonNull(error, "activeCallLimitError");
            return this;
        }

        /**
         * Whether a retried invocation repeats its Sequence ({@link RetrySequence#SAME}, the default) or takes the
         * next one (AWS does not document which).
         */
        public Builder retrySequence(RetrySequence retrySequence) {
            this.retrySequence = Objects.requireNonNull(retrySequence, "retrySequence");
            return this;
        }

        /**
         * Binds and returns a started emulator.
         *
         * @throws IllegalArgumentException when the faults deny a Region that is not one of the Regions
         */
        public ChimeEmulator start() {
            return new ChimeEmulator(this);
        }
    }
}
