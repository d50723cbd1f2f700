package io.chimedialer.app.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/** Escaping, the figures of {@code dialer status}, the ETA and the per-minute timeline. */
class PagesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2026-01-05T15:00:00Z");

    @Test
    void text_escapesMarkupAndQuotes() {
        assertThat(Html.text("<script>alert('x')</script> & \"q\"")).isEqualTo(
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
        assertThat(Html.text("plain")).isEqualTo("plain");
        assertThat(Html.text(null)).isEmpty();
        assertThat(Html.segment("a b/<c>")).isEqualTo("a%20b%2F%3Cc%3E");
    }

    @Test
    void campaignRows_statusFigures_sameAsTheStatusCommand() {
        ObjectNode c = JSON.createObjectNode().put("id", "alpha").put("state", "RUNNING").put("live", 7)
                .put("remaining", 330).put("followUpsPending", 4).put("durationSeconds", 90.0);
        c.putObject("contacts").put("total", 600).put("waiting", 2).put("alreadyDone", 0);
        c.putObject("outcomes").put("ANSWERED", 120).put("BUSY", 30).put("NO_ANSWER", 50);
        c.putObject("followUps").put("pending", 4);
        c.putObject("regions").putObject("us-east-1").put("failure", "quota");
        ObjectNode list = JSON.createObjectNode();
        list.putArray("campaigns").add(c);

        String rows = Pages.campaignRows(list, NOW);

        assertThat(rows).contains("<span class=\"state state-RUNNING\">RUNNING</span>")
                .contains("<span class=\"percent\">45%</span>").contains(">270/600<").contains(">60.0%<")
                .contains("data-field=\"live\">7<").contains("data-field=\"follow-ups\">4<")
                .contains("data-field=\"regions\">FAILED: us-east-1<")
                // 326 contacts not scheduled at 270 per 90 s
                .contains("data-field=\"eta\">1m49s<");
    }

    @Test
    void summary_showsTheScheduleAndTheCampaignLimits_escaped() {
        ObjectNode c = JSON.createObjectNode().put("id", "alpha").put("state", "ENDED");
        c.putObject("schedule").put("start", "2026-01-05T09:00-05:00").put("end", "2026-01-05T17:00-05:00")
                .put("endReason", "ended at its scheduled end <17:00>");
        c.putObject("limits").put("callsPerSecond", 5.0).put("maxActiveCalls", 20).put("priority", 2);

        String summary = Pages.summary(c, NOW);

        assertThat(summary).contains("from 2026-01-05T09:00-05:00 to 2026-01-05T17:00-05:00; ended at its scheduled "
                + "end &lt;17:00&gt;").contains("calls per second 5.0, live calls 20, priority 2");
        assertThat(Pages.summary(JSON.createObjectNode().put("state", "RUNNING"), NOW)).doesNotContain("Schedule")
                .doesNotContain("Campaign limits");
        assertThat(Pages.eta(c, NOW)).isEqualTo("0s");
    }

    @Test
    void campaignPage_finishedCampaign_noActionButtons_runningOne_allThree() {
        Timeline none = new Timeline(List.of(), List.of());
        Pages.Frame frame = new Pages.Frame("csrf-token", true);
        String finished = Pages.campaign(JSON.createObjectNode().put("id", "alpha").put("state", "COMPLETED"), none,
                frame, NOW, null);
        String running = Pages.campaign(JSON.createObjectNode().put("id", "alpha").put("state", "RUNNING"), none,
                frame, NOW, null);

        assertThat(finished).contains("This campaign is COMPLETED").doesNotContain("id=\"pause\"")
                .doesNotContain("id=\"cancel\"");
        assertThat(running).contains("id=\"pause\"").contains("id=\"resume\"").contains("id=\"cancel\"")
                .doesNotContain("This campaign is");
    }

    @Test
    void eta_endedOrUnknown() {
        assertThat(Pages.eta(JSON.createObjectNode().put("state", "COMPLETED"), NOW)).isEqualTo("0s");
        assertThat(Pages.eta(JSON.createObjectNode().put("state", "RUNNING"), NOW)).isEqualTo("-");
    }

    @Test
    void timeline_attemptsAndAnswersPerMinute_lastErrors() {
        List<String> lines = List.of(io.chimedialer.core.ledger.LedgerExport.HEADER_LINE + "\r\n",
                row("2026-01-05T15:00:10Z", "ANSWERED", ""),
                row("2026-01-05T15:00:50Z", "BUSY", ""),
                row("2026-01-05T15:01:05Z", "ANSWERED", "\"Speak failed: AccessDenied, \"\"x\"\"\""),
                row("2026-01-05T15:01:06Z", "FAILED", ""),
                row("", "", ""));

        Timeline t = Timeline.of(Flux.fromIterable(lines)).block();

        assertThat(t.minutes()).containsExactly(
                new Timeline.Minute(Instant.parse("2026-01-05T15:00:00Z"), 2, 1),
                new Timeline.Minute(Instant.parse("2026-01-05T15:01:00Z"), 2, 1));
        assertThat(t.lastErrors()).extracting(Timeline.Failure::disposition).containsExactly("ANSWERED", "FAILED");
        assertThat(t.lastErrors().get(0).actionFailure()).isEqualTo("Speak failed: AccessDenied, \"x\"");
        assertThat(Pages.chart(t)).startsWith("<svg").contains("2 attempts").contains("1 answered");
    }

    private static String row(String placedAt, String disposition, String failure) {
        return "a,c,+13125550100,1,us-east-1,+13125550000,tx,2026-01-05T14:59:59Z," + placedAt + ",," + disposition
                + ",,,,,," + failure + "\r\n";
    }
}
