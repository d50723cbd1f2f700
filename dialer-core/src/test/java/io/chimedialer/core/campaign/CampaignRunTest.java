package io.chimedialer.core.campaign;

import io.chimedialer.core.contacts.ClaimGuard;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.chime.Originator;
import io.chimedialer.core.chime.UpdateOutcome;
import io.chimedialer.core.contacts.CallingWindowConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.contacts.CallingWindow;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.ContactSource;
import io.chimedialer.core.contacts.CsvOptions;
import io.chimedialer.core.contacts.DncList;
import io.chimedialer.core.contacts.PhoneNumbers;
import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.calls.EventBus;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.core.pacing.DialerSettings;
import io.chimedialer.core.pacing.PacingSettings;
import io.chimedialer.core.pacing.RegionPacing;
import io.chimedialer.core.pacing.ResilientCreate;
import io.chimedialer.core.pacing.RetrySettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The engine on virtual time with a scripted originator that plays Chime and the webhook. */
class CampaignRunTest {
    private static final String CSV = """
            id,phone,name
            a,+12125550101,Ann
            b,+13125550102,Bob
            c,not-a-number,Cat
            d,+12125550101,Dup
            e,+14155550103,Eve
            f,+13035550104,Fay
            g,+12125550105,Gus
            """;

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final Clock clock = new Clock() {
        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(vts.now(TimeUnit.MILLISECONDS));
        }
    };
    private final EventBus bus = new EventBus();
    private final CallRegistry registry = new CallRegistry(bus, clock);
    private final RecordingLedger ledger = new RecordingLedger();
    private final List<String> created = new CopyOnWriteArrayList<>();
    private final List<Long> createdAt = new CopyOnWriteArrayList<>();

    /** Plays one call: what happens after Create (by the number's last digit). */
    private BiConsumer<Attempt, String> callee = (attempt, tx) -> vts.schedule(
            () -> registry.close(attempt.attemptId(), Disposition.ANSWERED, 0), 30, TimeUnit.SECONDS);

    private final Originator originator = new Originator() {
        @Override
        public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments) {
            return Mono.fromSupplier(() -> {
                created.add(attempt.contact().number());
                createdAt.add(vts.now(TimeUnit.MILLISECONDS));
                String tx = UUID.randomUUID().toString();
                callee.accept(attempt, tx);
                return new CreateOutcome.Placed(tx);
            });
        }

        @Override
        public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
            return Mono.just(new UpdateOutcome.Updated(transactionId));
        }
    };

    private RegionPacing pacing;
    private Instant horizon = Instant.parse("2100-01-01T00:00:00Z");

    private CampaignRun run(RetryConfig retry, String dnc) throws Exception {
        return run(retry, dnc, CallingWindowConfig.ALWAYS);
    }

    private CampaignRun run(RetryConfig retry, String dnc, CallingWindowConfig window) throws Exception {
        return run(retry, dnc, window, ContactSource.csv(() -> new StringReader(CSV), "contacts.csv",
                CsvOptions.defaults()), 7);
    }

    private CampaignRun run(RetryConfig retry, String dnc, CallingWindowConfig window, Flux<ContactRow> source,
                            long expectedTotal) throws Exception {
        RegionConfig region = new RegionConfig("us-east-1", "sma-1", 2, 1, 3, 5, List.of("+17035550100"), null);
        pacing = RegionPacing.create(region, PacingSettings.ofDefaults(), vts, p -> registry.markUnknown(p.attemptId()));
        DialerMetrics metrics = new DialerMetrics(new SimpleMeterRegistry());
        MeteredOriginator metered = new MeteredOriginator(originator, metrics, vts);
        Map<String, Integer> weights = new LinkedHashMap<>();
        weights.put("us-east-1", 1);
        CampaignConfig config = new CampaignConfig("camp", "contacts.csv", weights, "US", window,
                retry, null, List.of(), Duration.ofMinutes(10), false);
        PhoneNumbers numbers = PhoneNumbers.forRegion("US");
        DncList dncList = new DncList(numbers);
        dncList.load("dnc", new StringReader(dnc));
        return CampaignRun.setup(config).contacts(source, expectedTotal).dnc(dncList, "dnc")
                .window(CallingWindow.of(window), horizon).maxWaiting(100)
                .pacing(Map.of("us-east-1", pacing), new ResilientCreate(metered, RetrySettings.ofDefaults(), vts),
                        metered)
                .calls(registry).ledger(ledger).metrics(metrics).time(vts)
                .attemptIds(() -> UUID.randomUUID().toString()).newRun();
    }

    private RunReport runToEnd(CampaignRun run, Duration within) {
        AtomicReference<RunReport> report = new AtomicReference<>();
        run.start().subscribe(report::set);
        vts.advanceTimeBy(within);
        assertThat(report.get()).as("the run completed within %s of virtual time", within).isNotNull();
        return report.get();
    }

    @Test
    void start_listWithInvalidDuplicateAndDnc_everyContactEndsOnceAndReportAddsUp() throws Exception {
        CampaignRun run = run(RetryConfig.NONE, "+13035550104\n");
        RunReport report = runToEnd(run, Duration.ofMinutes(5));

        assertThat(report.state()).isEqualTo("COMPLETED");
        RunReport.Contacts c = report.contacts();
        assertThat(c.total()).isEqualTo(7);
        assertThat(c.invalid()).isEqualTo(1);
        assertThat(c.duplicate()).isEqualTo(1);
        assertThat(c.suppressed()).isEqualTo(1);
        assertThat(c.dialed()).isEqualTo(4);
        assertThat(c.total()).isEqualTo(c.invalid() + c.duplicate() + c.suppressed() + c.dialed());
        assertThat(created).containsExactlyInAnyOrder("+12125550101", "+13125550102", "+14155550103", "+12125550105");
        assertThat(report.outcomes()).containsEntry(Disposition.ANSWERED, 4L);
        assertThat(ledger.results).hasSize(4);
        assertThat(ledger.intents.keySet()).isEqualTo(ledger.results.keySet());
        assertThat(ledger.skipped).containsExactlyInAnyOrder("INVALID:line-4", "DUPLICATE:d", "SUPPRESSED:f");
        assertThat(pacing.permits().inUse()).isZero();
    }

    @Test
    void callEnded_ofACallThisRunDidNotPlace_outcomeRecordedNotCounted() throws Exception {
        // Calls take 30 s: the foreign call ends while this run's own calls are live.
        CampaignRun run = run(RetryConfig.NONE, "");
        AtomicReference<RunReport> report = new AtomicReference<>();
        run.start().subscribe(report::set);
        vts.advanceTimeBy(Duration.ofSeconds(5));
        // Another node's call, restored from the ledger by this node's webhook (its own node is gone).
        CallResult foreign = new CallResult("other-node-attempt", "camp", "tx-other", Disposition.BUSY, 486,
                Duration.ZERO, Duration.ZERO, null, 3, clock.instant());
        assertThat(bus.publish(new io.chimedialer.core.calls.CallEvent.CallEnded(foreign))).isTrue();
        vts.advanceTimeBy(Duration.ofMinutes(5));

        assertThat(ledger.results).containsEntry("other-node-attempt", foreign);
        assertThat(report.get()).isNotNull();
        assertThat(report.get().outcomes()).containsEntry(Disposition.BUSY, 0L)
                .containsEntry(Disposition.ANSWERED, 5L);
        assertThat(ledger.results).hasSize(6);
    }

    @Test
    void callEnded_outcomeAlreadyWrittenByTheWebhook_notWrittenAgain_runWaitsForThatWrite() throws Exception {
        // The webhook writes a HANGUP's outcome before it answers and publishes the end with that write.
        Sinks.Empty<Void> webhookCommit = Sinks.empty();
        java.util.concurrent.atomic.AtomicInteger webhookWrites = new java.util.concurrent.atomic.AtomicInteger();
        callee = (attempt, tx) -> vts.schedule(() -> {
            CallResult result = new CallResult(attempt.attemptId(), "camp", tx, Disposition.ANSWERED, null,
                    Duration.ZERO, Duration.ofSeconds(30), null, 5, clock.instant());
            Mono<Void> written = webhookCommit.asMono().doOnSubscribe(s -> webhookWrites.incrementAndGet()).cache();
            written.subscribe(v -> { }, e -> { });
            bus.publish(new io.chimedialer.core.calls.CallEvent.CallEnded(result, written));
        }, 30, TimeUnit.SECONDS);
        CampaignRun run = run(RetryConfig.NONE, "");
        AtomicReference<RunReport> report = new AtomicReference<>();
        run.start().subscribe(report::set);
        vts.advanceTimeBy(Duration.ofMinutes(5));

        assertThat(ledger.resultWrites.get()).as("the run does not write an outcome the webhook wrote").isZero();
        assertThat(webhookWrites.get()).isEqualTo(5);
        assertThat(report.get()).as("the run waits for the webhook's writes").isNull();
        webhookCommit.tryEmitEmpty();
        vts.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(report.get()).isNotNull();
        assertThat(report.get().outcomes()).containsEntry(Disposition.ANSWERED, 5L);
    }

    @Test
    void callEnded_resultWriteFails_failureCountedAndRunStillCompletes() throws Exception {
        ledger.beforeResult = Mono.error(new IllegalStateException("disk full"));
        CampaignRun run = run(RetryConfig.NONE, "");
        RunReport report = runToEnd(run, Duration.ofMinutes(5));

        assertThat(report.state()).isEqualTo("COMPLETED");
        assertThat(report.outcomes()).containsEntry(Disposition.ANSWERED, 5L);
        assertThat(ledger.results).isEmpty();
        assertThat(run.counters().ledgerWriteFailures.sum()).isEqualTo(5);
    }

    @Test
    void complete_resultWritesStillInFlight_completesOnlyOnceTheyLanded() throws Exception {
        ledger.beforeResult = Mono.delay(Duration.ofMinutes(10), vts).then();
        CampaignRun run = run(RetryConfig.NONE, "");
        AtomicReference<RunReport> report = new AtomicReference<>();
        run.start().subscribe(report::set);
        vts.advanceTimeBy(Duration.ofMinutes(5));

        // Every call has ended (the counters say so), but no result has landed: the run is not over.
        assertThat(run.counters().ended()).isEqualTo(5);
        assertThat(ledger.results).isEmpty();
        assertThat(report.get()).isNull();
        assertThat(run.state()).isEqualTo(CampaignRun.State.RUNNING);

        vts.advanceTimeBy(Duration.ofMinutes(10));
        assertThat(report.get()).isNotNull();
        assertThat(report.get().state()).isEqualTo("COMPLETED");
        assertThat(ledger.results).hasSize(5);
        assertThat(run.counters().ledgerWriteFailures.sum()).isZero();
    }

    @Test
    void start_rateTwoPerSecondAndCapThree_neverExceedsEither() throws Exception {
        CampaignRun run = run(RetryConfig.NONE, "");
        runToEnd(run, Duration.ofMinutes(5));

        assertThat(created).hasSize(5);
        for (int i = 0; i < createdAt.size(); i++) {
            long windowStart = createdAt.get(i);
            long inWindow = createdAt.stream().filter(t -> t >= windowStart && t < windowStart + 1000).count();
            assertThat(inWindow).as("creates in the second from %d ms", windowStart).isLessThanOrEqualTo(2);
        }
        // calls last 30 s and the cap is 3: the 4th Create waits for the first HANGUP
        assertThat(createdAt.get(3)).isGreaterThanOrEqualTo(createdAt.get(0) + 30_000);
        assertThat(pacing.permits().peak()).isEqualTo(3);
    }

    @Test
    void followUp_windowNeverOpensBeforeTheHorizon_droppedAndSettledAsTakenInTheLedger() throws Exception {
        // Calls only 00:00-01:00 UTC; BUSY is retried after 2 h, when the window is shut until the next day,
        // which is past the horizon.
        callee = (attempt, tx) -> vts.schedule(() -> registry.close(attempt.attemptId(),
                attempt.contact().number().endsWith("2") ? Disposition.BUSY : Disposition.ANSWERED,
                attempt.contact().number().endsWith("2") ? 486 : 0), 1, TimeUnit.SECONDS);
        horizon = Instant.EPOCH.plus(Duration.ofHours(12));
        CallingWindowConfig window = new CallingWindowConfig(LocalTime.MIDNIGHT, LocalTime.of(1, 0),
                EnumSet.allOf(DayOfWeek.class), "UTC");
        Map<Disposition, RetryConfig.Rule> rules = new EnumMap<>(Disposition.class);
        rules.put(Disposition.BUSY, new RetryConfig.Rule(Duration.ofHours(2), 3));
        CampaignRun run = run(new RetryConfig(rules, 5, Duration.ofHours(24)), "", window);
        RunReport report = runToEnd(run, Duration.ofHours(3));

        assertThat(created).containsOnlyOnce("+13125550102");
        assertThat(report.attempts()).isEqualTo(5);
        assertThat(ledger.followUpsTaken).containsExactly("b#2");
        assertThat(run.counters().followUpsPending.sum()).isZero();
    }

    @Test
    void unknownResolvedLater_countsFollowTheRealOutcome_andItsRetryRuleDialsTheContactOnceMore() throws Exception {
        // a's first call is closed UNKNOWN by the guard at 30 s; its HANGUP (480) comes at 40 s. The others answer at
        // 60 s; a's follow-up (NO_ANSWER is retried after 1 min) answers too.
        List<CallResult> resolvedResults = new CopyOnWriteArrayList<>();
        callee = (attempt, tx) -> {
            if (attempt.contact().number().endsWith("0101") && attempt.attemptNumber() == 1) {
                vts.schedule(() -> registry.markUnknown(attempt.attemptId()), 30, TimeUnit.SECONDS);
                vts.schedule(() -> {
                    CallResult late = new CallResult(attempt.attemptId(), "camp", tx, Disposition.NO_ANSWER, 480,
                            Duration.ofSeconds(40), Duration.ZERO, "", 3, Instant.ofEpochMilli(vts.now(
                            TimeUnit.MILLISECONDS)));
                    resolvedResults.add(late);
                    bus.publish(new io.chimedialer.core.calls.CallEvent.UnknownResolved(late)); // as the webhook does
                }, 40, TimeUnit.SECONDS);
            } else {
                vts.schedule(() -> registry.close(attempt.attemptId(), Disposition.ANSWERED, 0), 60, TimeUnit.SECONDS);
            }
        };
        Map<Disposition, RetryConfig.Rule> rules = new EnumMap<>(Disposition.class);
        rules.put(Disposition.NO_ANSWER, new RetryConfig.Rule(Duration.ofMinutes(1), 2));
        CampaignRun run = run(new RetryConfig(rules, 5, Duration.ofHours(24)), "");
        AtomicReference<RunReport> end = new AtomicReference<>();
        run.start().subscribe(end::set);

        vts.advanceTimeBy(Duration.ofSeconds(35));
        assertThat(run.report().outcomes()).containsEntry(Disposition.UNKNOWN, 1L);
        vts.advanceTimeBy(Duration.ofSeconds(10));
        RunReport resolved = run.report();
        assertThat(resolved.outcomes()).containsEntry(Disposition.UNKNOWN, 0L).containsEntry(Disposition.NO_ANSWER, 1L);
        assertThat(resolved.followUps().pending()).isEqualTo(1);
        assertThat(ledger.results.get(resolvedResults.get(0).attemptId())).isEqualTo(resolvedResults.get(0));

        vts.advanceTimeBy(Duration.ofMinutes(5));
        assertThat(end.get()).as("completed").isNotNull();
        assertThat(end.get().outcomes()).containsEntry(Disposition.UNKNOWN, 0L).containsEntry(Disposition.NO_ANSWER, 1L)
                .containsEntry(Disposition.ANSWERED, 5L);
        assertThat(created).filteredOn("+12125550101"::equals).as("one follow-up, never the closed attempt again")
                .hasSize(2);
        assertThat(end.get().attempts()).isEqualTo(6);
        assertThat(run.counters().finished.sum()).as("five contacts, each finished once").isEqualTo(5);
        assertThat(pacing.permits().inUse()).isZero();
    }

    @Test
    void unknownResolvedAfterTheRunCompleted_outcomeRecorded_noFollowUp() throws Exception {
        callee = (attempt, tx) -> vts.schedule(() -> registry.markUnknown(attempt.attemptId()), 30, TimeUnit.SECONDS);
        Map<Disposition, RetryConfig.Rule> rules = new EnumMap<>(Disposition.class);
        rules.put(Disposition.BUSY, new RetryConfig.Rule(Duration.ofMinutes(1), 2));
        CampaignRun run = run(new RetryConfig(rules, 5, Duration.ofHours(24)), "");
        RunReport report = runToEnd(run, Duration.ofMinutes(5));
        assertThat(report.outcomes()).containsEntry(Disposition.UNKNOWN, 5L);
        String attemptId = ledger.results.keySet().iterator().next();

        CallResult late = new CallResult(attemptId, "camp", "tx", Disposition.BUSY, 486, null, null, null, 2,
                Instant.ofEpochMilli(vts.now(TimeUnit.MILLISECONDS)));
        bus.publish(new io.chimedialer.core.calls.CallEvent.UnknownResolved(late));
        vts.advanceTimeBy(Duration.ofMinutes(5));
        assertThat(created).as("no follow-up after the run").hasSize(5);
    }

    @Test
    void report_followUpsWaitingForTheirDelay_countedWithTheirDueTimes_untilDialed() throws Exception {
        // b is busy on its first attempt (a call of 1 s) and retried 2 h later; the others answer.
        callee = (attempt, tx) -> vts.schedule(() -> registry.close(attempt.attemptId(),
                attempt.contact().number().endsWith("2") && attempt.attemptNumber() == 1 ? Disposition.BUSY
                        : Disposition.ANSWERED, 0), 1, TimeUnit.SECONDS);
        Map<Disposition, RetryConfig.Rule> rules = new EnumMap<>(Disposition.class);
        rules.put(Disposition.BUSY, new RetryConfig.Rule(Duration.ofHours(2), 3));
        CampaignRun run = run(new RetryConfig(rules, 5, Duration.ofHours(24)), "");
        AtomicReference<RunReport> end = new AtomicReference<>();
        run.start().subscribe(end::set);
        assertThat(run.report().followUps()).isEqualTo(RunReport.NO_FOLLOW_UPS);

        vts.advanceTimeBy(Duration.ofMinutes(5));
        long busyEnded = createdAt.get(created.indexOf("+13125550102")) + 1_000;
        String due = Instant.ofEpochMilli(busyEnded).plus(Duration.ofHours(2)).toString();
        RunReport waiting = run.report();
        assertThat(waiting.state()).isEqualTo("RUNNING");
        assertThat(waiting.followUps()).isEqualTo(new RunReport.FollowUps(1, due, due));
        assertThat(run.remaining()).as("b is not done").isEqualTo(1);

        vts.advanceTimeBy(Duration.ofHours(2));
        assertThat(end.get()).isNotNull();
        assertThat(end.get().followUps()).isEqualTo(RunReport.NO_FOLLOW_UPS);
        assertThat(created).containsOnlyOnce("+12125550101").filteredOn("+13125550102"::equals).hasSize(2);
    }

    @Test
    void guardClaims_contactsAnotherNodeTookAreNeitherWrittenNorDialed_lateIntentsAreNotSentAndEndUnknown()
            throws Exception {
        CampaignRun run = run(RetryConfig.NONE, "");
        List<List<String>> asked = new CopyOnWriteArrayList<>();
        run.guardClaims(keys -> {
            asked.add(keys);
            // b and e were claimed by another node; f's confirmation came back with a lease already over
            Set<String> held = keys.stream().filter(k -> !k.equals("b") && !k.equals("e")).collect(
                    java.util.stream.Collectors.toSet());
            long until = keys.contains("f") ? vts.now(TimeUnit.MILLISECONDS) : vts.now(TimeUnit.MILLISECONDS) + 30_000;
            return Mono.just(new ClaimGuard.Held(held, until));
        });
        RunReport report = runToEnd(run, Duration.ofMinutes(5));

        // a guarded (clustered) run leaves repeated numbers to the shared list's import: d is dialed here
        assertThat(asked.stream().flatMap(List::stream)).containsExactlyInAnyOrder("a", "b", "d", "e", "f", "g");
        assertThat(created).doesNotContain("+13125550102", "+14155550103");
        assertThat(ledger.intents.values()).extracting(a -> a.contact().id()).doesNotContain("b", "e");
        assertThat(run.counters().claimsLost.sum()).isEqualTo(2);
        assertThat(report.state()).isEqualTo("COMPLETED");
        // every held contact of f's batch was recorded, not sent, and ended UNKNOWN; the other batches were dialed
        List<String> lateBatch = asked.stream().filter(batch -> batch.contains("f")).findFirst().orElseThrow();
        ledger.intents.values().forEach(a -> assertThat(ledger.results.get(a.attemptId()).disposition())
                .isEqualTo(lateBatch.contains(a.contact().id()) ? Disposition.UNKNOWN : Disposition.ANSWERED));
        assertThat(created).doesNotContain("+13035550104")
                .hasSize((int) ledger.intents.values().stream().filter(a -> !lateBatch.contains(a.contact().id()))
                        .count());
        System.out.println("claim guard batches: " + asked);
        assertThat(ledger.results.keySet()).isEqualTo(ledger.intents.keySet());
        assertThat(run.counters().live.sum()).isZero();
        assertThat(pacing.permits().inUse()).isZero();
    }

    @Test
    void start_hangupArrivesBeforeCreateAnswers_permitStillReleasedAndRunCompletes() throws Exception {
        // The webhook's HANGUP is processed before Create's answer reaches the pipeline.
        callee = (attempt, tx) -> registry.close(attempt.attemptId(), Disposition.BUSY, 486);
        CampaignRun run = run(RetryConfig.NONE, "");
        RunReport report = runToEnd(run, Duration.ofMinutes(1));

        assertThat(report.outcomes()).containsEntry(Disposition.BUSY, 5L);
        assertThat(run.counters().live.sum()).isZero();
        assertThat(pacing.permits().inUse()).isZero();
    }

    @Test
    void start_busyWithRetryRule_redialsAfterTheDelayUpToMaxAttempts() throws Exception {
        callee = (attempt, tx) -> vts.schedule(() -> registry.close(attempt.attemptId(),
                attempt.contact().number().endsWith("2") ? Disposition.BUSY : Disposition.ANSWERED,
                attempt.contact().number().endsWith("2") ? 486 : 0), 1, TimeUnit.SECONDS);
        Map<Disposition, RetryConfig.Rule> rules = new EnumMap<>(Disposition.class);
        rules.put(Disposition.BUSY, new RetryConfig.Rule(Duration.ofMinutes(10), 3));
        CampaignRun run = run(new RetryConfig(rules, 5, Duration.ofHours(24)), "");
        RunReport report = runToEnd(run, Duration.ofMinutes(30));

        List<Long> busyCreates = new ArrayList<>();
        for (int i = 0; i < created.size(); i++) {
            if (created.get(i).equals("+13125550102")) {
                busyCreates.add(createdAt.get(i));
            }
        }
        assertThat(busyCreates).hasSize(3);
        assertThat(busyCreates.get(1) - busyCreates.get(0)).isGreaterThanOrEqualTo(Duration.ofMinutes(10).toMillis());
        assertThat(busyCreates.get(2) - busyCreates.get(1)).isGreaterThanOrEqualTo(Duration.ofMinutes(10).toMillis());
        assertThat(report.attempts()).isEqualTo(7);
        assertThat(report.contacts().dialed()).isEqualTo(5);
        assertThat(report.outcomes()).containsEntry(Disposition.BUSY, 3L).containsEntry(Disposition.ANSWERED, 4L);
    }

    @Test
    void start_followUpDueAfterTheWindowCloses_waitsForTheNextOpening() throws Exception {
        // Friday 16:55 in New York; calls allowed 09:00-17:00 there.
        vts.advanceTimeTo(Instant.parse("2026-11-27T21:55:00Z"));
        callee = (attempt, tx) -> vts.schedule(() -> registry.close(attempt.attemptId(),
                attempt.contact().number().endsWith("2") ? Disposition.BUSY : Disposition.ANSWERED,
                attempt.contact().number().endsWith("2") ? 486 : 0), 1, TimeUnit.SECONDS);
        Map<Disposition, RetryConfig.Rule> rules = new EnumMap<>(Disposition.class);
        rules.put(Disposition.BUSY, new RetryConfig.Rule(Duration.ofMinutes(10), 2));
        CallingWindowConfig window = new CallingWindowConfig(java.time.LocalTime.of(9, 0), java.time.LocalTime.of(17, 0),
                java.util.EnumSet.allOf(java.time.DayOfWeek.class), "America/New_York");
        CampaignRun run = run(new RetryConfig(rules, 5, Duration.ofHours(24)), "", window);
        runToEnd(run, Duration.ofDays(1));

        List<Long> busyCreates = new ArrayList<>();
        for (int i = 0; i < created.size(); i++) {
            if (created.get(i).equals("+13125550102")) {
                busyCreates.add(createdAt.get(i));
            }
        }
        assertThat(busyCreates).hasSize(2);
        assertThat(busyCreates.get(0)).isLessThan(Instant.parse("2026-11-27T22:00:00Z").toEpochMilli());
        long opening = Instant.parse("2026-11-28T14:00:00Z").toEpochMilli();
        assertThat(busyCreates.get(1)).isBetween(opening, opening + 1000); // the intent batch window may add ms
    }

    @Test
    void adoptFollowUp_dueLaterAndOverdue_eachDialedAtItsDueTimeAndTheRunWaitsForBoth() throws Exception {
        Instant t0 = Instant.parse("2026-03-02T15:00:00Z");
        vts.advanceTimeTo(t0);
        // a clustered run's source: no row of its own, and it completes when the test says
        Sinks.Empty<Void> listDone = Sinks.empty();
        CampaignRun run = run(RetryConfig.NONE, "", CallingWindowConfig.ALWAYS,
                listDone.asMono().thenMany(Flux.<ContactRow>empty()), -1);
        AtomicReference<RunReport> report = new AtomicReference<>();
        run.start().subscribe(report::set);
        vts.advanceTimeBy(Duration.ofSeconds(1));

        // another node's follow-ups: attempt 3 due in 10 minutes, attempt 2 overdue by 5 minutes
        assertThat(run.adoptFollowUp(new Ledger.FollowUp("camp", "k1", "+13125550102", 3,
                t0.plus(Duration.ofMinutes(10))))).isTrue();
        assertThat(run.adoptFollowUp(new Ledger.FollowUp("camp", "k2", "+14155550103", 2,
                t0.minus(Duration.ofMinutes(5))))).isTrue();
        // the claiming source may complete right after handing them over: the run still waits for them
        listDone.tryEmitEmpty();
        vts.advanceTimeBy(Duration.ofSeconds(5));

        assertThat(created).as("the overdue follow-up is dialed at once").containsExactly("+14155550103");
        vts.advanceTimeBy(Duration.ofMinutes(9).plusSeconds(50)); // t0 + 9 min 56 s; k2's call ended at ~t0+31 s
        assertThat(created).hasSize(1);
        assertThat(report.get()).as("k1's follow-up is still pending").isNull();
        assertThat(run.state()).isEqualTo(CampaignRun.State.RUNNING);

        vts.advanceTimeBy(Duration.ofMinutes(2)); // due at t0 + 10 min; the call lasts 30 s
        assertThat(created).containsExactly("+14155550103", "+13125550102");
        assertThat(createdAt.get(1)).isBetween(t0.plus(Duration.ofMinutes(10)).toEpochMilli(),
                t0.plus(Duration.ofMinutes(10)).plusSeconds(1).toEpochMilli());
        assertThat(report.get()).isNotNull();
        assertThat(report.get().state()).isEqualTo("COMPLETED");
        assertThat(report.get().attempts()).isEqualTo(2);
        assertThat(report.get().outcomes()).containsEntry(Disposition.ANSWERED, 2L);
        assertThat(ledger.intents.values()).extracting(a -> a.contact().id() + "#" + a.attemptNumber())
                .containsExactlyInAnyOrder("k1#3", "k2#2");
        assertThat(ledger.results).hasSize(2);
        assertThat(pacing.permits().inUse()).isZero();
        assertThat(run.adoptFollowUp(new Ledger.FollowUp("camp", "k3", "+12125550105", 2, t0)))
                .as("a run that is over takes nothing").isFalse();
        assertThatThrownBy(() -> run.adoptFollowUp(new Ledger.FollowUp("other", "k3", "+12125550105", 2, t0)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void pause_whilePaused_noCreateUntilResumed() throws Exception {
        CampaignRun run = run(RetryConfig.NONE, "");
        run.start().subscribe();
        vts.advanceTimeBy(Duration.ofMillis(100));
        run.pause();
        int before = created.size();
        vts.advanceTimeBy(Duration.ofMinutes(10));
        assertThat(created).hasSize(before);
        assertThat(run.state()).isEqualTo(CampaignRun.State.PAUSED);
        run.resume();
        vts.advanceTimeBy(Duration.ofMinutes(10));
        assertThat(created).hasSize(5);
        assertThat(run.state()).isEqualTo(CampaignRun.State.COMPLETED);
    }

    @Test
    void cancel_withLiveCalls_hangsThemUpAndCompletesCancelled() throws Exception {
        List<String> hungUp = new CopyOnWriteArrayList<>();
        callee = (attempt, tx) -> hungUpTargets.put(tx, attempt.attemptId()); // calls stay up until hung up
        CampaignRun run = runWithHangUpRecorder(hungUp);
        AtomicReference<RunReport> report = new AtomicReference<>();
        run.start().subscribe(report::set);
        vts.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(run.counters().live.sum()).isEqualTo(3);
        run.cancel();
        vts.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(hungUp).hasSize(3);
        assertThat(report.get()).isNotNull();
        assertThat(report.get().state()).isEqualTo("CANCELLED");
        assertThat(created).hasSize(3);
        assertThat(pacing.permits().inUse()).isZero();
    }

    private final Map<String, String> hungUpTargets = new java.util.concurrent.ConcurrentHashMap<>();

    /** A run whose originator's hang-up ends the call at once, as Chime's HANGUP after Update would. */
    private CampaignRun runWithHangUpRecorder(List<String> hungUp) throws Exception {
        run(RetryConfig.NONE, ""); // builds the Region's pacing
        Originator hangingUp = new Originator() {
            @Override
            public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments) {
                return originator.create(attempt, region, arguments);
            }

            @Override
            public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
                return Mono.fromSupplier(() -> {
                    hungUp.add(transactionId);
                    registry.close(hungUpTargets.get(transactionId), Disposition.ANSWERED, 0);
                    return new UpdateOutcome.Updated(transactionId);
                });
            }
        };
        RegionConfig region = pacing.config();
        DialerMetrics metrics = new DialerMetrics(new SimpleMeterRegistry());
        MeteredOriginator metered = new MeteredOriginator(hangingUp, metrics, vts);
        Map<String, Integer> weights = new LinkedHashMap<>();
        weights.put(region.name(), 1);
        CampaignConfig config = new CampaignConfig("camp", "contacts.csv", weights, "US", CallingWindowConfig.ALWAYS,
                RetryConfig.NONE, null, List.of(), Duration.ofMinutes(10), false);
        return CampaignRun.setup(config)
                .contacts(ContactSource.csv(() -> new StringReader(CSV), "contacts.csv", CsvOptions.defaults()), 7)
                .dnc(new DncList(PhoneNumbers.forRegion("US")), "dnc")
                .window(CallingWindow.of(CallingWindowConfig.ALWAYS), Instant.parse("2100-01-01T00:00:00Z"))
                .maxWaiting(100)
                .pacing(Map.of(region.name(), pacing), new ResilientCreate(metered, RetrySettings.ofDefaults(), vts),
                        metered)
                .calls(registry).ledger(ledger).metrics(metrics).time(vts)
                .attemptIds(() -> UUID.randomUUID().toString()).newRun();
    }
}
