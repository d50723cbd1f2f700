package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.campaign.CampaignRun;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.EmulatorStats;
import io.chimedialer.emulator.Faults;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15's acceptance for account and Region errors, over real HTTP against the embedded emulator: a refusal that
 * is not the contact's fault consumes no contact. A from-number outside the account's inventory (in every Region)
 * pauses the campaign after one Create per Region with no contact given a disposition; with the configuration fixed
 * and the run started again, every contact ends as in a clean run and no number is dialed twice. With every request
 * to one of two Regions refused (AccessDeniedException), the other Region carries the whole campaign.
 */
class AccountFaultIT {
    /** {@code -Dscale.account-fault.contacts=N}: 1,000 by default, 10,000 in the {@code scale} Maven profile. */
    private static final int CONTACTS = Integer.getInteger("scale.account-fault.contacts", 1_000);
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(4);

    @TempDir
    Path dir;

    private static Scenario shortCalls() {
        return Scenario.defaults();
    }

    @Test
    void fromNumberOutsideInventory_pausesAfterOneCreatePerRegion_thenFixedConfigurationDialsEveryContactOnce()
            throws Exception {
        ContactLists.Generated list = ContactLists.write(dir, "acct", CONTACTS, 21, 0, 0, 0);
        List<EmulatedDialer.RegionSpec> fixed = EmulatedDialer.twoRegions(200, 150, 100, 100);
        // Numbers the account does not own in either Region (e.g. not yet ported in).
        List<EmulatedDialer.RegionSpec> misconfigured = List.of(
                fixed.get(0).dialingFrom(List.of("+17035550199")), fixed.get(1).dialingFrom(List.of("+12065550199")));
        try (EmulatedDialer it = EmulatedDialer.start(dir, misconfigured, shortCalls(), Faults.none(), 0.001, 21,
                null)) {
            CampaignConfig campaign = EmulatedDialer.campaign("acct", list.csv(),
                    Map.of("us-east-1", 2, "us-west-2", 1), null, List.of(), null);
            CampaignManager.Started started = it.runtime().campaigns().launch(campaign, list.csv(), true);
            CampaignRun run = started.run();
            Await.upTo(Duration.ofSeconds(60), "the campaign paused by itself")
                    .until(() -> run.state() == CampaignRun.State.PAUSED && run.pauseReason() != null);

            EmulatorStats stats = it.emulator().stats();
            System.out.println("AccountFaultIT paused: " + run.pauseReason() + "; emulator " + stats);
            assertThat(stats.rejected()).as("Creates refused before the pause").isBetween(1L, 5L);
            assertThat(stats.created()).as("calls created").isZero();
            assertThat(run.pauseReason()).contains("FromPhoneNumber").contains("us-east-1").contains("us-west-2");
            RunReport paused = run.report();
            assertThat(paused.outcomes().values().stream().mapToLong(Long::longValue).sum())
                    .as("contacts given a disposition").isZero();
            assertThat(paused.attempts()).isZero();
            assertThat(paused.regions().get("us-east-1").failure()).startsWith("BadRequestException")
                    .contains("FromPhoneNumber");
            JsonNode status = CampaignManager.status(run);
            assertThat(status.path("pauseReason").asText()).isEqualTo(run.pauseReason());
            assertThat(status.path("regions").path("us-west-2").path("failure").asText()).contains("FromPhoneNumber");
            assertThat(it.runtime().meterRegistry().find("dialer.region.up").tag("region", "us-east-1").gauge().value())
                    .isZero();
            Await.upTo(Duration.ofSeconds(30), "the ledger says PAUSED").until(() -> it.runtime().ledger()
                    .campaign("acct").map(Ledger.CampaignRecord::state).block(Duration.ofSeconds(10))
                    == Ledger.CampaignState.PAUSED);
            // Every intent written so far was withdrawn: none is open, none has a disposition.
            Await.upTo(Duration.ofSeconds(30), "the withdrawals are in the ledger").until(() -> it.runtime().ledger()
                    .attempts("acct").all(Ledger.AttemptRecord::withdrawn).block(Duration.ofSeconds(10)));
            long withdrawn = it.runtime().ledger().attempts("acct").count().block(Duration.ofSeconds(10));
            // the refused ones, and those admitted meanwhile that the pause kept from being sent
            assertThat(withdrawn).isGreaterThanOrEqualTo(stats.rejected());

            // The operator fixes the from-numbers and runs the campaign again: it resumes from the ledger.
            it.restartDialer(fixed);
            RunReport report = it.runtime().campaigns().launch(campaign, list.csv(), true).report()
                    .block(RUN_TIMEOUT);
            System.out.println("AccountFaultIT resumed: " + report);
            assertThat(it.awaitQuiet(Duration.ofSeconds(30))).as("permits back, emulator idle").isTrue();

            assertCleanRun(it, list, Objects.requireNonNull(report));
            assertThat(report.contacts().alreadyDone()).as("withdrawn contacts are not done in an earlier run")
                    .isZero();
            List<Map<String, String>> rows = it.export("acct", CONTACTS + withdrawn, Duration.ofSeconds(60));
            assertThat(rows).hasSize((int) (CONTACTS + withdrawn));
            assertThat(rows).filteredOn(r -> r.get("disposition").equals("WITHDRAWN")).hasSize((int) withdrawn)
                    .allMatch(r -> r.get("transaction_id").isEmpty());
            assertThat(rows).filteredOn(r -> !r.get("disposition").equals("WITHDRAWN"))
                    .allMatch(r -> r.get("attempt_number").equals("1"))
                    .extracting(r -> r.get("contact_id")).doesNotHaveDuplicates().hasSize(CONTACTS);
            assertThat(it.runtime().ledger().campaign("acct").block(Duration.ofSeconds(10)).state())
                    .isEqualTo(Ledger.CampaignState.COMPLETED);
        }
    }

