package io.chimedialer.core.metrics;

import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The dialer's meters: the one place that names them ({@link Metric}, plus {@link ExternalMetric} for the meters
 * that libraries bind) and the recording API the pipeline calls.
 *
 * <p>Names follow Prometheus conventions: the Micrometer name {@code dialer.calls.originated} is scraped as
 * {@code dialer_calls_originated_total}; {@link Metric#scrapeName()} gives the scraped name of each. Tags are
 * bounded: {@code campaign} and {@code region} come from configuration, the others from enums or a fixed set.
 * A campaign or Region value that {@linkplain #looksLikePhoneNumber looks like a phone number} is replaced by
 * {@value #REDACTED}, so a mistake in a caller cannot leak a callee into the scrape.
 *
 * <p>Takes any {@link MeterRegistry}; dialer-app passes a {@code PrometheusMeterRegistry}. All methods are
 * thread-safe and non-blocking, so they may be called from event-loop threads. Gauges read their suppliers on
 * the scraping thread: suppliers must be cheap, thread-safe and never block.
 */
public final class DialerMetrics {

    /** Tag: the campaign's configured name. */
    public static final String TAG_CAMPAIGN = "campaign";
    /** Tag: the AWS Region name, e.g. {@code us-east-1}. */
    public static final String TAG_REGION = "region";
    /** Tag: a {@link Disposition} name, e.g. {@code ANSWERED}. */
    public static final String TAG_DISPOSITION = "disposition";
    /** Tag: an SMA {@code InvocationEventType}, or {@value #UNRECOGNIZED_EVENT_TYPE}. */
    public static final String TAG_EVENT_TYPE = "event_type";
    /** Tag: an {@link ApiOperation#tagValue()}. */
    public static final String TAG_OPERATION = "operation";
    /** Tag: an {@link ApiOutcome#tagValue()}. */
    public static final String TAG_OUTCOME = "outcome";
    /** Tag: a {@link RetryReason#tagValue()}. */
    public static final String TAG_REASON = "reason";
    /** Tag: the Type of a failed SMA action ({@link #ACTIONS}), or {@value #OTHER}. */
    public static final String TAG_ACTION = "action";
    /** Tag: the ErrorType of a failed SMA action ({@link #ERROR_TYPES}), {@value #NONE} or {@value #OTHER}. */
    public static final String TAG_ERROR_TYPE = "error_type";
    /** Tag: a campaign's state (a {@code CampaignRun.State} name, e.g. {@code RUNNING}). */
    public static final String TAG_STATE = "state";
    /** Tag: a call flow's result, one of {@link #FLOW_RESULTS}. */
    public static final String TAG_RESULT = "result";

    /** A callee pressed a menu key whose option is {@code confirm}. */
    public static final String FLOW_CONFIRMED = "confirmed";
    /** A callee asked not to be called again (a menu's {@code opt-out} option). */
    public static final String FLOW_OPT_OUT = "opt_out";
    /** The values of the {@code result} tag. */
    public static final Set<String> FLOW_RESULTS = Set.of(FLOW_CONFIRMED, FLOW_OPT_OUT);
    /** Tag key of {@link Metric#FOREIGN_CALLS}: {@code answered}, {@code relayed} or {@code released}. */
    public static final String TAG_KIND = "kind";
    /** The kinds of {@link Metric#FOREIGN_CALLS}. */
    public static final Set<String> FOREIGN_CALL_KINDS = Set.of("answered", "relayed", "released");
    /**
     * What becomes of an event taken from the spill queue: {@code recorded} (handled like a webhook delivery; a
     * HANGUP's outcome is in the ledger), {@code duplicate} (its call's outcome was recorded already),
     * {@code unknown} (no call of the ledger has its TransactionId), {@code deferred} (its campaign does not run
     * here yet, or its outcome is not durable yet: left in the queue for later), {@code rejected} (bad signature
     * or unreadable; deleted).
     */
    public static final Set<String> SPILL_RESULTS = Set.of("recorded", "duplicate", "unknown", "deferred",
            "rejected");
    /** Tag key of {@link Metric#NOTIFICATIONS}: the campaign event a completion notice tells. */
    public static final String TAG_EVENT = "event";
    /** The events of {@link Metric#NOTIFICATIONS}: a campaign completed, was cancelled, paused on an error, or reached its scheduled end. */
    public static final Set<String> NOTIFICATION_EVENTS = Set.of("completed", "cancelled", "paused-on-error", "ended");
    /**
     * What became of a completion notice's delivery: {@code delivered} (a 2xx answer), {@code retried} (an attempt
     * failed and another follows, counted per attempt), {@code failed} (every attempt failed, or the dialer stopped
     * first), {@code rejected} (the receiver answered a 4xx other than 408 and 429: not retried).
     */
    public static final Set<String> NOTIFICATION_RESULTS = Set.of("delivered", "retried", "failed", "rejected");

    /** The value that replaces a tag value that looks like a phone number. */
    public static final String REDACTED = "redacted";
    /** The value used for a missing (null or blank) campaign or Region. */
    public static final String NONE = "none";
    /** The {@code event_type} of an invocation whose type is not one of Chime's documented types. */
    public static final String UNRECOGNIZED_EVENT_TYPE = "UNRECOGNIZED";

    /** The value of the {@code action} and {@code error_type} tags for anything outside their documented sets. */
    public static final String OTHER = "other";

    /** The SMA action types Chime documents (CHIME.md section 4.3); others are tagged {@value #OTHER}. */
    public static final Set<String> ACTIONS = Set.of("Speak", "SpeakAndGetDigits", "PlayAudio",
            "PlayAudioAndGetDigits", "ReceiveDigits", "RecordAudio", "Pause", "Hangup", "CallAndBridge",
            "JoinChimeMeeting", "ModifyChimeMeetingAttendees", "SendDigits", "StartBotConversation", "VoiceFocus",
            "StartCallRecording", "StopCallRecording", "PauseCallRecording", "ResumeCallRecording");

    /** The action ErrorTypes Chime documents (CHIME.md section 4.3); others are tagged {@value #OTHER}. */
    public static final Set<String> ERROR_TYPES = Set.of("AccessDenied", "InvalidActionParameter",
            "MissingRequiredActionParameter", "InvalidAudioSource", "SystemException", "ActionExecutionThrottled",
            "ResourceNotFound", "ResourceAccessDenied", "CallNotAnswered", "InvalidDigitsReceived");

    /** The SMA invocation event types Chime documents (CHIME.md section 3.3); others are tagged as unrecognized. */
    public static final Set<String> EVENT_TYPES = Set.of("NEW_INBOUND_CALL", "NEW_OUTBOUND_CALL",
            "ACTION_SUCCESSFUL", "ACTION_FAILED", "ACTION_INTERRUPTED", "HANGUP", "CALL_ANSWERED",
            "INVALID_LAMBDA_RESPONSE", "DIGITS_RECEIVED", "CALL_UPDATE_REQUESTED", "RINGING");

    /** A run of digits and phone punctuation, optionally after a '+'. */
    private static final Pattern DIGIT_RUN = Pattern.compile("\\+?[(]?[0-9][0-9 ().\\-]*[0-9]");

    /** Whether a scrape's micrometer type is a counter, gauge, histogram or summary. */
    public enum Type {
        /** A monotonic count; scraped with the {@code _total} suffix. */
        COUNTER("counter"),
        /** A value read from a supplier at scrape time. */
        GAUGE("gauge"),
        /** A timer or distribution summary without buckets: {@code _count}, {@code _sum} and a {@code _max} gauge. */
        SUMMARY("summary"),
        /** A timer or distribution summary with {@code le} buckets, {@code _count}, {@code _sum}, {@code _max}. */
        HISTOGRAM("histogram");

        private final String prometheusType;

        Type(String prometheusType) {
            this.prometheusType = prometheusType;
        }

        /** The type as written on the scrape's {@code # TYPE} line. */
        public String prometheusType() {
            return prometheusType;
        }
    }

    /**
     * Every meter the dialer registers. The scrape name is what PromQL, the dashboard and the alert rules use.
     */
    public enum Metric {
        /** Create requests that Chime accepted (it returned a TransactionId). */
        CALLS_ORIGINATED("dialer.calls.originated", "dialer_calls_originated_total", Type.COUNTER, "calls",
                "Calls placed: CreateSipMediaApplicationCall requests that Chime accepted",
                TAG_CAMPAIGN, TAG_REGION),
        /** Attempts that reached a final disposition. */
        CALLS_ENDED("dialer.calls.ended", "dialer_calls_ended_total", Type.COUNTER, "calls",
                "Attempts that reached a final disposition (ANSWERED, BUSY, NO_ANSWER, REJECTED, INVALID_NUMBER,"
                        + " FAILED, UNKNOWN)",
                TAG_CAMPAIGN, TAG_REGION, TAG_DISPOSITION),
        /** Ring time of ended calls. */
        CALL_RING_DURATION("dialer.call.ring.duration", "dialer_call_ring_duration_seconds", Type.SUMMARY,
                "seconds", "Time from NEW_OUTBOUND_CALL to CALL_ANSWERED or HANGUP (calls that were observed ringing)",
                TAG_CAMPAIGN, TAG_REGION),
        /** Talk time of answered calls: ACD = sum / count. */
        CALL_TALK_DURATION("dialer.call.talk.duration", "dialer_call_talk_duration_seconds", Type.SUMMARY,
                "seconds", "Time from CALL_ANSWERED to HANGUP of answered calls (ACD = _sum / _count)",
                TAG_CAMPAIGN, TAG_REGION),
        /** Invocations each ended call used, out of Chime's 1,000. */
        CALL_INVOCATIONS("dialer.call.invocations", "dialer_call_invocations", Type.HISTOGRAM, "invocations",
                "SMA invocations used by each ended call (Chime allows 1,000 per call)",
                TAG_CAMPAIGN),
        /** Calls hung up by the dialer because their invocation budget was nearly spent. */
        CALLS_BUDGET_HANGUPS("dialer.calls.budget.hangups", "dialer_calls_budget_hangups_total", Type.COUNTER,
                "calls", "Calls the dialer hung up because they neared the 1,000-invocation budget",
                TAG_CAMPAIGN),
        /** Outbound calls whose flow reached a result: confirmed or opted out. */
        CALL_FLOW_RESULTS("dialer.call.flow.results", "dialer_call_flow_results_total", Type.COUNTER, "calls",
                "Outbound calls whose flow reached a result: confirmed (a menu key whose option is confirm) or opt_out"
                        + " (the callee asked not to be called again); divide by answered calls for the rates",
                TAG_CAMPAIGN, TAG_RESULT),
        /** Failed SMA actions, by type and ErrorType. */
        ACTIONS_FAILED("dialer.actions.failed", "dialer_actions_failed_total", Type.COUNTER, "actions",
                "SMA actions Chime reported failed (ACTION_FAILED), by action and ErrorType; the callee's input and"
                        + " unanswered transfers are not failures",
                TAG_CAMPAIGN, TAG_ACTION, TAG_ERROR_TYPE),
        /** Calls in progress per Region. */
        CALLS_ACTIVE("dialer.calls.active", "dialer_calls_active", Type.GAUGE, "calls",
                "Calls in progress (active-call permits held)",
                TAG_REGION),
        /** The active-call cap per Region. */
        CALLS_ACTIVE_LIMIT("dialer.calls.active.limit", "dialer_calls_active_limit", Type.GAUGE, "calls",
                "Configured cap on calls in progress (max-active-calls)",
                TAG_REGION),
        /** Whether a Region can place calls (1) or failed on an account or configuration error (0). */
        REGION_UP("dialer.region.up", "dialer_region_up", Type.GAUGE, "boolean",
                "1 while the Region can place calls, 0 after a Create was refused for the account's or the Region's"
                        + " fault (credentials, IAM, the SIP media application, the from-number); until a resume",
                TAG_REGION),
        /** The configured Create rate per Region. */
        PACING_CONFIGURED_RATE("dialer.pacing.configured.calls.per.second",
                "dialer_pacing_configured_calls_per_second", Type.GAUGE, "calls/second",
                "Configured CreateSipMediaApplicationCall rate (calls-per-second)",
                TAG_REGION),
        /** The Create rate the pacer currently allows per Region, after backing off on throttles. */
        PACING_EFFECTIVE_RATE("dialer.pacing.effective.calls.per.second",
                "dialer_pacing_effective_calls_per_second", Type.GAUGE, "calls/second",
                "Create rate the pacer currently allows (configured rate reduced by AIMD back-off)",
                TAG_REGION),
        /** Contacts of a campaign that have not reached a final state. */
        CAMPAIGN_CONTACTS_REMAINING("dialer.campaign.contacts.remaining", "dialer_campaign_contacts_remaining",
                Type.GAUGE, "contacts", "Contacts not yet in a final state (including those waiting or due a retry)",
                TAG_CAMPAIGN),
        /** Contacts held back until their calling window opens. */
        CAMPAIGN_CONTACTS_WAITING("dialer.campaign.contacts.waiting", "dialer_campaign_contacts_waiting",
                Type.GAUGE, "contacts", "Contacts waiting for their calling window to open",
                TAG_CAMPAIGN),
        /** The campaign's state: 1 for the current one. */
        CAMPAIGN_STATE("dialer.campaign.state", "dialer_campaign_state", Type.GAUGE, "boolean",
                "1 for the state the campaign is in (tag state: CREATED, RUNNING, PAUSED, CANCELLING, ...), 0 for the"
                        + " others; while this node runs the campaign",
                TAG_CAMPAIGN, TAG_STATE),
        /** Contacts read from the campaign's list so far (the status's contacts.total). */
        CAMPAIGN_CONTACTS_READ("dialer.campaign.contacts.read", "dialer_campaign_contacts_read", Type.GAUGE,
                "contacts", "Contacts read from the campaign's list so far, valid or not (the status's contacts.total)",
                TAG_CAMPAIGN),
        /** Contacts dialed at least once. */
        CAMPAIGN_CONTACTS_DIALED("dialer.campaign.contacts.dialed", "dialer_campaign_contacts_dialed", Type.GAUGE,
                "contacts", "Contacts of the campaign dialed at least once by this run",
                TAG_CAMPAIGN),
        /** The campaign's calls in progress. */
        CAMPAIGN_CALLS_LIVE("dialer.campaign.calls.live", "dialer_campaign_calls_live", Type.GAUGE, "calls",
                "The campaign's calls in progress (Create sent, not ended)",
                TAG_CAMPAIGN),
        /** Chime API latency, with the outcome. */
        API_REQUEST_DURATION("dialer.api.request.duration", "dialer_api_request_duration_seconds",
                Type.HISTOGRAM, "seconds", "Latency of Chime SDK Voice API requests, by operation, Region and outcome",
                TAG_OPERATION, TAG_REGION, TAG_OUTCOME),
        /** Throttled Chime API requests. */
        API_THROTTLED("dialer.api.throttled", "dialer_api_throttled_total", Type.COUNTER, "requests",
                "Chime API requests rejected with a throttling error (HTTP 429)",
                TAG_OPERATION, TAG_REGION),
        /** Chime API requests sent again. */
        API_RETRIES("dialer.api.retries", "dialer_api_retries_total", Type.COUNTER, "requests",
                "Chime API requests sent again, by reason",
                TAG_OPERATION, TAG_REGION, TAG_REASON),
        /** Webhook latency by event type; its count is the number of invocations. */
        WEBHOOK_INVOCATION_DURATION("dialer.webhook.invocation.duration",
                "dialer_webhook_invocation_duration_seconds", Type.HISTOGRAM, "seconds",
                "Time to answer an SMA invocation, by event type (Chime retries after 5 s); _count counts invocations",
                TAG_EVENT_TYPE),
        /** Invocations that matched no known call. */
        WEBHOOK_UNKNOWN_CALL_INVOCATIONS("dialer.webhook.unknown.call.invocations",
                "dialer_webhook_unknown_call_invocations_total", Type.COUNTER, "invocations",
                "Invocations whose TransactionId and attempt id matched no call of this dialer"),
        /** Webhook requests rejected for a bad or stale signature. */
        WEBHOOK_SIGNATURE_FAILURES("dialer.webhook.signature.failures",
                "dialer_webhook_signature_failures_total", Type.COUNTER, "requests",
                "Webhook requests rejected with 401 (bad signature or timestamp out of the 300 s skew)"),
        /** Inbound calls forgotten because more were held than the cap allows. */
        WEBHOOK_INBOUND_CALLS_EVICTED("dialer.webhook.inbound.calls.evicted",
                "dialer_webhook_inbound_calls_evicted_total", Type.COUNTER, "calls",
                "Inbound calls (NEW_INBOUND_CALL) forgotten, oldest first, because more than the cap were held"),
        /** Calls of other nodes whose invocations reached this node, and their ends passed on. */
        FOREIGN_CALLS("dialer.foreign.calls", "dialer_foreign_calls_total", Type.COUNTER, "calls",
                "Calls placed by another node (or by this node before a restart) whose invocations reached this node"
                        + " (kind=answered), whose end this node told the cluster (relayed), and calls of this node"
                        + " whose end another node told it (released: the permit came back at once)",
                TAG_KIND),
        /** Events taken from the Lambda bridge's spill queue, by what became of them. */
        SPILL_EVENTS("dialer.spill.events", "dialer_spill_events_total", Type.COUNTER, "events",
                "Invocations the Lambda bridge could not deliver, taken from its spill queue (SQS), by result:"
                        + " recorded, duplicate, unknown, deferred, rejected",
                TAG_RESULT),
        /** Completion notices POSTed to {@code notifications.url}, by event and by what became of them. */
        NOTIFICATIONS("dialer.notifications", "dialer_notifications_total", Type.COUNTER, "notices",
                "Completion notices sent to notifications.url by campaign event (completed, cancelled,"
                        + " paused-on-error, ended) and result: delivered, retried (per attempt), failed, rejected",
                TAG_EVENT, TAG_RESULT),
        /** The age of the webhook's oldest unanswered invocation (what admission follows). */
        WEBHOOK_LAG("dialer.webhook.lag.seconds", "dialer_webhook_lag_seconds", Type.GAUGE, "seconds",
                "The webhook's lag: the older of the oldest SMA invocation received and not yet answered and the"
                        + " longest answer of the last 0.5 to 1 s as its sender timed it (0 when none); while it is"
                        + " over pacing.webhook-lag-threshold no new call starts"),
        /** Time the admission of new calls was held because the webhook lagged. */
        ADMISSION_HELD("dialer.admission.held.seconds", "dialer_admission_held_seconds_total", Type.COUNTER,
                "seconds", "Time the admission of new calls was held because the webhook's answers lagged"
                        + " (pacing.webhook-lag-threshold), while a campaign had a contact to admit"),
        /** Ledger write latency. */
        LEDGER_WRITE_DURATION("dialer.ledger.write.duration", "dialer_ledger_write_duration_seconds",
                Type.HISTOGRAM, "seconds", "Time to write one batch to the ledger durably"),
        /** Ledger writes not yet durable. */
        LEDGER_QUEUE_DEPTH("dialer.ledger.queue.depth", "dialer_ledger_queue_depth", Type.GAUGE, "writes",
                "Ledger writes queued and not yet durable");

        private final String micrometerName;
        private final String scrapeName;
        private final Type type;
        private final String unit;
        private final String description;
        private final List<String> tags;

        Metric(String micrometerName, String scrapeName, Type type, String unit, String description,
               String... tags) {
            this.micrometerName = micrometerName;
            this.scrapeName = scrapeName;
            this.type = type;
            this.unit = unit;
            this.description = description;
            this.tags = List.of(tags);
        }

        /** The Micrometer name, dot-separated, e.g. {@code dialer.calls.originated}. */
        public String micrometerName() {
            return micrometerName;
        }

        /** The name on the scrape's {@code # TYPE} line, e.g. {@code dialer_calls_originated_total}. */
        public String scrapeName() {
            return scrapeName;
        }

        /** The meter's type. */
        public Type type() {
            return type;
        }

        /** The unit, for documentation ({@code seconds}, {@code calls}, ...). */
        public String unit() {
            return unit;
        }

        /** What the meter means. */
        public String description() {
            return description;
        }

        /** The tag keys, in a fixed order; empty when the meter has none. */
        public List<String> tags() {
            return tags;
        }

        /** The {@code # TYPE} families this meter produces, family name to Prometheus type. */
        public List<Family> families() {
            return DialerMetrics.families(scrapeName, type);
        }

        /** Every sample name this meter produces, e.g. {@code _bucket}, {@code _count}, {@code _sum}. */
        public List<String> seriesNames() {
            return DialerMetrics.seriesNames(scrapeName, type);
        }
    }

    /**
     * Meters bound by libraries rather than by this class, which the dashboard and the alert rules use. The
     * circuit-breaker meters come from {@link #bindCircuitBreakers(CircuitBreakerRegistry)}; the JVM and process
     * meters from Micrometer's binders, which dialer-app binds (docs/metrics.md lists them).
     */
    public enum ExternalMetric {
        /** 1 for the breaker's current state, 0 for the others. */
        CIRCUIT_BREAKER_STATE("resilience4j_circuitbreaker_state", Type.GAUGE, "TaggedCircuitBreakerMetrics",
                "1 when the breaker (tag name = Region) is in the state of tag state (closed, open, half_open, ...)"),
        /** Calls through the breaker by kind. */
        CIRCUIT_BREAKER_CALLS("resilience4j_circuitbreaker_calls_seconds", Type.SUMMARY,
                "TaggedCircuitBreakerMetrics", "Calls through the breaker by kind (successful, failed, ignored)"),
        /** Calls rejected because the breaker was open. */
        CIRCUIT_BREAKER_NOT_PERMITTED_CALLS("resilience4j_circuitbreaker_not_permitted_calls_total", Type.COUNTER,
                "TaggedCircuitBreakerMetrics", "Calls rejected because the breaker was open"),
        /** Calls in the breaker's sliding window. */
        CIRCUIT_BREAKER_BUFFERED_CALLS("resilience4j_circuitbreaker_buffered_calls", Type.GAUGE,
                "TaggedCircuitBreakerMetrics", "Calls in the sliding window, by kind"),
        /** Failure rate in the sliding window. */
        CIRCUIT_BREAKER_FAILURE_RATE("resilience4j_circuitbreaker_failure_rate", Type.GAUGE,
                "TaggedCircuitBreakerMetrics", "Failure rate in percent, -1 until the window has enough calls"),
        /** Slow-call rate in the sliding window. */
        CIRCUIT_BREAKER_SLOW_CALL_RATE("resilience4j_circuitbreaker_slow_call_rate", Type.GAUGE,
                "TaggedCircuitBreakerMetrics", "Slow-call rate in percent, -1 until the window has enough calls"),
        /** Slow calls in the sliding window. */
        CIRCUIT_BREAKER_SLOW_CALLS("resilience4j_circuitbreaker_slow_calls", Type.GAUGE,
                "TaggedCircuitBreakerMetrics", "Slow calls in the sliding window, by kind"),
        /** JVM memory in use. */
        JVM_MEMORY_USED("jvm_memory_used_bytes", Type.GAUGE, "JvmMemoryMetrics",
                "Memory in use, by area (heap, nonheap) and pool"),
        /** JVM memory maximum. */
        JVM_MEMORY_MAX("jvm_memory_max_bytes", Type.GAUGE, "JvmMemoryMetrics",
                "Maximum memory, by area and pool (-1 when undefined)"),
        /** Live threads. */
        JVM_THREADS_LIVE("jvm_threads_live_threads", Type.GAUGE, "JvmThreadMetrics", "Live threads"),
        /** Process CPU usage. */
        PROCESS_CPU_USAGE("process_cpu_usage", Type.GAUGE, "ProcessorMetrics",
                "Recent CPU usage of the JVM process, 0..1"),
        /** System CPU count. */
        SYSTEM_CPU_COUNT("system_cpu_count", Type.GAUGE, "ProcessorMetrics", "Processors available to the JVM"),
        /** Process uptime. */
        PROCESS_UPTIME("process_uptime_seconds", Type.GAUGE, "UptimeMetrics", "Uptime of the JVM");

        private final String scrapeName;
        private final Type type;
        private final String source;
        private final String description;

        ExternalMetric(String scrapeName, Type type, String source, String description) {
            this.scrapeName = scrapeName;
            this.type = type;
            this.source = source;
            this.description = description;
        }

        /** The name on the scrape's {@code # TYPE} line. */
        public String scrapeName() {
            return scrapeName;
        }

        /** The meter's type. */
        public Type type() {
            return type;
        }

        /** The binder that registers it. */
        public String source() {
            return source;
        }

        /** What the meter means. */
        public String description() {
            return description;
        }

        /** The {@code # TYPE} families this meter produces. */
        public List<Family> families() {
            return DialerMetrics.families(scrapeName, type);
        }

        /** Every sample name this meter produces. */
        public List<String> seriesNames() {
            return DialerMetrics.seriesNames(scrapeName, type);
        }
    }

    /**
     * One {@code # TYPE} line of the scrape.
     *
     * @param name           the family name as written on the line
     * @param prometheusType {@code counter}, {@code gauge}, {@code histogram} or {@code summary}
     */
    public record Family(String name, String prometheusType) {
        public Family {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(prometheusType, "prometheusType");
        }
    }

    /** Removes the gauges it stands for from the registry; closing twice is harmless. */
    @FunctionalInterface
    public interface Registration extends AutoCloseable {
        /** Removes the gauges. */
        @Override
        void close();
    }

    private final MeterRegistry registry;
    private final Meter.MeterProvider<Counter> callsOriginated;
    private final Meter.MeterProvider<Counter> callsEnded;
    private final Meter.MeterProvider<Timer> ringDuration;
    private final Meter.MeterProvider<Timer> talkDuration;
    private final Meter.MeterProvider<DistributionSummary> callInvocations;
    private final Meter.MeterProvider<Counter> budgetHangups;
    private final Meter.MeterProvider<Counter> actionsFailed;
    private final Meter.MeterProvider<Counter> flowResults;
    private final Meter.MeterProvider<Timer> apiDuration;
    private final Meter.MeterProvider<Counter> apiThrottled;
    private final Meter.MeterProvider<Counter> apiRetries;
    private final Meter.MeterProvider<Timer> webhookDuration;
    private final Meter.MeterProvider<Counter> foreignCalls;
    private final Counter unknownCallInvocations;
    private final Counter signatureFailures;
    private final Meter.MeterProvider<Counter> spillEvents;
    private final Meter.MeterProvider<Counter> notifications;
    private final Timer ledgerWrite;

    /**
     * Creates the meters that have no tags and prepares the others, which appear on first use.
     *
     * @param registry where the meters go; dialer-app passes its {@code PrometheusMeterRegistry}
     */
    public DialerMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        callsOriginated = counter(Metric.CALLS_ORIGINATED);
        callsEnded = counter(Metric.CALLS_ENDED);
        ringDuration = timer(Metric.CALL_RING_DURATION).withRegistry(registry);
        talkDuration = timer(Metric.CALL_TALK_DURATION).withRegistry(registry);
        callInvocations = DistributionSummary.builder(Metric.CALL_INVOCATIONS.micrometerName())
                .description(Metric.CALL_INVOCATIONS.description())
                // Fixed buckets up to Chime's per-call limit; a percentile histogram would add ~100 buckets.
                .serviceLevelObjectives(2, 3, 5, 10, 20, 50, 100, 200, 500, 900, 1000)
                .withRegistry(registry);
        budgetHangups = counter(Metric.CALLS_BUDGET_HANGUPS);
        actionsFailed = counter(Metric.ACTIONS_FAILED);
        flowResults = counter(Metric.CALL_FLOW_RESULTS);
        apiDuration = timer(Metric.API_REQUEST_DURATION)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(5))
                .maximumExpectedValue(Duration.ofSeconds(30))
                .serviceLevelObjectives(Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
                        Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5))
                .withRegistry(registry);
        apiThrottled = counter(Metric.API_THROTTLED);
        apiRetries = counter(Metric.API_RETRIES);
        foreignCalls = counter(Metric.FOREIGN_CALLS);
        webhookDuration = timer(Metric.WEBHOOK_INVOCATION_DURATION)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10))
                // 1 s is the alerting threshold, 5 s is when Chime gives up and retries the invocation.
                .serviceLevelObjectives(Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
                        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5))
                .withRegistry(registry);
        unknownCallInvocations = Counter.builder(Metric.WEBHOOK_UNKNOWN_CALL_INVOCATIONS.micrometerName())
                .description(Metric.WEBHOOK_UNKNOWN_CALL_INVOCATIONS.description())
                .register(registry);
        signatureFailures = Counter.builder(Metric.WEBHOOK_SIGNATURE_FAILURES.micrometerName())
                .description(Metric.WEBHOOK_SIGNATURE_FAILURES.description())
                .register(registry);
        spillEvents = counter(Metric.SPILL_EVENTS);
        notifications = counter(Metric.NOTIFICATIONS);
        // Both are bounded by their tag's few values and rare: present at 0 from the start, so that a dashboard
        // or an alert reads 0 rather than no data, and increase() sees the first event.
        FOREIGN_CALL_KINDS.forEach(kind -> foreignCalls.withTags(TAG_KIND, kind));
        SPILL_RESULTS.forEach(result -> spillEvents.withTags(TAG_RESULT, result));
        NOTIFICATION_EVENTS.forEach(event -> NOTIFICATION_RESULTS.forEach(result ->
                notifications.withTags(TAG_EVENT, event, TAG_RESULT, result)));
        ledgerWrite = timer(Metric.LEDGER_WRITE_DURATION)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(100_000))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
                        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1))
                .register(registry);
    }

    /** The registry the meters are in. */
    public MeterRegistry registry() {
        return registry;
    }

    /**
     * Counts a call that Chime accepted (Create returned a TransactionId).
     *
     * @param campaign the campaign's name
     * @param region   the Region it was placed in
     */
    public void callOriginated(String campaign, String region) {
        callsOriginated.withTags(TAG_CAMPAIGN, name(campaign), TAG_REGION, name(region)).increment();
    }

    /**
     * Counts an attempt that reached its final disposition and records its ring and talk time.
     *
     * @param campaign    the campaign's name
     * @param region      the Region it was placed in
     * @param disposition its outcome
     * @param ring        time from NEW_OUTBOUND_CALL to CALL_ANSWERED or HANGUP; not recorded when null or zero
     *                    (the call was never seen ringing)
     * @param talk        time from CALL_ANSWERED to HANGUP; recorded only for {@link Disposition#ANSWERED}
     */
    public void callEnded(String campaign, String region, Disposition disposition, Duration ring, Duration talk) {
        Objects.requireNonNull(disposition, "disposition");
        String c = name(campaign);
        String r = name(region);
        callsEnded.withTags(TAG_CAMPAIGN, c, TAG_REGION, r, TAG_DISPOSITION, disposition.name()).increment();
        if (ring != null && ring.compareTo(Duration.ZERO) > 0) {
            ringDuration.withTags(TAG_CAMPAIGN, c, TAG_REGION, r).record(ring);
        }
        if (disposition == Disposition.ANSWERED && talk != null && !talk.isNegative()) {
            talkDuration.withTags(TAG_CAMPAIGN, c, TAG_REGION, r).record(talk);
        }
    }

    /**
     * Records an ended call from its result: its disposition, ring and talk time, and the invocations it used.
     *
     * @param region the Region it was placed in
     * @param result the call's final record
     */
    public void callEnded(String region, CallResult result) {
        callEnded(result.campaignId(), region, result.disposition(), result.ring(), result.talk());
        if (result.invocations() > 0) {
            invocationsPerCall(result.campaignId(), result.invocations());
        }
    }

    /**
     * Counts a Chime API request rejected by throttling (HTTP 429).
     *
     * @param operation the operation
     * @param region    the Region
     */
    public void throttled(ApiOperation operation, String region) {
        apiThrottled.withTags(TAG_OPERATION, operation.tagValue(), TAG_REGION, name(region)).increment();
    }

    /**
     * Counts a Chime API request being sent again.
     *
     * @param operation the operation
     * @param region    the Region
     * @param reason    why
     */
    public void retry(ApiOperation operation, String region, RetryReason reason) {
        apiRetries.withTags(TAG_OPERATION, operation.tagValue(), TAG_REGION, name(region),
                TAG_REASON, reason.tagValue()).increment();
    }

    /**
     * Records the latency of one Chime API request (each attempt, retries included).
     *
     * @param operation the operation
     * @param region    the Region
     * @param outcome   how it ended
     * @param latency   from sending the request to its response or failure
     */
    public void apiLatency(ApiOperation operation, String region, ApiOutcome outcome, Duration latency) {
        apiDuration.withTags(TAG_OPERATION, operation.tagValue(), TAG_REGION, name(region),
                TAG_OUTCOME, outcome.tagValue()).record(latency);
    }

    /**
     * Records one answered SMA invocation and the time the webhook took to answer it.
     *
     * @param eventType the invocation's {@code InvocationEventType} as received; anything but Chime's documented
     *                  types (and null) is tagged {@value #UNRECOGNIZED_EVENT_TYPE}, so the input cannot grow the
     *                  tag's values
     * @param latency   from receiving the request to writing the response
     */
    public void webhookInvocation(String eventType, Duration latency) {
        webhookDuration.withTags(TAG_EVENT_TYPE, eventType(eventType)).record(latency);
    }

    /**
     * Records how many invocations an ended call used.
     *
     * @param campaign    the campaign's name
     * @param invocations the count, at most 1,000 on Chime
     */
    public void invocationsPerCall(String campaign, int invocations) {
        callInvocations.withTags(TAG_CAMPAIGN, name(campaign)).record(invocations);
    }

    /**
     * Counts a call the dialer hung up because it neared the per-call invocation budget.
     *
     * @param campaign the campaign's name
     */
    public void budgetHangup(String campaign) {
        budgetHangups.withTags(TAG_CAMPAIGN, name(campaign)).increment();
    }

    /**
     * Counts an SMA action that Chime reported failed.
     *
     * @param campaign  the campaign's name
     * @param action    the action's Type; anything but Chime's documented types (and null) is {@value #OTHER}
     * @param errorType its ErrorType; null is {@value #NONE}, anything but Chime's documented types {@value #OTHER}
     */
    public void actionFailed(String campaign, String action, String errorType) {
        actionsFailed.withTags(TAG_CAMPAIGN, name(campaign),
                TAG_ACTION, action != null && ACTIONS.contains(action) ? action : OTHER,
                TAG_ERROR_TYPE, errorType == null || errorType.isBlank() ? NONE
                        : ERROR_TYPES.contains(errorType) ? errorType : OTHER).increment();
    }

    /**
     * Counts an outbound call whose flow reached a result.
     *
     * @param campaign the campaign's name
     * @param result   {@value #FLOW_CONFIRMED} or {@value #FLOW_OPT_OUT}
     * @throws IllegalArgumentException for another result (the tag's values are fixed)
     */
    public void flowResult(String campaign, String result) {
        if (!FLOW_RESULTS.contains(result)) {
            throw new IllegalArgumentException("flow result must be one of " + FLOW_RESULTS + ", was " + result);
        }
        flowResults.withTags(TAG_CAMPAIGN, name(campaign), TAG_RESULT, result).increment();
    }

    /** Counts an invocation that matched no call of this dialer. */
    public void unknownCallInvocation() {
        unknownCallInvocations.increment();
    }

    /**
     * Counts a call of another node seen here ({@link Metric#FOREIGN_CALLS}).
     *
     * @param kind {@code answered}, {@code relayed} or {@code released}
     */
    public void foreignCall(String kind) {
        if (!FOREIGN_CALL_KINDS.contains(kind)) {
            throw new IllegalArgumentException("kind must be one of " + FOREIGN_CALL_KINDS + ", was " + kind);
        }
        foreignCalls.withTags(TAG_KIND, kind).increment();
    }

    /** Counts a webhook request rejected for its signature or timestamp. */
    public void signatureFailure() {
        signatureFailures.increment();
    }

    /**
     * Counts an event taken from the spill queue.
     *
     * @param result one of {@link #SPILL_RESULTS}; anything else counts as {@value #OTHER}
     */
    public void spillEvent(String result) {
        spillEvents.withTags(TAG_RESULT, SPILL_RESULTS.contains(result) ? result : OTHER).increment();
    }

    /**
     * Counts what became of a completion notice's delivery ({@link Metric#NOTIFICATIONS}).
     *
     * @param event  one of {@link #NOTIFICATION_EVENTS}
     * @param result one of {@link #NOTIFICATION_RESULTS}
     * @throws IllegalArgumentException for any other value
     */
    public void notification(String event, String result) {
        if (!NOTIFICATION_EVENTS.contains(event) || !NOTIFICATION_RESULTS.contains(result)) {
            throw new IllegalArgumentException("event must be one of " + NOTIFICATION_EVENTS + " and result one of "
                    + NOTIFICATION_RESULTS + ", were " + event + ", " + result);
        }
        notifications.withTags(TAG_EVENT, event, TAG_RESULT, result).increment();
    }

    /**
     * Records the time one ledger write (a batch) took to become durable.
     *
     * @param latency from submitting the batch to its commit
     */
    public void ledgerWrite(Duration latency) {
        ledgerWrite.record(latency);
    }

    /**
     * Registers the per-Region gauges: active calls and their cap, configured and effective Create rate.
     *
     * @param region         the Region
     * @param activeCalls    calls in progress (permits held)
     * @param activeLimit    the cap on calls in progress
     * @param configuredRate the configured calls per second
     * @param effectiveRate  the calls per second the pacer currently allows
     * @return removes these gauges when closed (when the Region is removed)
     */
    public Registration regionGauges(String region, DoubleSupplier activeCalls, DoubleSupplier activeLimit,
                                     DoubleSupplier configuredRate, DoubleSupplier effectiveRate) {
        Tags tags = Tags.of(TAG_REGION, name(region));
        return gauges(List.of(
                gauge(Metric.CALLS_ACTIVE, tags, activeCalls),
                gauge(Metric.CALLS_ACTIVE_LIMIT, tags, activeLimit),
                gauge(Metric.PACING_CONFIGURED_RATE, tags, configuredRate),
                gauge(Metric.PACING_EFFECTIVE_RATE, tags, effectiveRate)));
    }

    /**
     * Registers a Region's health gauge.
     *
     * @param region the Region
     * @param up     1 while the Region can place calls, 0 after it failed
     * @return removes the gauge when closed
     */
    public Registration regionHealthGauge(String region, DoubleSupplier up) {
        return gauges(List.of(gauge(Metric.REGION_UP, Tags.of(TAG_REGION, name(region)), up)));
    }

    /**
     * Registers the per-campaign gauges: contacts remaining and contacts waiting for their calling window.
     *
     * @param campaign  the campaign's name
     * @param remaining contacts not yet in a final state
     * @param waiting   contacts waiting for their calling window
     * @return removes these gauges when closed (when the campaign ends, so that it leaves the dashboard)
     */
    public Registration campaignGauges(String campaign, DoubleSupplier remaining, DoubleSupplier waiting) {
        Tags tags = Tags.of(TAG_CAMPAIGN, name(campaign));
        return gauges(List.of(
                gauge(Metric.CAMPAIGN_CONTACTS_REMAINING, tags, remaining),
                gauge(Metric.CAMPAIGN_CONTACTS_WAITING, tags, waiting)));
    }

    /**
     * Registers a campaign's status gauges: its state (one gauge per possible state, 1 for the current one), the
     * contacts read and dialed, and its live calls.
     *
     * @param campaign the campaign's name
     * @param states   every state the campaign can be in (the values of the {@code state} tag)
     * @param state    the current state, one of {@code states}
     * @param read     contacts read from the list so far
     * @param dialed   contacts dialed at least once
     * @param live     calls in progress
     * @return removes these gauges when closed (when the campaign ends)
     */
    public Registration campaignStatusGauges(String campaign, List<String> states, Supplier<String> state,
                                             DoubleSupplier read, DoubleSupplier dialed, DoubleSupplier live) {
        Objects.requireNonNull(state, "state");
        Tags tags = Tags.of(TAG_CAMPAIGN, name(campaign));
        List<Meter> meters = new ArrayList<>();
        for (String s : states) {
            meters.add(gauge(Metric.CAMPAIGN_STATE, tags.and(TAG_STATE, s), () -> s.equals(state.get()) ? 1 : 0));
        }
        meters.add(gauge(Metric.CAMPAIGN_CONTACTS_READ, tags, read));
        meters.add(gauge(Metric.CAMPAIGN_CONTACTS_DIALED, tags, dialed));
        meters.add(gauge(Metric.CAMPAIGN_CALLS_LIVE, tags, live));
        return gauges(meters);
    }

    /**
     * Registers the ledger's queue-depth gauge.
     *
     * @param depth writes queued and not yet durable
     * @return removes the gauge when closed
     */
    public Registration ledgerQueueDepth(DoubleSupplier depth) {
        return gauges(List.of(gauge(Metric.LEDGER_QUEUE_DEPTH, Tags.empty(), depth)));
    }

    /**
     * Registers the webhook's lag gauge and the counter of the time admission was held for it, read at scrape time.
     * The counter references {@code source} weakly, as Micrometer's function counters do: keep it referenced.
     *
     * @param lagSeconds  the age of the oldest unanswered invocation, in seconds
     * @param source      what holds the held time (the admission hold)
     * @param heldSeconds reads the time admission was held, in seconds, monotonic
     * @return removes both when closed
     */
    public <T> Registration webhookLag(DoubleSupplier lagSeconds, T source, ToDoubleFunction<T> heldSeconds) {
        Metric held = Metric.ADMISSION_HELD;
        return gauges(List.of(gauge(Metric.WEBHOOK_LAG, Tags.empty(), lagSeconds),
                FunctionCounter.builder(held.micrometerName(), source, heldSeconds)
                        .description(held.description())
                        .register(registry)));
    }

    /**
     * Registers the counter of inbound calls forgotten at the cap, read from {@code source} at scrape time. The
     * counter references {@code source} weakly, as Micrometer's function counters do: keep it referenced.
     *
     * @param source  what holds the count (the call registry)
     * @param evicted reads the count, monotonic
     * @return removes the counter when closed
     */
    public <T> Registration inboundCallsEvicted(T source, ToDoubleFunction<T> evicted) {
        Metric metric = Metric.WEBHOOK_INBOUND_CALLS_EVICTED;
        return gauges(List.of(FunctionCounter.builder(metric.micrometerName(), source, evicted)
                .description(metric.description())
                .register(registry)));
    }

    /**
     * Binds resilience4j's circuit-breaker meters ({@link ExternalMetric}{@code .CIRCUIT_BREAKER_*}) for every
     * breaker in the registry, present and future. Name the breakers after their Region: the name is the tag.
     * The gauges reference the breakers weakly, so the caller must keep the registry (and its breakers) referenced
     * for as long as they should be scraped; a collected breaker's gauges read NaN.
     *
     * @param breakers the registry of the per-Region breakers
     */
    public void bindCircuitBreakers(CircuitBreakerRegistry breakers) {
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(registry);
    }

    /**
     * The tag value for a campaign or Region name: {@value #NONE} when missing, {@value #REDACTED} when it looks
     * like a phone number.
     */
    static String name(String value) {
        if (value == null || value.isBlank()) {
            return NONE;
        }
        // Every Create and every call's end looks up its campaign's and Region's tags: the regex ran twice per call
        // (issue 17's profile). The names are few; past NAMES_KEPT distinct ones the rest are judged each time.
        String known = NAMES.get(value);
        if (known != null) {
            return known;
        }
        String tag = looksLikePhoneNumber(value) ? REDACTED : value;
        if (NAMES.size() < NAMES_KEPT) {
            NAMES.putIfAbsent(value, tag);
        }
        return tag;
    }

    private static final int NAMES_KEPT = 4_096;
    private static final java.util.concurrent.ConcurrentHashMap<String, String> NAMES =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Whether a value contains something that may be a phone number: seven or more digits after a {@code +}, or
     * ten or more digits in one run of digits and phone punctuation. Dates such as {@code 2026-11-27} pass.
     *
     * @param value any string
     * @return true when the value must not be used as a tag value
     */
    public static boolean looksLikePhoneNumber(String value) {
        Matcher run = DIGIT_RUN.matcher(value);
        while (run.find()) {
            String candidate = run.group();
            long digits = candidate.chars().filter(ch -> ch >= '0' && ch <= '9').count();
            if (digits >= 10 || (candidate.startsWith("+") && digits >= 7)) {
                return true;
            }
        }
        return false;
    }

    static String eventType(String eventType) {
        return eventType != null && EVENT_TYPES.contains(eventType) ? eventType : UNRECOGNIZED_EVENT_TYPE;
    }

    private Meter.MeterProvider<Counter> counter(Metric metric) {
        return Counter.builder(metric.micrometerName()).description(metric.description()).withRegistry(registry);
    }

    private static Timer.Builder timer(Metric metric) {
        return Timer.builder(metric.micrometerName()).description(metric.description());
    }

    private Gauge gauge(Metric metric, Tags tags, DoubleSupplier supplier) {
        Objects.requireNonNull(supplier, metric.micrometerName());
        // The gauge must keep the supplier alive: callers often pass a lambda they do not keep.
        return Gauge.builder(metric.micrometerName(), supplier, DoubleSupplier::getAsDouble)
                .description(metric.description())
                .tags(tags)
                .strongReference(true)
                .register(registry);
    }

    private Registration gauges(List<Meter> meters) {
        List<Meter> registered = new ArrayList<>(meters);
        return () -> registered.forEach(registry::remove);
    }

    static List<Family> families(String scrapeName, Type type) {
        return switch (type) {
            case COUNTER, GAUGE -> List.of(new Family(scrapeName, type.prometheusType()));
            case SUMMARY, HISTOGRAM -> List.of(new Family(scrapeName, type.prometheusType()),
                    new Family(scrapeName + "_max", Type.GAUGE.prometheusType()));
        };
    }

    static List<String> seriesNames(String scrapeName, Type type) {
        return switch (type) {
            case COUNTER, GAUGE -> List.of(scrapeName);
            case SUMMARY -> List.of(scrapeName + "_count", scrapeName + "_sum", scrapeName + "_max");
            case HISTOGRAM -> List.of(scrapeName + "_bucket", scrapeName + "_count", scrapeName + "_sum",
                    scrapeName + "_max");
        };
    }
}
