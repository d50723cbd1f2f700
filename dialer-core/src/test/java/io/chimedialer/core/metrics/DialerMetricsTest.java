package io.chimedialer.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.metrics.DialerMetrics.ExternalMetric;
import io.chimedialer.core.metrics.DialerMetrics.Family;
import io.chimedialer.core.metrics.DialerMetrics.Metric;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DialerMetricsTest {

    private static final Pattern TYPE_LINE = Pattern.compile("^# TYPE (\\S+) (\\S+)$", Pattern.MULTILINE);
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Set<String> BOUNDED_TAGS = Set.of(DialerMetrics.TAG_CAMPAIGN, DialerMetrics.TAG_REGION,
            DialerMetrics.TAG_DISPOSITION, DialerMetrics.TAG_EVENT_TYPE, DialerMetrics.TAG_OPERATION,
            DialerMetrics.TAG_OUTCOME, DialerMetrics.TAG_REASON, DialerMetrics.TAG_ACTION,
            DialerMetrics.TAG_ERROR_TYPE, DialerMetrics.TAG_STATE, DialerMetrics.TAG_RESULT,
            DialerMetrics.TAG_KIND, DialerMetrics.TAG_EVENT);

    private PrometheusMeterRegistry registry;
    private DialerMetrics metrics;
    // Held by the test: resilience4j's gauges reference the breakers weakly.
    private final CircuitBreakerRegistry breakers = CircuitBreakerRegistry.ofDefaults();
    // Held by the test: the function counter references its source weakly.
    private final AtomicInteger inboundEvicted = new AtomicInteger(2);
    private final AtomicInteger heldSeconds = new AtomicInteger(12);

    @BeforeEach
    void setUp() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics = new DialerMetrics(registry);
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    /**
     * A small campaign in two Regions: 10 contacts, 8 calls placed, every recording method used at least once.
     * The callee numbers are in the results on purpose: none may reach the scrape.
     */
    private void recordSyntheticCampaign() {
        AtomicInteger remaining = new AtomicInteger(10);
        metrics.regionGauges("us-east-1", () -> 3, () -> 20, () -> 5, () -> 2.5);
        metrics.regionGauges("us-west-2", () -> 1, () -> 10, () -> 2, () -> 2);
        metrics.regionHealthGauge("us-east-1", () -> 1);
        metrics.regionHealthGauge("us-west-2", () -> 0);
        metrics.campaignGauges("reminders", remaining::get, () -> 4);
        metrics.campaignStatusGauges("reminders", List.of("RUNNING", "PAUSED", "COMPLETED"), () -> "PAUSED",
                () -> 10, () -> 8, () -> 1);
        metrics.ledgerQueueDepth(() -> 7);
        metrics.bindCircuitBreakers(breakers);
        breakers.circuitBreaker("us-east-1");
        breakers.circuitBreaker("us-west-2").transitionToOpenState();

        ApiOperation create = ApiOperation.CREATE_SIP_MEDIA_APPLICATION_CALL;
        metrics.throttled(create, "us-east-1");
        metrics.retry(create, "us-east-1", RetryReason.THROTTLED);
        metrics.apiLatency(create, "us-east-1", ApiOutcome.THROTTLED, Duration.ofMillis(30));
        for (int i = 0; i < 6; i++) {
            metrics.apiLatency(create, "us-east-1", ApiOutcome.SUCCESS, Duration.ofMillis(80));
            metrics.callOriginated("reminders", "us-east-1");
        }
        for (int i = 0; i < 2; i++) {
            metrics.apiLatency(create, "us-west-2", ApiOutcome.SUCCESS, Duration.ofMillis(120));
            metrics.callOriginated("reminders", "us-west-2");
        }
        metrics.apiLatency(ApiOperation.UPDATE_SIP_MEDIA_APPLICATION_CALL, "us-west-2", ApiOutcome.SERVER_ERROR,
                Duration.ofMillis(900));

        // us-east-1: 3 answered (20 s, 40 s, 60 s of talk), 1 busy, 1 no answer, 1 unknown (never seen ringing).
        metrics.callEnded("reminders", "us-east-1", Disposition.ANSWERED, Duration.ofSeconds(5), Duration.ofSeconds(20));
        metrics.callEnded("reminders", "us-east-1", Disposition.ANSWERED, Duration.ofSeconds(5), Duration.ofSeconds(40));
        metrics.callEnded("us-east-1", new CallResult("a3", "reminders", "tx-3", Disposition.ANSWERED, 0,
                Duration.ofSeconds(5), Duration.ofSeconds(60), "1", 9, Instant.EPOCH));
        metrics.callEnded("us-east-1", new CallResult("a4", "reminders", "tx-4", Disposition.BUSY, 486,
                Duration.ofSeconds(2), Duration.ZERO, "", 2, Instant.EPOCH));
        metrics.callEnded("reminders", "us-east-1", Disposition.NO_ANSWER, Duration.ofSeconds(30), Duration.ZERO);
        metrics.callEnded("reminders", "us-east-1", Disposition.UNKNOWN, Duration.ZERO, Duration.ZERO);
        // us-west-2: 1 answered, 1 rejected.
        metrics.callEnded("reminders", "us-west-2", Disposition.ANSWERED, Duration.ofSeconds(4), Duration.ofSeconds(10));
        metrics.callEnded("reminders", "us-west-2", Disposition.REJECTED, Duration.ofSeconds(1), null);
        remaining.set(2);

        metrics.invocationsPerCall("reminders", 4);
        metrics.budgetHangup("reminders");
        metrics.invocationsPerCall("reminders", 998);
        for (String type : List.of("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_SUCCESSFUL", "HANGUP")) {
            metrics.webhookInvocation(type, Duration.ofMillis(12));
        }
        metrics.webhookInvocation("HANGUP", Duration.ofMillis(1500));
        metrics.unknownCallInvocation();
        metrics.signatureFailure();
        metrics.signatureFailure();
        metrics.spillEvent("recorded");
        metrics.spillEvent("duplicate");
        metrics.notification("completed", "retried");
        metrics.notification("completed", "delivered");
        metrics.ledgerWrite(Duration.ofMillis(3));
        metrics.actionFailed("reminders", "Speak", "AccessDenied");
        metrics.actionFailed("reminders", "Speak", "AccessDenied");
        metrics.actionFailed("reminders", "PlayAudio", "InvalidAudioSource");
        metrics.inboundCallsEvicted(inboundEvicted, AtomicInteger::get);
        metrics.webhookLag(() -> 0.25, heldSeconds, AtomicInteger::get);
        // Of the 4 answered calls, 2 confirmed and 1 opted out.
        metrics.flowResult("reminders", DialerMetrics.FLOW_CONFIRMED);
        metrics.flowResult("reminders", DialerMetrics.FLOW_CONFIRMED);
        metrics.flowResult("reminders", DialerMetrics.FLOW_OPT_OUT);
        metrics.foreignCall("answered");
        metrics.foreignCall("relayed");
    }

    @Test
    void scrape_afterSyntheticCampaign_hasExactlyTheCatalogsFamiliesAndTypes() {
        recordSyntheticCampaign();

        Map<String, String> scraped = typeLines(registry.scrape());

        Map<String, String> expectedDialer = new HashMap<>();
        for (Metric metric : Metric.values()) {
            metric.families().forEach(f -> expectedDialer.put(f.name(), f.prometheusType()));
        }
        assertThat(filterByPrefix(scraped, "dialer_")).containsExactlyInAnyOrderEntriesOf(expectedDialer);
        assertThat(expectedDialer).hasSize(39);

        Map<String, String> expectedBreaker = new HashMap<>();
        for (ExternalMetric metric : ExternalMetric.values()) {
            if (metric.source().equals("TaggedCircuitBreakerMetrics")) {
                metric.families().forEach(f -> expectedBreaker.put(f.name(), f.prometheusType()));
            }
        }
        assertThat(filterByPrefix(scraped, "resilience4j_")).containsExactlyInAnyOrderEntriesOf(expectedBreaker);
        assertThat(filterByPrefix(scraped, "jvm_")).isEmpty();
    }

    @Test
    void scrape_afterSyntheticCampaign_hasExactCounts() {
        recordSyntheticCampaign();

        Map<String, Double> samples = samples(registry.scrape());

        expectSamples(samples,
                "dialer_calls_originated_total{campaign=reminders,region=us-east-1}", 6.0,
                "dialer_calls_originated_total{campaign=reminders,region=us-west-2}", 2.0,
                ended("us-east-1", "ANSWERED"), 3.0,
                ended("us-east-1", "BUSY"), 1.0,
                ended("us-east-1", "NO_ANSWER"), 1.0,
                ended("us-east-1", "UNKNOWN"), 1.0,
                ended("us-west-2", "ANSWERED"), 1.0,
                ended("us-west-2", "REJECTED"), 1.0,
                // Talk time only for answered calls: ACD in us-east-1 is 120 s / 3.
                "dialer_call_talk_duration_seconds_count{campaign=reminders,region=us-east-1}", 3.0,
                "dialer_call_talk_duration_seconds_sum{campaign=reminders,region=us-east-1}", 120.0,
                // Ring time skips the UNKNOWN call that never rang.
                "dialer_call_ring_duration_seconds_count{campaign=reminders,region=us-east-1}", 5.0,
                "dialer_call_ring_duration_seconds_sum{campaign=reminders,region=us-east-1}", 47.0,
                "dialer_calls_active{region=us-east-1}", 3.0,
                "dialer_calls_active_limit{region=us-east-1}", 20.0,
                "dialer_pacing_configured_calls_per_second{region=us-east-1}", 5.0,
                "dialer_pacing_effective_calls_per_second{region=us-east-1}", 2.5,
                "dialer_campaign_contacts_remaining{campaign=reminders}", 2.0,
                "dialer_campaign_contacts_waiting{campaign=reminders}", 4.0,
                "dialer_ledger_queue_depth", 7.0,
                "dialer_webhook_lag_seconds", 0.25,
                "dialer_admission_held_seconds_total", 12.0,
                "dialer_api_throttled_total{operation=CreateSipMediaApplicationCall,region=us-east-1}", 1.0,
                "dialer_api_retries_total{operation=CreateSipMediaApplicationCall,reason=throttled,"
                        + "region=us-east-1}", 1.0,
                "dialer_api_request_duration_seconds_count{operation=CreateSipMediaApplicationCall,"
                        + "outcome=success,region=us-east-1}", 6.0,
                "dialer_api_request_duration_seconds_count{operation=UpdateSipMediaApplicationCall,"
                        + "outcome=server_error,region=us-west-2}", 1.0,
                // The CallResult overload recorded 9 and 2 invocations, besides the direct 4 and 998.
                "dialer_call_invocations_count{campaign=reminders}", 4.0,
                "dialer_call_invocations_sum{campaign=reminders}", 1013.0,
                "dialer_call_invocations_bucket{campaign=reminders,le=1000.0}", 4.0,
                "dialer_call_invocations_bucket{campaign=reminders,le=900.0}", 3.0,
                "dialer_calls_budget_hangups_total{campaign=reminders}", 1.0,
                "dialer_actions_failed_total{action=Speak,campaign=reminders,error_type=AccessDenied}", 2.0,
                "dialer_actions_failed_total{action=PlayAudio,campaign=reminders,error_type=InvalidAudioSource}", 1.0,
                "dialer_webhook_invocation_duration_seconds_count{event_type=HANGUP}", 2.0,
                "dialer_webhook_unknown_call_invocations_total", 1.0,
                "dialer_webhook_signature_failures_total", 2.0,
                "dialer_notifications_total{event=completed,result=delivered}", 1.0,
                "dialer_notifications_total{event=completed,result=retried}", 1.0,
                // Present at 0 from the start: every event and result, so that increase() sees the first failure.
                "dialer_notifications_total{event=paused-on-error,result=failed}", 0.0,
                "dialer_ledger_write_duration_seconds_count", 1.0,
                "dialer_webhook_inbound_calls_evicted_total", 2.0,
                "dialer_call_flow_results_total{campaign=reminders,result=confirmed}", 2.0,
                "dialer_call_flow_results_total{campaign=reminders,result=opt_out}", 1.0,
                "dialer_campaign_state{campaign=reminders,state=PAUSED}", 1.0,
                "dialer_campaign_state{campaign=reminders,state=RUNNING}", 0.0,
                "dialer_campaign_state{campaign=reminders,state=COMPLETED}", 0.0,
                "dialer_campaign_contacts_read{campaign=reminders}", 10.0,
                "dialer_campaign_contacts_dialed{campaign=reminders}", 8.0,
                "dialer_campaign_calls_live{campaign=reminders}", 1.0,
                "resilience4j_circuitbreaker_state{name=us-west-2,state=open}", 1.0,
                "resilience4j_circuitbreaker_state{name=us-east-1,state=closed}", 1.0);
        assertThat(samples.keySet().stream().filter(k -> k.startsWith("dialer_calls_ended_total"))).hasSize(6);
        assertThat(samples.keySet().stream().filter(k -> k.startsWith("dialer_campaign_state"))).hasSize(3);
        assertThat(samples.keySet().stream().filter(k -> k.startsWith("dialer_notifications_total"))).hasSize(16);
    }

    @Test
    void flowResult_outsideTheFixedSet_refused_andStatusGaugesFollowTheState() {
        assertThatThrownBy(() -> metrics.flowResult("reminders", "+13125550100"))
                .isInstanceOf(IllegalArgumentException.class);
        java.util.concurrent.atomic.AtomicReference<String> state = new java.util.concurrent.atomic.AtomicReference<>(
                "RUNNING");
        DialerMetrics.Registration gauges = metrics.campaignStatusGauges("reminders", List.of("RUNNING", "PAUSED"),
                state::get, () -> 1, () -> 1, () -> 0);
        assertThat(samples(registry.scrape())).containsEntry("dialer_campaign_state{campaign=reminders,state=RUNNING}",
                1.0).containsEntry("dialer_campaign_state{campaign=reminders,state=PAUSED}", 0.0);

        state.set("PAUSED");

        assertThat(samples(registry.scrape())).containsEntry("dialer_campaign_state{campaign=reminders,state=RUNNING}",
                0.0).containsEntry("dialer_campaign_state{campaign=reminders,state=PAUSED}", 1.0);
        gauges.close();
        assertThat(registry.scrape()).doesNotContain("dialer_campaign_state").doesNotContain("dialer_campaign_calls");
    }

    @Test
    void scrape_webhookHistogram_hasChimesOneAndFiveSecondBuckets() {
        recordSyntheticCampaign();

        Map<String, Double> samples = samples(registry.scrape());

        // One HANGUP took 1.5 s: below 1 s there is one, below 5 s there are both.
        expectSamples(samples,
                "dialer_webhook_invocation_duration_seconds_bucket{event_type=HANGUP,le=1.0}", 1.0,
                "dialer_webhook_invocation_duration_seconds_bucket{event_type=HANGUP,le=5.0}", 2.0,
                "dialer_api_request_duration_seconds_bucket{le=1.0,operation=UpdateSipMediaApplicationCall,"
                        + "outcome=server_error,region=us-west-2}", 1.0,
                "dialer_api_request_duration_seconds_bucket{le=0.5,operation=UpdateSipMediaApplicationCall,"
                        + "outcome=server_error,region=us-west-2}", 0.0);
        // A percentile histogram, not just the SLO buckets: p99 is interpolated between close bounds.
        long webhookBuckets = samples.keySet().stream()
                .filter(k -> k.startsWith("dialer_webhook_invocation_duration_seconds_bucket{event_type=HANGUP,"))
                .count();
        assertThat(webhookBuckets).isGreaterThan(20);
    }

    @Test
    void scrape_afterSyntheticCampaign_hasOnlyBoundedTagsAndNoPhoneNumbers() {
        recordSyntheticCampaign();

        String scrape = registry.scrape();
        Set<String> tagKeys = new HashSet<>();
        for (String line : scrape.split("\n")) {
            Matcher sample = SAMPLE.matcher(line);
            if (line.startsWith("#") || !sample.matches() || !line.startsWith("dialer_")) {
                continue;
            }
            labels(sample.group(3)).forEach((key, value) -> {
                tagKeys.add(key);
                assertThat(key.equals("le") || !DialerMetrics.looksLikePhoneNumber(value)).as("%s in %s", value, line)
                        .isTrue();
            });
        }
        tagKeys.remove("le");
        assertThat(BOUNDED_TAGS).containsAll(tagKeys);
        assertThat(scrape).doesNotContain("+1206").doesNotContain("tx-3").doesNotContain("a3\"");
    }

    @Test
    void callOriginated_campaignLooksLikePhoneNumber_tagIsRedacted() {
        metrics.callOriginated("+12065550100", "us-east-1");
        metrics.callOriginated("(206) 555-0100", "us-east-1");

        expectSamples(samples(registry.scrape()),
                "dialer_calls_originated_total{campaign=redacted,region=us-east-1}", 2.0);
    }

    @Test
    void callOriginated_missingNames_taggedNone() {
        metrics.callOriginated(null, " ");

        expectSamples(samples(registry.scrape()),
                "dialer_calls_originated_total{campaign=none,region=none}", 1.0);
    }

    @Test
    void looksLikePhoneNumber_numbersAndNames_classified() {
        assertThat(List.of("+12065550100", "+44 20 7946 0958", "(206) 555-0100", "206-555-0100", "2065550100",
                "call-+3312345678")).allMatch(DialerMetrics::looksLikePhoneNumber);
        assertThat(List.of("us-east-1", "reminders", "reminders-2026-11-27", "wave 3", "campaign-20261127",
                "ap-southeast-2")).noneMatch(DialerMetrics::looksLikePhoneNumber);
    }

    @Test
    void actionFailed_undocumentedOrMissingValues_taggedOtherOrNone() {
        metrics.actionFailed("reminders", "Speak", null);
        metrics.actionFailed("reminders", "FancyNewAction", "SomethingNew: details");
        metrics.actionFailed("reminders", null, " ");

        expectSamples(samples(registry.scrape()),
                "dialer_actions_failed_total{action=Speak,campaign=reminders,error_type=none}", 1.0,
                "dialer_actions_failed_total{action=other,campaign=reminders,error_type=other}", 1.0,
                "dialer_actions_failed_total{action=other,campaign=reminders,error_type=none}", 1.0);
    }

    @Test
    void webhookInvocation_undocumentedOrMissingType_taggedUnrecognized() {
        metrics.webhookInvocation("NEW_OUTBOUND_CALL", Duration.ofMillis(1));
        metrics.webhookInvocation("SOMETHING_NEW", Duration.ofMillis(1));
        metrics.webhookInvocation("hangup", Duration.ofMillis(1));
        metrics.webhookInvocation(null, Duration.ofMillis(1));

        Map<String, Double> samples = samples(registry.scrape());
        expectSamples(samples,
                "dialer_webhook_invocation_duration_seconds_count{event_type=NEW_OUTBOUND_CALL}", 1.0,
                "dialer_webhook_invocation_duration_seconds_count{event_type=UNRECOGNIZED}", 3.0);
        assertThat(samples.keySet().stream()
                .filter(k -> k.startsWith("dialer_webhook_invocation_duration_seconds_count"))).hasSize(2);
    }

    @Test
    void registrationClose_campaignGauges_removedFromScrape() {
        DialerMetrics.Registration campaign = metrics.campaignGauges("reminders", () -> 5, () -> 1);
        DialerMetrics.Registration region = metrics.regionGauges("us-east-1", () -> 1, () -> 2, () -> 3, () -> 4);
        assertThat(registry.scrape()).contains("dialer_campaign_contacts_remaining{campaign=\"reminders\"} 5.0");

        campaign.close();
        campaign.close();

        String scrape = registry.scrape();
        assertThat(scrape).doesNotContain("dialer_campaign_contacts").contains("dialer_calls_active{region=");
        region.close();
        assertThat(registry.getMeters()).noneMatch(m -> m.getId().getName().startsWith("dialer.calls.active"));
    }

    @Test
    void regionGauges_supplierChanges_scrapeReadsCurrentValue() {
        AtomicInteger active = new AtomicInteger(1);
        metrics.regionGauges("us-east-1", active::get, () -> 10, () -> 1, () -> 1);

        active.set(9);

        assertThat(samples(registry.scrape()).get("dialer_calls_active{region=us-east-1}")).isCloseTo(9.0,
                within(0.0));
    }

    @Test
    void catalog_names_followPrometheusConventions() {
        Set<String> scrapeNames = new HashSet<>();
        for (Metric metric : Metric.values()) {
            String base = metric.micrometerName().replace('.', '_');
            String expected = switch (metric.type()) {
                case COUNTER -> base + "_total";
                case GAUGE -> base;
                case SUMMARY, HISTOGRAM -> metric.unit().equals("seconds") ? base + "_seconds" : base;
            };
            assertThat(metric.scrapeName()).as(metric.name()).isEqualTo(expected).startsWith("dialer_");
            assertThat(metric.scrapeName()).as(metric.name()).matches("[a-z_]+");
            assertThat(BOUNDED_TAGS).as(metric.name()).containsAll(metric.tags());
            assertThat(metric.description()).as(metric.name()).isNotBlank();
            assertThat(scrapeNames.add(metric.scrapeName())).as("unique %s", metric.scrapeName()).isTrue();
        }
        assertThat(Metric.values()).hasSize(33);
        assertThat(Arrays.stream(Metric.values()).flatMap(m -> m.families().stream()).map(Family::name))
                .doesNotHaveDuplicates();
    }

    @Test
    void foreignCall_countsByKind_andRefusesOtherKinds() {
        metrics.foreignCall("answered");
        metrics.foreignCall("released");
        metrics.foreignCall("released");

        assertThat(registry.get("dialer.foreign.calls").tag(DialerMetrics.TAG_KIND, "answered").counter().count())
                .isEqualTo(1);
        assertThat(registry.get("dialer.foreign.calls").tag(DialerMetrics.TAG_KIND, "released").counter().count())
                .isEqualTo(2);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> metrics.foreignCall("+14155550100"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void notification_countsByEventAndResult_andRefusesOtherValues() {
        metrics.notification("cancelled", "rejected");

        assertThat(registry.get("dialer.notifications").tag(DialerMetrics.TAG_EVENT, "cancelled")
                .tag(DialerMetrics.TAG_RESULT, "rejected").counter().count()).isEqualTo(1);
        assertThatThrownBy(() -> metrics.notification("started", "delivered"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> metrics.notification("completed", "lost"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void catalog_seriesNames_derivedFromType() {
        assertThat(Metric.CALLS_ENDED.seriesNames()).containsExactly("dialer_calls_ended_total");
        assertThat(Metric.CALL_TALK_DURATION.seriesNames()).containsExactly("dialer_call_talk_duration_seconds_count",
                "dialer_call_talk_duration_seconds_sum", "dialer_call_talk_duration_seconds_max");
        assertThat(Metric.WEBHOOK_INVOCATION_DURATION.seriesNames()).contains(
                "dialer_webhook_invocation_duration_seconds_bucket");
        assertThat(ExternalMetric.CIRCUIT_BREAKER_STATE.seriesNames())
                .containsExactly("resilience4j_circuitbreaker_state");
    }

    /** Asserts the given samples (key, value, key, value, ...) with a short message on failure. */
    private static void expectSamples(Map<String, Double> samples, Object... keysAndValues) {
        Map<String, Double> expected = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            expected.put((String) keysAndValues[i], (Double) keysAndValues[i + 1]);
        }
        Map<String, Double> actual = new LinkedHashMap<>();
        expected.keySet().forEach(key -> actual.put(key, samples.get(key)));
        assertThat(actual).isEqualTo(expected);
    }

    private static String ended(String region, String disposition) {
        return "dialer_calls_ended_total{campaign=reminders,disposition=" + disposition + ",region=" + region + "}";
    }

    private static Map<String, String> filterByPrefix(Map<String, String> families, String prefix) {
        return families.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    /** The {@code # TYPE} lines: family name to type. */
    static Map<String, String> typeLines(String scrape) {
        Map<String, String> families = new LinkedHashMap<>();
        Matcher type = TYPE_LINE.matcher(scrape);
        while (type.find()) {
            assertThat(families.put(type.group(1), type.group(2))).as("duplicate %s", type.group(1)).isNull();
        }
        return families;
    }

    /** Samples keyed {@code name{k=v,...}} with labels sorted and unquoted, so that tests read plainly. */
    static Map<String, Double> samples(String scrape) {
        Map<String, Double> samples = new HashMap<>();
        for (String line : scrape.split("\n")) {
            Matcher sample = SAMPLE.matcher(line);
            if (line.startsWith("#") || !sample.matches()) {
                continue;
            }
            Map<String, String> labels = labels(sample.group(3));
            String key = labels.isEmpty() ? sample.group(1) : sample.group(1) + labels.entrySet().stream()
                    .sorted(Map.Entry.comparingByKey())
                    .map(e -> e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining(",", "{", "}"));
            samples.put(key, Double.parseDouble(sample.group(4)));
        }
        return samples;
    }

    private static Map<String, String> labels(String text) {
        Map<String, String> labels = new LinkedHashMap<>();
        if (text != null) {
            Matcher label = LABEL.matcher(text);
            while (label.find()) {
                labels.put(label.group(1), label.group(2));
            }
        }
        return labels;
    }
}
