package io.chimedialer.lambda;

import io.chimedialer.testkit.LocalSqs;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;

/** The spill queue through the real SDK against {@link LocalSqs}: what the dialer did not take is kept. */
class SpillQueueTest {

    private static final String SECRET = "spill-secret-4b";

    private LocalSqs sqs;
    private URI queue;
    private final CapturingLogger logger = new CapturingLogger();

    @BeforeEach
    void startSqs() {
        sqs = LocalSqs.start();
        queue = sqs.createQueue("spill");
    }

    @AfterEach
    void stopSqs() {
        sqs.close();
    }

    private Map<String, String> env(URI webhook) {
        Map<String, String> env = new HashMap<>();
        env.put(BridgeConfig.ENV_WEBHOOK_URL, webhook.toString());
        env.put(BridgeConfig.ENV_WEBHOOK_SECRET, SECRET);
        // Generous on a loaded build machine: the dialer gets 5,000 - 2,000 ms, the queue the rest.
        env.put(BridgeConfig.ENV_TIMEOUT_MS, "5000");
        env.put(BridgeConfig.ENV_SPILL_TIMEOUT_MS, "2000");
        env.put(BridgeConfig.ENV_SPILL_QUEUE_URL, queue.toString());
        env.put("AWS_ACCESS_KEY_ID", "AKIDSPILLTEST");
        env.put("AWS_SECRET_ACCESS_KEY", "spill-test-secret");
        return env;
    }

