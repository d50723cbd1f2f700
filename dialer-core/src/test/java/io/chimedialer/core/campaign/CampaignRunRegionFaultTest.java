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
import io.chimedialer.testkit.VirtualTimeClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * A Create refused for a reason that is not the contact's (credentials, IAM, the SIP media application, the
 * from-number, a run of unexplained 4xx) consumes no contact: the attempt is withdrawn, the Region fails, the
 * others carry the campaign, and with none left the campaign pauses with the reason until it is resumed.
 * Virtual time; the Originator answers as Chime would per Region.
 */
class CampaignRunRegionFaultTest {
    private static final int CONTACTS = 40;

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final Clock clock = new VirtualTimeClock(vts);
    private final EventBus bus = new EventBus();
    private final CallRegistry registry = new CallRegistry(bus, clock);
    private final RecordingLedger ledger = new RecordingLedger();
    /** Creates sent, by Region, in order: the contact's number. */
    private final Map<String, List<String>> sent = new ConcurrentHashMap<>();
    /** Numbers of the calls Chime created (Placed). */
    private final List<String> placed = new CopyOnWriteArrayList<>();
    /** How each Region answers a Create; placed (and answered 30 s later) unless it says otherwise. */
    private final Map<String, Function<Attempt, CreateOutcome>> answers = new ConcurrentHashMap<>();
    private final Map<String, RegionPacing> regions = new LinkedHashMap<>();

    private final Originator originator = new Originator() {
        @Override
        public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments) {
            return Mono.fromSupplier(() -> {
                sent.computeIfAbsent(region.name(), r -> new CopyOnWriteArrayList<>()).add(attempt.contact().number());
                CreateOutcome answer = answers.getOrDefault(region.name(), a -> null).apply(attempt);
                if (answer != null) {
                    return answer;
                }
                placed.add(attempt.contact().number());
                vts.schedule(() -> registry.close(attempt.attemptId(), Disposition.ANSWERED, 0), 30, TimeUnit.SECONDS);
                return new CreateOutcome.Placed(UUID.randomUUID().toString());
            });
        }

