package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.app.config.Secret;
import io.chimedialer.app.notifications.NoticeSignature;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.campaign.CampaignRun;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.emulator.Faults;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Completion notices end to end: a campaign dialed through the emulator, and a receiver on 127.0.0.1 (reactor-netty's
 * HttpServer) that checks what a real receiver would: one notice per event, a signature that verifies over the bytes
 * received, and a retry that reaches it after it answered 503.
 */
class NotificationIT {
    private static final Secret SECRET = Secret.of("it-notify-secret-0123456789");

    @TempDir
    Path dir;

    private NoticeReceiver receiver;

    @BeforeEach
    void startReceiver() {
        receiver = new NoticeReceiver();
    }

    @AfterEach
    void stopReceiver() {
        receiver.close();
    }

    private DialerConfig.Notifications settings() {
        return receiver.settings(SECRET);
    }

    private static double notices(EmulatedDialer it, String event, String result) {
        return it.runtime().meterRegistry().get("dialer.notifications").tag(DialerMetrics.TAG_EVENT, event)
                .tag(DialerMetrics.TAG_RESULT, result).counter().count();
    }

    static void assertSigned(NoticeReceiver.Received r, Secret secret) {
        String timestamp = r.headers().get(NoticeSignature.TIMESTAMP_HEADER);
        assertThat(NoticeSignature.verify(secret.bytes(), timestamp, r.body(),
                r.headers().get(NoticeSignature.SIGNATURE_HEADER))).as("signature verifies").isTrue();
        // Inside any sane replay window: signed when sent.
        assertThat(Math.abs(Long.parseLong(timestamp) - r.at().getEpochSecond())).isLessThanOrEqualTo(5);
    }

    @Test
    void completedCampaign_oneSignedNoticeWithTheRunsFigures() throws Exception {
        ContactLists.Generated list = ContactLists.write(dir, "notice", 30, 41, 0, 0, 0);
        try (EmulatedDialer it = EmulatedDialer.start(dir, EmulatedDialer.twoRegions(50, 20, 50, 20),
                Scenario.defaults(), Faults.none(), 0.001, 41, null)) {
            it.runtime().campaigns().notifications(settings());
            CampaignConfig campaign = EmulatedDialer.campaign("notice", list.csv(),
                    Map.of("us-east-1", 1, "us-west-2", 1), null, List.of(), null);

            RunReport report = it.run(campaign, list.csv(), Duration.ofMinutes(2));
            it.runtime().campaigns().noticesIdle().block(Duration.ofSeconds(30));

            assertThat(report.state()).isEqualTo("COMPLETED");
            List<NoticeReceiver.Received> received = receiver.received();
            assertThat(received).hasSize(1);
            NoticeReceiver.Received notice = received.get(0);
            assertSigned(notice, SECRET);
            JsonNode json = notice.json();
            assertThat(json.path("event").asText()).isEqualTo("completed");
            assertThat(json.path("campaign").asText()).isEqualTo("notice");
            assertThat(json.path("id").asText()).isNotBlank()
                    .isEqualTo(notice.headers().get(NoticeSignature.NOTICE_ID_HEADER));
            assertThat(json.path("runId").asText()).isNotBlank();
            assertThat(json.has("nodeId")).as("not clustered").isFalse();
            assertThat(json.path("state").asText()).isEqualTo("COMPLETED");
            assertThat(json.path("contacts").path("total").asLong()).isEqualTo(30);
            assertThat(json.path("attempts").asLong()).isEqualTo(report.attempts());
            long ended = 0;
            for (JsonNode count : json.path("outcomes")) {
                ended += count.asLong();
            }
            assertThat(ended).isEqualTo(report.outcomes().values().stream().mapToLong(Long::longValue).sum())
                    .isPositive();
            assertThat(json.path("answerRate").asDouble()).isBetween(0.0, 1.0);
            long inLedger = 0;
            for (JsonNode count : json.path("ledger").path("contactsByStatus")) {
                inLedger += count.asLong();
            }
            assertThat(inLedger).as("the ledger's contacts by status").isEqualTo(30);
            assertThat(Instant.parse(json.path("occurredAt").asText()))
                    .isAfterOrEqualTo(Instant.parse(json.path("startedAt").asText()));
            assertThat(notices(it, "completed", "delivered")).isEqualTo(1);
            assertThat(notices(it, "completed", "retried")).isZero();
            // Nothing more comes: the ledger's state is recorded once.
            Await.holdsFor(Duration.ofMillis(500), "no second notice", () -> receiver.received().size() == 1);
        }
    }

