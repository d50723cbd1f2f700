package io.chimedialer.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static org.assertj.core.api.Assertions.assertThat;

class SmaBridgeHandlerTest {

    private static final String SECRET = "test-secret-7a";
    private static final long NOW = 1_700_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<StubDialer> stubs = new ArrayList<>();
    private final CapturingLogger logger = new CapturingLogger();

    @AfterEach
    void closeStubs() {
        stubs.forEach(StubDialer::close);
    }

    private StubDialer stub(StubDialer.Reply reply) throws IOException {
        StubDialer stub = StubDialer.answering(reply);
        stubs.add(stub);
        return stub;
    }

    private StubDialer scripted(java.util.function.IntFunction<StubDialer.Reply> script) throws IOException {
        StubDialer stub = StubDialer.scripted(script);
        stubs.add(stub);
        return stub;
    }

    private static BridgeConfig config(URI url) {
        return BridgeConfig.of(url, SECRET);
    }

    private byte[] invoke(BridgeConfig config, byte[] event) throws IOException {
        return invoke(config, event, Duration.ofSeconds(6));
    }

    private byte[] invoke(BridgeConfig config, byte[] event, Duration functionTimeout) throws IOException {
        SmaBridgeHandler handler = new SmaBridgeHandler(config, Clock.fixed(Instant.ofEpochSecond(NOW), ZoneOffset.UTC));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        handler.handleRequest(new ByteArrayInputStream(event), out,
                new LocalContext("req-1", functionTimeout, logger));
        return out.toByteArray();
    }

    private static JsonNode tree(byte[] json) throws IOException {
        return JSON.readTree(json);
    }

    private static JsonNode speakAndHangup(String text) throws IOException {
        return JSON.readTree("{\"SchemaVersion\":\"1.0\",\"Actions\":["
                + "{\"Type\":\"Speak\",\"Parameters\":{\"Text\":" + JSON.writeValueAsString(text) + ",\"CallId\":\""
                + Events.LEG_A_CALL_ID + "\"}},"
                + "{\"Type\":\"Hangup\",\"Parameters\":{\"SipResponseCode\":\"0\",\"CallId\":\""
                + Events.LEG_A_CALL_ID + "\"}}]}");
    }

    // --- forwarding -------------------------------------------------------------------------------

    @Test
    void handleRequest_dialerAnswers_writesTheAnswerByteForByte() throws IOException {
        byte[] answer = ("{ \"SchemaVersion\" : \"1.0\",\n  \"Actions\":[{\"Type\":\"Speak\",\"Parameters\":"
                + "{\"Text\":\"Grüße \\u00e9 \\\"quoted\\\"\",\"CallId\":\"x\"}}],"
                + "\"TransactionAttributes\":{\"b\":\"2\",\"a\":\"1\"} }\n").getBytes(StandardCharsets.UTF_8);
        StubDialer dialer = stub(StubDialer.Reply.ok(answer));

        byte[] out = invoke(config(dialer.url()), Events.event("CALL_ANSWERED"));

        assertThat(out).isEqualTo(answer);
        assertThat(dialer.received()).hasSize(1);
        assertThat(logger.lines()).isEmpty();
    }

