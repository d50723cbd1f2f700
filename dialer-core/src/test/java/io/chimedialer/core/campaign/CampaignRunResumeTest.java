package io.chimedialer.core.campaign;

import io.chimedialer.testkit.Await;
import io.chimedialer.testkit.VirtualTimeClock;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.chime.Originator;
import io.chimedialer.core.chime.UpdateOutcome;
import io.chimedialer.core.contacts.CallingWindowConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.contacts.CallingWindow;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.DncList;
import io.chimedialer.core.contacts.PhoneNumbers;
import io.chimedialer.core.calls.CallContext;
import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.calls.ExpectedCall;
import io.chimedialer.core.calls.EventBus;
import io.chimedialer.core.calls.WebhookHandler;
import io.chimedialer.core.calls.WebhookReply;
import io.chimedialer.core.webhook.WebhookSignature;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerOptions;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.core.pacing.DialerSettings;
import io.chimedialer.core.pacing.PacingSettings;
import io.chimedialer.core.pacing.RegionPacing;
import io.chimedialer.core.pacing.ResilientCreate;
import io.chimedialer.core.pacing.RetrySettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * A resumed {@link CampaignRun} over a ledger on a temporary SQLite file that a "crashed" run left behind, on
 * virtual time: unplaced intents end UNKNOWN and are not redialed, placed calls are tracked again (ended by
 * their HANGUP, or by the lifetime guard for the rest of their lifetime), finished contacts are not redialed,
 * scheduled follow-ups keep their due time, and new contacts are dialed once.
 */
class CampaignRunResumeTest {
    private static final Instant T0 = Instant.parse("2026-01-05T10:00:00Z");
    private static final String CAMPAIGN = "c";
    private static final String SECRET = "resume-secret";
    private static final String REGION = "us-east-1";

