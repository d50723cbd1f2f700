package io.chimedialer.core.campaign;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.core.calls.Bodies;
import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.calls.EventBus;
import io.chimedialer.core.calls.WebhookHandler;
import io.chimedialer.core.calls.WebhookObserver;
import io.chimedialer.core.calls.WebhookReply;
import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.chime.Originator;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.chime.UpdateOutcome;
import io.chimedialer.core.contacts.CallingWindow;
import io.chimedialer.core.contacts.CallingWindowConfig;
import io.chimedialer.core.contacts.ContactSource;
import io.chimedialer.core.contacts.CsvOptions;
import io.chimedialer.core.contacts.DncList;
import io.chimedialer.core.contacts.PhoneNumbers;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.core.pacing.PacingSettings;
import io.chimedialer.core.pacing.RegionPacing;
import io.chimedialer.core.pacing.ResilientCreate;
import io.chimedialer.core.pacing.RetrySettings;
import io.chimedialer.core.webhook.WebhookSignature;
import io.chimedialer.testkit.VirtualTimeClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Answered calls whose actions all fail alike pause the campaign: the engine on virtual time, with Chime played
 * through the real webhook handler (NEW_OUTBOUND_CALL, RINGING, CALL_ANSWERED, then ACTION_FAILED or
 * ACTION_SUCCESSFUL, then HANGUP).
 */
class CampaignRunActionFailureTest {
    private static final String SECRET = "test-secret";
    private static final String DENIED = "Chime is not authorized to call Polly";

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final Clock clock = new VirtualTimeClock(vts);
    private final EventBus bus = new EventBus();
    private final CallRegistry registry = new CallRegistry(bus, clock);
    private final RecordingLedger ledger = new RecordingLedger();
    private final DialerMetrics metrics = new DialerMetrics(new SimpleMeterRegistry());
    private final WebhookSignature signature = new WebhookSignature(SECRET, clock);
    private final WebhookHandler webhook = WebhookHandler.builder(registry, signature)
            .observer(new WebhookObserver() {
                @Override
                public void actionFailed(String campaignId, String action, String errorType) {
                    metrics.actionFailed(campaignId, action, errorType);
                }
            })
            .build();
    private final List<Long> createdAt = new CopyOnWriteArrayList<>();

    /** What the message's Speak does on a call to this number: null plays it, else its ErrorType. */
    private volatile Function<String, String> speakFails = number -> "AccessDenied";

    private final Originator originator = new Originator() {
        @Override
        public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments) {
            return Mono.fromSupplier(() -> {
                createdAt.add(vts.now(TimeUnit.MILLISECONDS));
                String tx = UUID.randomUUID().toString();
                play(attempt, tx, speakFails.apply(attempt.contact().number()));
                return new CreateOutcome.Placed(tx);
            });
        }

