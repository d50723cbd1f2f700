package io.chimedialer.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.emulator.Scenario.Callee;
import io.chimedialer.emulator.Scenario.Outcome;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.test.StepVerifier;

/** Lambda mode: a {@link RequestStreamHandler} run in-process as the SMA endpoint, loaded by class name. */
class LambdaEndpointTest {
    private static final String SMA = "11111111-1111-4111-8111-111111111111";
    private static final String FROM = "+17035550100";
    private static final String ANSWERS = "+14155550001";
    private static final String AUTH = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/chime/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=" + "ab".repeat(32);
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What {@link SpeakThenHangUp} saw, per invocation (static: the emulator creates the instance). */
    static final ConcurrentLinkedQueue<Seen> SEEN = new ConcurrentLinkedQueue<>();

    record Seen(String eventType, String requestId, int remainingMillis, String functionName, String environment) {
    }

    private ChimeEmulator emu;

    @BeforeEach
    void clear() {
        SEEN.clear();
    }

    @AfterEach
    void tearDown() {
        if (emu != null) {
            emu.close();
        }
    }

    /** Answers CALL_ANSWERED with Speak + Hangup and everything else with no actions; records its context. */
    public static final class SpeakThenHangUp implements RequestStreamHandler {
        private final String environment;

        public SpeakThenHangUp() {
            this.environment = null;
        }

        public SpeakThenHangUp(Map<String, String> environment) {
            this.environment = environment.get("GREETING");
        }

        @Override
        public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
            JsonNode event = JSON.readTree(input.readAllBytes());
            String type = event.path("InvocationEventType").asText();
            SEEN.add(new Seen(type, context.getAwsRequestId(), context.getRemainingTimeInMillis(),
                    context.getFunctionName(), environment));
            context.getLogger().log("handled " + type);
            String callId = event.path("CallDetails").path("Participants").get(0).path("CallId").asText();
            String answer = type.equals("CALL_ANSWERED")
                    ? "{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"Speak\",\"Parameters\":{\"Text\":\""
                    + (environment == null ? "Hello" : environment) + "\",\"CallId\":\"" + callId + "\"}},"
                    + "{\"Type\":\"Hangup\",\"Parameters\":{\"SipResponseCode\":\"0\"}}]}"
                    : "{\"SchemaVersion\":\"1.0\",\"Actions\":[]}";
            output.write(answer.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** A function error on every invocation. */
    public static final class AlwaysFails implements RequestStreamHandler {
        @Override
        public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
            throw new IOException("boom");
        }
    }

    /** A configuration with an environment factory, like the dialer's BridgeConfig. */
    public record Settings(String url) {
        public static Settings fromEnvironment(Map<String, String> env) {
            if (!env.containsKey("URL")) {
                throw new IllegalArgumentException("URL: required");
            }
            return new Settings(env.get("URL"));
        }
    }

    /** Configured through {@link Settings#fromEnvironment}; has no Map constructor. */
    public static final class ConfiguredHandler implements RequestStreamHandler {
        final Settings settings;

        public ConfiguredHandler() {
            this(Settings.fromEnvironment(Map.of("URL", "from-process")));
        }

        public ConfiguredHandler(Settings settings) {
            this.settings = settings;
        }