        @Override
        public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
            return Mono.just(new UpdateOutcome.Updated(transactionId));
        }
    };

    private CampaignRun run(String... regionNames) throws Exception {
        StringBuilder csv = new StringBuilder("id,phone\n");
        for (int i = 0; i < CONTACTS; i++) {
            csv.append("c").append(i).append(",+1212555").append(String.format("%04d", 1000 + i)).append('\n');
        }
        DialerMetrics metrics = new DialerMetrics(new SimpleMeterRegistry());
        MeteredOriginator metered = new MeteredOriginator(originator, metrics, vts);
        Map<String, Integer> weights = new LinkedHashMap<>();
        for (String name : regionNames) {
            RegionConfig config = new RegionConfig(name, "sma-" + name, 5, 1, 10, 5, List.of("+17035550100"), null);
            regions.put(name, RegionPacing.create(config, PacingSettings.ofDefaults(), vts,
                    p -> registry.markUnknown(p.attemptId())));
            weights.put(name, 1);
        }
        CampaignConfig config = new CampaignConfig("camp", "contacts.csv", weights, "US", CallingWindowConfig.ALWAYS,
                RetryConfig.NONE, null, List.of(), Duration.ofMinutes(10), false);
        String list = csv.toString();
        return CampaignRun.setup(config)
                .contacts(ContactSource.csv(() -> new StringReader(list), "contacts.csv", CsvOptions.defaults()),
                        CONTACTS)
                .dnc(new DncList(PhoneNumbers.forRegion("US")), "dnc")
                .window(CallingWindow.of(CallingWindowConfig.ALWAYS), Instant.parse("2100-01-01T00:00:00Z"))
                .pacing(regions, new ResilientCreate(metered, RetrySettings.ofDefaults(), vts), metered)
                .calls(registry).ledger(ledger).metrics(metrics).time(vts)
                .attemptIds(() -> UUID.randomUUID().toString()).newRun();
    }

    private static Function<Attempt, CreateOutcome> refusing(CreateOutcome outcome) {
        return attempt -> outcome;
    }

    @Test
    void accessDeniedInOneOfTwoRegions_theOtherCarriesTheCampaign_noContactConsumed() throws Exception {
        answers.put("us-west-2", refusing(new CreateOutcome.RegionFault("AccessDeniedException",
                "User: arn:aws:iam::123456789012:user/d is not authorized to perform: chime:CreateSipMediaApplicationCall")));
        CampaignRun run = run("us-east-1", "us-west-2");
        AtomicReference<RunReport> report = new AtomicReference<>();
        run.start().subscribe(report::set);

        vts.advanceTimeBy(Duration.ofMinutes(10));

        assertThat(report.get()).as("the campaign completed").isNotNull();
        RunReport r = report.get();
        assertThat(r.state()).isEqualTo("COMPLETED");
        assertThat(r.pauseReason()).isNull();
        // every contact placed once, all in the healthy Region
        assertThat(placed).hasSize(CONTACTS).doesNotHaveDuplicates();
        assertThat(sent.get("us-east-1")).hasSize(CONTACTS);
        // the failed Region got no Create after its first refusal answered (admission runs ahead by at most a few)
        assertThat(sent.get("us-west-2")).isNotEmpty().hasSizeLessThanOrEqualTo(2);
        // every attempt admitted there is withdrawn, the refused ones and those that never went out
        long admittedInWest = ledger.intents.values().stream().filter(a -> a.region().equals("us-west-2")).count();
        assertThat(admittedInWest).isGreaterThanOrEqualTo(sent.get("us-west-2").size()).isLessThanOrEqualTo(2);
        assertThat(r.withdrawn()).isEqualTo(admittedInWest);
        assertThat(ledger.withdrawn).hasSize((int) admittedInWest);
        assertThat(ledger.withdrawn.values()).allMatch(reason -> reason.startsWith("Region us-west-2 failed: "
                + "AccessDeniedException"));
        assertThat(r.outcomes()).containsEntry(Disposition.ANSWERED, (long) CONTACTS)
                .containsEntry(Disposition.FAILED, 0L);
        assertThat(r.attempts()).isEqualTo(CONTACTS);
        assertThat(r.regions().get("us-west-2").failure()).startsWith("AccessDeniedException");
        assertThat(r.regions().get("us-east-1").failure()).isNull();
        assertThat(regions.get("us-west-2").health().up()).isFalse();
        // every intent ended in exactly one result or withdrawal
        assertThat(ledger.results.keySet()).doesNotContainAnyElementsOf(ledger.withdrawn.keySet());
        assertThat(ledger.results.size() + ledger.withdrawn.size()).isEqualTo(ledger.intents.size());
    }

    @Test
    void fromNumberOutsideInventory_everyRegionFailed_pausesWithTheReason_thenResumeDialsEveryContactOnce()
            throws Exception {
        answers.put("us-east-1", refusing(new CreateOutcome.RegionFault("BadRequestException",
                "FromPhoneNumber is not in the phone number inventory of us-east-1")));
        CampaignRun run = run("us-east-1");
        AtomicReference<RunReport> report = new AtomicReference<>();
        List<String> pauses = new ArrayList<>();
        run.errorPauses().subscribe(pauses::add);
        run.start().subscribe(report::set);

        vts.advanceTimeBy(Duration.ofMinutes(5));

        assertThat(report.get()).as("a paused campaign does not complete").isNull();
        assertThat(run.state()).isEqualTo(CampaignRun.State.PAUSED);
        assertThat(run.pauseReason()).contains("us-east-1").contains("FromPhoneNumber");
        assertThat(pauses).containsExactly(run.pauseReason());
        assertThat(run.report().pauseReason()).isEqualTo(run.pauseReason());
        assertThat(sent.get("us-east-1")).as("Creates before the pause").isNotEmpty().hasSizeLessThanOrEqualTo(5);
        assertThat(placed).isEmpty();
        assertThat(ledger.results).as("no contact was given a disposition").isEmpty();
        assertThat(run.counters().attempts.sum()).isZero();
        assertThat(run.counters().finished.sum()).isZero();

        // The from-number is fixed (ordered into the account); the operator resumes.
        answers.remove("us-east-1");
        run.resume();
        vts.advanceTimeBy(Duration.ofMinutes(10));

        assertThat(report.get()).as("the campaign completed after the resume").isNotNull();
        assertThat(report.get().state()).isEqualTo("COMPLETED");
        assertThat(report.get().pauseReason()).isNull();
        assertThat(placed).hasSize(CONTACTS).doesNotHaveDuplicates();
        assertThat(report.get().outcomes()).containsEntry(Disposition.ANSWERED, (long) CONTACTS);
        assertThat(report.get().contacts().dialed()).isEqualTo(CONTACTS);
        assertThat(report.get().regions().get("us-east-1").failure()).isNull();
        // each withdrawn attempt's contact was dialed again under a new attempt id with the same attempt number
        for (String withdrawnId : ledger.withdrawn.keySet()) {
            Attempt w = ledger.intents.get(withdrawnId);
            assertThat(ledger.intents.values()).filteredOn(a -> a.contact().id().equals(w.contact().id())
                    && !a.attemptId().equals(withdrawnId)).singleElement()
                    .satisfies(redial -> assertThat(redial.attemptNumber()).isEqualTo(w.attemptNumber()));
        }
    }

    @Test
    void unexplained4xxFiveTimesInARow_failsTheRegion_theFifthIsNotChargedToItsContact() throws Exception {
        answers.put("us-east-1", refusing(new CreateOutcome.Rejected(Disposition.FAILED,
                "UnprocessableEntityException", "Unprocessable")));
        CampaignRun run = run("us-east-1");
        run.start().subscribe();

        vts.advanceTimeBy(Duration.ofMinutes(5));

        assertThat(run.state()).isEqualTo(CampaignRun.State.PAUSED);
        assertThat(run.pauseReason()).contains("5 unexplained refusals in a row");
        // four contacts ended FAILED (each could have been the contact's fault); the fifth was withdrawn
        assertThat(run.counters().outcomes()).containsEntry(Disposition.FAILED, 4L);
        assertThat(sent.get("us-east-1")).hasSizeGreaterThanOrEqualTo(5);
        assertThat(ledger.withdrawn).isNotEmpty();
        assertThat(ledger.results).hasSize(4);
    }

    @Test
    void invalidToNumber_isTheContactsFault_regionStaysUp() throws Exception {
        answers.put("us-east-1", attempt -> attempt.contact().id().equals("c3")
                ? new CreateOutcome.Rejected(Disposition.INVALID_NUMBER, "BadRequestException", "Invalid ToPhoneNumber")
                : null);
        CampaignRun run = run("us-east-1");
        AtomicReference<RunReport> report = new AtomicReference<>();
        run.start().subscribe(report::set);

        vts.advanceTimeBy(Duration.ofMinutes(10));

        assertThat(report.get()).isNotNull();
        assertThat(report.get().outcomes()).containsEntry(Disposition.INVALID_NUMBER, 1L)
                .containsEntry(Disposition.ANSWERED, (long) CONTACTS - 1);
        assertThat(report.get().withdrawn()).isZero();
        assertThat(regions.get("us-east-1").health().up()).isTrue();
    }
}
