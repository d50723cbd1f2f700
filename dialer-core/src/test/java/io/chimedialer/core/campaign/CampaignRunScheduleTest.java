package io.chimedialer.core.campaign;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.calls.EventBus;
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
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/** A campaign's scheduled start and end, on virtual time (the scheduler's clock starts at 1970-01-01T00:00Z). */
class CampaignRunScheduleTest {
    private static final String[] AREAS = {"212", "310", "415", "617", "713", "202", "305", "404", "206", "312"};
    /** 00:10 UTC, written in New York's winter offset. */
    private static final ZonedDateTime START = ZonedDateTime.parse("1969-12-31T19:10:00-05:00");
    /** 00:12 UTC. */
    private static final ZonedDateTime END = ZonedDateTime.parse("1970-01-01T00:12:00Z");

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final Clock clock = new io.chimedialer.testkit.VirtualTimeClock(vts);
    private final EventBus bus = new EventBus();
    private final CallRegistry registry = new CallRegistry(bus, clock);
    private final RecordingLedger ledger = new RecordingLedger();
    /** The virtual time of every Create, milliseconds. */
    private final List<Long> createdAt = new CopyOnWriteArrayList<>();
    /** How each call ends, 30 s after its Create. */
    private Disposition outcome = Disposition.ANSWERED;

    private final Originator originator = new Originator() {
        @Override
        public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments) {
            return Mono.fromSupplier(() -> {
                createdAt.add(vts.now(TimeUnit.MILLISECONDS));
                Disposition ends = outcome;
                vts.schedule(() -> registry.close(attempt.attemptId(), ends, ends == Disposition.BUSY ? 486 : 0),
                        30, TimeUnit.SECONDS);
                return new CreateOutcome.Placed(UUID.randomUUID().toString());
            });
        }