        @Override
        public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
            output.write(settings.url().getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Only a no-argument constructor: it cannot be given an environment. */
    public static final class NoArgsOnly implements RequestStreamHandler {
        @Override
        public void handleRequest(InputStream input, OutputStream output, Context context) {
        }
    }

    private String create(String to) {
        String body = "{\"FromPhoneNumber\":\"" + FROM + "\",\"ToPhoneNumber\":\"" + to + "\"}";
        String s = HttpClient.create().baseUrl(emu.url().toString())
                .headers(h -> h.set(HttpHeaderNames.AUTHORIZATION, AUTH).set(HttpHeaderNames.CONTENT_TYPE, "application/json"))
                .post().uri("/sip-media-applications/" + SMA + "/calls").send((req, out) -> out.sendString(Mono.just(body)))
                .responseSingle((res, b) -> b.asString()).block(WAIT);
        try {
            return JSON.readTree(s).path("SipMediaApplicationCall").path("TransactionId").asText();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Scenario answering() {
        return Scenario.builder().number(ANSWERS, new Callee(Outcome.ANSWERED, 1000L, 36_000_000L, "", false)).build();
    }

    private CallRecord finished(String tx) {
        assertThat(emu.awaitIdle(WAIT)).isTrue();
        return emu.calls().stream().filter(c -> c.transactionId().equals(tx)).findFirst().orElseThrow();
    }

    @Test
    void lambdaHandler_byClassName_runsEveryInvocationWithAFreshContext() {
        emu = ChimeEmulator.builder().timeScale(0.001).scenario(answering())
                .lambdaHandler(SpeakThenHangUp.class.getName(), Map.of()).start();

        CallRecord call = finished(create(ANSWERS));

        assertThat(call.disposition()).isEqualTo("answered");
        assertThat(call.endReason()).isEqualTo("applicationHangup");
        assertThat(call.actions()).extracting(CallRecord.Action::type).containsExactly("Speak", "Hangup");
        List<Seen> seen = new ArrayList<>(SEEN);
        assertThat(seen).extracting(Seen::eventType)
                .containsExactly("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "HANGUP");
        assertThat(seen).extracting(Seen::requestId).doesNotHaveDuplicates().allMatch(id -> id.length() == 36);
        assertThat(seen).extracting(Seen::functionName).containsOnly("SpeakThenHangUp");
        assertThat(seen).allSatisfy(s -> assertThat(s.remainingMillis()).isPositive()
                .isLessThanOrEqualTo((int) LambdaEndpoint.DEFAULT_FUNCTION_TIMEOUT.toMillis()));
        assertThat(seen).extracting(Seen::environment).containsOnlyNulls();
        EmulatorStats s = emu.stats();
        assertThat(s.invalidResponses()).isZero();
        assertThat(s.redeliveries()).isZero();
        assertThat(s.active()).isZero();
        assertThat(emu.describe()).contains("Lambda handler " + SpeakThenHangUp.class.getName());
    }

    @Test
    void lambdaHandler_withEnvironment_usesTheMapConstructor() {
        emu = ChimeEmulator.builder().timeScale(0.001).scenario(answering())
                .lambdaHandler(SpeakThenHangUp.class.getName(), Map.of("GREETING", "Bonjour")).start();

        finished(create(ANSWERS));

        assertThat(SEEN).extracting(Seen::environment).hasSize(4).containsOnly("Bonjour");
    }

    @Test
    void lambdaHandler_handlerThrows_retriedOnceThenCallEndsWith480() {
        emu = ChimeEmulator.builder().timeScale(0.001).scenario(answering())
                .lambdaHandler(AlwaysFails.class.getName(), Map.of()).start();

        CallRecord call = finished(create(ANSWERS));

        assertThat(call.endReason()).isEqualTo("webhookUnavailable");
        assertThat(call.sipCode()).isEqualTo(480);
        assertThat(call.invocations().get(0).deliveries()).isEqualTo(2);
        assertThat(emu.stats().webhookFailures()).isEqualTo(1);
    }

    @Test
    void endpoint_ofHandlerObject_answersWithTheBytesItWrote() {
        try (LambdaEndpoint endpoint = LambdaEndpoint.of(new ConfiguredHandler(new Settings("exact bytes")))) {
            StepVerifier.create(endpoint.invoke("{}".getBytes(StandardCharsets.UTF_8)))
                    .assertNext(b -> assertThat(new String(b, StandardCharsets.UTF_8)).isEqualTo("exact bytes"))
                    .expectComplete()
                    .verify(WAIT);
        }
    }

    @Test
    void invoke_handlerRunsPastTheFunctionTimeout_failsWithTimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        RequestStreamHandler stuck = (in, out, ctx) -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        try (LambdaEndpoint endpoint = LambdaEndpoint.of(stuck, Duration.ofMillis(200), 2)) {
            StepVerifier.create(endpoint.invoke(new byte[0]))
                    .expectError(TimeoutException.class)
                    .verify(WAIT);
        } finally {
            release.countDown();
        }
    }

    @Test
    void invoke_waitingForAConcurrencySlot_theFunctionTimeoutCountsFromTheHandlersStart() throws Exception {
        CountDownLatch releaseFirst = new CountDownLatch(1);
        CountDownLatch firstRunning = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        RequestStreamHandler handler = (in, out, ctx) -> {
            if (calls.incrementAndGet() == 1) {
                firstRunning.countDown();
                // Holds its slot until released, whatever the timeout's cancellation does to the thread.
                boolean interrupted = false;
                while (releaseFirst.getCount() > 0) {
                    try {
                        releaseFirst.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            out.write("{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        };
        // One slot: the second invocation waits for the first, which runs past the function timeout.
        Duration timeout = Duration.ofSeconds(1);
        try (LambdaEndpoint endpoint = LambdaEndpoint.of(handler, timeout, 1)) {
            Mono<byte[]> first = endpoint.invoke(new byte[0]);
            java.util.concurrent.CompletableFuture<Throwable> firstFailure = new java.util.concurrent.CompletableFuture<>();
            first.subscribe(bytes -> firstFailure.complete(null), firstFailure::complete);
            assertThat(firstRunning.await(10, TimeUnit.SECONDS)).isTrue();
            Mono<byte[]> second = endpoint.invoke(new byte[0]);
            java.util.concurrent.CompletableFuture<byte[]> answer = second.toFuture();
            // The first times out (its handler still holds the slot until released); the second has not started.
            assertThat(firstFailure.get(10, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
            assertThat(calls.get()).isEqualTo(1);
            // The second has now waited longer than a whole timeout (a timer started when it was invoked has fired).
            Thread.sleep(timeout.toMillis() + 200);
            assertThat(answer).isNotDone();
            releaseFirst.countDown();
            // Started only now, it answers: the wait for the slot was not charged to its timeout.
            assertThat(new String(answer.get(10, TimeUnit.SECONDS), java.nio.charset.StandardCharsets.UTF_8))
                    .isEqualTo("{}");
        } finally {
            releaseFirst.countDown();
        }
    }

    @Test
    void instantiate_configurationWithEnvironmentFactory_passesTheFactorysResult() {
        RequestStreamHandler h = LambdaEndpoint.instantiate(ConfiguredHandler.class.getName(), Map.of("URL", "u-1"),
                getClass().getClassLoader());

        assertThat(h).isInstanceOf(ConfiguredHandler.class);
        assertThat(((ConfiguredHandler) h).settings.url()).isEqualTo("u-1");
    }

    @Test
    void instantiate_emptyEnvironment_usesTheNoArgumentConstructor() {
        RequestStreamHandler h = LambdaEndpoint.instantiate(ConfiguredHandler.class.getName(), Map.of(),
                getClass().getClassLoader());

        assertThat(((ConfiguredHandler) h).settings.url()).isEqualTo("from-process");
    }

    @Test
    void instantiate_factoryRejectsTheEnvironment_failsWithItsMessage() {
        assertThatThrownBy(() -> LambdaEndpoint.instantiate(ConfiguredHandler.class.getName(), Map.of("OTHER", "x"),
                getClass().getClassLoader()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Lambda handler " + ConfiguredHandler.class.getName() + " failed to initialise: URL: required");
    }

    @Test
    void instantiate_environmentForAHandlerWithoutWayToTakeIt_fails() {
        assertThatThrownBy(() -> LambdaEndpoint.instantiate(NoArgsOnly.class.getName(), Map.of("A", "b"),
                getClass().getClassLoader()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("Lambda handler " + NoArgsOnly.class.getName() + " cannot take an environment");
    }

    @Test
    void instantiate_notAHandlerOrMissing_failsNamingTheClass() {
        assertThatThrownBy(() -> LambdaEndpoint.instantiate(String.class.getName(), Map.of(), getClass().getClassLoader()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.lang.String does not implement");
        assertThatThrownBy(() -> ChimeEmulator.builder().lambdaHandler("com.example.Missing", Map.of()).start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("com.example.Missing not found");
    }
}
