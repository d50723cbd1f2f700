package io.chimedialer.core.spill;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.calls.WebhookReply;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.core.webhook.WebhookSignature;
import io.chimedialer.testkit.LocalSqs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/** {@link SpillDrainer} through the real SDK against {@link LocalSqs}. */
class SpillDrainerTest {

    private static final String SECRET = "drain-secret-1c";
    private static final WebhookSignature SIGNATURE = new WebhookSignature(SECRET, Clock.systemUTC());

    private LocalSqs sqs;
    private URI queue;
    private SqsAsyncClient client;
    private final List<String> delivered = new CopyOnWriteArrayList<>();
    private final Map<String, SpillDrainer.Status> status = new ConcurrentHashMap<>();
    private final Set<String> endedByHangup = ConcurrentHashMap.newKeySet();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void start() {
        sqs = LocalSqs.start();
        queue = sqs.createQueue("spill");
        client = SqsAsyncClient.builder().endpointOverride(sqs.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s"))).build();
    }

    @AfterEach
    void stop() {
        client.close();
        sqs.close();
    }

    private SpillDrainer drainer(Duration unknownGrace) {
        return new SpillDrainer(client, new SpillSettings(queue, null, Duration.ofSeconds(1), Duration.ofSeconds(30),
                unknownGrace), SIGNATURE, body -> {
                    String text = new String(body, StandardCharsets.UTF_8);
                    String tx = field(text, "TransactionId");
                    String type = field(text, "InvocationEventType");
                    delivered.add(tx + " " + type);
                    if (type.equals("HANGUP") && endedByHangup.contains(tx)) {
                        status.put(tx, SpillDrainer.Status.RECORDED); // the webhook made the outcome durable
                    }
                    return Mono.just(new WebhookReply(200, "{}".getBytes(StandardCharsets.UTF_8)));
                }, tx -> Mono.justOrEmpty(status.get(tx)), new DialerMetrics(registry), Clock.systemUTC());
    }

    private static String field(String json, String name) {
        int i = json.indexOf("\"" + name + "\":");
        int start = json.indexOf('"', i + name.length() + 3) + 1;
        return json.substring(start, json.indexOf('"', start));
    }

    private static String event(String tx, String type, int sequence) {
        return "{\"SchemaVersion\":\"1.0\",\"Sequence\":" + sequence + ",\"InvocationEventType\":\"" + type + "\","
                + "\"CallDetails\":{\"TransactionId\":\"" + tx + "\",\"AwsAccountId\":\"123456789012\","
                + "\"AwsRegion\":\"us-east-1\",\"SipMediaApplicationId\":\"sma-1\",\"Participants\":[{\"CallId\":\"c-"
                + tx + "\",\"ParticipantTag\":\"LEG-A\",\"To\":\"+12065550123\",\"From\":\"+12065550100\","
                + "\"Direction\":\"Outbound\",\"StartTimeInMilliseconds\":\"1700000000000\",\"Status\":\"Connected\"}]}}";
    }

    private void send(String body, String signature) {
        long ts = 1_700_000_000L; // old on purpose: the queue keeps messages for days
        client.sendMessage(r -> r.queueUrl(queue.toString()).messageBody(body).messageAttributes(Map.of(
                SpillDrainer.TIMESTAMP, text(Long.toString(ts)),
                SpillDrainer.SIGNATURE, text(signature != null ? signature
                        : SIGNATURE.sign(ts, body.getBytes(StandardCharsets.UTF_8)))))).join();
    }

    private static MessageAttributeValue text(String v) {
        return MessageAttributeValue.builder().dataType("String").stringValue(v).build();
    }

    private double metric(String result) {
        var c = registry.find("dialer.spill.events").tag("result", result).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void hangupOfARunningCall_deliveredInSequenceOrder_deletedOnceItsOutcomeIsRecorded() {
        status.put("tx-1", SpillDrainer.Status.READY);
        endedByHangup.add("tx-1");
        send(event("tx-1", "HANGUP", 7), null); // spilled after the CALL_ANSWERED, received first here
        send(event("tx-1", "CALL_ANSWERED", 5), null);

        assertThat(drainer(Duration.ZERO).round().block(Duration.ofSeconds(30))).isEqualTo(2);

        assertThat(delivered).containsExactly("tx-1 CALL_ANSWERED", "tx-1 HANGUP");
        assertThat(sqs.depth("spill")).isZero();
        assertThat(metric("recorded")).isEqualTo(2);
    }

    @Test
    void outcomeAlreadyRecorded_duplicateDeletedWithoutDelivery() {
        status.put("tx-2", SpillDrainer.Status.RECORDED);
        send(event("tx-2", "HANGUP", 4), null);

        drainer(Duration.ZERO).round().block(Duration.ofSeconds(30));

        assertThat(delivered).isEmpty();
        assertThat(sqs.depth("spill")).isZero();
        assertThat(metric("duplicate")).isEqualTo(1);
    }

    @Test
    void hangupThatLeftNoOutcome_keptForAnotherTry() {
        status.put("tx-3", SpillDrainer.Status.READY); // the webhook answered, the ledger has no outcome (yet)
        send(event("tx-3", "HANGUP", 4), null);

        drainer(Duration.ZERO).round().block(Duration.ofSeconds(30));

        assertThat(delivered).containsExactly("tx-3 HANGUP");
        assertThat(sqs.depth("spill")).isEqualTo(1);
        assertThat(metric("deferred")).isEqualTo(1);
    }

    @Test
    void campaignNotRunningHere_deferred_thenDeliveredWhenItIs() throws Exception {
        status.put("tx-4", SpillDrainer.Status.NOT_HERE);
        send(event("tx-4", "RINGING", 2), null);
        SpillDrainer drainer = new SpillDrainer(client, new SpillSettings(queue, null, Duration.ofSeconds(1),
                Duration.ofSeconds(10), Duration.ZERO), SIGNATURE, body -> {
                    delivered.add("delivered");
                    return Mono.just(new WebhookReply(200, new byte[] {'{', '}'}));
                }, tx -> Mono.justOrEmpty(status.get(tx)), null, Clock.systemUTC());

        drainer.round().block(Duration.ofSeconds(30));
        assertThat(delivered).isEmpty();
        assertThat(sqs.depth("spill")).isEqualTo(1);

        status.put("tx-4", SpillDrainer.Status.READY);
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (delivered.isEmpty() && System.nanoTime() < until) {
            drainer.round().block(Duration.ofSeconds(30)); // the message is back after its visibility timeout
        }
        assertThat(delivered).containsExactly("delivered");
        assertThat(sqs.depth("spill")).isZero();
        assertThat(drainer.counts()).containsEntry("deferred", 1L).containsEntry("recorded", 1L);
    }

    @Test
    void badSignatureOrNoInvocation_rejectedAndDeleted() {
        status.put("tx-5", SpillDrainer.Status.READY);
        send(event("tx-5", "HANGUP", 3), "v1=" + "0".repeat(64));
        String notAnInvocation = "{\"hello\":1}";
        send(notAnInvocation, null);

        drainer(Duration.ZERO).round().block(Duration.ofSeconds(30));

        assertThat(delivered).isEmpty();
        assertThat(sqs.depth("spill")).isZero();
        assertThat(metric("rejected")).isEqualTo(2);
    }

    @Test
    void unknownTransaction_keptWithinTheGrace_thenDeleted() {
        send(event("tx-6", "HANGUP", 3), null);

        drainer(Duration.ofHours(1)).round().block(Duration.ofSeconds(30));
        assertThat(sqs.depth("spill")).isEqualTo(1);

        sqs.close();
        sqs = LocalSqs.start();
        queue = sqs.createQueue("spill");
        client.close();
        client = SqsAsyncClient.builder().endpointOverride(sqs.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s"))).build();
        send(event("tx-6", "HANGUP", 3), null);
        drainer(Duration.ZERO).round().block(Duration.ofSeconds(30));
        assertThat(sqs.depth("spill")).isZero();
        assertThat(metric("unknown")).isEqualTo(1);
        assertThat(delivered).isEmpty();
    }
}