    @TempDir
    Path dir;

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        time.dispose();
    }

    @Test
    void resume_previousRunLeftOpenAttempts_eachEndsOnceAndOnlyNewOrScheduledContactsAreDialed() throws Exception {
        time.advanceTimeTo(T0);
        Clock clock = new VirtualTimeClock(time);
        JdbcLedger ledger = JdbcLedger.open(LedgerOptions.of("jdbc:sqlite:" + dir.resolve("ledger.db"), clock));
        closeables.add(ledger);

        // What a run killed at T0 left: c1 intent only, c2 and c3 placed without outcome, c4 done, c5 BUSY with a
        // follow-up due at T0+2min.
        block(ledger.upsertCampaign(CAMPAIGN, null, T0.minusSeconds(600)));
        block(ledger.recordIntents(List.of(attempt("a1", 1, 1), attempt("a2", 2, 1), attempt("a3", 3, 1),
                attempt("a4", 4, 1), attempt("a5", 5, 1), attempt("a8", 8, 1))));
        block(ledger.recordPlaced("a2", "tx-old-2", T0.minusSeconds(60)));
        block(ledger.recordPlaced("a3", "tx-old-3", T0.minusSeconds(240)));
        block(ledger.recordPlaced("a4", "tx-old-4", T0.minusSeconds(300)));
        block(ledger.recordResult(result("a4", "tx-old-4", Disposition.ANSWERED, T0.minusSeconds(200))));
        block(ledger.recordPlaced("a5", "tx-old-5", T0.minusSeconds(300)));
        block(ledger.recordResult(result("a5", "tx-old-5", Disposition.BUSY, T0.minusSeconds(250))));
        block(ledger.scheduleFollowUp(CAMPAIGN, "c5", number(5), 2, T0.plusSeconds(120)));
        block(ledger.recordPlaced("a8", "tx-old-8", T0.minusSeconds(60))); // answered at T0-30s, still talking

        EventBus bus = new EventBus();
        CallRegistry registry = new CallRegistry(bus, clock);
        Disposable sweeper = registry.startSweeper(time, Duration.ofSeconds(1));
        closeables.add(sweeper::dispose);
        WebhookSignature signature = new WebhookSignature(SECRET, clock);
        WebhookHandler webhook = WebhookHandler.builder(registry, signature).build();

        RegionConfig region = new RegionConfig(REGION, "sma-1", 10, 10, 50, 5, List.of("+12065550100"), null);
        RegionPacing pacing = RegionPacing.create(region, PacingSettings.ofDefaults(), time,
                permit -> registry.markUnknown(permit.attemptId()));
        RecordingOriginator fake = new RecordingOriginator(time);
        DialerMetrics metrics = new DialerMetrics(new SimpleMeterRegistry());
        MeteredOriginator originator = new MeteredOriginator(fake, metrics, time);
        ResilientCreate create = new ResilientCreate(originator, RetrySettings.ofDefaults(), time);
        RetryConfig retry = new RetryConfig(Map.of(Disposition.BUSY, new RetryConfig.Rule(Duration.ofMinutes(1), 2)),
                3, Duration.ofMinutes(1));
        CampaignConfig config = new CampaignConfig(CAMPAIGN, null, Map.of(REGION, 1), "US",
                CallingWindowConfig.ALWAYS, retry, null, List.of(), Duration.ofMinutes(10), false);
        List<ContactRow> rows = new ArrayList<>();
        for (int i = 1; i <= 8; i++) {
            rows.add(new ContactRow.Valid(contact(i)));
        }
        int[] ids = {0};
        CampaignRun run = CampaignRun.setup(config).contacts(Flux.fromIterable(rows), rows.size())
                .dnc(new DncList(PhoneNumbers.forRegion("US")), "campaign:" + CAMPAIGN)
                .window(CallingWindow.of(CallingWindowConfig.ALWAYS), T0.plus(Duration.ofDays(7))).maxWaiting(100)
                .pacing(Map.of(REGION, pacing), create, originator).calls(registry).ledger(ledger).metrics(metrics)
                .time(time).attemptIds(() -> "n" + (++ids[0]))
                .dialer(new DialerSettings(8, 2, 20, Duration.ofMillis(50))).resume(true).newRun();
        closeables.add(run::dispose);
        AtomicReference<RunReport> report = new AtomicReference<>();
        AtomicReference<Boolean> recovered = new AtomicReference<>(false);
        run.recovered().subscribe(null, null, () -> recovered.set(true));
        run.start().subscribe(report::set, e -> { throw new AssertionError("run failed", e); });

        Set<String> answered = ConcurrentHashMap.newKeySet();
        Runnable network = () -> {
            // The "callee" of every new call: NEW_OUTBOUND_CALL then HANGUP 480 (NO_ANSWER).
            for (RecordingOriginator.Create c : fake.creates) {
                if (answered.add(c.attemptId())) {
                    send(webhook, signature,
                            invocation("NEW_OUTBOUND_CALL", 1, c.transactionId(), c.attemptId(), null));
                    send(webhook, signature, invocation("HANGUP", 2, c.transactionId(), null, 480));
                }
            }
        };
        advanceUntil(Duration.ofSeconds(5), network, () -> recovered.get() && fake.creates.size() >= 2);
        eventually(network, () -> recovered.get() && fake.creates.size() >= 2);
        // The previous run's live calls (c2, c3, c8) count against the Region's cap, as they do at Chime.
        assertThat(pacing.permits().inUse()).as("permits held by the resumed calls (and new live ones)")
                .isGreaterThanOrEqualTo(3);
        // The previous run's call c2 hangs up now (busy): its invocation correlates by TransactionId.
        send(webhook, signature, invocation("HANGUP", 3, "tx-old-2", null, 486));
        // c8 hangs up after talking: its attributes say it was answered before the restart.
        send(webhook, signature, invocation("HANGUP", 7, "tx-old-8", null, 0)
                .replace("\"Participants\"", "\"TransactionAttributes\":{\"ans\":\""
                        + T0.minusSeconds(30).toEpochMilli() + "\"},\"Participants\""));
        advanceUntil(Duration.ofSeconds(5), network, () -> false);
        eventually(network, () -> open(ledger).size() == 1);

        assertThat(fake.creates).extracting(RecordingOriginator.Create::to).containsExactlyInAnyOrder(number(6),
                number(7));
        assertThat(open(ledger)).as("at T0+10s only c3's call is open").containsExactly("a3");
        assertThat(pacing.permits().inUse()).as("c3's permit").isEqualTo(1);

        advanceUntil(Duration.ofSeconds(60), network, () -> false); // T0+70s: c2's follow-up (BUSY after 1 min) due
        eventually(network, () -> fake.creates.size() >= 3);
        assertThat(fake.creates).extracting(RecordingOriginator.Create::to).containsExactlyInAnyOrder(number(6),
                number(7), number(2));
        advanceUntil(Duration.ofSeconds(45), network, () -> false); // T0+115s: c5's follow-up not yet due
        assertThat(fake.creates).hasSize(3);
        advanceUntil(Duration.ofSeconds(10), network, () -> false); // T0+125s: due at T0+120s
        eventually(network, () -> fake.creates.size() >= 4);
        assertThat(fake.creates).extracting(RecordingOriginator.Create::to).containsExactlyInAnyOrder(number(6),
                number(7), number(2), number(5));
        assertThat(fake.creates.get(3).atNanos())
                .isGreaterThanOrEqualTo(T0.plusSeconds(120).toEpochMilli() * 1_000_000);

        // c3 was placed at T0-4min with a 10-minute lifetime: open until T0+6min, then UNKNOWN.
        advanceUntil(Duration.ofSeconds(350 - 125), network, () -> false);
        assertThat(open(ledger)).containsExactly("a3");
        assertThat(report.get()).as("the run waits for c3").isNull();
        advanceUntil(Duration.ofSeconds(20), network, () -> report.get() != null);
        eventually(network, () -> report.get() != null);

        RunReport done = report.get();
        assertThat(done).isNotNull();
        assertThat(done.state()).isEqualTo("COMPLETED");
        Map<String, Ledger.AttemptRecord> attempts = block(ledger.attempts(CAMPAIGN).collectList()).stream()
                .collect(Collectors.toMap(Ledger.AttemptRecord::attemptId, Function.identity()));
        assertThat(attempts).hasSize(10);
        assertThat(attempts.values()).allSatisfy(a -> assertThat(a.result()).as(a.attemptId()).isNotNull());
        assertThat(attempts.get("a1").result().disposition()).isEqualTo(Disposition.UNKNOWN);
        assertThat(attempts.get("a1").transactionId()).isNull();
        assertThat(attempts.get("a2").result().disposition()).isEqualTo(Disposition.BUSY);
        assertThat(attempts.get("a2").result().sipCode()).isEqualTo(486);
        assertThat(attempts.get("a3").result().disposition()).isEqualTo(Disposition.UNKNOWN);
        assertThat(attempts.get("a3").result().endedAt()).isBetween(T0.plusSeconds(360), T0.plusSeconds(362));
        assertThat(attempts.get("a4").result().disposition()).isEqualTo(Disposition.ANSWERED);
        assertThat(attempts.get("a8").result().disposition()).isEqualTo(Disposition.ANSWERED);
        assertThat(attempts.get("a8").result().talk()).isGreaterThanOrEqualTo(Duration.ofSeconds(30));
        assertThat(attempts.get("a5").result().disposition()).isEqualTo(Disposition.BUSY);
        Map<String, Integer> newAttempts = attempts.values().stream().filter(a -> a.attemptId().startsWith("n"))
                .collect(Collectors.toMap(Ledger.AttemptRecord::contactKey, Ledger.AttemptRecord::attemptNumber));
        assertThat(newAttempts).containsExactlyInAnyOrderEntriesOf(Map.of("c2", 2, "c5", 2, "c6", 1, "c7", 1));
        assertThat(attempts.values().stream().filter(a -> a.attemptId().startsWith("n")))
                .allSatisfy(a -> assertThat(a.result().disposition()).isEqualTo(Disposition.NO_ANSWER));
        assertThat(block(ledger.pendingFollowUps(CAMPAIGN))).isZero();
        assertThat(done.contacts().alreadyDone()).isEqualTo(6);
        assertThat(done.outcomes().get(Disposition.ANSWERED)).isEqualTo(1);
        assertThat(done.outcomes().get(Disposition.UNKNOWN)).isEqualTo(2);
        assertThat(done.outcomes().get(Disposition.BUSY)).isEqualTo(1);
        assertThat(done.outcomes().get(Disposition.NO_ANSWER)).isEqualTo(4);
        assertThat(registry.liveCalls()).isZero();
        assertThat(pacing.permits().inUse()).isZero();
    }

    /**
     * The webhook listens before the resume: invocations of the previous run's calls that arrive before the run has
     * taken them over are answered from memory (restored from the ledger) and their outcomes recorded; the resume
     * then counts each such end once and schedules its follow-up once.
     */
    @Test
    void resume_invocationsBeforeTheRunTookTheCallsOver_answeredRecordedCountedAndFollowedUpOnce() throws Exception {
        time.advanceTimeTo(T0);
        Clock clock = new VirtualTimeClock(time);
        JdbcLedger ledger = JdbcLedger.open(LedgerOptions.of("jdbc:sqlite:" + dir.resolve("early.db"), clock));
        closeables.add(ledger);
        block(ledger.upsertCampaign(CAMPAIGN, null, T0.minusSeconds(600)));
        block(ledger.recordIntents(List.of(attempt("a2", 2, 1), attempt("a3", 3, 1), attempt("a8", 8, 1))));
        block(ledger.recordPlaced("a2", "tx-old-2", T0.minusSeconds(60)));
        block(ledger.recordPlaced("a3", "tx-old-3", T0.minusSeconds(60)));
        block(ledger.recordPlaced("a8", "tx-old-8", T0.minusSeconds(60)));

        RetryConfig retry = new RetryConfig(Map.of(Disposition.BUSY, new RetryConfig.Rule(Duration.ofMinutes(1), 2)),
                3, Duration.ofMinutes(1));
        CampaignConfig config = new CampaignConfig(CAMPAIGN, null, Map.of(REGION, 1), "US",
                CallingWindowConfig.ALWAYS, retry, null, List.of(), Duration.ofMinutes(10), false);
        EventBus bus = new EventBus();
        CallRegistry registry = new CallRegistry(bus, clock);
        Disposable sweeper = registry.startSweeper(time, Duration.ofSeconds(1));
        closeables.add(sweeper::dispose);
        WebhookSignature signature = new WebhookSignature(SECRET, clock);
        // As the runtime's lookup: restored from the ledger at once, without waiting for the run's resume.
        WebhookHandler webhook = WebhookHandler.builder(registry, signature)
                .ledgerLookup(tx -> ledger.findByTransactionId(tx).filter(r -> r.result() == null).map(r -> {
                    Attempt a = new Attempt(r.attemptId(), r.campaignId(), new Contact(0, r.contactKey(), r.number(),
                            "", null, Map.of()), r.attemptNumber(), r.region(), r.fromNumber());
                    return Optional.of(new ExpectedCall(a, CallContext.of(a, config.flow(), Duration.ofMinutes(9))));
                }))
                .endDurable(ledger::recordResult, Duration.ofSeconds(3))
                .build();

        // Before the run exists: c2's call hangs up busy, c8's call is answered.
        send(webhook, signature, invocation("HANGUP", 3, "tx-old-2", null, 486));
        send(webhook, signature, invocation("CALL_ANSWERED", 3, "tx-old-8", null, null));
        assertThat(webhook.stats().unknownCalls()).as("answered from memory, not as unknown calls").isZero();
        assertThat(block(ledger.findAttempt("a2")).result().disposition()).isEqualTo(Disposition.BUSY);

        RegionConfig region = new RegionConfig(REGION, "sma-1", 10, 10, 50, 5, List.of("+12065550100"), null);
        RegionPacing pacing = RegionPacing.create(region, PacingSettings.ofDefaults(), time,
                permit -> registry.markUnknown(permit.attemptId()));
        RecordingOriginator fake = new RecordingOriginator(time);
        DialerMetrics metrics = new DialerMetrics(new SimpleMeterRegistry());
        MeteredOriginator originator = new MeteredOriginator(fake, metrics, time);
        List<ContactRow> rows = List.of(new ContactRow.Valid(contact(2)), new ContactRow.Valid(contact(3)),
                new ContactRow.Valid(contact(6)), new ContactRow.Valid(contact(8)));
        int[] ids = {0};
        CampaignRun run = CampaignRun.setup(config).contacts(Flux.fromIterable(rows), rows.size())
                .dnc(new DncList(PhoneNumbers.forRegion("US")), "campaign:" + CAMPAIGN)
                .window(CallingWindow.of(CallingWindowConfig.ALWAYS), T0.plus(Duration.ofDays(7))).maxWaiting(100)
                .pacing(Map.of(REGION, pacing), new ResilientCreate(originator, RetrySettings.ofDefaults(), time),
                        originator)
                .calls(registry).ledger(ledger).metrics(metrics).time(time).attemptIds(() -> "n" + (++ids[0]))
                .dialer(new DialerSettings(8, 2, 20, Duration.ofMillis(50))).resume(true).newRun();
        closeables.add(run::dispose);
        AtomicReference<RunReport> report = new AtomicReference<>();
        AtomicReference<Boolean> recovered = new AtomicReference<>(false);
        run.recovered().subscribe(null, null, () -> recovered.set(true));
        run.start().subscribe(report::set, e -> { throw new AssertionError("run failed", e); });
        Set<String> answered = ConcurrentHashMap.newKeySet();
        Runnable network = () -> {
            for (RecordingOriginator.Create c : fake.creates) {
                if (answered.add(c.attemptId())) {
                    send(webhook, signature,
                            invocation("NEW_OUTBOUND_CALL", 1, c.transactionId(), c.attemptId(), null));
                    send(webhook, signature, invocation("HANGUP", 2, c.transactionId(), null, 480));
                }
            }
        };
        advanceUntil(Duration.ofSeconds(5), network, () -> recovered.get() && fake.creates.size() >= 1);
        eventually(network, () -> recovered.get() && fake.creates.size() >= 1);
        // c8's call (taken over live) and c3's call end now
        send(webhook, signature, invocation("HANGUP", 7, "tx-old-8", null, 0));
        send(webhook, signature, invocation("HANGUP", 4, "tx-old-3", null, 480));
        advanceUntil(Duration.ofSeconds(70), network, () -> false); // c2's follow-up (BUSY after 1 min) is due
        eventually(network, () -> report.get() != null);

        assertThat(fake.creates).extracting(RecordingOriginator.Create::to)
                .as("c6 once, c2's follow-up once, no call of the previous run again")
                .containsExactlyInAnyOrder(number(6), number(2));
        RunReport done = report.get();
        assertThat(done).isNotNull();
        assertThat(done.state()).isEqualTo("COMPLETED");
        assertThat(done.outcomes().get(Disposition.BUSY)).as("c2's end before the resume, counted once").isEqualTo(1);
        assertThat(done.outcomes().get(Disposition.ANSWERED)).isEqualTo(1);
        assertThat(done.outcomes().get(Disposition.NO_ANSWER)).isEqualTo(3);
        assertThat(done.outcomes().getOrDefault(Disposition.UNKNOWN, 0L)).isZero();
        assertThat(block(ledger.findAttempt("a8")).result().disposition()).isEqualTo(Disposition.ANSWERED);
        assertThat(webhook.stats().unknownCalls()).isZero();
        assertThat(registry.liveCalls()).isZero();
        assertThat(pacing.permits().inUse()).isZero();
    }

    @Test
    void resume_withoutOpenAttempts_recoveredCompletesAndNewContactsAreDialed() throws Exception {
        time.advanceTimeTo(T0);
        Clock clock = new VirtualTimeClock(time);
        JdbcLedger ledger = JdbcLedger.open(LedgerOptions.of("jdbc:sqlite:" + dir.resolve("empty.db"), clock));
        closeables.add(ledger);
        EventBus bus = new EventBus();
        CallRegistry registry = new CallRegistry(bus, clock);
        RegionConfig region = new RegionConfig(REGION, "sma-1", 10, 10, 50, 5, List.of("+12065550100"), null);
        RegionPacing pacing = RegionPacing.create(region, PacingSettings.ofDefaults(), time,
                permit -> registry.markUnknown(permit.attemptId()));
        RecordingOriginator fake = new RecordingOriginator(time);
        DialerMetrics metrics = new DialerMetrics(new SimpleMeterRegistry());
        MeteredOriginator originator = new MeteredOriginator(fake, metrics, time);
        CampaignConfig config = new CampaignConfig(CAMPAIGN, null, Map.of(REGION, 1), "US",
                CallingWindowConfig.ALWAYS, null, null, List.of(), Duration.ofMinutes(10), false);
        CampaignRun run = CampaignRun.setup(config).contacts(Flux.just(new ContactRow.Valid(contact(1))), 1)
                .dnc(new DncList(PhoneNumbers.forRegion("US")), "campaign:" + CAMPAIGN)
                .window(CallingWindow.of(CallingWindowConfig.ALWAYS), T0.plus(Duration.ofDays(7))).maxWaiting(100)
                .pacing(Map.of(REGION, pacing), new ResilientCreate(originator, RetrySettings.ofDefaults(), time),
                        originator)
                .calls(registry).ledger(ledger).metrics(metrics).time(time).attemptIds(() -> "n1").resume(true)
                .newRun();
        closeables.add(run::dispose);
        AtomicReference<Boolean> recovered = new AtomicReference<>(false);
        run.recovered().subscribe(null, null, () -> recovered.set(true));
        run.start().subscribe();
        advanceUntil(Duration.ofSeconds(5), () -> { }, () -> recovered.get() && fake.creates.size() == 1);
        eventually(() -> { }, () -> recovered.get() && fake.creates.size() == 1);
        assertThat(recovered.get()).isTrue();
        assertThat(fake.creates).extracting(RecordingOriginator.Create::to).containsExactly(number(1));
    }

    // ---- helpers ----

    /**
     * Advances virtual time by {@code span} in 250 ms steps; after each step waits (bounded, real time) for the
     * ledger's own threads, runs {@code each}, and stops early once {@code stop} holds.
     */
    private void advanceUntil(Duration span, Runnable each, BooleanSupplier stop) throws InterruptedException {
        long steps = span.toMillis() / 250;
        for (long i = 0; i < steps; i++) {
            time.advanceTimeBy(Duration.ofMillis(250));
            for (int spin = 0; spin < 2; spin++) {
                Thread.sleep(1);
                each.run();
            }
            if (stop.getAsBoolean()) {
                return;
            }
        }
    }

    /**
     * Waits (real time, bounded by 20 s) for work on the ledger's own threads, nudging virtual time by 1 ms per
     * poll so that batching windows can close; returns when {@code done} holds (the caller then asserts).
     */
    private void eventually(Runnable each, BooleanSupplier done) {
        try {
            Await.upTo(Duration.ofSeconds(20), "the run's ledger work").pollEvery(Duration.ofMillis(5)).until(() -> {
                if (done.getAsBoolean()) {
                    return true;
                }
                time.advanceTimeBy(Duration.ofMillis(1));
                each.run();
                return done.getAsBoolean();
            });
        } catch (AssertionError timedOut) {
            // the caller's assertions say what is missing
        }
    }

    private static Set<String> open(Ledger ledger) {
        return block(ledger.openAttempts(CAMPAIGN).map(Ledger.AttemptRecord::attemptId).collect(Collectors.toSet()));
    }

    private static <T> T block(Mono<T> mono) {
        return mono.block(Duration.ofSeconds(10));
    }

    private static String number(int i) {
        return String.format("+1202555%04d", 100 + i);
    }

    private static Contact contact(int i) {
        return new Contact(i, "c" + i, number(i), "", null, Map.of());
    }

    private static Attempt attempt(String id, int contact, int attemptNumber) {
        return new Attempt(id, CAMPAIGN, contact(contact), attemptNumber, REGION, "+12065550100");
    }

    private static CallResult result(String id, String tx, Disposition d, Instant at) {
        return new CallResult(id, CAMPAIGN, tx, d, null, null, null, null, 3, at);
    }

    private static void send(WebhookHandler webhook, WebhookSignature signature, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        long ts = signature.nowSeconds();
        WebhookReply reply = webhook.handle(Long.toString(ts), signature.sign(ts, bytes), bytes)
                .block(Duration.ofSeconds(5));
        assertThat(reply).isNotNull();
        assertThat(reply.status()).as(body).isEqualTo(200);
    }

    private static String invocation(String event, int sequence, String tx, String attemptId, Integer sipCode) {
        String actionData = "";
        if (attemptId != null) {
            actionData = ",\"ActionData\":{\"Type\":\"CallCreateRequest\",\"Parameters\":{\"Arguments\":"
                    + "{\"attemptId\":\"" + attemptId + "\",\"campaignId\":\"" + CAMPAIGN + "\"}}}";
        } else if (sipCode != null) {
            actionData = ",\"ActionData\":{\"Type\":\"Hangup\",\"Parameters\":{\"SipResponseCode\":\"" + sipCode
                    + "\",\"CallId\":\"call-" + tx + "\",\"ParticipantTag\":\"LEG-A\"}}";
        }
        String status = "HANGUP".equals(event) ? ",\"Status\":\"Disconnected\"" : "";
        return "{\"SchemaVersion\":\"1.0\",\"Sequence\":" + sequence + ",\"InvocationEventType\":\"" + event + "\""
                + ",\"CallDetails\":{\"TransactionId\":\"" + tx + "\",\"AwsAccountId\":\"123456789012\","
                + "\"AwsRegion\":\"us-east-1\",\"SipMediaApplicationId\":\"sma-1\",\"Participants\":[{\"CallId\":"
                + "\"call-" + tx + "\",\"ParticipantTag\":\"LEG-A\",\"To\":\"+12025550101\",\"From\":\"+12065550100\","
                + "\"Direction\":\"Outbound\",\"StartTimeInMilliseconds\":\"1700000000000\"" + status + "}]}"
                + actionData + "}";
    }

    /** Places every Create at once with TransactionId "tx-" + attempt id, and records it with its virtual time. */
    private static final class RecordingOriginator implements Originator {
        record Create(String attemptId, String transactionId, String to, long atNanos) {
        }

        final List<Create> creates = new CopyOnWriteArrayList<>();
        private final VirtualTimeScheduler time;

        RecordingOriginator(VirtualTimeScheduler time) {
            this.time = time;
        }

        @Override
        public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments) {
            return Mono.fromSupplier(() -> {
                String tx = "tx-" + attempt.attemptId();
                creates.add(new Create(attempt.attemptId(), tx, attempt.contact().number(),
                        time.now(TimeUnit.NANOSECONDS)));
                return new CreateOutcome.Placed(tx);
            });
        }

        @Override
        public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
            return Mono.just(new UpdateOutcome.Updated(transactionId));
        }
    }
}
