package io.chimedialer.core.campaign;

import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.contacts.CallingWindow;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.DncList;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.core.pacing.DialerSettings;
import io.chimedialer.core.pacing.RegionPacing;
import io.chimedialer.core.pacing.ResilientCreate;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Everything a {@link CampaignRun} needs; built by the composition root with {@link CampaignRun#setup}:
 * <pre>{@code
 * CampaignRun.setup(config).contacts(rows, total).dnc(list, "campaign:x").window(window, horizon)
 *         .pacing(regions, create, originator).calls(registry).ledger(ledger).metrics(metrics)
 *         .time(scheduler).attemptIds(ids).build();
 * }</pre>
 * Every setting without a default must be given; {@link Builder#build()} names the first one missing.
 * Immutable and thread-safe.
 */
public final class RunSetup {
    /** The list's size when it is not known in advance. */
    public static final long UNKNOWN_TOTAL = -1;
    /** How many contacts may wait for their calling window at once, unless set. */
    public static final int DEFAULT_MAX_WAITING = 10_000;
    /** How long an UNKNOWN Create waits for its NEW_OUTBOUND_CALL before it is closed, unless configured. */
    public static final Duration DEFAULT_RECONCILE_GRACE = CampaignConfig.DEFAULT_RECONCILE_GRACE;
    /**
     * How long a contact waits before it is dialed again after its attempt was not sent, or was refused for
     * throttling or capacity after every retry, unless set.
     */
    public static final Duration DEFAULT_REDIAL_WITHDRAWN_AFTER = Duration.ofSeconds(30);

    private final CampaignConfig config;
    private final Flux<ContactRow> source;
    private final long expectedTotal;
    private final DncList dnc;
    private final String dncListName;
    private final CallingWindow window;
    private final Instant horizon;
    private final int maxWaiting;
    private final Map<String, RegionPacing> regions;
    private final ResilientCreate create;
    private final MeteredOriginator originator;
    private final CallRegistry registry;
    private final Ledger ledger;
    private final DialerMetrics metrics;
    private final Scheduler scheduler;
    private final Supplier<String> attemptIds;
    private final DialerSettings dialer;
    private final Duration reconcileGrace;
    private final Duration redialWithdrawnAfter;
    private final boolean resume;
    private final Map<String, String> arguments;

    private RunSetup(Builder b) {
        config = b.config;
        source = Objects.requireNonNull(b.source, "contacts: source");
        expectedTotal = b.expectedTotal;
        dnc = Objects.requireNonNull(b.dnc, "dnc");
        dncListName = b.dncListName;
        window = Objects.requireNonNull(b.window, "window");
        horizon = Objects.requireNonNull(b.horizon, "window: horizon");
        maxWaiting = b.maxWaiting;
        regions = Objects.requireNonNull(b.regions, "pacing: regions");
        create = Objects.requireNonNull(b.create, "pacing: create");
        originator = Objects.requireNonNull(b.originator, "pacing: originator");
        registry = Objects.requireNonNull(b.registry, "calls");
        ledger = Objects.requireNonNull(b.ledger, "ledger");
        metrics = Objects.requireNonNull(b.metrics, "metrics");
        scheduler = Objects.requireNonNull(b.scheduler, "time");
        attemptIds = Objects.requireNonNull(b.attemptIds, "attemptIds");
        dialer = b.dialer;
        reconcileGrace = b.reconcileGrace;
        redialWithdrawnAfter = b.redialWithdrawnAfter;
        resume = b.resume;
        arguments = b.arguments;
        for (String region : config.regions().keySet()) {
            if (!regions.containsKey(region)) {
                throw new IllegalArgumentException("campaigns." + config.name() + ".regions: Region '" + region
                        + "' is not configured");
            }
        }
    }

    /** The campaign. */
    public CampaignConfig config() {
        return config;
    }

    /** The contact rows, subscribed once (reading may block: subscribe it on an I/O scheduler). */
    public Flux<ContactRow> source() {
        return source;
    }

    /** The number of rows in the list when known (for progress), else {@link #UNKNOWN_TOTAL}. */
    public long expectedTotal() {
        return expectedTotal;
    }

    /** The suppression list checked before each dial; opt-outs are added to it. */
    public DncList dnc() {
        return dnc;
    }

    /** The name under which opt-outs are recorded in the ledger; empty when they are not recorded. */
    public Optional<String> dncListName() {
        return Optional.ofNullable(dncListName);
    }

    /** The calling window. */
    public CallingWindow window() {
        return window;
    }

    /** Contacts whose window opens after this end as window-expired. */
    public Instant horizon() {
        return horizon;
    }

    /** How many contacts may wait for their window at once. */
    public int maxWaiting() {
        return maxWaiting;
    }

    /** Every configured Region's pacing, by name (shared by all campaigns). */
    public Map<String, RegionPacing> regions() {
        return regions;
    }

    /** The resilience chain around the originator. */
    public ResilientCreate create() {
        return create;
    }

    /** The metered originator (hang-ups on cancel, request counts for the report). */
    public MeteredOriginator originator() {
        return originator;
    }

    /** The live-call registry shared with the webhook. */
    public CallRegistry registry() {
        return registry;
    }

    /** The durable record. */
    public Ledger ledger() {
        return ledger;
    }

    /** The meters. */
    public DialerMetrics metrics() {
        return metrics;
    }

    /** Time for windows, batching and follow-ups. */
    public Scheduler scheduler() {
        return scheduler;
    }

    /** A new globally unique attempt id per call. */
    public Supplier<String> attemptIds() {
        return attemptIds;
    }

    /** Batching and capacity settings. */
    public DialerSettings dialer() {
        return dialer;
    }

    /** How long an UNKNOWN Create waits for its NEW_OUTBOUND_CALL before it is closed. */
    public Duration reconcileGrace() {
        return reconcileGrace;
    }

    /**
     * How long a contact waits before it is dialed again after its attempt was withdrawn for local congestion
     * (never sent, or throttled or at capacity after every retry). An attempt withdrawn because its Region failed
     * is dialed again at once in another Region, or after the campaign's resume.
     */
    public Duration redialWithdrawnAfter() {
        return redialWithdrawnAfter;
    }

    /** Whether contacts that the ledger already knows are skipped (and the previous run's open work taken over). */
    public boolean resume() {
        return resume;
    }

    /** Extra ArgumentsMap entries for every call (e.g. the node's URL). */
    public Map<String, String> arguments() {
        return arguments;
    }

    /** Collects a run's settings; not thread-safe. Each setter validates its arguments. */
    public static final class Builder {
        private final CampaignConfig config;
        private Flux<ContactRow> source;
        private long expectedTotal = UNKNOWN_TOTAL;
        private DncList dnc;
        private String dncListName;
        private CallingWindow window;
        private Instant horizon;
        private int maxWaiting = DEFAULT_MAX_WAITING;
        private Map<String, RegionPacing> regions;
        private ResilientCreate create;
        private MeteredOriginator originator;
        private CallRegistry registry;
        private Ledger ledger;
        private DialerMetrics metrics;
        private Scheduler scheduler;
        private Supplier<String> attemptIds;
        private DialerSettings dialer = DialerSettings.ofDefaults();
        private Duration reconcileGrace;
        private Duration redialWithdrawnAfter = DEFAULT_REDIAL_WITHDRAWN_AFTER;
        private boolean resume;
        private Map<String, String> arguments = Map.of();

        Builder(CampaignConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            this.reconcileGrace = config.reconcileGrace();
        }

        /** The contact rows, of a list whose size is not known. */
        public Builder contacts(Flux<ContactRow> rows) {
            return contacts(rows, UNKNOWN_TOTAL);
        }

        /** The contact rows and the list's size ({@link #UNKNOWN_TOTAL} when not known). */
        public Builder contacts(Flux<ContactRow> rows, long expectedTotal) {
            this.source = Objects.requireNonNull(rows, "rows");
            this.expectedTotal = expectedTotal < 0 ? UNKNOWN_TOTAL : expectedTotal;
            return this;
        }

        /** The suppression list, whose opt-outs are not recorded in the ledger. */
        public Builder dnc(DncList list) {
            this.dnc = Objects.requireNonNull(list, "list");
            this.dncListName = null;
            return this;
        }

        /** The suppression list and the ledger's DNC list that this run's opt-outs are recorded in. */
        public Builder dnc(DncList list, String ledgerListName) {
            this.dnc = Objects.requireNonNull(list, "list");
            this.dncListName = Objects.requireNonNull(ledgerListName, "ledgerListName");
            return this;
        }

        /** The calling window and the horizon after which a window that has not opened expires the contact. */
        public Builder window(CallingWindow window, Instant horizon) {
            this.window = Objects.requireNonNull(window, "window");
            this.horizon = Objects.requireNonNull(horizon, "horizon");
            return this;
        }

        /** How many contacts may wait for their window at once; default {@link #DEFAULT_MAX_WAITING}. */
        public Builder maxWaiting(int maxWaiting) {
            if (maxWaiting < 1) {
                throw new IllegalArgumentException("maxWaiting must be >= 1, was " + maxWaiting);
            }
            this.maxWaiting = maxWaiting;
            return this;
        }

        /** Every configured Region's pacing by name, the resilience chain and the metered originator under it. */
        public Builder pacing(Map<String, RegionPacing> regions, ResilientCreate create, MeteredOriginator originator) {
            this.regions = Objects.requireNonNull(regions, "regions");
            this.create = Objects.requireNonNull(create, "create");
            this.originator = Objects.requireNonNull(originator, "originator");
            return this;
        }

        /** The live-call registry shared with the webhook. */
        public Builder calls(CallRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /** The durable record. */
        public Builder ledger(Ledger ledger) {
            this.ledger = Objects.requireNonNull(ledger, "ledger");
            return this;
        }

        /** The meters. */
        public Builder metrics(DialerMetrics metrics) {
            this.metrics = Objects.requireNonNull(metrics, "metrics");
            return this;
        }

        /** The scheduler that gives time to windows, batching and follow-ups. */
        public Builder time(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /** A new globally unique attempt id per call. */
        public Builder attemptIds(Supplier<String> attemptIds) {
            this.attemptIds = Objects.requireNonNull(attemptIds, "attemptIds");
            return this;
        }

        /** Batching and capacity settings; default {@link DialerSettings#ofDefaults()}. */
        public Builder dialer(DialerSettings settings) {
            this.dialer = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /** How long an UNKNOWN Create waits for reconciliation; default the campaign's {@code reconcileGrace}. */
        public Builder reconcileGrace(Duration grace) {
            this.reconcileGrace = Objects.requireNonNull(grace, "grace");
            return this;
        }

        /** The wait before a withdrawn contact is dialed again; default {@link #DEFAULT_REDIAL_WITHDRAWN_AFTER}. */
        public Builder redialWithdrawnAfter(Duration delay) {
            Objects.requireNonNull(delay, "delay");
            if (delay.isNegative()) {
                throw new IllegalArgumentException("redialWithdrawnAfter must be >= 0, was " + delay);
            }
            this.redialWithdrawnAfter = delay;
            return this;
        }

        /** Whether the run resumes from the ledger; default false. */
        public Builder resume(boolean resume) {
            this.resume = resume;
            return this;
        }

        /** Extra ArgumentsMap entries for every call; default none. */
        public Builder arguments(Map<String, String> arguments) {
            this.arguments = Map.copyOf(Objects.requireNonNull(arguments, "arguments"));
            return this;
        }

        /** The setup; fails naming the first required setting that was not given. */
        public RunSetup build() {
            return new RunSetup(this);
        }

        /** A new run of this setup. */
        public CampaignRun newRun() {
            return new CampaignRun(build());
        }
    }
}