    @Test
    void handleRequest_anyEvent_postsTheExactBodyWithAValidSignature() throws Exception {
        StubDialer dialer = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        byte[] event = Events.event("ACTION_SUCCESSFUL");

        invoke(config(dialer.url()), event);

        assertThat(dialer.received()).hasSize(1);
        StubDialer.Received request = dialer.received().get(0);
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.path()).isEqualTo("/v1/sma/invocations");
        assertThat(request.body()).isEqualTo(event);
        assertThat(request.header("Content-Type")).isEqualTo("application/json");
        assertThat(request.header("X-Dialer-Timestamp")).isEqualTo(Long.toString(NOW));
        assertThat(request.header("X-Dialer-Sent-At")).isEqualTo(Long.toString(NOW * 1000));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] signed = (NOW + "." + new String(event, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        String expected = "v1=" + HexFormat.of().formatHex(mac.doFinal(signed));
        assertThat(request.header("X-Dialer-Signature")).isEqualTo(expected).hasSize(3 + 64);
    }

    @Test
    void handleRequest_unreadableEvent_isStillForwardedVerbatim() throws IOException {
        StubDialer dialer = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        byte[] garbage = "not json at all {".getBytes(StandardCharsets.UTF_8);

        byte[] out = invoke(config(dialer.url()), garbage);

        assertThat(dialer.received()).singleElement().satisfies(r -> assertThat(r.body()).isEqualTo(garbage));
        assertThat(new String(out, StandardCharsets.UTF_8)).isEqualTo(StubDialer.DEFAULT_ANSWER);
    }

    @Test
    void handleRequest_twoHandlersSeveralInvocations_shareOneClientAndItsConnection() throws IOException {
        StubDialer dialer = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));

        invoke(config(dialer.url()), Events.event("CALL_ANSWERED"));
        invoke(config(dialer.url()), Events.event("ACTION_SUCCESSFUL"));
        invoke(config(dialer.url()), Events.event("HANGUP"));

        assertThat(SmaBridgeHandler.SharedHttpClient.get()).isSameAs(SmaBridgeHandler.SharedHttpClient.get());
        assertThat(dialer.received()).hasSize(3);
        // One kept-alive connection: every request came from the same client port.
        assertThat(dialer.received()).extracting(StubDialer.Received::remotePort).containsOnly(
                dialer.received().get(0).remotePort());
    }

    @Test
    void handleRequest_pooledConnectionDroppedUnanswered_retriesOnceOnTheSameUrl() throws IOException {
        StubDialer dialer = scripted(n -> n == 1 ? StubDialer.Reply.drop() : StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));

        byte[] out = invoke(config(dialer.url()), Events.event("CALL_ANSWERED"));

        assertThat(new String(out, StandardCharsets.UTF_8)).isEqualTo(StubDialer.DEFAULT_ANSWER);
        assertThat(dialer.received()).hasSize(2);
        assertThat(dialer.received().get(1).body()).isEqualTo(dialer.received().get(0).body());
    }

    // --- fallback ----------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"CALL_ANSWERED", "ACTION_SUCCESSFUL", "ACTION_FAILED", "ACTION_INTERRUPTED",
            "DIGITS_RECEIVED", "CALL_UPDATE_REQUESTED"})
    void handleRequest_dialerDownDuringACall_speaksThenHangsUpLegA(String type) throws IOException {
        byte[] out = invoke(config(StubDialer.refusedUrl()), Events.twoLegsOddCasing(type));

        assertThat(tree(out)).isEqualTo(speakAndHangup(BridgeConfig.DEFAULT_FALLBACK_TEXT));
    }

    @Test
    void handleRequest_dialerDownOnInboundCall_hangsUpAlone() throws IOException {
        byte[] out = invoke(config(StubDialer.refusedUrl()), Events.event("NEW_INBOUND_CALL"));

        assertThat(tree(out)).isEqualTo(JSON.readTree("{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"Hangup\","
                + "\"Parameters\":{\"SipResponseCode\":\"480\",\"CallId\":\"" + Events.LEG_A_CALL_ID + "\"}}]}"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"NEW_OUTBOUND_CALL", "RINGING", "HANGUP", "INVALID_LAMBDA_RESPONSE", "SOMETHING_NEW"})
    void handleRequest_dialerDownOnOtherEvents_answersAnEmptyActionList(String type) throws IOException {
        byte[] out = invoke(config(StubDialer.refusedUrl()), Events.event(type));

        assertThat(tree(out)).isEqualTo(JSON.readTree("{\"SchemaVersion\":\"1.0\",\"Actions\":[]}"));
    }

    @Test
    void handleRequest_dialerDownAndEventUnreadable_answersAnEmptyActionList() throws IOException {
        byte[] out = invoke(config(StubDialer.refusedUrl()), "{\"truncated\":".getBytes(StandardCharsets.UTF_8));

        assertThat(tree(out)).isEqualTo(JSON.readTree("{\"SchemaVersion\":\"1.0\",\"Actions\":[]}"));
    }

    @Test
    void handleRequest_callWithoutCallIds_hangsUpByParticipantTagWithoutSpeaking() throws IOException {
        byte[] event = "{\"InvocationEventType\":\"CALL_ANSWERED\",\"CallDetails\":{\"TransactionId\":\"t\"}}"
                .getBytes(StandardCharsets.UTF_8);

        byte[] out = invoke(config(StubDialer.refusedUrl()), event);

        assertThat(tree(out)).isEqualTo(JSON.readTree("{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"Hangup\","
                + "\"Parameters\":{\"SipResponseCode\":\"0\",\"ParticipantTag\":\"LEG-A\"}}]}"));
    }

    @Test
    void handleRequest_dialerDown_fallsBackWithinTheTimeout() throws IOException {
        long start = System.nanoTime();
        byte[] out = invoke(config(StubDialer.refusedUrl()).withTimeout(Duration.ofMillis(200)),
                Events.event("CALL_ANSWERED"));
        long elapsedMs = Duration.ofNanos(System.nanoTime() - start).toMillis();

        assertThat(tree(out)).isEqualTo(speakAndHangup(BridgeConfig.DEFAULT_FALLBACK_TEXT));
        assertThat(elapsedMs).isLessThan(200 + 2000);
    }

    @Test
    void handleRequest_dialerSlowerThanTheTimeout_fallsBackWithinTheTimeout() throws IOException {
        StubDialer dialer = stub(StubDialer.Reply.slow(Duration.ofSeconds(10)));

        long start = System.nanoTime();
        byte[] out = invoke(config(dialer.url()).withTimeout(Duration.ofMillis(200)), Events.event("DIGITS_RECEIVED"));
        long elapsedMs = Duration.ofNanos(System.nanoTime() - start).toMillis();

        assertThat(tree(out)).isEqualTo(speakAndHangup(BridgeConfig.DEFAULT_FALLBACK_TEXT));
        assertThat(dialer.received()).hasSize(1);
        assertThat(elapsedMs).isLessThan(200 + 2000);
    }

    @Test
    void handleRequest_functionHasLessTimeLeftThanTheTimeout_usesTheShorterBudget() throws IOException {
        StubDialer dialer = stub(StubDialer.Reply.slow(Duration.ofSeconds(10)));

        long start = System.nanoTime();
        byte[] out = invoke(config(dialer.url()).withTimeout(Duration.ofSeconds(10)), Events.event("CALL_ANSWERED"),
                Duration.ofMillis(600));
        long elapsedMs = Duration.ofNanos(System.nanoTime() - start).toMillis();

        assertThat(tree(out)).isEqualTo(speakAndHangup(BridgeConfig.DEFAULT_FALLBACK_TEXT));
        assertThat(elapsedMs).isLessThan(600 + 2000);
    }

    @ParameterizedTest
    @ValueSource(ints = {201, 400, 401, 500, 503})
    void handleRequest_dialerAnswersNon200_fallsBack(int status) throws IOException {
        StubDialer dialer = stub(StubDialer.Reply.status(status, StubDialer.DEFAULT_ANSWER));

        byte[] out = invoke(config(dialer.url()), Events.event("ACTION_FAILED"));

        assertThat(tree(out)).isEqualTo(speakAndHangup(BridgeConfig.DEFAULT_FALLBACK_TEXT));
        assertThat(dialer.received()).hasSize(1);
        assertThat(logger.lines()).singleElement().asString().contains("HTTP " + status);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "not json", "{\"SchemaVersion\":\"1.0\",", "[]", "\"text\"",
            "{\"SchemaVersion\":\"1.0\"} trailing"})
    void handleRequest_dialerAnswerUnreadable_fallsBack(String body) throws IOException {
        stub(StubDialer.Reply.status(200, body));
        StubDialer dialer = stubs.get(0);

        byte[] out = invoke(config(dialer.url()), Events.event("CALL_ANSWERED"));

        assertThat(tree(out)).isEqualTo(speakAndHangup(BridgeConfig.DEFAULT_FALLBACK_TEXT));
        assertThat(logger.lines()).singleElement().asString().contains("unreadable answer");
    }

    @Test
    void handleRequest_configuredFallbackText_isSpokenAndJsonEscaped() throws IOException {
        String text = "Sorry \"friend\", we'll call back \\ later. Ünïcödé";

        byte[] out = invoke(config(StubDialer.refusedUrl()).withFallbackText(text), Events.event("CALL_ANSWERED"));

        assertThat(tree(out)).isEqualTo(speakAndHangup(text));
    }

    @Test
    void handleRequest_fallback_logsTheTransactionIdButNoPhoneNumberNorSecret() throws IOException {
        invoke(config(StubDialer.refusedUrl()), Events.event("CALL_ANSWERED"));

        assertThat(logger.lines()).singleElement().asString()
                .contains("fallback")
                .contains("transactionId=" + Events.TRANSACTION_ID)
                .contains("event=CALL_ANSWERED")
                .doesNotContain(Events.CALLEE).doesNotContain(Events.CALLER)
                .doesNotContain("5550123").doesNotContain(SECRET);
    }

    // --- several dialer nodes ----------------------------------------------------------------------

    @Test
    void handleRequest_dialerUrlInTransactionAttributes_forwardsToThatNode() throws IOException {
        StubDialer fallbackNode = stub(StubDialer.Reply.ok("{\"SchemaVersion\":\"1.0\",\"Actions\":[],\"from\":\"default\"}"));
        StubDialer node = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        byte[] event = Events.answeredWithNode(node.url().toString());

        byte[] out = invoke(config(fallbackNode.url()), event);

        assertThat(new String(out, StandardCharsets.UTF_8)).isEqualTo(StubDialer.DEFAULT_ANSWER);
        assertThat(node.received()).singleElement().satisfies(r -> assertThat(r.body()).isEqualTo(event));
        assertThat(fallbackNode.received()).isEmpty();
    }

    @Test
    void handleRequest_dialerUrlInArgumentsMap_forwardsToThatNode() throws IOException {
        StubDialer defaultNode = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        StubDialer node = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));

        invoke(config(defaultNode.url()), Events.newOutboundCall(node.url().toString()));

        assertThat(node.received()).hasSize(1);
        assertThat(defaultNode.received()).isEmpty();
    }

    @Test
    void handleRequest_dialerUrlInBothPlaces_prefersTransactionAttributes() throws IOException {
        StubDialer defaultNode = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        StubDialer fromAttributes = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        StubDialer fromArguments = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        byte[] event = Events.event("CALL_UPDATE_REQUESTED", "\"dialerUrl\":\"" + fromAttributes.url() + "\"",
                "{\"Type\":\"CallUpdateRequest\",\"Parameters\":{\"Arguments\":{\"dialerUrl\":\""
                        + fromArguments.url() + "\"}}}");

        invoke(config(defaultNode.url()), event);

        assertThat(fromAttributes.received()).hasSize(1);
        assertThat(fromArguments.received()).isEmpty();
        assertThat(defaultNode.received()).isEmpty();
    }

    @Test
    void handleRequest_dialerUrlWithoutPath_postsToTheInvocationsPath() throws IOException {
        StubDialer defaultNode = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        StubDialer node = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));

        invoke(config(defaultNode.url()), Events.answeredWithNode(node.base()));

        assertThat(node.received()).singleElement().extracting(StubDialer.Received::path)
                .isEqualTo("/v1/sma/invocations");
    }

    @Test
    void handleRequest_dialerUrlMatchingAnAllowedPrefix_forwardsToThatNode() throws IOException {
        StubDialer defaultNode = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        StubDialer node = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        BridgeConfig config = config(defaultNode.url())
                .withAllowedUrlPrefixes(List.of("https://dialer.example.com/", node.base()));

        invoke(config, Events.answeredWithNode(node.url().toString()));

        assertThat(node.received()).hasSize(1);
        assertThat(defaultNode.received()).isEmpty();
    }

    @Test
    void handleRequest_dialerUrlNotAllowed_usesTheDefaultAndLogs() throws IOException {
        StubDialer defaultNode = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        StubDialer node = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        // "http://127.0.0.1:1" is a textual prefix of the node's URL, but not at a boundary.
        BridgeConfig config = config(defaultNode.url())
                .withAllowedUrlPrefixes(List.of("http://127.0.0.1:1", "http://localhost/"));

        invoke(config, Events.answeredWithNode(node.url().toString()));

        assertThat(node.received()).isEmpty();
        assertThat(defaultNode.received()).hasSize(1);
        assertThat(logger.lines()).singleElement().asString().contains("not allowed")
                .contains(Events.TRANSACTION_ID);
    }

    @ParameterizedTest
    @ValueSource(strings = {"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://h/", "not a url",
            "http://user:pw@127.0.0.1/x", "/relative/path"})
    void handleRequest_dialerUrlNotHttp_usesTheDefault(String bad) throws IOException {
        StubDialer defaultNode = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));

        byte[] out = invoke(config(defaultNode.url()), Events.answeredWithNode(bad));

        assertThat(defaultNode.received()).hasSize(1);
        assertThat(new String(out, StandardCharsets.UTF_8)).isEqualTo(StubDialer.DEFAULT_ANSWER);
    }

    @Test
    void handleRequest_nodeDown_fallsBackToTheDefaultUrl() throws IOException {
        StubDialer defaultNode = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));

        byte[] out = invoke(config(defaultNode.url()), Events.answeredWithNode(StubDialer.refusedUrl().toString()));

        assertThat(new String(out, StandardCharsets.UTF_8)).isEqualTo(StubDialer.DEFAULT_ANSWER);
        assertThat(defaultNode.received()).hasSize(1);
        assertThat(logger.lines()).singleElement().asString().contains("answered by default");
    }

    @Test
    void handleRequest_nodeSlow_fallsBackToTheDefaultUrlWithinTheBudget() throws IOException {
        StubDialer defaultNode = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        StubDialer node = stub(StubDialer.Reply.slow(Duration.ofSeconds(10)));

        long start = System.nanoTime();
        byte[] out = invoke(config(defaultNode.url()).withTimeout(Duration.ofMillis(1500)),
                Events.answeredWithNode(node.url().toString()));
        long elapsedMs = Duration.ofNanos(System.nanoTime() - start).toMillis();

        assertThat(new String(out, StandardCharsets.UTF_8)).isEqualTo(StubDialer.DEFAULT_ANSWER);
        assertThat(node.received()).hasSize(1);
        assertThat(defaultNode.received()).hasSize(1);
        assertThat(elapsedMs).isLessThan(1500 + 2000);
    }

    @Test
    void handleRequest_dialerUrlIsTheDefaultUrl_sendsOnlyOnce() throws IOException {
        StubDialer dialer = stub(StubDialer.Reply.status(503, "{}"));

        byte[] out = invoke(config(dialer.url()), Events.answeredWithNode(dialer.url().toString()));

        assertThat(dialer.received()).hasSize(1);
        assertThat(tree(out)).isEqualTo(speakAndHangup(BridgeConfig.DEFAULT_FALLBACK_TEXT));
        assertThat(logger.lines()).singleElement().asString().contains("default: HTTP 503").doesNotContain("node");
    }

    @Test
    void handleRequest_nodeAnswersNon200_defaultUrlAnswers() throws IOException {
        StubDialer defaultNode = stub(StubDialer.Reply.ok(StubDialer.DEFAULT_ANSWER));
        StubDialer node = stub(StubDialer.Reply.status(503, "{\"draining\":true}"));

        byte[] out = invoke(config(defaultNode.url()), Events.answeredWithNode(node.url().toString()));

        assertThat(new String(out, StandardCharsets.UTF_8)).isEqualTo(StubDialer.DEFAULT_ANSWER);
        assertThat(node.received()).hasSize(1);
        assertThat(defaultNode.received()).hasSize(1);
        assertThat(logger.lines()).singleElement().asString().contains("node: HTTP 503");
    }

    @Test
    void handleRequest_nodeAndDefaultBothDown_fallsBackAndLogsBothReasons() throws IOException {
        byte[] out = invoke(config(StubDialer.refusedUrl()),
                Events.answeredWithNode(StubDialer.refusedUrl().toString()));

        assertThat(tree(out)).isEqualTo(speakAndHangup(BridgeConfig.DEFAULT_FALLBACK_TEXT));
        assertThat(logger.lines()).singleElement().asString().contains("node: connection failed")
                .contains("default: connection failed");
    }
}
