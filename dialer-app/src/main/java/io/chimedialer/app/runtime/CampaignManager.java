package io.chimedialer.app.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.config.ConfigException;
import io.chimedialer.app.config.ConfigLoader;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.app.http.ControlApi;
import io.chimedialer.app.notifications.CompletionNotice;
import io.chimedialer.app.notifications.CompletionNotifier;
import io.chimedialer.app.notifications.NoticeEvent;
import io.chimedialer.core.campaign.CampaignRun;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.campaign.RunSetup;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.cluster.ClaimingSource;
import io.chimedialer.core.cluster.ClusterNode;
import io.chimedialer.core.cluster.ControlEvent;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.contacts.CallingWindow;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.ContactSource;
import io.chimedialer.core.contacts.CsvOptions;
import io.chimedialer.core.contacts.DncList;
import io.chimedialer.core.contacts.PhoneNumbers;
import io.chimedialer.core.domain.AttemptIds;
import io.chimedialer.core.calls.CallEvent;
import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.core.pacing.RegionPacing;
import io.chimedialer.core.util.Masking;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.concurrent.Queues;

/**
 * Starts and controls campaign runs in this process, and serves the control API. Thread-safe.
 */
public final class CampaignManager implements ControlApi, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CampaignManager.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Rows of a CSV list read ahead of admission, per read on the io scheduler (refilled at three quarters). */
    static final int CSV_READ_AHEAD = 256;
    /** Where contact lists uploaded through the control API are kept (relative to the working directory). */
    public static final Path UPLOADS = Path.of("data", "uploads");
    /** Campaigns started through the control API with a YAML definition, by name (stored with the campaign). */
    private final Map<String, String> definitions = new ConcurrentHashMap<>();

    /** How far ahead a contact may wait for its calling window before it ends as window-expired. */
    public static final Duration DEFAULT_HORIZON = Duration.ofDays(7);

    private final DialerRuntime runtime;
    // one generator for every campaign of this process: its ids grow, so the ledger's index on them only appends
    private final AttemptIds attemptIds = AttemptIds.timeOrdered(Clock.systemUTC());
    private final Map<String, Entry> runs = new ConcurrentHashMap<>();
    private final Map<String, Sinks.One<CampaignRun>> launches = new ConcurrentHashMap<>();
    /** The configuration of each campaign whose launch has begun here (before its list is read or it resumes). */
    private final Map<String, CampaignConfig> launching = new ConcurrentHashMap<>();
    private final Map<String, Sinks.One<CampaignConfig>> launchingSignals = new ConcurrentHashMap<>();
    private volatile DialerConfig config;
    private volatile Map<String, String> callArguments = Map.of();
    private volatile Duration progressLogInterval = DEFAULT_PROGRESS_LOG_INTERVAL;
    private volatile ClusterNode cluster;
    /** Where completion notices go, or null when none are sent. */
    private volatile CompletionNotifier notifier;
    private volatile Disposable controlEvents;
    /** Each run's opt-out follower, disposed on close (each ends by itself after its run). */
    private final Disposable.Composite optOutFollowers = Disposables.composite();
    /** Serializes the launches of one campaign on this node (a control API start and a cluster LAUNCH). */
    private final Map<String, Object> launchLocks = new ConcurrentHashMap<>();
    /**
     * The DNC list of each running run, by campaign, with the lists it honours: an opt-out recorded under one of
     * them (by a run of this node, an inbound caller, or announced by another node) is added to it at once.
     */
    private final Map<String, OptOutList> optOutLists = new ConcurrentHashMap<>();
    /** Whether LAUNCH commands are followed (from {@link #joinRunning()} on, once the node is configured). */
    private volatile boolean followingLaunches;
    /** Set by {@link #pauseAll()} on shutdown: that pause is not the operator's and is not written to the ledger. */
    private volatile boolean shuttingDown;

    /**
     * Contacts a clustered run holds claimed but not yet dialed (the claiming source refills below this):
     * {@code cluster.claims-ahead}.
     */
    private int clusterMaxWaiting() {
        DialerConfig cfg = config;
        return cfg == null ? DialerConfig.Cluster.DEFAULT_CLAIMS_AHEAD : cfg.cluster().claimsAhead();
    }

    /** How often a running campaign's progress is logged at INFO. */
    public static final Duration DEFAULT_PROGRESS_LOG_INTERVAL = Duration.ofMinutes(1);

    CampaignManager(DialerRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * Joins a started cluster node: commands from any node (this one included) are applied to this node's runs
     * from now on, and the latest Region rates already issued are applied now. Called once, before any launch.
     */
    void joinCluster(ClusterNode node) {
        this.cluster = Objects.requireNonNull(node, "node");
        controlEvents = node.control().events()
                // A launch never holds back the commands after it, and the end of the stream does not cut one short.
                .flatMapDelayError(this::applied, Integer.MAX_VALUE, Queues.XS_BUFFER_SIZE)
                .subscribe(v -> { }, e -> log.error("cluster control events ended: {}", e.toString()));
        List<ControlEvent> latest = node.control().latest().block(Duration.ofSeconds(30));
        if (latest != null) {
            latest.stream().filter(e -> e.command() == ControlEvent.Command.RATE).forEach(this::apply);
        }
    }

    /**
     * The step of the control events chain for one cluster command: a LAUNCH starts a run here off the listener's
     * thread (the step ends when the launch has; a failed launch is logged), any other command is applied at once.
     */
    private Mono<Void> applied(ControlEvent event) {
        if (event.command() != ControlEvent.Command.LAUNCH) {
            apply(event);
            return Mono.empty();
        }
        if (!followingLaunches) {
            return Mono.empty();
        }
        return Mono.fromRunnable(() -> followLaunch(event)).subscribeOn(runtime.io()).then()
                .onErrorResume(e -> {
                    log.error("campaign {}: launch from node {} failed: {}", event.campaignId(), event.issuedBy(),
                            e.toString());
                    return Mono.empty();
                });
    }

    /**
     * Applies one cluster command to this node's run of its campaign (if any) or to its Region's total rate; a
     * DNC adds the number to the runs using its list. A LAUNCH is followed by the control events chain
     * ({@link #applied}), not here.
     */
    void apply(ControlEvent event) {
        ClusterNode node = cluster;
        if (event.command() == ControlEvent.Command.LAUNCH) {
            return;
        }
        if (event.command() == ControlEvent.Command.DNC) {
            event.optOut().ifPresent(this::applyOptOut);
            return;
        }
        if (event.command() == ControlEvent.Command.ENDED) {
            if (node == null || !node.nodeId().equals(event.issuedBy())) {
                event.callEnd().ifPresent(this::releaseEnded);
            }
            return;
        }
        if (event.command() == ControlEvent.Command.RATE) {
            if (node != null && event.region() != null && event.value() != null) {
                node.limits().setTotalRate(event.region(), event.value());
                log.info("Region {} total rate set to {} calls/s by node {}", event.region(), event.value(),
                        event.issuedBy());
            }
            return;
        }
        Entry entry = event.campaignId() == null ? null : runs.get(event.campaignId());
        if (entry == null || entry.finished()) {
            return;
        }
        switch (event.command()) {
            case PAUSE -> entry.run.pause();
            case RESUME -> entry.run.resume();
            case CANCEL -> entry.run.cancel();
            default -> { }
        }
        log.info("campaign {}: {} from node {}", event.campaignId(), event.command(), event.issuedBy());
    }

    /**
     * Another node recorded the end of a call (Chime sent its invocations there): if this node holds the call, it
     * ends here with that outcome, so that its permit and live-call count come back at once.
     */
    private void releaseEnded(ControlEvent.CallEnd end) {
        io.chimedialer.core.domain.Disposition disposition;
        try {
            disposition = io.chimedialer.core.domain.Disposition.valueOf(end.disposition());
        } catch (IllegalArgumentException e) {
            log.warn("call {}: its end from another node names no disposition ('{}'); left to its lifetime",
                    end.attemptId(), end.disposition());
            return;
        }
        if (runtime.calls().close(end.attemptId(), disposition, end.sipCode())) {
            runtime.metrics().foreignCall("released");
            log.debug("call {} ended on another node ({}); its permit released here", end.attemptId(), disposition);
        }
    }

    /**
     * The loaded configuration, for campaigns started by name through the control API; its {@code notifications:}
     * are applied ({@link #notifications}).
     */
    public void config(DialerConfig config) {
        this.config = config;
        if (config != null && !Objects.equals(config.notifications(), notificationSettings())) {
            notifications(config.notifications());
        }
    }

    /** Extra ArgumentsMap entries for every call (e.g. this node's URL for the Lambda bridge). */
    public void callArguments(Map<String, String> arguments) {
        this.callArguments = Map.copyOf(arguments);
    }

    /** How often each running campaign logs a progress line at INFO (default one minute); for runs started later. */
    public void progressLogInterval(Duration interval) {
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("progressLogInterval must be positive, was " + interval);
        }
        this.progressLogInterval = interval;
    }

    /**
     * Builds and starts a run of a campaign.
     *
     * @param campaign the campaign
     * @param contacts its contact list (CSV)
     * @param resume   whether contacts the ledger already knows are skipped
     * @return the started run and the Mono of its report
     */
    public Started launch(CampaignConfig campaign, Path contacts, boolean resume) throws IOException {
        Objects.requireNonNull(campaign, "campaign");
        Entry existing = runs.get(campaign.name());
        if (existing != null && !existing.finished()) {
            throw new ControlException(409, "campaign " + campaign.name() + " is already running");
        }
        if (!Files.isReadable(contacts) && !importedInCluster(campaign.name())) {
            // The path stays in the log: an API client learns which campaign, not where the files are.
            log.warn("campaign {}: contact list {} is not readable{}", campaign.name(), contacts, cluster == null ? ""
                    : " on this node, and no node has imported it yet (start the campaign on a node that has it)");
            throw new ControlException(400, "the contact list of campaign " + campaign.name() + " is not readable"
                    + (cluster == null ? "" : " on this node, and no node of the cluster has imported it yet: start "
                    + "it on a node that has the file"));
        }
        // From here the webhook answers invocations of the campaign's calls placed before a restart from memory,
        // while the launch reads its lists and the run resumes (see launchingConfig).
        launching.put(campaign.name(), campaign);
        launchingSignals.computeIfAbsent(campaign.name(), k -> Sinks.one()).tryEmitValue(campaign);
        PhoneNumbers numbers = PhoneNumbers.forRegion(campaign.defaultRegion());
        DncList dnc = new DncList(numbers);
        for (String list : campaign.dncLists()) {
            Path path = Path.of(list);
            try (Reader reader = io.chimedialer.core.contacts.ListReader.open(path)) {
                DncList.LoadReport report = dnc.load(list, reader);
                if (report.badLineCount() > 0) {
                    log.warn("DNC list {}: {} bad lines skipped (first: line {}: {})", list, report.badLineCount(),
                            report.badLines().get(0).line(), report.badLines().get(0).reason());
                }
            }
        }
        String dncListName = optOutListOf(campaign);
        Set<String> honoured = honouredLists(campaign);
        // Opt-outs live in the ledger (the DNC files are never written): those of every list the campaign honours.
        for (String list : honoured) {
            List<String> optedOut = runtime.ledger().dncNumbers(list).collectList().block(Duration.ofSeconds(30));
            if (optedOut != null) {
                optedOut.forEach(dnc::add);
            }
        }
        long total = cluster == null ? countRows(contacts) : -1; // a clustered run's total is not known here
        CsvOptions csv = CsvOptions.defaults().withDefaultRegion(campaign.defaultRegion());
        Instant now = runtime.clock().instant();
        runtime.ledger().upsertCampaign(campaign.name(), storedDefinition(campaign.name(), contacts), now)
                .onErrorResume(UnsupportedOperationException.class, e -> Mono.empty())
                .block(Duration.ofSeconds(30));
        // Read ahead in batches: admission asks for one row at a time, and subscribeOn runs every request as a task
        // on the io scheduler, so without the buffer each contact cost a wake-up of an io thread and a hop back
        // (issue 17: 3.5 to 5 context switches per Create against the raw SDK loop's 1). The rows are read there
        // CSV_READ_AHEAD at a time; the thread that asks for the next row takes it from the buffer.
        Flux<ContactRow> csvRows = ContactSource.csv(() -> io.chimedialer.core.contacts.ListReader.open(contacts),
                contacts.toString(), csv).subscribeOn(runtime.io()).limitRate(CSV_READ_AHEAD);
        ClusterNode node = cluster;
        ClaimingSource claims = null;
        if (node != null) {
            // The first node to launch imports the list for the whole cluster; every node then dials what it claims.
            node.importOnce(campaign.name(), contacts.toString(), csvRows).block(Duration.ofMinutes(10));
            claims = node.source(campaign.name());
        }
        // A clustered run never resumes from the ledger: the claims already skip contacts in a final state.
        CampaignRun run = CampaignRun.setup(campaign)
                .contacts(claims == null ? csvRows : claims.rows(), claims == null ? total : RunSetup.UNKNOWN_TOTAL)
                .dnc(dnc, dncListName)
                .window(CallingWindow.of(campaign.callingWindow()), now.plus(DEFAULT_HORIZON))
                .maxWaiting(claims == null ? RunSetup.DEFAULT_MAX_WAITING : clusterMaxWaiting())
                .pacing(runtime.regions(), runtime.create(), runtime.originator())
                .calls(runtime.calls()).ledger(runtime.ledger()).metrics(runtime.metrics()).time(runtime.scheduler())
                .attemptIds(attemptIds)
                .resume(claims == null && resume).arguments(callArguments)
                .newRun();
        ClaimingSource source = claims;
        if (source != null) {
            // Each batch re-confirms its claims before its intents are written: a contact whose claim passed to
            // another node while it waited here is left to that node, never dialed twice.
            run.guardClaims(source::confirm);
        }
        Disposable leaseWatch = source == null ? () -> { } : source.leaseLost().subscribe(v -> { }, e -> { }, () ->
                log.warn("campaign {}: this node could not renew its contact claims for a lease; contacts another "
                        + "node claims meanwhile are left to it", campaign.name()));
        // Follow-ups of dead nodes' contacts that this node's claims adopt: counted by the run on the claiming
        // thread, before the claiming source can complete (the adopted contacts stay claimed by this node).
        Disposable adoptions = source == null ? () -> { } : source.adoptedFollowUps().subscribe(run::adoptFollowUp,
                e -> log.error("campaign {}: adopted follow-ups ended: {}", campaign.name(), e.toString()));
        if (node != null) {
            // The cluster's count, so that the gauge, the log and the API never show an unknown -1.
            try {
                ClusterNode.CampaignSpread spread = node.spread(campaign.name()).block(Duration.ofSeconds(30));
                if (spread != null) {
                    remainingCache(campaign.name()).set(spread.remaining());
                }
            } catch (RuntimeException e) {
                log.warn("campaign {}: the cluster's remaining contacts could not be read: {}", campaign.name(),
                        e.toString());
            }
        }
        // In a cluster the campaign's own caps are split between the nodes, as the Regions' are.
        Runnable unshare = node == null ? () -> { } : node.limits().share(run.pacing());
        DialerMetrics.Registration gauges = runtime.metrics().campaignGauges(campaign.name(),
                () -> remaining(run), run::waiting);
        DialerMetrics.Registration statusGauges = runtime.metrics().campaignStatusGauges(campaign.name(),
                java.util.Arrays.stream(CampaignRun.State.values()).map(Enum::name).toList(), () -> run.state().name(),
                run.counters().total::sum, run.counters().dialed::sum, run.counters().live::sum);
        // One INFO line per interval while the run lasts, never one per call; it names no number.
        Disposable progress = Flux.interval(progressLogInterval, progressLogInterval, runtime.scheduler())
                .onBackpressureDrop()
                .concatMap(tick -> node == null ? Mono.just(Math.max(0, run.remaining()))
                        : node.spread(campaign.name()).map(ClusterNode.CampaignSpread::remaining)
                                .doOnNext(n -> remainingCache(campaign.name()).set(n))
                                .onErrorResume(e -> Mono.fromSupplier(() -> remaining(run))), 1)
                .subscribe(left -> logProgress(run, left + (node == null ? "" : " (cluster-wide)")),
                        e -> log.warn("campaign {}: progress no longer logged: {}", campaign.name(), e.toString()));
        Mono<RunReport> report = run.start()
                .doFinally(signal -> {
                    unshare.run();
                    progress.dispose();
                    gauges.close();
                    statusGauges.close();
                    leaseWatch.dispose();
                    adoptions.dispose();
                    if (source != null) {
                        source.close();
                    }
                })
                .cache();
        // The ledger's campaigns.state follows the run (RUNNING, PAUSED, CANCELLED, COMPLETED), in order; a shutdown's
        // pause is left out, so that the ledger still says RUNNING for a campaign that was running when the node
        // stopped. A completion notice is due when the run completes, is cancelled or pauses on an error, and is
        // sent by the writer that changed the ledger's state: of the nodes of a cluster reaching the same end, one.
        // A cancel is recorded as CANCELLED as soon as it is accepted (CANCELLING), not only once the last live call
        // ended: a node stopped in between would otherwise leave RUNNING in the ledger, and the next start would
        // resume a campaign its operator cancelled. The cancelled notice still waits for CANCELLED, and is sent by
        // the node whose write at CANCELLING changed the ledger.
        String runId = UUID.randomUUID().toString();
        Instant startedAt = runtime.clock().instant();
        java.util.concurrent.atomic.AtomicBoolean cancelRecorded = new java.util.concurrent.atomic.AtomicBoolean();
        run.states()
                .filter(state -> !(state == CampaignRun.State.PAUSED && shuttingDown))
                // Taken as the state is entered (on the run's thread): the report then, and the notice announced
                // before the run's report completes, so that a caller awaiting the notices sees it.
                .map(state -> seen(run, state))
                .concatMap(seen -> ledgerState(seen.state()) == null ? Mono.<Void>empty()
                        : runtime.ledger().transitionCampaignState(campaign.name(), ledgerState(seen.state()),
                                        seen.at())
                                .onErrorResume(e -> {
                                    log.warn("campaign {}: could not record its state {} in the ledger: {}",
                                            campaign.name(), seen.state(), e.toString());
                                    // Unknown whether another node recorded it: a notice too many beats none.
                                    return Mono.just(Boolean.TRUE);
                                })
                                .flatMap(changed -> {
                                    if (seen.state() == CampaignRun.State.CANCELLING) {
                                        cancelRecorded.set(changed);
                                        return Mono.<Void>empty();
                                    }
                                    boolean mine = changed || seen.state() == CampaignRun.State.CANCELLED
                                            && cancelRecorded.get();
                                    return notice(campaign.name(), runId, startedAt, seen, mine);
                                }))
                .subscribe();
        Entry entry = new Entry(run, report, campaign, contacts);
        runs.put(campaign.name(), entry);
        launches.computeIfAbsent(campaign.name(), k -> Sinks.one()).tryEmitValue(run);
        // The one subscription that carries the run's lifecycle to its clean-up above; it ends with the run. It is
        // not disposed on close: the claiming source may be closed only once its run is over and the ledger flushed.
        report.subscribe(r -> { }, e -> log.error("campaign {} failed: {}", campaign.name(), e.toString()));
        if (node != null) {
            // A campaign paused cluster-wide before this node launched it starts paused here too.
            List<ControlEvent> latest = node.control().latest().block(Duration.ofSeconds(30));
            if (latest != null && latest.stream().anyMatch(e -> campaign.name().equals(e.campaignId())
                    && e.command() == ControlEvent.Command.PAUSE)) {
                run.pause();
            }
        }
        followOptOuts(campaign.name(), report, dnc, dncListName, honoured);
        return new Started(run, report);
    }

    // ---- completion notices ----

    /**
     * Sends a completion notice to {@code notifications.url} for every campaign run here from now on that
     * completes, is cancelled or pauses on an error (docs/operations.md, "Completion notices"); null: none. A
     * notifier set before replaces this one (its deliveries in progress are abandoned).
     */
    public void notifications(DialerConfig.Notifications settings) {
        CompletionNotifier next = null;
        if (settings != null) {
            next = CompletionNotifier.create(settings, runtime.metrics(), runtime.scheduler(), runtime.clock());
            next.start();
            log.info("completion notices go to {}", settings.describeUrl());
        }
        CompletionNotifier previous = notifier;
        notifier = next;
        if (previous != null) {
            previous.close();
        }
    }

    /**
     * Completes once no completion notice is due or being delivered (at once without {@code notifications:}). A
     * notice becomes due as its run enters its state, before its report completes.
     */
    public Mono<Void> noticesIdle() {
        CompletionNotifier n = notifier;
        return n == null ? Mono.empty() : n.idle();
    }

    /** Completion notices due or being delivered now. */
    public int noticesDue() {
        CompletionNotifier n = notifier;
        return n == null ? 0 : n.inFlight();
    }

    /** The completion notices' settings, or null when none are sent. */
    public DialerConfig.Notifications notificationSettings() {
        CompletionNotifier n = notifier;
        return n == null ? null : n.settings();
    }

    /**
     * A state a run entered, with what a completion notice needs of that moment.
     *
     * @param pending the notice announced for it, or null when the state calls for none
     */
    private record StateSeen(CampaignRun.State state, Instant at, NoticeEvent event, RunReport report,
                             CompletionNotifier.Pending pending) {
    }

    private StateSeen seen(CampaignRun run, CampaignRun.State state) {
        Instant at = runtime.clock().instant();
        NoticeEvent event = switch (state) {
            case COMPLETED -> NoticeEvent.COMPLETED;
            case CANCELLED -> NoticeEvent.CANCELLED;
            case ENDED -> NoticeEvent.ENDED;
            // pauseOnError sets the reason before the state is entered; an operator's pause has none.
            case PAUSED -> run.pauseReason() != null ? NoticeEvent.PAUSED_ON_ERROR : null;
            default -> null;
        };
        CompletionNotifier n = notifier;
        if (event == null || n == null) {
            return new StateSeen(state, at, null, null, null);
        }
        return new StateSeen(state, at, event, run.report(), n.expect());
    }

    /**
     * The notice of a state, when it calls for one: built (with the campaign's contacts from the ledger) and
     * queued when this node's write changed the ledger's state, else dropped.
     */
    private Mono<Void> notice(String campaignId, String runId, Instant startedAt, StateSeen seen, boolean changed) {
        CompletionNotifier.Pending pending = seen.pending();
        if (pending == null) {
            return Mono.empty();
        }
        if (!changed) {
            log.info("campaign {}: its {} notice is left to the node that recorded the state first", campaignId,
                    seen.event().wireName());
            pending.drop();
            return Mono.empty();
        }
        ClusterNode node = cluster;
        return runtime.ledger().contactCounts(campaignId)
                .onErrorResume(e -> {
                    log.warn("campaign {}: its contacts by status not read for its {} notice: {}", campaignId,
                            seen.event().wireName(), e.toString());
                    return Mono.just(Map.of());
                })
                .defaultIfEmpty(Map.of())
                .map(counts -> new CompletionNotice(UUID.randomUUID().toString(), seen.event(), campaignId, runId,
                        node == null ? null : node.nodeId(), seen.at(), startedAt, seen.report(), counts))
                .doOnNext(pending::send)
                .doFinally(signal -> pending.drop()) // a no-op once sent
                .then();
    }

    // ---- cluster: launch on every node, opt-outs to every node ----

    /**
     * Launches a campaign here (importing its list for the cluster) and announces it, so that every other node
     * launches it from the shared list ({@link #followLaunch}).
     *
     * @param definition the campaign's YAML when it is not in the shared configuration (travels with the LAUNCH)
     */
    private CampaignRun launchEverywhere(CampaignConfig campaign, Path contacts, boolean resume, String definition)
            throws IOException {
        ClusterNode node = Objects.requireNonNull(cluster, "cluster");
        CampaignRun run;
        synchronized (launchLock(campaign.name())) {
            run = launch(campaign, contacts, resume).run();
        }
        try {
            node.control().launch(campaign.name(), definition).block(Duration.ofSeconds(30));
        } catch (RuntimeException e) {
            throw new ControlException(503, "campaign " + campaign.name() + " started on this node, but its launch "
                    + "could not be announced to the other nodes: " + e.getMessage());
        }
        return run;
    }

    /**
     * Joins the campaigns the cluster runs: launches here every campaign whose last LAUNCH no CANCEL followed and
     * whose shared list still holds work, and follows the LAUNCH commands from now on. Call it once this node is
     * configured ({@link #config}, {@link #callArguments}); does nothing without a cluster. Blocking.
     *
     * @return the campaigns launched here
     */
    public List<String> joinRunning() {
        ClusterNode node = cluster;
        if (node == null) {
            return List.of();
        }
        followingLaunches = true;
        List<ControlEvent> launched = node.control().launched().block(Duration.ofSeconds(30));
        List<String> joined = new ArrayList<>();
        for (ControlEvent launch : launched == null ? List.<ControlEvent>of() : launched) {
            if (followLaunch(launch)) {
                joined.add(launch.campaignId());
            }
        }
        return joined;
    }

    /**
     * Launches here a campaign another node (or this one) announced, unless this node runs it already, it was
     * cancelled since, or its shared list holds no more work. The list comes from {@code cluster_contacts}: no
     * file is needed. Blocking; failures are logged.
     *
     * @return whether a run was started
     */
    private boolean followLaunch(ControlEvent launch) {
        ClusterNode node = cluster;
        String name = launch.campaignId();
        if (node == null || name == null || running(name)) {
            return false;
        }
        try {
            CampaignConfig campaign = definition(launch);
            synchronized (launchLock(name)) {
                if (running(name)) {
                    return false;
                }
                List<ControlEvent> launched = node.control().launched().block(Duration.ofSeconds(30));
                if (launched == null || launched.stream().noneMatch(e -> name.equals(e.campaignId()))) {
                    log.info("campaign {}: cancelled since node {} launched it; not launched here", name,
                            launch.issuedBy());
                    return false;
                }
                if (!Boolean.TRUE.equals(node.hasWork(name).block(Duration.ofSeconds(30)))) {
                    log.info("campaign {}: launched by node {}, but its list holds no more work; not launched here",
                            name, launch.issuedBy());
                    return false;
                }
                Path contacts = campaign.contacts() != null ? Path.of(campaign.contacts())
                        : Path.of("cluster-contacts-" + name);
                launch(campaign, contacts, true);
            }
            log.info("campaign {}: launched here from the shared list (announced by node {})", name,
                    launch.issuedBy());
            return true;
        } catch (IOException | RuntimeException e) {
            log.error("campaign {}: cannot launch it here as node {} asked: {}", name, launch.issuedBy(),
                    e.getMessage());
            return false;
        }
    }

    /** The campaign a LAUNCH names: its attached definition, else the campaign of that name in the configuration. */
    private CampaignConfig definition(ControlEvent launch) {
        DialerConfig cfg = config;
        if (cfg == null) {
            throw new IllegalStateException("this node has no configuration to launch campaigns from");
        }
        if (launch.payload() != null) {
            try {
                return ConfigLoader.parseCampaign(launch.campaignId(), launch.payload(), null, cfg);
            } catch (ConfigException e) {
                throw new IllegalStateException("its definition does not load here: " + e.getMessage(), e);
            }
        }
        return cfg.campaign(launch.campaignId()).orElseThrow(() -> new IllegalStateException(
                "no campaign of that name in " + cfg.source()));
    }

    private boolean running(String campaignId) {
        Entry entry = runs.get(campaignId);
        return entry != null && !entry.finished();
    }

    private Object launchLock(String campaignId) {
        return launchLocks.computeIfAbsent(campaignId, k -> new Object());
    }

    /** Whether this node is clustered and the campaign's list is in {@code cluster_contacts} (no file needed). */
    private boolean importedInCluster(String campaignId) {
        ClusterNode node = cluster;
        return node != null && Boolean.TRUE.equals(node.isImported(campaignId).block(Duration.ofSeconds(30)));
    }

    /**
     * The ledger's list a campaign's opt-outs are recorded under: its first DNC file (the path, as configured), or
     * {@code campaign:NAME} when it names none.
     */
    public static String optOutListOf(CampaignConfig campaign) {
        return campaign.dncLists().isEmpty() ? "campaign:" + campaign.name() : campaign.dncLists().get(0);
    }

    /**
     * The ledger's opt-out lists a campaign refuses: every DNC file it names (whichever campaign recorded opt-outs
     * under it), its own list, and the opt-outs of inbound callers ({@link DialerRuntime#INBOUND_DNC_LIST}).
     */
    public static Set<String> honouredLists(CampaignConfig campaign) {
        Set<String> lists = new LinkedHashSet<>(campaign.dncLists());
        lists.add(optOutListOf(campaign));
        lists.add(DialerRuntime.INBOUND_DNC_LIST);
        return lists;
    }

    /**
     * Follows a run's opt-outs: each is recorded in the ledger under the run's list (the run records it too while
     * it lasts; the write is idempotent, and after the run it is the only one), added at once to every run of this
     * node that honours that list, and, in a cluster, announced to the other nodes. It goes on for
     * {@link CallRegistry#DEFAULT_RETENTION} after the run ends: the run's ended calls are remembered that long,
     * so a callee's opt-out key still arrives. The run's own DNC list is registered (for the opt-outs of other
     * runs, inbound callers and other nodes) until the run ends.
     */
    private void followOptOuts(String campaignId, Mono<RunReport> report, DncList dnc, String listName,
                               Set<String> honoured) {
        OptOutList list = new OptOutList(listName, Set.copyOf(honoured), dnc);
        optOutLists.put(campaignId, list);
        // An opt-out recorded while the run was being built (after launch read the ledger) came before the
        // registration above: read the lists again, now that any later one is applied.
        Mono<Void> readAgain = Flux.fromIterable(honoured).concatMap(name -> runtime.ledger().dncNumbers(name))
                .doOnNext(dnc::add).then()
                .onErrorResume(e -> {
                    log.warn("campaign {}: DNC lists not read again: {}", campaignId, e.toString());
                    return Mono.empty();
                });
        // Until the run is over, however it ends.
        Mono<Boolean> over = report.then(Mono.just(Boolean.TRUE)).onErrorReturn(Boolean.TRUE);
        Mono<Void> registered = over.doFinally(signal -> optOutLists.remove(campaignId, list)).then();
        Flux<Void> follow = runtime.calls().bus().events(campaignId).ofType(CallEvent.OptedOut.class)
                .flatMap(optedOut -> optedOut(campaignId, listName, optedOut.number()), Integer.MAX_VALUE)
                .takeUntilOther(over.then(Mono.delay(CallRegistry.DEFAULT_RETENTION, runtime.scheduler())));
        Disposable.Swap follower = Disposables.swap();
        optOutFollowers.add(follower);
        follower.update(Flux.merge(readAgain, registered, follow)
                .doFinally(signal -> {
                    optOutLists.remove(campaignId, list);
                    optOutFollowers.remove(follower);
                })
                .subscribe(v -> { }, e -> log.warn("campaign {}: opt-outs no longer followed: {}", campaignId,
                        e.toString())));
    }

    /** One opt-out heard on a call of a campaign run here: recorded, applied to this node's runs, announced. */
    private Mono<Void> optedOut(String campaignId, String listName, String number) {
        Mono<Void> record = runtime.ledger().addDnc(listName, number, runtime.clock().instant())
                .onErrorResume(e -> {
                    log.warn("campaign {}: opt-out of {} not recorded in the ledger: {}", campaignId,
                            Masking.phone(number), e.toString());
                    return Mono.empty();
                });
        return record.then(Mono.fromRunnable(() -> applyOptOut(new ControlEvent.OptOut(listName, number))))
                .then(announce(campaignId, listName, number));
    }

    /** In a cluster, announces an opt-out to every node (this one included, harmlessly); else nothing. */
    private Mono<Void> announce(String campaignId, String listName, String number) {
        ClusterNode node = cluster;
        if (node == null) {
            return Mono.empty();
        }
        return node.control().optOut(listName, number).then()
                .onErrorResume(e -> {
                    log.warn("campaign {}: opt-out of {} not announced to the other nodes: {}", campaignId,
                            Masking.phone(number), e.toString());
                    return Mono.empty();
                });
    }

    /**
     * Follows the opt-outs of inbound callers (recorded in the ledger by {@link DialerRuntime}): each is added at
     * once to every run here, all of which honour that list, and announced to the other nodes in a cluster. Call
     * once; ends on {@link #close()}.
     */
    void followInboundOptOuts() {
        optOutFollowers.add(runtime.calls().bus().events(io.chimedialer.core.calls.EventBus.INBOUND)
                .ofType(CallEvent.OptedOut.class)
                .flatMap(optedOut -> Mono.fromRunnable(() -> applyOptOut(new ControlEvent.OptOut(
                                DialerRuntime.INBOUND_DNC_LIST, optedOut.number())))
                        .then(announce("inbound", DialerRuntime.INBOUND_DNC_LIST, optedOut.number())),
                        Integer.MAX_VALUE)
                .subscribe(v -> { }, e -> log.warn("inbound opt-outs no longer followed: {}", e.toString())));
    }

    /** Adds an opt-out recorded under a list to every run here that honours that list. */
    private void applyOptOut(ControlEvent.OptOut optOut) {
        optOutLists.forEach((campaignId, list) -> {
            if (list.honours().contains(optOut.list())) {
                try {
                    if (list.dnc().add(optOut.number())) {
                        log.info("campaign {}: {} opted out (DNC list {}); not dialed from now on", campaignId,
                                Masking.phone(optOut.number()), optOut.list());
                    }
                } catch (IllegalArgumentException e) {
                    log.warn("campaign {}: opt-out of {} ignored: {}", campaignId,
                            Masking.phone(optOut.number()), e.getMessage());
                }
            }
        });
    }

    /**
     * Whether this node's running run of the campaign refuses the number: its DNC list holds it (from its files,
     * from the ledger at launch, or opted out since on any of the lists it honours). False when this node runs
     * no run of it.
     */
    public boolean refuses(String campaignId, String number) {
        OptOutList list = optOutLists.get(campaignId);
        return list != null && list.dnc().contains(number);
    }

    /** A running run's DNC list, the list its opt-outs are recorded under, and the lists it honours. */
    private record OptOutList(String name, Set<String> honours, DncList dnc) {
    }

    /** Logs one progress line of a run: its state, contacts done and left, attempts, live calls, answer rate. */
    static void logProgress(CampaignRun run, String remaining) {
        RunReport r = run.report();
        long ended = r.outcomes().values().stream().mapToLong(Long::longValue).sum();
        long answered = r.outcomes().getOrDefault(io.chimedialer.core.domain.Disposition.ANSWERED, 0L);
        StringBuilder regions = new StringBuilder();
        r.regions().forEach((name, g) -> regions.append(' ').append(name).append('=').append(g.attempts())
                .append(String.format(java.util.Locale.ROOT, "@%.1f/s", g.recentCps())));
        log.info("campaign {} progress: {}, {} of {} contacts dialed, {} remaining, {} waiting for their window,"
                        + " {} follow-ups pending (next due {}), {} attempts, {} live, {} answered of {} ended ({}%),"
                        + " attempts by Region (and Creates per second over the last 10 s):{}", run.id(), r.state(),
                r.contacts().dialed(), r.contacts().total(), remaining, run.waiting(), r.followUps().pending(),
                r.followUps().nextDue() == null ? "-" : r.followUps().nextDue(), r.attempts(), run.placedCalls(),
                answered, ended, ended == 0 ? 0 : Math.round(100.0 * answered / ended), regions);
    }

    /** A started run and its report. */
    public record Started(CampaignRun run, Mono<RunReport> report) {
    }

    /** Counts the data rows of a CSV (lines after the header); -1 when it cannot be read. */
    static long countRows(Path csv) {
        try (BufferedReader reader = new BufferedReader(io.chimedialer.core.contacts.ListReader.open(csv))) {
            long lines = 0;
            while (reader.readLine() != null) {
                lines++;
            }
            return Math.max(0, lines - 1);
        } catch (IOException e) {
            return -1;
        }
    }

    /** The run of a campaign, if this process has one. */
    public CampaignRun run(String campaignId) {
        Entry e = runs.get(campaignId);
        return e == null ? null : e.run;
    }

    /**
     * The run of this campaign: at once when this process has launched it, else when it does (a restarted node
     * answers invocations of calls placed before the restart once the campaign is launched again). Callers bound
     * the wait.
     */
    public Mono<CampaignRun> launched(String campaignId) {
        Entry e = runs.get(campaignId);
        if (e != null) {
            return Mono.just(e.run);
        }
        return launches.computeIfAbsent(campaignId, k -> Sinks.one()).asMono();
    }

    /**
     * The configuration of this campaign as soon as its launch here has begun (before its lists are read and its
     * run resumes the previous run's calls), else when it begins. Callers bound the wait.
     */
    public Mono<CampaignConfig> launchingConfig(String campaignId) {
        CampaignConfig config = launching.get(campaignId);
        if (config != null) {
            return Mono.just(config);
        }
        return launchingSignals.computeIfAbsent(campaignId, k -> Sinks.one()).asMono()
                .map(first -> launching.getOrDefault(campaignId, first));
    }

    /** The configuration of the campaign run in this process under this id, or null. */
    public CampaignConfig campaignConfig(String campaignId) {
        Entry e = runs.get(campaignId);
        return e == null ? null : e.config;
    }

    // ---- control API ----

    @Override
    public Mono<JsonNode> start(JsonNode request) {
        return start(request, null);
    }

    @Override
    public Mono<JsonNode> startWithList(JsonNode request, Path contacts) {
        return start(request, Objects.requireNonNull(contacts, "contacts"));
    }

    @Override
    public Path uploadDirectory() {
        return UPLOADS;
    }

    @Override
    public long maxUploadBytes() {
        DialerConfig cfg = config;
        return cfg == null ? DialerConfig.Server.DEFAULT_MAX_UPLOAD_SIZE : cfg.server().maxUploadSize();
    }

    /** Starts a campaign; {@code uploaded}, when not null, is its list as the control API wrote it to disk. */
    private Mono<JsonNode> start(JsonNode request, Path uploaded) {
        return Mono.<JsonNode>fromCallable(() -> {
            DialerConfig cfg = config;
            if (cfg == null) {
                throw new ControlException(404, "this process has no configuration to start campaigns from");
            }
            String name = text(request, "campaign");
            CampaignConfig campaign;
            if (request.hasNonNull("definition")) {
                if (name == null) {
                    throw new ControlException(400, "'campaign' (the new campaign's name) is required with 'definition'");
                }
                try {
                    campaign = ConfigLoader.parseCampaign(name, request.get("definition").asText(), null, cfg);
                } catch (ConfigException e) {
                    throw new ControlException(400, e.getMessage());
                }
            } else {
                if (name == null) {
                    throw new ControlException(400, "'campaign' is required: the name of a configured campaign");
                }
                campaign = cfg.campaign(name).orElseThrow(() -> new ControlException(404,
                        "no campaign named '" + name + "' is configured" + configuredNames(cfg)));
            }
            if (request.hasNonNull("definition")) {
                definitions.put(name, request.get("definition").asText());
            } else {
                definitions.remove(name);
            }
            Path contacts;
            if (uploaded != null) {
                contacts = uploaded;
            } else if (request.hasNonNull("contacts-csv")) {
                // Kept (not a temporary file), so that a restarted serve can resume the campaign from it.
                Files.createDirectories(UPLOADS);
                contacts = Files.createTempFile(UPLOADS, name + "-", ".csv");
                Files.writeString(contacts, request.get("contacts-csv").asText(), StandardCharsets.UTF_8);
            } else {
                contacts = Path.of(campaign.contacts());
            }
            boolean resume = !request.hasNonNull("resume") || request.get("resume").asBoolean(true);
            CampaignRun run = cluster == null ? launch(campaign, contacts, resume).run()
                    : launchEverywhere(campaign, contacts, resume,
                            request.hasNonNull("definition") ? request.get("definition").asText() : null);
            return cluster == null ? status(run) : withLedger(status(run));
        }).subscribeOn(runtime.io());
    }

    /** The configured campaigns for a 404, e.g. {@code " (configured: demo, reminders)"}; at most 10 names. */
    private static String configuredNames(DialerConfig cfg) {
        List<String> names = new ArrayList<>(cfg.campaigns().keySet());
        if (names.isEmpty()) {
            return " (none is configured)";
        }
        String shown = String.join(", ", names.subList(0, Math.min(10, names.size())));
        return " (configured: " + shown + (names.size() > 10 ? ", ..." : "") + ")";
    }

    @Override
    public Mono<JsonNode> list() {
        return Mono.fromCallable(() -> {
            ArrayNode array = JSON.createArrayNode();
            runs.values().forEach(e -> array.add(withLedger(status(e.run))));
            List<Ledger.CampaignRecord> known = runtime.ledger().campaigns().collectList()
                    .onErrorResume(UnsupportedOperationException.class, e -> Mono.just(List.of()))
                    .block(Duration.ofSeconds(30));
            for (Ledger.CampaignRecord record : known == null ? List.<Ledger.CampaignRecord>of() : known) {
                if (!runs.containsKey(record.campaignId())) {
                    ledgerView(record.campaignId()).ifPresent(v -> array.add(ledgerStatus(record.campaignId(), v)));
                }
            }
            ObjectNode out = JSON.createObjectNode();
            out.set("campaigns", array);
            return (JsonNode) out;
        }).subscribeOn(runtime.io());
    }


    @Override
    public Mono<JsonNode> status(String campaignId) {
        return Mono.fromCallable(() -> {
            Entry e = runs.get(campaignId);
            if (e != null) {
                return (JsonNode) withLedger(status(e.run));
            }
            return ledgerView(campaignId).map(v -> (JsonNode) ledgerStatus(campaignId, v))
                    .orElseThrow(() -> new ControlException(404, "no campaign '" + campaignId + "'"));
        }).subscribeOn(runtime.io());
    }

    @Override
    public Mono<Flux<String>> results(String campaignId) {
        return Mono.fromCallable(() -> {
            Ledger.CampaignRecord record = ledgerCampaign(campaignId);
            if (record == null && !runs.containsKey(campaignId)) {
                throw new ControlException(404, "no campaign '" + campaignId + "'");
            }
            return io.chimedialer.core.ledger.LedgerExport.csvLines(runtime.ledger().attempts(campaignId));
        }).subscribeOn(runtime.io());
    }

    @Override
    public Mono<Flux<String>> contacts(String campaignId) {
        return Mono.fromCallable(() -> {
            requireKnown(campaignId);
            return io.chimedialer.core.ledger.LedgerExport.contactCsvLines(runtime.ledger().contacts(campaignId));
        }).subscribeOn(runtime.io());
    }

    @Override
    public Mono<Flux<String>> optOuts(String campaignId) {
        return Mono.fromCallable(() -> {
            requireKnown(campaignId);
            Entry entry = runs.get(campaignId);
            DialerConfig cfg = config;
            CampaignConfig campaign = entry != null ? entry.config
                    : cfg == null ? null : cfg.campaign(campaignId).orElse(null);
            // A campaign neither run here nor configured (an ad-hoc definition): its own list and the inbound callers'.
            Set<String> lists = campaign != null ? honouredLists(campaign)
                    : new LinkedHashSet<>(List.of("campaign:" + campaignId, DialerRuntime.INBOUND_DNC_LIST));
            // Sorted and without repeats, as dialer export --dnc writes them: opt-outs are few beside a list.
            Flux<String> numbers = Flux.fromIterable(lists).concatMap(list -> runtime.ledger().dncNumbers(list))
                    .collect(java.util.TreeSet<String>::new, java.util.TreeSet::add)
                    .flatMapIterable(sorted -> sorted).map(n -> n + "\n");
            return Flux.concat(Flux.just("# Opt-outs the ledger holds for campaign " + campaignId + " (lists: "
                    + String.join(", ", lists) + ")\n", "# One number per line; add this file to a campaign's "
                    + "dnc-lists.\n"), numbers);
        }).subscribeOn(runtime.io());
    }

    /** 404 unless the ledger or this node knows the campaign (blocking). */
    private void requireKnown(String campaignId) {
        if (!runs.containsKey(campaignId) && ledgerCampaign(campaignId) == null) {
            throw new ControlException(404, "no campaign '" + campaignId + "'");
        }
    }

    /**
     * Adds the campaign's whole-life figures from the ledger to a run's status and, in a cluster, its cluster-wide
     * view ({@link #clusterView}); a clustered run's {@code remaining} is the cluster's (its list's size is not
     * known to one node). Blocking: call it off the event loop.
     */
    private ObjectNode withLedger(ObjectNode status) {
        String campaignId = status.path("id").asText();
        ledgerView(campaignId).ifPresent(v -> status.set("ledger", v));
        status.put("running", true);
        withCluster(campaignId, status);
        return status;
    }

    /** In a cluster: adds {@code node}, {@code cluster} and the cluster's {@code remaining} to a status. */
    private void withCluster(String campaignId, ObjectNode status) {
        ClusterNode node = cluster;
        if (node == null) {
            return;
        }
        status.put("node", node.nodeId());
        clusterView(campaignId).ifPresent(view -> {
            status.set("cluster", view);
            if (!status.has("remaining") || status.path("remaining").asLong() < 0) {
                status.put("remaining", view.path("remaining").asLong());
            }
        });
    }

    /** The window over which {@code cluster.regions.*.callsPerSecond} is measured. */
    static final Duration RATE_WINDOW = Duration.ofMinutes(1);

    /**
     * The campaign over the whole cluster, the same on every node: contacts by state in the shared list, attempts
     * and outcomes from the ledger (every node's), the answer rate, per Region its attempts, calls in progress and
     * Creates per second over the last {@link #RATE_WINDOW}, and per node what it holds. Empty when this node is
     * not clustered or the cluster cannot be read (logged). Blocking.
     */
    private java.util.Optional<ObjectNode> clusterView(String campaignId) {
        ClusterNode node = cluster;
        if (node == null) {
            return java.util.Optional.empty();
        }
        ClusterNode.CampaignSpread spread;
        List<Ledger.AttemptCount> counts;
        Instant now = runtime.clock().instant();
        try {
            spread = node.spread(campaignId).block(Duration.ofSeconds(30));
            counts = runtime.ledger().attemptCounts(campaignId, now.minus(RATE_WINDOW)).collectList()
                    .block(Duration.ofSeconds(30));
        } catch (RuntimeException e) {
            log.warn("campaign {}: its cluster-wide view could not be read: {}", campaignId, e.toString());
            return java.util.Optional.empty();
        }
        if (spread == null || counts == null) {
            return java.util.Optional.empty();
        }
        remainingCache(campaignId).set(spread.remaining());
        ObjectNode view = JSON.createObjectNode();
        ObjectNode contacts = view.putObject("contacts");
        contacts.put("total", spread.total());
        new java.util.TreeMap<>(spread.contacts()).forEach(contacts::put);
        view.put("remaining", spread.remaining());
        long attempts = 0;
        long withdrawn = 0;
        long live = 0;
        Map<String, Long> outcomes = new java.util.TreeMap<>();
        Map<String, long[]> regions = new java.util.TreeMap<>();
        for (Ledger.AttemptCount c : counts) {
            if (io.chimedialer.core.ledger.JdbcLedger.WITHDRAWN.equals(c.result())) {
                withdrawn += c.count();
                continue;
            }
            attempts += c.count();
            long[] region = c.region() == null ? null : regions.computeIfAbsent(c.region(), k -> new long[3]);
            if (region != null) {
                region[0] += c.count();
                region[2] += c.placedSince();
            }
            if (c.result() == null) {
                if (c.placed()) {
                    live += c.count();
                    if (region != null) {
                        region[1] += c.count();
                    }
                }
            } else {
                outcomes.merge(c.result(), c.count(), Long::sum);
            }
        }
        view.put("attempts", attempts);
        view.put("withdrawn", withdrawn);
        view.put("live", live);
        view.set("outcomes", JSON.valueToTree(outcomes));
        long ended = outcomes.values().stream().mapToLong(Long::longValue).sum();
        long answered = outcomes.getOrDefault(io.chimedialer.core.domain.Disposition.ANSWERED.name(), 0L);
        view.put("answerRate", ended == 0 ? 0.0 : Math.round(1000.0 * answered / ended) / 1000.0);
        ObjectNode byRegion = view.putObject("regions");
        Map<String, io.chimedialer.core.cluster.RegionShare> totals = node.limits().totals();
        regions.forEach((name, v) -> {
            ObjectNode r = byRegion.putObject(name);
            r.put("attempts", v[0]);
            r.put("live", v[1]);
            r.put("callsPerSecond", Math.round(100.0 * v[2] / RATE_WINDOW.toSeconds()) / 100.0);
            io.chimedialer.core.cluster.RegionShare total = totals.get(name);
            if (total != null) {
                r.put("configuredCallsPerSecond", total.callsPerSecond());
                r.put("maxActiveCalls", total.maxActiveCalls());
            }
        });
        ObjectNode byNode = view.putObject("nodes");
        spread.nodes().forEach((id, h) -> {
            ObjectNode n = byNode.putObject(id);
            n.put("claimed", h.claimed());
            n.put("live", h.live());
        });
        return java.util.Optional.of(view);
    }

    /** Contacts of a clustered campaign not yet final anywhere, as last read (refreshed every few seconds). */
    private final Map<String, ClusterRemaining> remaining = new ConcurrentHashMap<>();

    private ClusterRemaining remainingCache(String campaignId) {
        return remaining.computeIfAbsent(campaignId, ClusterRemaining::new);
    }

    /**
     * A run's contacts not yet in a final state: its own count when its list's size is known here, else (a
     * clustered run) the cluster's, as last read; never negative.
     */
    long remaining(CampaignRun run) {
        long own = run.remaining();
        if (own >= 0 || cluster == null) {
            return Math.max(0, own);
        }
        return remainingCache(run.id()).get();
    }

    /** The cluster's remaining contacts of one campaign, read again at most every {@link #REFRESH}, off the caller. */
    private final class ClusterRemaining {
        private static final long REFRESH = Duration.ofSeconds(5).toNanos();
        private final String campaignId;
        private final java.util.concurrent.atomic.AtomicBoolean reading = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile long value;
        private volatile long readAt = System.nanoTime() - REFRESH;

        ClusterRemaining(String campaignId) {
            this.campaignId = campaignId;
        }

        void set(long remaining) {
            value = remaining;
            readAt = System.nanoTime();
        }

        long get() {
            ClusterNode node = cluster;
            if (node != null && System.nanoTime() - readAt >= REFRESH && reading.compareAndSet(false, true)) {
                node.spread(campaignId).doFinally(signal -> reading.set(false))
                        .subscribe(s -> set(s.remaining()), e -> log.debug("campaign {}: remaining not read: {}",
                                campaignId, e.toString()));
            }
            return value;
        }
    }

    /** Resumes a campaign this node does not run (the ledger holds it paused or running): started again. */
    private Mono<JsonNode> resumeFromLedger(String campaignId) {
        return Mono.fromCallable(() -> {
            Ledger.CampaignRecord record = ledgerCampaign(campaignId);
            if (record == null) {
                throw new ControlException(404, "no campaign '" + campaignId + "'");
            }
            if (record.state() == Ledger.CampaignState.CANCELLED || record.state() == Ledger.CampaignState.COMPLETED
                    || record.state() == Ledger.CampaignState.ENDED) {
                throw new ControlException(409, "campaign '" + campaignId + "' is " + record.state()
                        + ": nothing to resume; start it again to dial its contacts afresh");
            }
            return (JsonNode) withLedger(status(relaunch(record)));
        }).subscribeOn(runtime.io());
    }

    @Override
    public Mono<JsonNode> act(String campaignId, String action) {
        ClusterNode clustered = cluster;
        if (clustered != null && runs.get(campaignId) == null && List.of("pause", "resume", "cancel").contains(action)) {
            // A node that does not run the campaign still passes the command on to the nodes that do.
            ControlEvent.Command command = ControlEvent.Command.valueOf(action.toUpperCase(java.util.Locale.ROOT));
            return clustered.control().publish(command, campaignId, null, null).subscribeOn(runtime.io())
                    .map(event -> {
                        ObjectNode out = JSON.createObjectNode();
                        out.put("id", campaignId);
                        out.put("published", event.command().name());
                        out.put("seq", event.seq());
                        return (JsonNode) out;
                    });
        }
        if ("resume".equals(action) && clustered == null && runs.get(campaignId) == null) {
            return resumeFromLedger(campaignId);
        }
        return Mono.fromSupplier(() -> {
            CampaignRun run = require(campaignId);
            switch (action) {
                case "pause" -> run.pause();
                case "resume" -> run.resume();
                case "cancel" -> run.cancel();
                default -> throw new ControlException(404, "unknown action '" + action
                        + "'; use pause, resume or cancel");
            }
            refuseIfNoEffect(campaignId, action, run.state());
            return run;
        }).flatMap(run -> {
            ClusterNode node = cluster;
            if (node == null) {
                return Mono.just(status(run));
            }
            // Applied here at once, and published so that every node (this one again, harmlessly) applies it.
            ControlEvent.Command command = ControlEvent.Command.valueOf(action.toUpperCase(java.util.Locale.ROOT));
            return node.control().publish(command, campaignId, null, null)
                    .subscribeOn(runtime.io())
                    .then(Mono.fromCallable(() -> (JsonNode) withLedger(status(run))).subscribeOn(runtime.io()));
        });
    }

    @Override
    public Mono<JsonNode> cluster() {
        ClusterNode node = cluster;
        if (node == null) {
            return ControlApi.super.cluster();
        }
        return node.status().map(s -> (JsonNode) s.toJson());
    }

    @Override
    public Mono<JsonNode> setRate(String region, JsonNode request) {
        return Mono.fromSupplier(() -> {
            RegionPacing pacing = runtime.regions().get(region);
            if (pacing == null) {
                throw new ControlException(404, "no Region named '" + region + "'");
            }
            JsonNode cps = request.get("calls-per-second");
            if (cps == null || !cps.isNumber() || !(cps.asDouble() > 0)) {
                throw new ControlException(400, "'calls-per-second' must be a number > 0");
            }
            double max = pacing.config().callsPerSecond() * RegionPacing.MAX_RATE_CHANGE;
            if (cps.asDouble() > max) {
                throw new ControlException(400, "'calls-per-second' may be at most " + max + " for Region " + region
                        + " (" + RegionPacing.MAX_RATE_CHANGE + " times its configured rate); restart with a new config"
                        + " to go higher");
            }
            ClusterNode node = cluster;
            if (node != null) {
                // The rate is the Region's total over the cluster: every node applies it to its share.
                node.limits().setTotalRate(region, cps.asDouble());
            } else {
                pacing.rate().setConfiguredRate(cps.asDouble());
            }
            log.info("Region {} rate set to {} calls/s", region, cps.asDouble());
            ObjectNode out = JSON.createObjectNode();
            out.put("region", region);
            out.put("configuredCallsPerSecond", pacing.rate().configuredRate());
            out.put("effectiveCallsPerSecond", pacing.rate().effectiveRate());
            return out;
        }).flatMap(out -> {
            ClusterNode node = cluster;
            return node == null ? Mono.just(out)
                    : node.control().setRate(region, request.get("calls-per-second").asDouble())
                            .subscribeOn(runtime.io()).thenReturn(out);
        });
    }

    /**
     * What the ledger keeps of a campaign so that a restarted {@code serve} can start it again: its contact list's
     * path and, for a campaign defined through the control API, its YAML definition.
     */
    private String storedDefinition(String name, Path contacts) {
        ObjectNode node = JSON.createObjectNode();
        node.put("contacts", contacts.toAbsolutePath().toString());
        String yaml = definitions.get(name);
        if (yaml != null) {
            node.put("definition", yaml);
        }
        return node.toString();
    }

    /**
     * On {@code serve}'s start: the campaigns the ledger knows. Those that were running when the previous process
     * stopped are started again, resuming from the ledger, when {@code resumeRunning}; paused, cancelled and
     * completed ones are listed by the control API from the ledger, and a paused one is started again by its
     * {@code resume}. A campaign that cannot be started again (its definition or contact list is gone) is logged
     * and listed.
     *
     * @return the campaigns started again
     */
    public List<String> restore(boolean resumeRunning) {
        List<Ledger.CampaignRecord> known = runtime.ledger().campaigns().collectList()
                .onErrorResume(UnsupportedOperationException.class, e -> Mono.just(List.of()))
                .block(Duration.ofSeconds(30));
        List<String> resumed = new ArrayList<>();
        for (Ledger.CampaignRecord record : known == null ? List.<Ledger.CampaignRecord>of() : known) {
            if (record.state() != Ledger.CampaignState.RUNNING || runs.containsKey(record.campaignId())) {
                continue;
            }
            if (!resumeRunning) {
                log.info("campaign {} was running when this node stopped; not resumed (--no-resume)",
                        record.campaignId());
                continue;
            }
            try {
                relaunch(record);
                resumed.add(record.campaignId());
            } catch (IOException | RuntimeException e) {
                log.error("campaign {} was running when this node stopped and cannot be resumed: {}",
                        record.campaignId(), e.getMessage());
            }
        }
        return resumed;
    }

    /** Starts a campaign again from what the ledger keeps of it, resuming. */
    private CampaignRun relaunch(Ledger.CampaignRecord record) throws IOException {
        DialerConfig cfg = config;
        String name = record.campaignId();
        JsonNode stored = null;
        try {
            stored = record.definition() == null ? null : JSON.readTree(record.definition());
        } catch (IOException notJson) {
            // written by an earlier version: only the configured campaign can be started again
        }
        CampaignConfig campaign;
        String yaml = stored == null ? null : text(stored, "definition");
        if (yaml != null && cfg != null) {
            try {
                campaign = ConfigLoader.parseCampaign(name, yaml, null, cfg);
            } catch (ConfigException e) {
                throw new ControlException(409, "campaign '" + name + "': its stored definition no longer loads: "
                        + e.getMessage());
            }
            definitions.put(name, yaml);
        } else {
            campaign = cfg == null ? null : cfg.campaign(name).orElse(null);
        }
        if (campaign == null) {
            throw new ControlException(409, "campaign '" + name + "' is no longer in the configuration");
        }
        String path = stored == null ? null : text(stored, "contacts");
        Path contacts = path != null ? Path.of(path) : campaign.contacts() == null ? null : Path.of(campaign.contacts());
        if (contacts == null) {
            throw new ControlException(409, "campaign '" + name + "' has no contact list to resume from");
        }
        log.info("campaign {}: started again from the ledger (state {}), resuming", name, record.state());
        return cluster == null ? launch(campaign, contacts, true).run() : launchEverywhere(campaign, contacts, true,
                yaml);
    }

    /**
     * The campaign's figures over its whole life, from the ledger: its state there and its contacts by status
     * (every run, every node). Empty when the ledger does not hold it.
     */
    private java.util.Optional<ObjectNode> ledgerView(String campaignId) {
        Ledger.CampaignRecord record = ledgerCampaign(campaignId);
        if (record == null) {
            return java.util.Optional.empty();
        }
        Map<String, Long> counts = runtime.ledger().contactCounts(campaignId)
                .onErrorResume(UnsupportedOperationException.class, e -> Mono.just(Map.of()))
                .block(Duration.ofSeconds(30));
        ObjectNode node = JSON.createObjectNode();
        node.put("state", record.state().name());
        node.put("updatedAt", record.updatedAt().toString());
        node.set("contactsByStatus", JSON.valueToTree(counts == null ? Map.of() : counts));
        return java.util.Optional.of(node);
    }

    /** The campaign as the ledger holds it, or null (blocking: call it off the event loop). */
    private Ledger.CampaignRecord ledgerCampaign(String campaignId) {
        return runtime.ledger().campaign(campaignId)
                .onErrorResume(UnsupportedOperationException.class, e -> Mono.empty())
                .block(Duration.ofSeconds(30));
    }

    /** The status of a campaign this node does not run: what the ledger holds of it. */
    private ObjectNode ledgerStatus(String campaignId, ObjectNode view) {
        ObjectNode node = JSON.createObjectNode();
        node.put("id", campaignId);
        node.put("campaign", campaignId);
        node.put("state", view.path("state").asText());
        node.put("running", false);
        node.set("ledger", view);
        withCluster(campaignId, node);
        return node;
    }

    /**
     * 409 when an action left the run in a state it cannot have asked for: a pause or resume of a run that is
     * over or being cancelled, a cancel of a run that is over. Repeating an action (pause when paused) is fine.
     */
    static void refuseIfNoEffect(String campaignId, String action, CampaignRun.State state) {
        boolean done = switch (action) {
            case "pause" -> state == CampaignRun.State.PAUSED;
            case "resume" -> state == CampaignRun.State.RUNNING || state == CampaignRun.State.SCHEDULED;
            case "cancel" -> state == CampaignRun.State.CANCELLING || state == CampaignRun.State.CANCELLED;
            default -> true;
        };
        if (done) {
            return;
        }
        String why = switch (state) {
            case CANCELLING -> "it is being cancelled";
            case CANCELLED -> "it was cancelled; start it again with POST /v1/campaigns";
            case COMPLETED -> "it has completed; start it again with POST /v1/campaigns";
            case ENDING, ENDED -> "it reached its scheduled end; start it again with a later end";
            case FAILED -> "it has failed; start it again with POST /v1/campaigns";
            case CREATED -> "it is starting; try again in a moment";
            default -> "it is " + state.name().toLowerCase(java.util.Locale.ROOT) + " now";
        };
        throw new ControlException(409, "campaign " + campaignId + " cannot " + action + ": " + why);
    }

    private CampaignRun require(String campaignId) {
        Entry e = runs.get(campaignId);
        if (e == null) {
            throw new ControlException(404, "no campaign '" + campaignId + "' on this node");
        }
        return e.run;
    }

    /** The status JSON of a run: state and counters. */
    public static ObjectNode status(CampaignRun run) {
        RunReport report = run.report();
        ObjectNode node = JSON.valueToTree(report);
        node.put("id", run.id());
        node.put("live", run.placedCalls());
        node.put("remaining", run.remaining());
        node.put("followUpsPending", run.counters().followUpsPending.sum());
        node.put("claimsLost", run.counters().claimsLost.sum());
        return node;
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Ledger.CampaignState ledgerState(CampaignRun.State state) {
        return switch (state) {
            case RUNNING -> Ledger.CampaignState.RUNNING;
            case PAUSED -> Ledger.CampaignState.PAUSED;
            case CANCELLING, CANCELLED -> Ledger.CampaignState.CANCELLED;
            case COMPLETED -> Ledger.CampaignState.COMPLETED;
            case ENDED -> Ledger.CampaignState.ENDED;
            default -> null;
        };
    }

    /** Pauses every run (no new Creates); used on shutdown. */
    public void pauseAll() {
        shuttingDown = true;
        runs.values().forEach(e -> e.run.pause());
    }

    /**
     * Calls in progress at Chime over all runs (Create accepted, not ended). Admitted calls a pause holds before
     * their Create are not counted: they are never sent while paused.
     */
    public long liveCalls() {
        return runs.values().stream().mapToLong(e -> e.run.placedCalls()).sum();
    }

    /** Every run's id. */
    public List<String> ids() {
        return new ArrayList<>(runs.keySet());
    }

    @Override
    public void close() {
        Disposable events = controlEvents;
        if (events != null) {
            events.dispose();
        }
        optOutFollowers.dispose();
        runs.values().forEach(e -> e.run.dispose());
        CompletionNotifier n = notifier;
        if (n != null) {
            // A notice due as the dialer stops gets a moment to arrive; one still retrying is abandoned (logged).
            n.awaitIdle(CLOSE_NOTICE_GRACE);
            n.close();
        }
    }

    /** How long {@link #close()} waits for completion notices in progress. */
    static final Duration CLOSE_NOTICE_GRACE = Duration.ofSeconds(5);

    private record Entry(CampaignRun run, Mono<RunReport> report, CampaignConfig config, Path contacts) {
        boolean finished() {
            CampaignRun.State s = run.state();
            return s == CampaignRun.State.COMPLETED || s == CampaignRun.State.CANCELLED
                    || s == CampaignRun.State.ENDED || s == CampaignRun.State.FAILED;
        }
    }

}