    private byte[] invoke(SmaBridgeHandler handler, byte[] event) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        handler.handleRequest(new ByteArrayInputStream(event), out,
                new LocalContext("req-1", Duration.ofSeconds(6), logger));
        return out.toByteArray();
    }

    private List<Message> receiveAll() {
        try (SqsClient client = SqsClient.builder().endpointOverride(sqs.endpoint()).region(Region.US_EAST_1)
                .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s")))
                .build()) {
            return client.receiveMessage(r -> r.queueUrl(queue.toString()).maxNumberOfMessages(10)
                    .messageAttributeNames("All")).messages();
        }
    }

    @Test
    void dialerDown_hangupIsSpilledSignedAndTheFallbackAnswered() throws IOException {
        SmaBridgeHandler handler = new SmaBridgeHandler(env(StubDialer.refusedUrl()));
        byte[] event = Events.event("HANGUP");

        byte[] answer = invoke(handler, event);

        assertThat(new String(answer, StandardCharsets.UTF_8)).isEqualTo("{\"SchemaVersion\":\"1.0\",\"Actions\":[]}");
        List<Message> messages = receiveAll();
        assertThat(messages).singleElement().satisfies(m -> {
            assertThat(m.body().getBytes(StandardCharsets.UTF_8)).isEqualTo(event);
            long ts = Long.parseLong(m.messageAttributes().get(SpillQueue.TIMESTAMP).stringValue());
            assertThat(m.messageAttributes().get(SpillQueue.SIGNATURE).stringValue())
                    .isEqualTo(new WebhookSignature(SECRET).sign(ts, event));
            assertThat(m.messageAttributes().get(SpillQueue.REASON).stringValue()).contains("connection failed");
        });
        assertThat(logger.lines()).singleElement().asString().contains("spilled as message")
                .doesNotContain(Events.CALLEE);
    }

    @Test
    void dialerTooSlow_spilledWithinTheBudget() throws IOException {
        try (StubDialer dialer = StubDialer.answering(StubDialer.Reply.slow(Duration.ofSeconds(10)))) {
            SmaBridgeHandler handler = new SmaBridgeHandler(env(dialer.url()));
            long t0 = System.nanoTime();
            byte[] answer = invoke(handler, Events.event("CALL_ANSWERED"));
            long millis = (System.nanoTime() - t0) / 1_000_000;

            assertThat(new String(answer, StandardCharsets.UTF_8)).contains("\"Speak\"", "\"Hangup\"");
            assertThat(sqs.sent()).isEqualTo(1);
            // 3,000 ms for the dialer (5,000 less the 2,000 kept for SQS), then the send: within the budget.
            assertThat(millis).isGreaterThanOrEqualTo(3_000).isLessThan(5_000 + 500);
            assertThat(logger.lines()).singleElement().asString().contains("no answer within");
        }
    }

    @Test
    void dialerAnswers_nothingSpilled() throws IOException {
        try (StubDialer dialer = StubDialer.answering(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER))) {
            SmaBridgeHandler handler = new SmaBridgeHandler(env(dialer.url()));
            assertThat(new String(invoke(handler, Events.event("RINGING")), StandardCharsets.UTF_8))
                    .isEqualTo(StubDialer.DEFAULT_ANSWER);
            assertThat(sqs.sent()).isZero();
        }
    }

    @Test
    void dialerRefuses_4xxIsNotSpilled() throws IOException {
        try (StubDialer dialer = StubDialer.answering(StubDialer.Reply.status(401, "{}"))) {
            SmaBridgeHandler handler = new SmaBridgeHandler(env(dialer.url()));
            invoke(handler, Events.event("HANGUP"));
            assertThat(sqs.sent()).isZero();
            assertThat(logger.lines()).singleElement().asString().contains("not spilled (refused by the dialer)");
        }
    }

    @Test
    void dialer5xx_isSpilled() throws IOException {
        try (StubDialer dialer = StubDialer.answering(StubDialer.Reply.status(503, "{}"))) {
            SmaBridgeHandler handler = new SmaBridgeHandler(env(dialer.url()));
            invoke(handler, Events.event("HANGUP"));
            assertThat(sqs.sent()).as("log: %s", logger.lines()).isEqualTo(1);
        }
    }

    @Test
    void queueUnreachable_fallbackStillAnsweredInTime() throws IOException {
        Map<String, String> env = env(StubDialer.refusedUrl());
        sqs.close();
        SmaBridgeHandler handler = new SmaBridgeHandler(env);
        long t0 = System.nanoTime();
        byte[] answer = invoke(handler, Events.event("CALL_ANSWERED"));
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5_000 + 500);
        assertThat(new String(answer, StandardCharsets.UTF_8)).contains("\"Hangup\"");
        assertThat(logger.lines()).singleElement().asString().contains("NOT spilled");
        sqs = LocalSqs.start(); // for tearDown
    }

    @Test
    void config_spillNeedsAQueueUrlAndItsPartBelowTheBudget() {
        Map<String, String> env = new HashMap<>(Map.of(BridgeConfig.ENV_WEBHOOK_URL, "http://127.0.0.1:1",
                BridgeConfig.ENV_WEBHOOK_SECRET, SECRET, BridgeConfig.ENV_SPILL_QUEUE_URL, "not a url",
                BridgeConfig.ENV_SPILL_TIMEOUT_MS, "2000"));
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> BridgeConfig.fromEnvironment(env)))
                .hasMessageContaining(BridgeConfig.ENV_SPILL_QUEUE_URL)
                .hasMessageContaining(BridgeConfig.ENV_SPILL_TIMEOUT_MS);
        env.put(BridgeConfig.ENV_SPILL_QUEUE_URL, "https://sqs.eu-west-1.amazonaws.com/123456789012/spill");
        env.remove(BridgeConfig.ENV_SPILL_TIMEOUT_MS);
        BridgeConfig config = BridgeConfig.fromEnvironment(env);
        assertThat(config.spills()).isTrue();
        assertThat(config.forwardTimeout()).isEqualTo(Duration.ofMillis(1600));
        assertThat(SpillQueue.region(config.spillQueueUrl(), Map.of())).isEqualTo(Region.EU_WEST_1);
        assertThat(SpillQueue.region(config.spillQueueUrl(), Map.of("AWS_REGION", "us-west-2")))
                .isEqualTo(Region.US_WEST_2);
        assertThat(BridgeConfig.fromEnvironment(Map.of(BridgeConfig.ENV_WEBHOOK_URL, "http://127.0.0.1:1",
                BridgeConfig.ENV_WEBHOOK_SECRET, SECRET)).spills()).isFalse();
    }
}