        @Override
        public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
            return Mono.just(new UpdateOutcome.Updated(transactionId));
        }
    };

    private RegionPacing pacing;

    /** A unique valid US number per row. */
    private static String number(int i) {
        int rest = i / 10;
        return "+1" + AREAS[i % 10] + (230 + rest / 10_000) + String.valueOf(10_000 + rest % 10_000).substring(1);
    }

    private CampaignRun run(CampaignSchedule schedule, RetryConfig retry, int contacts) throws Exception {
        return run(schedule, CampaignLimits.NONE, retry, contacts);
    }

    private CampaignRun run(CampaignSchedule schedule, CampaignLimits limits, RetryConfig retry, int contacts)
            throws Exception {
        StringBuilder csv = new StringBuilder("id,phone\n");
        for (int i = 0; i < contacts; i++) {
            csv.append('c').append(i).append(',').append(number(i)).append('\n');
        }
        // 2 Creates/s, room for every call: the rate alone paces the run.
        RegionConfig region = new RegionConfig("us-east-1", "sma-1", 2, 1, 1000, 5, List.of("+17035550100"), null);
        pacing = RegionPacing.create(region, PacingSettings.ofDefaults(), vts, p -> registry.markUnknown(p.attemptId()));
        DialerMetrics metrics = new DialerMetrics(new SimpleMeterRegistry());
        MeteredOriginator metered = new MeteredOriginator(originator, metrics, vts);
        CampaignConfig config = new CampaignConfig("camp", "contacts.csv", Map.of("us-east-1", 1), "US",
                CallingWindowConfig.ALWAYS, retry, null, List.of(), Duration.ofMinutes(10), false)
                .withSchedule(schedule).withLimits(limits);
        DncList dnc = new DncList(PhoneNumbers.forRegion("US"));
        String text = csv.toString();
        return CampaignRun.setup(config)
                .contacts(ContactSource.csv(() -> new StringReader(text), "contacts.csv", CsvOptions.defaults()),
                        contacts)
                .dnc(dnc, "dnc")
                .window(CallingWindow.of(CallingWindowConfig.ALWAYS), Instant.parse("2100-01-01T00:00:00Z"))
                .pacing(Map.of("us-east-1", pacing), new ResilientCreate(metered, RetrySettings.ofDefaults(), vts),
                        metered)
                .calls(registry).ledger(ledger).metrics(metrics).time(vts)
                .attemptIds(() -> UUID.randomUUID().toString()).newRun();
    }

    private static long createsBetween(List<Long> times, Duration from, Duration to) {
        return times.stream().filter(t -> t >= from.toMillis() && t < to.toMillis()).count();
    }

    @Test
    void start_scheduledStartAndEnd_noCreateBeforeStart_dialsFromStart_noneFromEnd_endsWithReason() throws Exception {
        CampaignRun run = run(new CampaignSchedule(START, END), RetryConfig.NONE, 500);
        List<CampaignRun.State> states = new CopyOnWriteArrayList<>();
        run.states().subscribe(states::add);
        AtomicReference<RunReport> done = new AtomicReference<>();

        run.start().subscribe(done::set);
        vts.advanceTimeBy(Duration.ofMinutes(9));

        // Waiting for its start: no Create, no intent, the start shown in the status.
        assertThat(run.state()).isEqualTo(CampaignRun.State.SCHEDULED);
        assertThat(createdAt).isEmpty();
        assertThat(ledger.intents).isEmpty();
        RunReport waiting = run.report();
        assertThat(waiting.state()).isEqualTo("SCHEDULED");
        assertThat(waiting.schedule().start()).isEqualTo("1969-12-31T19:10-05:00");
        assertThat(waiting.schedule().end()).isEqualTo("1970-01-01T00:12Z");
        assertThat(waiting.schedule().endReason()).isNull();

        vts.advanceTimeBy(Duration.ofMinutes(1));
        assertThat(run.state()).isEqualTo(CampaignRun.State.RUNNING);
        vts.advanceTimeBy(Duration.ofMinutes(2));

        // At the end: no new call; the calls in progress go on for their 30 s.
        assertThat(run.state()).isEqualTo(CampaignRun.State.ENDING);
        assertThat(done.get()).isNull();
        vts.advanceTimeBy(Duration.ofMinutes(1));

        assertThat(done.get()).isNotNull();
        RunReport report = done.get();
        assertThat(report.state()).isEqualTo("ENDED");
        assertThat(report.schedule().endReason()).isEqualTo("ended at its scheduled end 1970-01-01T00:12Z");
        assertThat(run.endReason()).isEqualTo(report.schedule().endReason());
        assertThat(states).containsExactly(CampaignRun.State.SCHEDULED, CampaignRun.State.RUNNING,
                CampaignRun.State.ENDING, CampaignRun.State.ENDED);
        // Before its start: none; from its start to its end: 2 minutes at 2/s; from its end: none.
        assertThat(createsBetween(createdAt, Duration.ZERO, Duration.ofMinutes(10))).isZero();
        assertThat(createsBetween(createdAt, Duration.ofMinutes(10), Duration.ofMinutes(12))).isBetween(238L, 241L);
        assertThat(createsBetween(createdAt, Duration.ofMinutes(12), Duration.ofDays(1))).isZero();
        // Every call placed ended and its outcome is recorded; no contact was failed or skipped for the end.
        assertThat(report.attempts()).isEqualTo(createdAt.size());
        assertThat(ledger.results).hasSize(createdAt.size());
        assertThat(report.outcomes()).containsEntry(Disposition.ANSWERED, (long) createdAt.size());
        assertThat(ledger.skipped).isEmpty();
        List<String> notWithdrawnOrEnded = new ArrayList<>(ledger.intents.keySet());
        notWithdrawnOrEnded.removeAll(ledger.results.keySet());
        notWithdrawnOrEnded.removeAll(ledger.withdrawn.keySet());
        assertThat(notWithdrawnOrEnded).as("intents neither ended nor withdrawn").isEmpty();
        assertThat(ledger.withdrawn.values()).allSatisfy(reason -> assertThat(reason).startsWith("not sent"));
        // The contacts not dialed stay dialable: most of the list was not reached, nothing of it is final.
        assertThat(report.contacts().dialed()).isEqualTo(createdAt.size());
        assertThat(run.remaining()).isEqualTo(500 - createdAt.size());
        assertThat(pacing.permits().inUse()).isZero();
    }

    @Test
    void start_endAlreadyPast_noCallAndEndedWithTheReason() throws Exception {
        CampaignRun run = run(new CampaignSchedule(null, ZonedDateTime.parse("1969-12-31T23:00:00Z")),
                RetryConfig.NONE, 50);
        AtomicReference<RunReport> done = new AtomicReference<>();

        run.start().subscribe(done::set);
        vts.advanceTimeBy(Duration.ofMinutes(1));

        assertThat(done.get()).isNotNull();
        assertThat(done.get().state()).isEqualTo("ENDED");
        assertThat(done.get().schedule().endReason()).isEqualTo("ended at its scheduled end 1969-12-31T23:00Z");
        assertThat(createdAt).isEmpty();
        assertThat(ledger.intents).isEmpty();
    }

    @Test
    void end_callEndsBusyAfterTheEnd_itsFollowUpIsRecordedForALaterRunNotDialed() throws Exception {
        outcome = Disposition.BUSY;
        Map<Disposition, RetryConfig.Rule> rules = new EnumMap<>(Disposition.class);
        rules.put(Disposition.BUSY, new RetryConfig.Rule(Duration.ofMinutes(1), 3));
        // Starts at once, ends 10 s in: about 20 calls, all still ringing at the end.
        CampaignRun run = run(new CampaignSchedule(null, ZonedDateTime.parse("1970-01-01T00:00:10Z")),
                new RetryConfig(rules, 5, Duration.ofHours(24)), 200);
        AtomicReference<RunReport> done = new AtomicReference<>();

        run.start().subscribe(done::set);
        vts.advanceTimeBy(Duration.ofMinutes(10));

        assertThat(done.get()).isNotNull();
        assertThat(done.get().state()).isEqualTo("ENDED");
        assertThat(createdAt).hasSizeBetween(19, 21).allSatisfy(t -> assertThat(t).isLessThan(10_000L));
        assertThat(ledger.results).hasSize(createdAt.size());
        // Each busy contact's next attempt waits in the ledger for a later run; none was dialed or made final.
        assertThat(ledger.followUpsScheduled).hasSize(createdAt.size())
                .allSatisfy(f -> assertThat(f).endsWith("#2"));
        assertThat(ledger.followUpsTaken).isEmpty();
        assertThat(run.remaining()).isEqualTo(200);
    }

    @Test
    void pause_whileScheduled_resumedBeforeTheStart_stillWaitsForIt() throws Exception {
        CampaignRun run = run(new CampaignSchedule(START, null), RetryConfig.NONE, 20);
        AtomicReference<RunReport> done = new AtomicReference<>();
        run.start().subscribe(done::set);
        vts.advanceTimeBy(Duration.ofMinutes(1));

        run.pause();
        assertThat(run.state()).isEqualTo(CampaignRun.State.PAUSED);
        vts.advanceTimeBy(Duration.ofMinutes(1));
        run.resume();

        assertThat(run.state()).isEqualTo(CampaignRun.State.SCHEDULED);
        vts.advanceTimeBy(Duration.ofMinutes(7));
        assertThat(createdAt).isEmpty();
        vts.advanceTimeBy(Duration.ofMinutes(2));
        assertThat(done.get()).isNotNull();
        assertThat(done.get().state()).isEqualTo("COMPLETED");
        assertThat(createdAt).hasSize(20).allSatisfy(t -> assertThat(t).isGreaterThanOrEqualTo(600_000L));
    }

    @Test
    void start_campaignCapsBelowTheRegions_theRunHoldsThemAndReportsThem() throws Exception {
        // The Region allows 2/s and 1,000 live calls; the campaign 1/s and 20 live calls (calls last 30 s).
        CampaignRun run = run(CampaignSchedule.NONE, new CampaignLimits(1.0, 20, 3), RetryConfig.NONE, 100);
        AtomicReference<RunReport> done = new AtomicReference<>();

        run.start().subscribe(done::set);
        vts.advanceTimeBy(Duration.ofMinutes(10));

        assertThat(done.get()).isNotNull();
        assertThat(createdAt).hasSize(100);
        // No 1 s window (t - 1 s, t] holds two Creates.
        List<Long> sorted = createdAt.stream().sorted().toList();
        for (int i = 1; i < sorted.size(); i++) {
            assertThat(sorted.get(i) - sorted.get(i - 1)).isGreaterThanOrEqualTo(1000L);
        }
        assertThat(pacing.permits().peak()).isEqualTo(20);
        assertThat(done.get().limits()).isEqualTo(new RunReport.Limits(1.0, 20, 3, 20));
        assertThat(done.get().schedule()).isNull();
    }
}