        @Override
        public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
            return Mono.just(new UpdateOutcome.Updated(transactionId));
        }
    };

    /** Chime's side of one answered call: the Speak of the message fails with {@code errorType}, or plays. */
    private void play(Attempt attempt, String tx, String errorType) {
        Map<String, String> attrs = new HashMap<>();
        at(1, () -> attrs.putAll(invoke(Bodies.newOutbound(1, tx, attempt.attemptId()), attrs)));
        at(2, () -> attrs.putAll(invoke(Bodies.invocation("RINGING", 2, tx, null), attrs)));
        at(5, () -> attrs.putAll(invoke(Bodies.invocation("CALL_ANSWERED", 3, tx, "Connected"), attrs)));
        at(6, () -> {
            ObjectNode outcome;
            if (errorType == null) {
                outcome = Bodies.actionSuccessful(4, tx, "Hangup", null, null);
            } else {
                outcome = Bodies.actionFailed(4, tx, "Speak", errorType, null);
                ((ObjectNode) outcome.get("ActionData")).put("ErrorMessage", DENIED);
            }
            attrs.putAll(invoke(outcome, attrs));
        });
        at(7, () -> invoke(Bodies.hangup(5, tx, 0, null), attrs));
    }

    private void at(int seconds, Runnable step) {
        vts.schedule(step, seconds, TimeUnit.SECONDS);
    }

    private Map<String, String> invoke(ObjectNode body, Map<String, String> attrs) {
        Bodies.withAttributes(body, attrs);
        byte[] bytes = Bodies.bytes(body);
        long ts = signature.nowSeconds();
        WebhookReply reply = webhook.handle(Long.toString(ts), signature.sign(ts, bytes), bytes)
                .block(Duration.ofSeconds(5));
        assertThat(reply).isNotNull();
        assertThat(reply.status()).isEqualTo(200);
        try {
            JsonNode json = Bodies.MAPPER.readTree(reply.body());
            Map<String, String> out = new HashMap<>();
            json.get("TransactionAttributes").properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
            return out;
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private CampaignRun run(int contacts, int pauseAfter) throws Exception {
        StringBuilder csv = new StringBuilder("id,phone,name\n");
        for (int i = 0; i < contacts; i++) {
            csv.append("c").append(i).append(",+1212555").append(String.format("%04d", 1000 + i)).append(",N\n");
        }
        RegionConfig region = new RegionConfig("us-east-1", "sma-1", 2, 1, 3, 5, List.of("+17035550100"), null);
        RegionPacing pacing = RegionPacing.create(region, PacingSettings.ofDefaults(), vts,
                p -> registry.markUnknown(p.attemptId()));
        MeteredOriginator metered = new MeteredOriginator(originator, metrics, vts);
        Map<String, Integer> weights = new LinkedHashMap<>();
        weights.put("us-east-1", 1);
        CampaignConfig config = new CampaignConfig("c1", "contacts.csv", weights, "US", CallingWindowConfig.ALWAYS,
                RetryConfig.NONE, null, List.of(), Duration.ofMinutes(10), false, pauseAfter);
        DncList dnc = new DncList(PhoneNumbers.forRegion("US"));
        String text = csv.toString();
        return CampaignRun.setup(config)
                .contacts(ContactSource.csv(() -> new StringReader(text), "contacts.csv", CsvOptions.defaults()),
                        contacts)
                .dnc(dnc, "dnc")
                .window(CallingWindow.of(CallingWindowConfig.ALWAYS), Instant.parse("2100-01-01T00:00:00Z"))
                .maxWaiting(100)
                .pacing(Map.of("us-east-1", pacing), new ResilientCreate(metered, RetrySettings.ofDefaults(), vts),
                        metered)
                .calls(registry).ledger(ledger).metrics(metrics).time(vts)
                .attemptIds(() -> UUID.randomUUID().toString()).newRun();
    }

    private double failedCount(String errorType) {
        return metrics.registry().find("dialer.actions.failed").tag("campaign", "c1").tag("action", "Speak")
                .tag("error_type", errorType).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    @Test
    void everyAnsweredCallFailsSpeakWithAccessDenied_pausesAfterTwentyWithTheReason_thenResumeDialsTheRest()
            throws Exception {
        CampaignRun run = run(60, CampaignConfig.DEFAULT_PAUSE_AFTER_ACTION_FAILURES);
        AtomicReference<RunReport> done = new AtomicReference<>();
        run.start().subscribe(done::set);

        vts.advanceTimeBy(Duration.ofMinutes(1));

        String reason = "20 answered calls in a row failed Speak with AccessDenied: " + DENIED
                + " — the account, not the callees (e.g. the service-linked role"
                + " AWSServiceRoleForAmazonChimeVoiceConnector for Polly, or the bucket policy for S3 audio)";
        assertThat(run.state()).isEqualTo(CampaignRun.State.PAUSED);
        assertThat(run.pauseReason()).isEqualTo(reason);
        assertThat(run.report().pauseReason()).isEqualTo(reason);
        // The pause came with the 20th failed call's end; the calls then live (at most the 3 permits) went on.
        int createdAtPause = createdAt.size();
        assertThat(createdAtPause).isBetween(20, 23);
        vts.advanceTimeBy(Duration.ofMinutes(10));
        assertThat(createdAt).as("no Create while paused").hasSize(createdAtPause);
        assertThat(run.counters().outcomes().get(Disposition.ANSWERED)).isEqualTo(createdAtPause);
        // Each failure is on its attempt: the ledger's events, the metric.
        assertThat(ledger.events).hasSize(createdAtPause).allSatisfy(e -> {
            assertThat(e.type()).isEqualTo("ACTION_FAILED");
            assertThat(e.detail()).isEqualTo("Speak failed: AccessDenied: " + DENIED);
            assertThat(ledger.intents).containsKey(e.attemptId());
        });
        assertThat(failedCount("AccessDenied")).isEqualTo(createdAtPause);

        // The operator adds the service-linked role and resumes: the rest is dialed and the campaign completes.
        speakFails = number -> null;
        run.resume();
        vts.advanceTimeBy(Duration.ofMinutes(10));

        assertThat(done.get()).isNotNull();
        assertThat(done.get().state()).isEqualTo("COMPLETED");
        assertThat(done.get().pauseReason()).isNull();
        assertThat(createdAt).hasSize(60);
        assertThat(ledger.results).hasSize(60);
        assertThat(ledger.events).hasSize(createdAtPause);
        assertThat(ledger.results.values()).filteredOn(r -> r.actionFailure() != null).hasSize(createdAtPause);
    }

    @Test
    void failuresBrokenBySuccessOrAnotherErrorType_neverPause() throws Exception {
        // Of every 5 calls: AccessDenied, AccessDenied, SystemException, SystemException, success; threshold 3.
        speakFails = number -> switch (Integer.parseInt(number.substring(number.length() - 4)) % 5) {
            case 0, 1 -> "AccessDenied";
            case 2, 3 -> "SystemException";
            default -> null;
        };
        CampaignRun run = run(30, 3);
        AtomicReference<RunReport> done = new AtomicReference<>();
        run.start().subscribe(done::set);

        vts.advanceTimeBy(Duration.ofMinutes(10));

        assertThat(done.get()).isNotNull();
        assertThat(done.get().state()).isEqualTo("COMPLETED");
        assertThat(done.get().pauseReason()).isNull();
        assertThat(createdAt).hasSize(30);
        assertThat(failedCount("AccessDenied")).isEqualTo(12);
        assertThat(failedCount("SystemException")).isEqualTo(12);
        assertThat(ledger.events).hasSize(24);
    }

    @Test
    void pauseAfterActionFailuresZero_neverPauses() throws Exception {
        CampaignRun run = run(25, 0);
        AtomicReference<RunReport> done = new AtomicReference<>();
        run.start().subscribe(done::set);

        vts.advanceTimeBy(Duration.ofMinutes(10));

        assertThat(done.get()).isNotNull();
        assertThat(done.get().state()).isEqualTo("COMPLETED");
        assertThat(failedCount("AccessDenied")).isEqualTo(25);
    }

    @Test
    void streak_answeredWithoutFailureResets_thresholdReachedGivesTheReason() {
        ActionFailureStreak streak = new ActionFailureStreak(3);
        io.chimedialer.core.domain.ActionFailure denied =
                new io.chimedialer.core.domain.ActionFailure("Speak", "AccessDenied", null);

        assertThat(streak.answered(denied)).isEmpty();
        assertThat(streak.answered(denied)).isEmpty();
        assertThat(streak.answered(null)).isEmpty();
        assertThat(streak.count()).isZero();
        streak.answered(denied);
        streak.answered(denied);
        assertThat(streak.answered(denied)).contains("3 answered calls in a row failed Speak with AccessDenied — the"
                + " account, not the callees (e.g. the service-linked role AWSServiceRoleForAmazonChimeVoiceConnector"
                + " for Polly, or the bucket policy for S3 audio)");
        streak.reset();
        assertThat(streak.count()).isZero();
    }
}