    @Test
    void pausedOnError_receiverAnswering503Twice_getsTheNoticeOnTheThirdTry() throws Exception {
        ContactLists.Generated list = ContactLists.write(dir, "paused", 30, 42, 0, 0, 0);
        receiver.unavailableFirst(2);
        List<EmulatedDialer.RegionSpec> fixed = EmulatedDialer.twoRegions(50, 20, 50, 20);
        // From-numbers the account does not own in either Region: every Region fails, the campaign pauses itself.
        List<EmulatedDialer.RegionSpec> misconfigured = List.of(
                fixed.get(0).dialingFrom(List.of("+17035550199")), fixed.get(1).dialingFrom(List.of("+12065550199")));
        try (EmulatedDialer it = EmulatedDialer.start(dir, misconfigured, Scenario.defaults(), Faults.none(), 0.001,
                42, null)) {
            it.runtime().campaigns().notifications(settings());
            CampaignConfig campaign = EmulatedDialer.campaign("paused", list.csv(),
                    Map.of("us-east-1", 1, "us-west-2", 1), null, List.of(), null);

            CampaignRun run = it.runtime().campaigns().launch(campaign, list.csv(), true).run();
            Await.upTo(Duration.ofSeconds(60), "the campaign paused by itself")
                    .until(() -> run.state() == CampaignRun.State.PAUSED && run.pauseReason() != null);
            Await.upTo(Duration.ofSeconds(30), "the notice delivered")
                    .until(() -> notices(it, "paused-on-error", "delivered") == 1);

            List<NoticeReceiver.Received> received = receiver.received();
            assertThat(received).hasSize(3);
            assertThat(received).allSatisfy(r -> assertSigned(r, SECRET));
            // The same notice each time: one id, one body; receivers drop the repeats they already have.
            assertThat(received).extracting(r -> r.headers().get(NoticeSignature.NOTICE_ID_HEADER)).containsOnly(
                    received.get(0).headers().get(NoticeSignature.NOTICE_ID_HEADER));
            assertThat(received).extracting(r -> new String(r.body(), java.nio.charset.StandardCharsets.UTF_8))
                    .containsOnly(new String(received.get(0).body(), java.nio.charset.StandardCharsets.UTF_8));
            JsonNode json = received.get(2).json();
            assertThat(json.path("event").asText()).isEqualTo("paused-on-error");
            assertThat(json.path("state").asText()).isEqualTo("PAUSED");
            assertThat(json.path("pauseReason").asText()).isEqualTo(run.pauseReason()).contains("FromPhoneNumber");
            assertThat(notices(it, "paused-on-error", "retried")).isEqualTo(2);
            assertThat(Objects.requireNonNull(it.runtime().campaigns().notificationSettings()).toString())
                    .doesNotContain("token=it").doesNotContain(SECRET.reveal());
        }
    }

    @Test
    void scheduledEndAlreadyPast_runEndsWithoutACall_ledgerSaysEnded_oneEndedNotice() throws Exception {
        ContactLists.Generated list = ContactLists.write(dir, "late", 20, 43, 0, 0, 0);
        try (EmulatedDialer it = EmulatedDialer.start(dir, EmulatedDialer.twoRegions(50, 20, 50, 20),
                Scenario.defaults(), Faults.none(), 0.001, 43, null)) {
            it.runtime().campaigns().notifications(settings());
            java.time.ZonedDateTime now = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC);
            CampaignConfig campaign = EmulatedDialer.campaign("late", list.csv(),
                    Map.of("us-east-1", 1, "us-west-2", 1), null, List.of(), null)
                    .withSchedule(new io.chimedialer.core.campaign.CampaignSchedule(now.minusHours(2),
                            now.minusHours(1)));

            RunReport report = it.run(campaign, list.csv(), Duration.ofMinutes(1));
            it.runtime().campaigns().noticesIdle().block(Duration.ofSeconds(30));

            assertThat(report.state()).isEqualTo("ENDED");
            assertThat(report.attempts()).as("no call after the end").isZero();
            assertThat(it.emulator().stats().created()).isZero();
            assertThat(it.runtime().ledger().campaign("late").block(Duration.ofSeconds(10)).state())
                    .isEqualTo(io.chimedialer.core.ledger.Ledger.CampaignState.ENDED);
            List<NoticeReceiver.Received> received = receiver.received();
            assertThat(received).hasSize(1);
            assertSigned(received.get(0), SECRET);
            assertThat(received.get(0).json().path("event").asText()).isEqualTo("ended");
            assertThat(received.get(0).json().path("state").asText()).isEqualTo("ENDED");
            assertThat(notices(it, "ended", "delivered")).isEqualTo(1);
        }
    }
}
