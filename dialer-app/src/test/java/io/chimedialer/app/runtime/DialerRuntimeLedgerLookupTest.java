package io.chimedialer.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.webhook.WebhookSignature;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerOptions;
import io.chimedialer.testkit.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * A restarted node: the HANGUP of a call placed before the restart arrives before the campaign is launched
 * again. The webhook's ledger lookup finds the TransactionId, waits for the launch and the run's take-over, and
 * the call ends with the HANGUP's disposition instead of UNKNOWN.
 */
class DialerRuntimeLedgerLookupTest {
    private static final String SECRET = "lookup-secret";
    private static final String REGION = "us-east-1";

    @TempDir
    Path dir;

    private DialerRuntime runtime;

    @AfterEach
    void tearDown() {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void hangupBeforeLaunch_callPlacedBeforeRestart_endsWithItsDisposition() throws Exception {
        String url = "jdbc:sqlite:" + dir.resolve("ledger.db");
        Instant placed = Instant.now().minusSeconds(20);
        Contact contact = new Contact(2, "k1", "+12025550101", "", null, Map.of());
        try (Ledger before = JdbcLedger.open(LedgerOptions.of(url, Clock.systemUTC()))) {
            before.upsertCampaign("c", null, placed).block(Duration.ofSeconds(10));
            before.recordIntents(List.of(new Attempt("a1", "c", contact, 1, REGION, "+12065550100")))
                    .block(Duration.ofSeconds(10));
            before.recordPlaced("a1", "tx-before-restart", placed).block(Duration.ofSeconds(10));
        }
        Path csv = dir.resolve("contacts.csv");
        Files.writeString(csv, "id,phone\nk1,+12025550101\n", StandardCharsets.UTF_8);
        RegionConfig region = new RegionConfig(REGION, "sma-1", 1, 1, 10, 5, List.of("+12065550100"),
                URI.create("http://127.0.0.1:9"));
        runtime = DialerRuntime.start(new DialerRuntime.Options(List.of(region),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("KEY", "secret")), url, SECRET,
                "127.0.0.1", 0, null, false, null, null));

        CompletableFuture<HttpResponse<String>> reply = send(hangup("tx-before-restart", 486));
        // The lookup holds the invocation until the campaign is launched (bounded by its 2 s timeout).
        Await.upTo(Duration.ofSeconds(10), "the invocation's ledger lookup").pollEvery(Duration.ofMillis(5))
                .untilValue(() -> runtime.webhook().stats().ledgerLookups(), n -> n > 0);
        assertThat(runtime.webhook().stats().ledgerLookups()).isEqualTo(1);
        CampaignConfig campaign = new CampaignConfig("c", csv.toString(), Map.of(REGION, 1), "US", null, null, null,
                List.of(), Duration.ofMinutes(10), false);
        CampaignManager.Started started = runtime.campaigns().launch(campaign, csv, true);

        assertThat(reply.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(started.report().block(Duration.ofSeconds(20)).state()).isEqualTo("COMPLETED");
        // The result's write is queued when the call ends.
        Ledger.AttemptRecord a1 = Await.upTo(Duration.ofSeconds(30), "attempt a1's result in the ledger")
                .untilValue(() -> runtime.ledger().findAttempt("a1").block(Duration.ofSeconds(10)),
                        a -> a != null && a.result() != null);
        assertThat(a1).isNotNull();
        assertThat(a1.result()).isNotNull();
        assertThat(a1.result().disposition()).isEqualTo(Disposition.BUSY);
        assertThat(a1.result().sipCode()).isEqualTo(486);
        assertThat(a1.result().transactionId()).isEqualTo("tx-before-restart");
        assertThat(runtime.webhook().stats().unknownCalls()).isZero();
    }

    private CompletableFuture<HttpResponse<String>> send(String body) {
        WebhookSignature signature = new WebhookSignature(SECRET, Clock.systemUTC());
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        long ts = signature.nowSeconds();
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(ts))
                .header(WebhookSignature.SIGNATURE_HEADER, signature.sign(ts, bytes))
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .build();
        return HttpClient.newHttpClient().sendAsync(request, HttpResponse.BodyHandlers.ofString());
    }

    private static String hangup(String tx, int sipCode) {
        return "{\"SchemaVersion\":\"1.0\",\"Sequence\":4,\"InvocationEventType\":\"HANGUP\",\"CallDetails\":{"
                + "\"TransactionId\":\"" + tx + "\",\"AwsAccountId\":\"123456789012\",\"AwsRegion\":\"us-east-1\","
                + "\"SipMediaApplicationId\":\"sma-1\",\"Participants\":[{\"CallId\":\"call-" + tx + "\","
                + "\"ParticipantTag\":\"LEG-A\",\"To\":\"+12025550101\",\"From\":\"+12065550100\","
                + "\"Direction\":\"Outbound\",\"StartTimeInMilliseconds\":\"1700000000000\","
                + "\"Status\":\"Disconnected\"}]},"
                + "\"ActionData\":{\"Type\":\"Hangup\",\"Parameters\":{\"SipResponseCode\":\"" + sipCode + "\","
                + "\"CallId\":\"call-" + tx + "\",\"ParticipantTag\":\"LEG-A\"}}}";
    }
}