    @Test
    void accessDeniedInOneOfTwoRegions_theOtherRegionCarriesTheWholeCampaign() throws Exception {
        ContactLists.Generated list = ContactLists.write(dir, "auth", CONTACTS, 22, 0, 0, 0);
        try (EmulatedDialer it = EmulatedDialer.start(dir, EmulatedDialer.twoRegions(200, 150, 100, 100),
                shortCalls(), Faults.builder().authDenied("us-west-2").build(), 0.001, 22, null)) {
            CampaignConfig campaign = EmulatedDialer.campaign("auth", list.csv(),
                    Map.of("us-east-1", 1, "us-west-2", 1), null, List.of(), null);
            RunReport report = it.run(campaign, list.csv(), RUN_TIMEOUT);
            System.out.println("AccountFaultIT auth: " + report);
            assertThat(it.awaitQuiet(Duration.ofSeconds(30))).as("permits back, emulator idle").isTrue();

            assertCleanRun(it, list, report);
            assertThat(report.pauseReason()).isNull();
            assertThat(report.regions().get("us-west-2").failure()).startsWith("AccessDeniedException");
            assertThat(report.regions().get("us-west-2").attempts()).isZero();
            assertThat(report.regions().get("us-east-1").attempts()).isEqualTo(CONTACTS);
            assertThat(it.emulator().calls()).allMatch(c -> c.region().equals("us-east-1"));
            assertThat(it.emulator().stats().faults().getOrDefault("auth", 0L)).as("Creates refused in us-west-2")
                    .isBetween(1L, 5L);
            // the refused ones, and those admitted to us-west-2 meanwhile, never sent
            assertThat(report.withdrawn()).isGreaterThanOrEqualTo(it.emulator().stats().faults().get("auth"));
        }
    }

    /** The emulator's ground truth and the report agree with a clean run: every contact dialed once, answered or not. */
    private static void assertCleanRun(EmulatedDialer it, ContactLists.Generated list, RunReport report) {
        EmulatorStats stats = it.emulator().stats();
        Map<String, Long> dialed = it.emulator().calls().stream()
                .collect(Collectors.groupingBy(CallRecord::to, Collectors.counting()));
        assertThat(report.state()).isEqualTo("COMPLETED");
        assertThat(stats.duplicateNumbers()).as("numbers dialed twice").isZero();
        java.util.Set<String> missing = new java.util.HashSet<>(list.toDial());
        missing.removeAll(dialed.keySet());
        if (!missing.isEmpty()) {
            it.runtime().ledger().attempts(report.campaign()).filter(a -> missing.contains(a.number()))
                    .doOnNext(a -> System.out.println("AccountFaultIT not dialed: " + a)).blockLast();
            it.runtime().ledger().contacts(report.campaign()).filter(c -> missing.contains(c.number()))
                    .doOnNext(c -> System.out.println("AccountFaultIT not dialed: " + c)).blockLast();
        }
        assertThat(dialed.keySet()).isEqualTo(list.toDial());
        assertThat(dialed.values()).allMatch(n -> n == 1L);
        assertThat(stats.created()).isEqualTo(CONTACTS);
        assertThat(report.contacts().dialed()).isEqualTo(CONTACTS);
        assertThat(report.attempts()).isEqualTo(CONTACTS);
        assertThat(report.outcomes().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(CONTACTS);
        assertThat(report.outcomes().getOrDefault(Disposition.UNKNOWN, 0L)).as("UNKNOWN").isZero();
    }
}
