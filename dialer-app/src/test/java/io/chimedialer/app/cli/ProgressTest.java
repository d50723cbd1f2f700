package io.chimedialer.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.domain.Disposition;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What each figure of the progress line says, from a report built by hand. */
class ProgressTest {
    private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

    @Test
    void line_followUpsPending_shownWithTheNextDue_etaAtLeastUntilTheLast_barNotFull() {
        // 100 contacts: 59 done, 41 waiting for a NO_ANSWER follow-up due in 1h59m to 2h.
        RunReport report = report("RUNNING", 100, 0, 141, 59, 41,
                new RunReport.FollowUps(41, NOW.plusSeconds(7140).toString(), NOW.plusSeconds(7200).toString()));

        String line = Progress.line(report, 41, 0, NOW);

        assertThat(line).contains("done 59/100").contains("follow-ups 41, next in 1h59m").contains("ETA 2h00m")
                .startsWith("[############        ]");
    }

    @Test
    void line_everyContactAtTotalButARunNotOver_barNeverFull() {
        RunReport report = report("RUNNING", 3, 0, 3, 0, 0, RunReport.NO_FOLLOW_UPS);

        assertThat(Progress.line(report, 0, 2, NOW)).startsWith("[################### ]");
        assertThat(Progress.line(report("COMPLETED", 3, 0, 3, 3, 0, RunReport.NO_FOLLOW_UPS), 0, 0, NOW))
                .startsWith("[####################]").contains("ETA 0m00s");
    }

    @Test
    void line_answeredOfEnded_callsAreCreatesSent_liveIsTheCallsChimeAccepted() {
        // A resumed run whose first Creates are the previous run's follow-ups: no contact dialed for the first
        // time, yet 27 calls live.
        RunReport report = report("RUNNING", 100, 0, 100, 35, 0, RunReport.NO_FOLLOW_UPS);

        String line = Progress.line(report, 65, 27, NOW);

        assertThat(line).contains("calls 100, live 27").contains("answered 16 of 35 ended (46%)")
                .contains("us-east-1 4.9/s of 5");
    }

    @Test
    void eta_noFollowUps_contactsLeftAtThePaceSoFar() {
        // 50 done in 100 s: 50 left take 100 s more.
        RunReport report = report("RUNNING", 100, 0, 60, 50, 0, RunReport.NO_FOLLOW_UPS);

        assertThat(Progress.eta(report, 50, NOW)).isEqualTo("1m40s");
    }

    @Test
    void line_scheduledOrEndedAtItsEnd_saysWhen() {
        RunReport waiting = withSchedule(report("SCHEDULED", 100, 0, 0, 0, 0, RunReport.NO_FOLLOW_UPS),
                new RunReport.Schedule("2026-12-07T09:00-05:00", "2026-12-07T17:00-05:00", null));
        RunReport ended = withSchedule(report("ENDED", 100, 0, 60, 60, 0, RunReport.NO_FOLLOW_UPS),
                new RunReport.Schedule(null, "2026-12-07T17:00-05:00",
                        "ended at its scheduled end 2026-12-07T17:00-05:00"));

        assertThat(Progress.line(waiting, 100, 0, NOW))
                .endsWith("SCHEDULED: waits for its start 2026-12-07T09:00-05:00");
        assertThat(Progress.line(ended, 40, 0, NOW)).contains("ETA 0m00s")
                .endsWith("| ended at its scheduled end 2026-12-07T17:00-05:00");
    }

    private static RunReport withSchedule(RunReport r, RunReport.Schedule schedule) {
        return new RunReport(r.campaign(), r.state(), r.contacts(), r.attempts(), r.outcomes(), r.regions(),
                r.durationSeconds(), r.withdrawn(), r.pauseReason(), r.followUps(), schedule, null);
    }

    /** A report with {@code ended} attempts ended, 16 of them answered (when at least 16 ended). */
    private static RunReport report(String state, long total, long alreadyDone, long attempts, long ended,
                                    long waitingFollowUps, RunReport.FollowUps followUps) {
        Map<Disposition, Long> outcomes = new EnumMap<>(Disposition.class);
        for (Disposition d : Disposition.values()) {
            outcomes.put(d, 0L);
        }
        long answered = Math.min(16, ended);
        outcomes.put(Disposition.ANSWERED, answered);
        outcomes.put(Disposition.NO_ANSWER, ended - answered);
        Map<String, RunReport.RegionReport> regions = new LinkedHashMap<>();
        regions.put("us-east-1", new RunReport.RegionReport(attempts, 0, 5, 4.9, 5, 10, 20, null, 4.9));
        RunReport.Contacts contacts = new RunReport.Contacts(total, 0, 0, 0, 0, total - alreadyDone, alreadyDone,
                0, 0);
        return new RunReport("c", state, contacts, attempts, outcomes, regions, 100.0, 0, null, followUps);
    }
}
