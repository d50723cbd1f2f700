package io.chimedialer.app.runtime;

import io.chimedialer.app.http.DialerHttpServer;
import io.chimedialer.app.http.WebhookEndpoint;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.campaign.MeteredOriginator;
import io.chimedialer.core.chime.ChimeClientSettings;
import io.chimedialer.core.chime.ChimeClients;
import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.chime.SdkOriginator;
import io.chimedialer.core.cluster.ClusterNode;
import io.chimedialer.core.cluster.ClusterSettings;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.chime.RegionWarmUp;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.calls.CallContext;
import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.calls.EventBus;
import io.chimedialer.core.calls.ExpectedCall;
import io.chimedialer.core.calls.WebhookHandler;
import io.chimedialer.core.calls.WebhookLag;
import io.chimedialer.core.webhook.WebhookSignature;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerOptions;
import io.chimedialer.core.metrics.ApiOperation;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.core.metrics.RetryReason;
import io.chimedialer.core.pacing.AdmissionHold;
import io.chimedialer.core.pacing.PacingSettings;
import io.chimedialer.core.pacing.RegionPacing;
import io.chimedialer.core.pacing.ResilientCreate;
import io.chimedialer.core.pacing.RetrySettings;
import io.chimedialer.core.spill.SpillDrainer;
import io.chimedialer.core.spill.SpillSettings;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

/**
 * The composition root: builds registry, schedulers, ledger, AWS clients, pacing, the webhook and the
 * HTTP server in that order, and closes them in reverse. One per process; nothing static.
 */
public final class DialerRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DialerRuntime.class);

    /** The ledger's DNC list that inbound callers who opt out join. */
    public static final String INBOUND_DNC_LIST = "inbound";

    /**
     * What to build.
     *
     * @param regions       the Regions, endpoints already resolved (AWS, or the emulator's URL)
     * @param credentials   AWS credentials for the Chime clients
     * @param ledgerUrl     the ledger's JDBC URL
     * @param webhookSecret the shared secret of invocation signatures
     * @param host          HTTP bind address
     * @param port          HTTP port, 0 for any
     * @param controlToken  bearer token of the control API, or null
     * @param withControl   whether this process serves the control API
     * @param pacing        pacing settings
     * @param clients       SDK client settings
     * @param tls           certificate and key for HTTPS, or null for plain HTTP
     * @param cluster       this node's cluster settings (the ledger must be PostgreSQL), or null to run alone
     * @param spillQueue    the Lambda bridge's spill queue to drain (with {@code credentials}), or null
     */
    public record Options(Collection<RegionConfig> regions, AwsCredentialsProvider credentials, String ledgerUrl,
                          String webhookSecret, String host, int port, String controlToken, boolean withControl,
                          PacingSettings pacing, ChimeClientSettings clients, DialerHttpServer.Tls tls,
                          ClusterSettings cluster, SpillSettings spillQueue) {

        /** Without a spill queue. */
        public Options(Collection<RegionConfig> regions, AwsCredentialsProvider credentials, String ledgerUrl,
                       String webhookSecret, String host, int port, String controlToken, boolean withControl,
                       PacingSettings pacing, ChimeClientSettings clients, DialerHttpServer.Tls tls,
                       ClusterSettings cluster) {
            this(regions, credentials, ledgerUrl, webhookSecret, host, port, controlToken, withControl, pacing, clients,
                    tls, cluster, null);
        }

        /** Plain HTTP. */
        public Options(Collection<RegionConfig> regions, AwsCredentialsProvider credentials, String ledgerUrl,
                       String webhookSecret, String host, int port, String controlToken, boolean withControl,
                       PacingSettings pacing, ChimeClientSettings clients) {
            this(regions, credentials, ledgerUrl, webhookSecret, host, port, controlToken, withControl, pacing, clients,
                    null, null);
        }

        /** Without clustering. */
        public Options(Collection<RegionConfig> regions, AwsCredentialsProvider credentials, String ledgerUrl,
                       String webhookSecret, String host, int port, String controlToken, boolean withControl,
                       PacingSettings pacing, ChimeClientSettings clients, DialerHttpServer.Tls tls) {
            this(regions, credentials, ledgerUrl, webhookSecret, host, port, controlToken, withControl, pacing, clients,
                    tls, null);
        }

        /** @return a copy that joins a cluster with these settings */
        public Options withCluster(ClusterSettings settings) {
            return new Options(regions, credentials, ledgerUrl, webhookSecret, host, port, controlToken, withControl,
                    pacing, clients, tls, settings, spillQueue);
        }

        /** @return a copy that drains this spill queue (null: none) */
        public Options withSpillQueue(SpillSettings settings) {
            return new Options(regions, credentials, ledgerUrl, webhookSecret, host, port, controlToken, withControl,
                    pacing, clients, tls, cluster, settings);
        }

        public Options {
            Objects.requireNonNull(regions, "regions");
            Objects.requireNonNull(credentials, "credentials");
            Objects.requireNonNull(ledgerUrl, "ledgerUrl");
            Objects.requireNonNull(webhookSecret, "webhookSecret");
            pacing = pacing == null ? PacingSettings.ofDefaults() : pacing;
            clients = clients == null ? ChimeClientSettings.ofDefaults() : clients;
        }
    }

    private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
    private final Clock clock = Clock.systemUTC();
    private final PrometheusMeterRegistry registry;
    private final DialerMetrics metrics;
    private final Scheduler scheduler;
    private final Scheduler io;
    private final Ledger ledger;
    private final EventBus bus;
    private final CallRegistry calls;
    private final WebhookHandler webhook;
    private final Map<String, RegionPacing> regions = new LinkedHashMap<>();
    private final CircuitBreakerRegistry breakers = CircuitBreakerRegistry.ofDefaults();
    /** The age of the oldest webhook delivery not yet answered: what admission follows (issue 16 §5). */
    private final WebhookLag webhookLag = WebhookLag.onSystemTime();
    private AdmissionHold admissionHold = AdmissionHold.never();
    private final MeteredOriginator originator;
    private final ResilientCreate create;
    private final CampaignManager campaigns;
    private final DialerHttpServer http;
    private final Options options;
    private volatile ClusterNode cluster;
    private volatile Scheduler clusterListener;
    /** Calls of other nodes this node answers, by attempt id, with when it first did ({@link #adoptedForeign}). */
    private final Map<String, Long> foreign = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong lastForeignWarning = new java.util.concurrent.atomic.AtomicLong(
            Long.MIN_VALUE / 2);
    private final java.util.concurrent.atomic.AtomicLong foreignSinceWarning = new java.util.concurrent.atomic.AtomicLong();
    private static final int MAX_FOREIGN_CALLS = 100_000;
    private static final Duration FOREIGN_CALL_MEMORY = Duration.ofHours(2);
    private static final Duration FOREIGN_WARNING_INTERVAL = Duration.ofMinutes(1);
    private volatile SpillDrainer spill;

    private DialerRuntime(Options options) {
        this.options = options;
        long buildStart = System.nanoTime();
        // The SDK's clients take a good part of the start to build: built beside the ledger's opening and the rest,
        // so that the webhook listens sooner after a restart. Closed with the rest whatever happens.
        java.util.concurrent.CompletableFuture<ChimeClients> sdkClients = java.util.concurrent.CompletableFuture
                .supplyAsync(() -> ChimeClients.create(options.regions(), options.credentials(), options.clients()),
                        runnable -> {
                            Thread thread = new Thread(runnable, "chime-clients-build");
                            thread.setDaemon(true);
                            thread.start();
                        });
        closeables.push(() -> sdkClients.handle((clients, e) -> clients).thenAccept(clients -> {
            if (clients != null) {
                clients.close();
            }
        }).join());
        // Whatever fails part-way (a locked ledger, a port in use), what was built so far is closed.
        try {
            registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            registry.config().meterFilter(new NettyMeterDescriptions());
            if (options.cluster() != null) {
                // Every meter of a clustered node carries its id, so that one Prometheus can scrape them all.
                registry.config().commonTags("node", options.cluster().nodeId());
            }
            closeables.push(registry::close);
            Metrics.globalRegistry.add(registry);
            closeables.push(() -> Metrics.globalRegistry.remove(registry));
            new JvmMemoryMetrics().bindTo(registry);
            JvmGcMetrics gc = new JvmGcMetrics();
            gc.bindTo(registry);
            closeables.push(gc);
            new JvmThreadMetrics().bindTo(registry);
            new ProcessorMetrics().bindTo(registry);
            new UptimeMetrics().bindTo(registry);
            metrics = new DialerMetrics(registry);

            scheduler = Schedulers.newParallel("dialer", Math.max(2, Runtime.getRuntime().availableProcessors()));
            closeables.push(scheduler::dispose);
            io = Schedulers.newBoundedElastic(8, 10_000, "dialer-io");
            closeables.push(io::dispose);

            // The cluster node closes after the ledger (runs -> ledger -> node), so its close sits below the ledger's.
            closeables.push(this::closeCluster);
            ensureParentDir(options.ledgerUrl());
            ledger = JdbcLedger.open(LedgerOptions.of(options.ledgerUrl(), clock)
                    .withListener(new MetricsLedgerListener(metrics)));
            closeables.push(ledger);
            metrics.ledgerQueueDepth(ledger::queueDepth);

            bus = new EventBus();
            calls = new CallRegistry(bus, clock);
            metrics.inboundCallsEvicted(calls, CallRegistry::inboundCallsEvicted);
            Disposable sweeper = calls.startSweeper(scheduler, Duration.ofSeconds(1));
            closeables.push(sweeper::dispose);
            // Inbound callers who opt out join the "inbound" DNC list; uncorrelated invocations are only counted.
            // Unbounded: a slow ledger must not hold the stream back until its buffer drops events.
            Disposable inbound = bus.events(EventBus.INBOUND)
                    .ofType(io.chimedialer.core.calls.CallEvent.OptedOut.class)
                    .flatMap(optedOut -> ledger.addDnc(INBOUND_DNC_LIST, optedOut.number(), clock.instant())
                            .onErrorResume(e -> {
                                log.error("ledger write failed: {}", e.toString());
                                return Mono.empty();
                            }), Integer.MAX_VALUE)
                    .subscribe(v -> { }, e -> log.error("inbound events ended: {}", e.toString()));
            closeables.push(inbound::dispose);
            Disposable uncorrelated = bus.events(EventBus.UNCORRELATED).subscribe(event -> { });
            closeables.push(uncorrelated::dispose);

            ChimeClients clients;
            try {
                clients = sdkClients.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof RuntimeException cause) {
                    throw cause;
                }
                if (e.getCause() instanceof Error cause) {
                    throw cause;
                }
                throw e;
            }
            Map<String, RateLimiter> hangUpLimiters = new LinkedHashMap<>();
            // One hold for every Region: they share the webhook. No new call starts while its answers lag.
            admissionHold = AdmissionHold.following(webhookLag::lagNanos, webhookLag::inFlight,
                    () -> regions.values().stream().mapToInt(r -> r.permits().inUse()).sum(),
                    options.pacing().webhookLagThreshold(), scheduler);
            AdmissionHold hold = admissionHold;
            metrics.webhookLag(() -> webhookLag.lagNanos() / 1e9, hold, AdmissionHold::heldSeconds);
            for (RegionConfig region : options.regions()) {
                RegionPacing pacing = RegionPacing.create(region, options.pacing(), scheduler,
                        permit -> calls.markUnknown(permit.attemptId()), hold);
                regions.put(region.name(), pacing);
                hangUpLimiters.put(region.name(), pacing.hangUpLimiter());
                metrics.regionGauges(region.name(), () -> pacing.permits().inUse(), () -> pacing.permits().cap(),
                        () -> pacing.config().callsPerSecond(), () -> pacing.rate().effectiveRate());
                metrics.regionHealthGauge(region.name(), () -> pacing.health().up() ? 1 : 0);
            }
            // The pacing owns its breakers; register those very instances (held strongly here) for the metrics.
            regions.values().forEach(p -> {
                breakers.circuitBreaker(p.name());
                breakers.replace(p.name(), p.breaker());
            });
            metrics.bindCircuitBreakers(breakers);
            if (options.cluster() != null) {
                clusterListener = Schedulers.newSingle("cluster-control");
                cluster = ClusterNode.open(options.ledgerUrl(), 4, options.cluster(), regions, ledger, clock, io,
                        clusterListener);
                cluster.bindTo(registry);
            }
            originator = new MeteredOriginator(new SdkOriginator(clients, hangUpLimiters, scheduler), metrics, scheduler);
            // Each Region admits its first call once its SIP media application was read (or the read failed or timed
            // out, after at most 5 s): the check names a wrong id at start, and the first paced Creates find the
            // Region's connection open instead of racing the check for it.
            for (RegionPacing pacing : regions.values()) {
                pacing.admitAfter(RegionWarmUp.run(originator, pacing.config(),
                        RegionWarmUp.DEFAULT_TIMEOUT, scheduler));
            }
            // Throttled Creates sent again are counted per Region (dialer_api_retries_total); NotSent ones never left.
            create = new ResilientCreate(originator, RetrySettings.ofDefaults(), scheduler, (region, outcome) -> {
                if (outcome instanceof CreateOutcome.Throttled) {
                    metrics.retry(ApiOperation.CREATE_SIP_MEDIA_APPLICATION_CALL, region, RetryReason.THROTTLED);
                }
            });

            // The webhook answers from memory: its events are handed to a thread of their own (a released permit
            // admits the next contact there, not on the thread answering Chime), and its time bounds run on a timer
            // of their own, not on a scheduler the pipeline keeps busy.
            java.util.concurrent.ExecutorService webhookEvents = java.util.concurrent.Executors.newSingleThreadExecutor(
                    r -> {
                        Thread t = new Thread(r, "webhook-events");
                        t.setDaemon(true);
                        return t;
                    });
            closeables.push(() -> {
                webhookEvents.shutdown();
                webhookEvents.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
            });
            Scheduler webhookTimer = Schedulers.newSingle("webhook-timer", true);
            closeables.push(webhookTimer::dispose);
            webhook = WebhookHandler.builder(calls, new WebhookSignature(options.webhookSecret(), clock))
                    .observer(new MetricsWebhookObserver(metrics))
                    .events(webhookEvents)
                    .ledgerTimeout(Duration.ofSeconds(2), webhookTimer)
                    .ledgerLookup((transactionId, attemptId) -> lookUp(transactionId, attemptId))
                    // A HANGUP is answered once its outcome is in the ledger: an acknowledged outcome survives a crash.
                    .endDurable(this::endDurable, Duration.ofSeconds(3))
                    .build();
            campaigns = new CampaignManager(this);
            closeables.push(campaigns);
            campaigns.followInboundOptOuts();
            if (cluster != null) {
                cluster.start();
                campaigns.joinCluster(cluster);
            }
            http = new DialerHttpServer(new DialerHttpServer.Settings(options.host(), options.port(), webhookEndpoint(),
                    options.withControl() ? campaigns : null, options.controlToken(), registry, () -> true, options.tls()));
            http.start();
            closeables.push(http);
            // From the JVM's start: a restart's gap is the time to the new process plus this (docs/operations.md).
            log.info("webhook listening after {} ms (runtime built in {} ms)", System.currentTimeMillis()
                    - java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime(),
                    (System.nanoTime() - buildStart) / 1_000_000);
            if (options.spillQueue() != null) {
                // Closed first: it stops taking messages before the runs and the ledger close.
                spill = startSpillDrainer(options.spillQueue());
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /**
     * The webhook's ledger lookup: an invocation of a call this process does not hold (placed before a restart, or
     * in a cluster by another node) is answered with its campaign's flow when the ledger has the TransactionId (in
     * a cluster, or the attempt the invocation names, with no other TransactionId), the attempt has no outcome yet
     * and its campaign's launch has begun here. It does not wait for the run to resume (with a large ledger that
     * takes longer than Chime waits for an answer): the call is restored in the registry and answered from memory,
     * its outcome recorded by the webhook, and the resuming run takes it over ({@code CallRegistry.takeOver}),
     * counting its end and scheduling its follow-up even when it ended before. The lookup waits (within the
     * webhook's ledger timeout) only for the launch to begin.
     */
    private Mono<Optional<ExpectedCall>> lookUp(String transactionId, String attemptId) {
        // In a cluster, another node's call may reach this node before that node wrote its TransactionId: its
        // intent (written before the Create) is found by the attempt id the invocation names.
        // Any node: a call whose attempt was closed UNKNOWN before its TransactionId was written (a resume ended its
        // intent UNKNOWN, or its Create's outcome was unknown) is found by its attempt too, so that its HANGUP's
        // outcome replaces that UNKNOWN.
        Mono<Ledger.AttemptRecord> byAttempt = attemptId == null ? Mono.empty()
                : ledger.findAttempt(attemptId)
                        .filter(record -> cluster != null || closedUnknown(record))
                        .filter(record -> record.transactionId() == null
                                || record.transactionId().equals(transactionId));
        return ledger.findByTransactionId(transactionId)
                .switchIfEmpty(byAttempt)
                .filter(record -> record.result() == null || closedUnknown(record))
                .flatMap(record -> campaigns.launchingConfig(record.campaignId()).flatMap(config -> {
                    Contact contact = new Contact(0, record.contactKey(), record.number(), "", null, Map.of());
                    Attempt attempt = new Attempt(record.attemptId(), record.campaignId(), contact,
                            record.attemptNumber(), record.region(), record.fromNumber());
                    return Mono.fromSupplier(() -> {
                        Instant since = record.placedAt() != null ? record.placedAt() : record.intendedAt();
                        Duration left = config.maxCallLifetime();
                        if (since != null) {
                            left = left.minus(Duration.between(since, clock.instant()));
                        }
                        if (left.compareTo(Duration.ofSeconds(1)) < 0) {
                            left = Duration.ofSeconds(1);
                        }
                        if (record.result() != null) {
                            // closed UNKNOWN: restored closed, so that its HANGUP's outcome replaces the UNKNOWN
                            return Optional.of(new ExpectedCall(attempt, CallContext.of(attempt, config.flow(), left),
                                    record.result()));
                        }
                        adoptedForeign(record.attemptId());
                        return Optional.of(new ExpectedCall(attempt, CallContext.of(attempt, config.flow(), left)));
                    });
                }));
    }

    /** An attempt the dialer closed UNKNOWN: its call's real end may still come and replace it. */
    private static boolean closedUnknown(Ledger.AttemptRecord record) {
        return record.result() != null
                && record.result().disposition() == Disposition.UNKNOWN;
    }

    /**
     * In a cluster, notes a call this node answers although it did not place it (Chime sent its invocations here,
     * not to its node): counted, warned about at most once a minute, and its end passed on ({@link #endDurable}).
     */
    private void adoptedForeign(String attemptId) {
        if (cluster == null) {
            return;
        }
        long now = clock.millis();
        if (foreign.size() >= MAX_FOREIGN_CALLS) {
            foreign.values().removeIf(since -> now - since > FOREIGN_CALL_MEMORY.toMillis());
        }
        if (foreign.putIfAbsent(attemptId, now) != null) {
            return;
        }
        metrics.foreignCall("answered");
        foreignSinceWarning.incrementAndGet();
        long last = lastForeignWarning.get();
        if (now - last >= FOREIGN_WARNING_INTERVAL.toMillis() && lastForeignWarning.compareAndSet(last, now)) {
            log.warn("node {} answers calls placed by other nodes ({} since the last warning): Chime sends their "
                    + "invocations here, not to the node that placed them. Their ends are passed on to their nodes "
                    + "through the cluster's control channel; route each call to its node with the Lambda bridge "
                    + "(docs/scale-out.md)", cluster.nodeId(), foreignSinceWarning.getAndSet(0));
        }
    }

    /**
     * The webhook's durable end of a call: its outcome written to the ledger; for a call of another node
     * ({@link #adoptedForeign}), then told to the cluster, so that the node holding the call ends it and releases
     * its permit at once rather than at the end of the call's lifetime.
     */
    private Mono<Void> endDurable(io.chimedialer.core.domain.CallResult result) {
        Mono<Void> written = ledger.recordResult(result);
        ClusterNode node = cluster;
        if (node == null || foreign.remove(result.attemptId()) == null || result.campaignId() == null) {
            return written;
        }
        Mono<Void> once = written.cache();
        once.then(node.control().callEnded(result.campaignId(), result.attemptId(), result.disposition().name(),
                        result.sipCode()))
                .subscribe(event -> metrics.foreignCall("relayed"),
                        e -> log.warn("the end of call {} (another node's) was not passed on: {}", result.attemptId(),
                                e.toString()));
        return once;
    }

    /**
     * Drains the Lambda bridge's spill queue (issue 16 §3) from now on: each event goes through the webhook as a
     * delivery would (signed here with the webhook's secret, after the bridge's signature in the message was
     * checked); its call is looked up in the ledger, and an event of a campaign this process runs waits (bounded)
     * until that campaign's run has taken over its previous run's calls.
     */
    private SpillDrainer startSpillDrainer(SpillSettings settings) {
        SqsAsyncClient sqs = SqsAsyncClient.builder()
                .region(software.amazon.awssdk.regions.Region.of(settings.regionOrDefault()))
                .endpointOverride(settings.endpoint())
                .credentialsProvider(options.credentials())
                .httpClientBuilder(software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient.builder()
                        .readTimeout(settings.pollWait().plusSeconds(10)))
                .build();
        closeables.push(sqs);
        WebhookSignature signature = new WebhookSignature(options.webhookSecret(), clock);
        SpillDrainer drainer = new SpillDrainer(sqs, settings, signature,
                body -> {
                    // Both headers from one clock reading: a second that ticked between two readings signed
                    // another second than the header said, and the webhook refused the spilled event (401).
                    WebhookSignature.Signed signed = signature.signNow(body);
                    return webhook.handle(signed.timestamp(), signed.signature(), body);
                },
                this::spillStatus, metrics, clock).start();
        closeables.push(drainer);
        return drainer;
    }

    /** What the drainer needs to know of a call: in the ledger? recorded? its campaign run here and recovered? */
    private Mono<SpillDrainer.Status> spillStatus(String transactionId) {
        return ledger.findByTransactionId(transactionId)
                // an UNKNOWN is not the call's outcome: its spilled HANGUP goes through the webhook and replaces it
                .map(record -> record.result() != null && !closedUnknown(record)
                        ? Mono.just(SpillDrainer.Status.RECORDED)
                        : campaigns.launched(record.campaignId())
                                .flatMap(run -> run.recovered().thenReturn(SpillDrainer.Status.READY)))
                .flatMap(m -> m)
                .defaultIfEmpty(SpillDrainer.Status.UNKNOWN);
    }

    /** The spill queue's drainer, or null when none is configured. */
    public SpillDrainer spillDrainer() {
        return spill;
    }

    /** Builds and starts everything; on failure closes what was built and rethrows. */
    public static DialerRuntime start(Options options) {
        return new DialerRuntime(options);
    }

    private WebhookEndpoint webhookEndpoint() {
        // Deliveries from Chime (or the bridge) count in the webhook's lag from receipt to answer; the spill
        // queue's do not (nobody waits for their answer).
        return new WebhookEndpoint() {
            @Override
            public Mono<Reply> handle(String timestamp, String signature, byte[] body) {
                return handle(timestamp, signature, null, body);
            }

            @Override
            public Mono<Reply> handle(String timestamp, String signature, String sentAt, byte[] body) {
                return Mono.defer(() -> {
                    long token = webhookLag.begin(WebhookLag.timestamp(timestamp), WebhookLag.sentAt(sentAt));
                    boolean[] authenticated = new boolean[1];
                    return webhook.handle(timestamp, signature, body)
                            .doOnNext(reply -> authenticated[0] = reply.status() == 200)
                            .map(reply -> new Reply(reply.status(), reply.body()))
                            .doFinally(signal -> webhookLag.end(token, authenticated[0]));
                });
            }
        };
    }

    private static void ensureParentDir(String jdbcUrl) {
        String prefix = "jdbc:sqlite:";
        if (jdbcUrl.startsWith(prefix)) {
            String path = jdbcUrl.substring(prefix.length());
            int q = path.indexOf('?');
            if (q >= 0) {
                path = path.substring(0, q);
            }
            if (!path.isEmpty() && !path.startsWith(":memory:") && !path.startsWith("file:")) {
                Path parent = Path.of(path).toAbsolutePath().getParent();
                try {
                    if (parent != null) {
                        Files.createDirectories(parent);
                    }
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("cannot create the ledger's directory " + parent + ": " + e, e);
                }
            }
        }
    }

    public PrometheusMeterRegistry meterRegistry() {
        return registry;
    }

    public DialerMetrics metrics() {
        return metrics;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public Scheduler io() {
        return io;
    }

    public Clock clock() {
        return clock;
    }

    public Ledger ledger() {
        return ledger;
    }

    public CallRegistry calls() {
        return calls;
    }

    public WebhookHandler webhook() {
        return webhook;
    }

    /** The webhook's lag: the oldest delivery received and not yet answered. */
    public WebhookLag webhookLag() {
        return webhookLag;
    }

    /** What holds the admission of new calls while the webhook lags (never, with a zero threshold). */
    public AdmissionHold admissionHold() {
        return admissionHold;
    }

    public Map<String, RegionPacing> regions() {
        return regions;
    }

    public MeteredOriginator originator() {
        return originator;
    }

    public ResilientCreate create() {
        return create;
    }

    /** This node's part in the cluster, or null when it runs alone. */
    public ClusterNode cluster() {
        return cluster;
    }

    private void closeCluster() {
        ClusterNode node = cluster;
        if (node != null) {
            node.close();
        }
        Scheduler listener = clusterListener;
        if (listener != null) {
            listener.dispose();
        }
    }

    public CampaignManager campaigns() {
        return campaigns;
    }

    /** {@code https} when the HTTP server uses TLS, else {@code http}. */
    public String scheme() {
        return http.scheme();
    }

    /** The HTTP server's bound port. */
    public int port() {
        return http.port();
    }

    @Override
    public void close() {
        while (!closeables.isEmpty()) {
            AutoCloseable c = closeables.pop();
            try {
                c.close();
            } catch (Exception e) {
                log.warn("error while closing {}: {}", c, e.toString());
            }
        }
    }
}
