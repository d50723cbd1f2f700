package io.chimedialer.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.emulator.Scenario.Callee;
import io.chimedialer.emulator.Scenario.Outcome;
import io.chimedialer.testkit.Await;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/** Whole outbound calls through a test webhook, asserted against CHIME.md §3 event by event. */
class CallFlowTest {
    private static final String SMA = "11111111-1111-4111-8111-111111111111";
    private static final String FROM = "+17035550100";
    private static final String ANSWERS = "+14155550001";
    private static final String BUSY = "+14155550002";
    private static final String NO_ANSWER = "+14155550003";
    private static final String SILENT = "+14155550004";
    private static final String HANGS_UP_DURING_PROMPT = "+14155550005";
    private static final String BRIDGED = "+14155550009";
    private static final String PRESSES_12_HASH_9 = "+14155550006";
    private static final String PRESSES_123456 = "+14155550007";
    private static final String PRESSES_HASH = "+14155550008";
    private static final String BUSY_WITHOUT_CODE = "+14155550010";
    private static final String AUTH = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/chime/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=" + "ab".repeat(32);
    private static final Duration WAIT = Duration.ofSeconds(20);

    private TestWebhook webhook;
    private ChimeEmulator emu;

    @AfterEach
    void tearDown() {
        if (emu != null) {
            emu.close();
        }
        if (webhook != null) {
            webhook.close();
        }
    }

    private static Scenario scenario() {
        // Talk time far beyond the test (10 h emulated = 36 s real at 0.001): the application hangs up first.
        return Scenario.builder()
                .number(ANSWERS, new Callee(Outcome.ANSWERED, 1000L, 36_000_000L, "1234", false))
                .number(BUSY, new Callee(Outcome.BUSY, 1000L, null, null, null))
                .number(NO_ANSWER, Callee.of(Outcome.NO_ANSWER))
                .number(SILENT, new Callee(Outcome.ANSWERED, 1000L, 36_000_000L, "", false))
                .number(HANGS_UP_DURING_PROMPT, new Callee(Outcome.ANSWERED, 1000L, 36_000_000L, "", true))
                // The B leg of a bridge talks for 5 s emulated (5 ms real), then hangs up.
                .number(BRIDGED, new Callee(Outcome.ANSWERED, 1000L, 5_000L, "", false))
                .number(PRESSES_12_HASH_9, new Callee(Outcome.ANSWERED, 1000L, 36_000_000L, "12#9", false))
                .number(PRESSES_123456, new Callee(Outcome.ANSWERED, 1000L, 36_000_000L, "123456", false))
                .number(PRESSES_HASH, new Callee(Outcome.ANSWERED, 1000L, 36_000_000L, "#", false))
                .number(BUSY_WITHOUT_CODE, new Callee(Outcome.BUSY, 1000L, null, null, null, true))
                .build();
    }

    private void start(Function<JsonNode, Mono<String>> responder, Duration webhookTimeout) {
        start(responder, b -> b.webhookTimeout(webhookTimeout));
    }

    private void start(Function<JsonNode, Mono<String>> responder, java.util.function.Consumer<ChimeEmulator.Builder> options) {
        webhook = new TestWebhook(responder);
        ChimeEmulator.Builder b = ChimeEmulator.builder().timeScale(0.001).scenario(scenario())
                .webhook(webhook.url(), TestWebhook.SECRET);
        options.accept(b);
        emu = b.start();
    }

    private void start(Function<JsonNode, Mono<String>> responder) {
        start(responder, Duration.ofSeconds(5));
    }

    private String create(String to) {
        String body = "{\"FromPhoneNumber\":\"" + FROM + "\",\"ToPhoneNumber\":\"" + to
                + "\",\"ArgumentsMap\":{\"contactId\":\"c-42\",\"campaign\":\"spring\"}}";
        JsonNode r = send("/sip-media-applications/" + SMA + "/calls", body);
        return r.path("SipMediaApplicationCall").path("TransactionId").asText();
    }

    private JsonNode send(String path, String body) {
        String s = HttpClient.create().baseUrl(emu.url().toString())
                .headers(h -> h.set(HttpHeaderNames.AUTHORIZATION, AUTH).set(HttpHeaderNames.CONTENT_TYPE, "application/json"))
                .post().uri(path).send((req, out) -> out.sendString(Mono.just(body)))
                .responseSingle((res, b) -> b.asString()).block(WAIT);
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(s);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String type(JsonNode e) {
        return e.path("InvocationEventType").asText();
    }

    private static List<String> types(List<JsonNode> events) {
        List<String> out = new ArrayList<>();
        events.forEach(e -> out.add(type(e)));
        return out;
    }

    private CallRecord finished(String tx) {
        assertThat(emu.awaitIdle(WAIT)).isTrue();
        return emu.calls().stream().filter(c -> c.transactionId().equals(tx)).findFirst().orElseThrow();
    }

    /** Envelope checks common to every event (CHIME.md §3.2). */
    private static void assertEnvelope(List<JsonNode> events, String tx, String to) {
        for (int i = 0; i < events.size(); i++) {
            JsonNode e = events.get(i);
            assertThat(e.path("SchemaVersion").asText()).isEqualTo("1.0");
            assertThat(e.path("Sequence").isInt()).isTrue();
            assertThat(e.path("Sequence").asInt()).isEqualTo(i + 1);
            JsonNode cd = e.path("CallDetails");
            assertThat(cd.path("TransactionId").asText()).isEqualTo(tx);
            assertThat(cd.path("AwsAccountId").isTextual()).isTrue();
            assertThat(cd.path("AwsAccountId").asText()).matches("\\d{12}");
            assertThat(cd.path("AwsRegion").asText()).isEqualTo("us-east-1");
            assertThat(cd.path("SipMediaApplicationId").asText()).isEqualTo(SMA);
            assertThat(cd.has("SipRuleId")).isFalse();
            JsonNode legA = cd.path("Participants").get(0);
            assertThat(legA.path("ParticipantTag").asText()).isEqualTo("LEG-A");
            assertThat(legA.path("CallId").asText()).matches("[0-9a-f-]{36}");
            assertThat(legA.path("CallId").asText()).isEqualTo(events.get(0).path("CallDetails").path("Participants").get(0).path("CallId").asText());
            assertThat(legA.path("To").asText()).isEqualTo(to);
            assertThat(legA.path("From").asText()).isEqualTo(FROM);
            assertThat(legA.path("Direction").asText()).isEqualTo("Outbound");
            assertThat(legA.path("StartTimeInMilliseconds").isTextual()).isTrue();
            assertThat(Long.parseLong(legA.path("StartTimeInMilliseconds").asText())).isGreaterThan(1_600_000_000_000L);
        }
        JsonNode first = events.get(0);
        assertThat(type(first)).isEqualTo("NEW_OUTBOUND_CALL");
        assertThat(first.path("ActionData").path("Type").asText()).isEqualTo("CallCreateRequest");
        assertThat(first.path("ActionData").path("Parameters").path("Arguments").path("contactId").asText()).isEqualTo("c-42");
        assertThat(first.path("ActionData").path("Parameters").path("Arguments").path("campaign").asText()).isEqualTo("spring");
        assertThat(first.path("CallDetails").path("Participants").get(0).has("Status")).isFalse();
        assertThat(first.path("CallDetails").has("TransactionAttributes")).isFalse();
    }

    private static String status(JsonNode e) {
        return e.path("CallDetails").path("Participants").get(0).path("Status").asText(null);
    }

    @Test
    void answeredCall_speakGetDigitsHangup_deliversTheDocumentedSequence() throws Exception {
        start(e -> Mono.just(switch (type(e)) {
            case "NEW_OUTBOUND_CALL" -> "{\"SchemaVersion\":\"1.0\",\"TransactionAttributes\":{\"contactId\":\"c-42\"}}";
            case "CALL_ANSWERED" -> TestWebhook.reply("[{\"Type\":\"Speak\",\"Parameters\":{\"Text\":\"Hello\",\"CallId\":\""
                    + e.path("CallDetails").path("Participants").get(0).path("CallId").asText() + "\"}},"
                    + "{\"Type\":\"SpeakAndGetDigits\",\"Parameters\":{\"CallId\":\""
                    + e.path("CallDetails").path("Participants").get(0).path("CallId").asText() + "\","
                    + "\"SpeechParameters\":{\"Text\":\"Press 1234\"},\"FailureSpeechParameters\":{\"Text\":\"Sorry\"},"
                    + "\"MinNumberOfDigits\":1,\"MaxNumberOfDigits\":4,\"InputDigitsRegex\":\"^\\\\d{4}$\","
                    + "\"RepeatDurationInMilliseconds\":3000,\"Repeat\":2}}]");
            case "ACTION_SUCCESSFUL" -> TestWebhook.reply("[{\"Type\":\"Hangup\",\"Parameters\":{\"SipResponseCode\":\"0\"}}]");
            default -> TestWebhook.NO_ACTIONS;
        }));

        String tx = create(ANSWERS);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_SUCCESSFUL", "HANGUP");
        assertEnvelope(events, tx, ANSWERS);
        assertThat(status(events.get(1))).isNull();
        assertThat(events.get(1).has("ActionData")).isFalse();
        assertThat(status(events.get(2))).isEqualTo("Connected");
        assertThat(events.get(2).has("ActionData")).isFalse();
        // Attributes returned to NEW_OUTBOUND_CALL are kept and echoed from then on.
        for (JsonNode e : events.subList(1, 5)) {
            assertThat(e.path("CallDetails").path("TransactionAttributes").path("contactId").asText()).isEqualTo("c-42");
        }
        JsonNode success = events.get(3);
        assertThat(status(success)).isEqualTo("Connected");
        assertThat(success.path("ActionData").path("Type").asText()).isEqualTo("SpeakAndGetDigits");
        assertThat(success.path("ActionData").path("ReceivedDigits").asText()).isEqualTo("1234");
        assertThat(success.path("ActionData").path("Parameters").path("SpeechParameters").path("Text").asText()).isEqualTo("Press 1234");
        JsonNode hangup = events.get(4);
        assertThat(status(hangup)).isEqualTo("Disconnected");
        assertThat(hangup.path("ActionData").path("Type").asText()).isEqualTo("Hangup");
        assertThat(hangup.path("ActionData").path("Parameters").path("SipResponseCode").asInt()).isZero();
        assertThat(hangup.path("ActionData").path("Parameters").path("ParticipantTag").asText()).isEqualTo("LEG-A");
        assertThat(hangup.path("ActionData").path("Parameters").path("CallId").asText())
                .isEqualTo(events.get(0).path("CallDetails").path("Participants").get(0).path("CallId").asText());

        assertThat(call.disposition()).isEqualTo("answered");
        assertThat(call.sipCode()).isZero();
        assertThat(call.endReason()).isEqualTo("applicationHangup");
        assertThat(call.answered()).isNotNull();
        assertThat(call.ended()).isAfterOrEqualTo(call.answered());
        assertThat(call.actions()).extracting(CallRecord.Action::type).containsExactly("Speak", "SpeakAndGetDigits", "Hangup");
        assertThat(call.actions()).extracting(CallRecord.Action::result).containsOnly("ACTION_SUCCESSFUL");
        assertThat(call.actions().get(1).receivedDigits()).isEqualTo("1234");
        assertThat(call.invocations()).extracting(CallRecord.Invocation::sequence).containsExactly(1, 2, 3, 4, 5);
        assertThat(webhook.badSignatures()).isZero();
        EmulatorStats s = emu.stats();
        assertThat(s.created()).isEqualTo(1);
        assertThat(s.ended()).isEqualTo(1);
        assertThat(s.active()).isZero();
        assertThat(s.invocations()).isEqualTo(5);
        assertThat(s.dispositions()).containsExactly(Map.entry("answered", 1L));
    }

    @Test
    void busyCall_endsWithHangup486WithoutAnswer() {
        start(e -> Mono.just(TestWebhook.NO_ACTIONS));

        String tx = create(BUSY);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "HANGUP");
        assertEnvelope(events, tx, BUSY);
        JsonNode hangup = events.get(2);
        assertThat(hangup.path("ActionData").path("Type").asText()).isEqualTo("Hangup");
        assertThat(hangup.path("ActionData").path("Parameters").path("SipResponseCode").asInt()).isEqualTo(486);
        assertThat(status(hangup)).isEqualTo("Disconnected");
        assertThat(call.disposition()).isEqualTo("busy");
        assertThat(call.sipCode()).isEqualTo(486);
        assertThat(call.answered()).isNull();
        assertThat(call.actions()).isEmpty();
    }

    @Test
    void unansweredCall_ringsThenEndsWithHangup480() {
        start(e -> Mono.just(TestWebhook.NO_ACTIONS));

        String tx = create(NO_ANSWER);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "HANGUP");
        assertEnvelope(events, tx, NO_ANSWER);
        assertThat(events.get(2).path("ActionData").path("Parameters").path("SipResponseCode").asInt()).isEqualTo(480);
        assertThat(call.disposition()).isEqualTo("noAnswer");
        assertThat(call.sipCode()).isEqualTo(480);
        assertThat(call.endReason()).isEqualTo("unanswered");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "wrong schema version  | {\"SchemaVersion\":\"2.0\",\"Actions\":[]}                                            | InvalidSchemaVersion",
        "eleven actions        | ELEVEN                                                                                | TooManyActions",
        "unknown action        | {\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"Dance\",\"Parameters\":{}}]}       | UnsupportedAction",
        "parameters not object | {\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"Speak\",\"Parameters\":[]}]} | InvalidLambdaResponse",
        "eleven attributes     | ATTRS                                                                                 | TransactionAttributesInvalidMapSize",
        "long attribute        | LONG                                                                                  | TransactionAttributesInvalidKeyOrValue",
        "empty body            | EMPTY                                                                                 | InvalidLambdaResponse"})
    void invalidResponse_getsInvalidLambdaResponseThenRecovers(String name, String reply, String errorType) {
        String bad = switch (reply) {
            case "ELEVEN" -> TestWebhook.reply("[" + String.join(",", java.util.Collections.nCopies(11,
                    "{\"Type\":\"Pause\",\"Parameters\":{\"DurationInMilliseconds\":\"10\"}}")) + "]");
            case "ATTRS" -> {
                StringBuilder sb = new StringBuilder("{\"SchemaVersion\":\"1.0\",\"Actions\":[],\"TransactionAttributes\":{");
                for (int i = 0; i < 11; i++) {
                    sb.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"v\"");
                }
                yield sb.append("}}").toString();
            }
            case "EMPTY" -> "";
            case "LONG" -> "{\"SchemaVersion\":\"1.0\",\"TransactionAttributes\":{\"k\":\"" + "v".repeat(1025) + "\"}}";
            default -> reply;
        };
        start(e -> Mono.just(switch (type(e)) {
            case "CALL_ANSWERED" -> bad;
            case "INVALID_LAMBDA_RESPONSE" -> TestWebhook.reply("[{\"Type\":\"Hangup\",\"Parameters\":{}}]");
            default -> TestWebhook.NO_ACTIONS;
        }));

        String tx = create(ANSWERS);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "INVALID_LAMBDA_RESPONSE", "HANGUP");
        assertEnvelope(events, tx, ANSWERS);
        JsonNode invalid = events.get(3);
        assertThat(invalid.path("ErrorType").asText()).isEqualTo(errorType);
        assertThat(invalid.path("ErrorMessage").asText()).isNotBlank();
        assertThat(invalid.has("ActionData")).isFalse();
        assertThat(invalid.path("CallDetails").has("TransactionAttributes")).isFalse();
        assertThat(call.endReason()).isEqualTo("applicationHangup");
        assertThat(emu.stats().invalidResponses()).isEqualTo(1);
    }

    @Test
    void updateCall_interruptsPauseAndRunsTheNewActions() throws Exception {
        start(e -> Mono.just(switch (type(e)) {
            // A minute of real time at 0.001: only the update ends it.
            case "CALL_ANSWERED" -> TestWebhook.reply("[{\"Type\":\"Pause\",\"Parameters\":{\"DurationInMilliseconds\":60000000}},"
                    + "{\"Type\":\"Speak\",\"Parameters\":{\"CallId\":\"" + e.path("CallDetails").path("Participants").get(0).path("CallId").asText()
                    + "\",\"Text\":\"never\"}}]");
            case "CALL_UPDATE_REQUESTED" -> "{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"Hangup\",\"Parameters\":{\"SipResponseCode\":\"0\"}}],"
                    + "\"TransactionAttributes\":{\"updated\":\"yes\"}}";
            default -> TestWebhook.NO_ACTIONS;
        }));
        String tx = create(ANSWERS);
        webhook.await(e -> type(e).equals("CALL_ANSWERED"), WAIT);
        // Once the emulator has taken the CALL_ANSWERED response, the Pause is running: the update task
        // queues behind the one that started it on the call's worker.
        awaitDelivered(tx, 3);

        JsonNode r = send("/sip-media-applications/" + SMA + "/calls/" + tx, "{\"Arguments\":{\"action\":\"stop\"}}");
        assertThat(r.path("SipMediaApplicationCall").path("TransactionId").asText()).isEqualTo(tx);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED",
                "CALL_UPDATE_REQUESTED", "ACTION_INTERRUPTED", "HANGUP");
        assertEnvelope(events, tx, ANSWERS);
        JsonNode update = events.get(3);
        assertThat(update.path("ActionData").path("Type").asText()).isEqualTo("CallUpdateRequest");
        assertThat(update.path("ActionData").path("Parameters").path("Arguments").path("action").asText()).isEqualTo("stop");
        JsonNode interrupted = events.get(4);
        assertThat(interrupted.path("ActionData").path("Type").asText()).isEqualTo("Pause");
        assertThat(interrupted.path("CallDetails").path("TransactionAttributes").path("updated").asText()).isEqualTo("yes");
        assertThat(events.get(5).path("ActionData").path("Type").asText()).isEqualTo("Hangup");
        assertThat(call.actions()).extracting(CallRecord.Action::type, CallRecord.Action::result)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("Pause", "ACTION_INTERRUPTED"),
                        org.assertj.core.groups.Tuple.tuple("Hangup", "ACTION_SUCCESSFUL"));
        assertThat(emu.stats().updates()).isEqualTo(1);
    }

    @Test
    void endlessActions_theThousandthInvocationIsTheHangup() {
        start(e -> Mono.just(switch (type(e)) {
            case "CALL_ANSWERED", "ACTION_SUCCESSFUL" -> TestWebhook.reply("[{\"Type\":\"Pause\",\"Parameters\":{\"DurationInMilliseconds\":\"1\"}}]");
            default -> TestWebhook.NO_ACTIONS;
        }));

        String tx = create(ANSWERS);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(events).hasSize(1000);
        assertThat(types(events.subList(3, 999))).containsOnly("ACTION_SUCCESSFUL");
        JsonNode last = events.get(999);
        assertThat(type(last)).isEqualTo("HANGUP");
        assertThat(last.path("Sequence").asInt()).isEqualTo(1000);
        assertThat(status(last)).isEqualTo("Disconnected");
        assertThat(call.endReason()).isEqualTo("budgetExhausted");
        assertThat(call.invocations()).hasSize(1000);
        assertThat(emu.stats().budgetExhausted()).isEqualTo(1);
        assertThat(emu.stats().ended()).isEqualTo(1);
    }

    @Test
    void webhookTimeout_isRetriedOnceThenTheCallEndsWith480() {
        start(e -> type(e).equals("NEW_OUTBOUND_CALL")
                ? Mono.delay(Duration.ofMillis(1000)).thenReturn(TestWebhook.NO_ACTIONS)
                : Mono.just(TestWebhook.NO_ACTIONS), Duration.ofMillis(300));

        String tx = create(ANSWERS);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "NEW_OUTBOUND_CALL", "HANGUP");
        assertThat(events.get(0)).isEqualTo(events.get(1));
        assertThat(events.get(1).path("Sequence").asInt()).isEqualTo(1);
        assertThat(events.get(2).path("Sequence").asInt()).isEqualTo(2);
        assertThat(events.get(2).path("ActionData").path("Parameters").path("SipResponseCode").asInt()).isEqualTo(480);
        assertThat(call.sipCode()).isEqualTo(480);
        assertThat(call.endReason()).isEqualTo("webhookUnavailable");
        assertThat(call.invocations().get(0).deliveries()).isEqualTo(2);
        assertThat(call.invocations().get(0).result()).isEqualTo("failed");
        EmulatorStats s = emu.stats();
        assertThat(s.webhookFailures()).isEqualTo(1);
        assertThat(s.redeliveries()).isEqualTo(1);
        assertThat(s.ended()).isEqualTo(1);
    }

    @Test
    void duplicateAndDroppedHangupFaults_areDeliveredAsConfigured() {
        webhook = new TestWebhook(e -> Mono.just(TestWebhook.NO_ACTIONS));
        emu = ChimeEmulator.builder().timeScale(0.001).scenario(scenario()).webhook(webhook.url(), TestWebhook.SECRET)
                .faults(Faults.builder().duplicateInvocation(1).dropHangup(1).build()).start();

        String tx = create(BUSY);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "NEW_OUTBOUND_CALL", "RINGING", "RINGING");
        assertThat(events.get(0)).isEqualTo(events.get(1));
        assertThat(call.disposition()).isEqualTo("busy");
        assertThat(call.invocations()).extracting(CallRecord.Invocation::result).containsExactly("ok", "ok", "dropped");
        assertThat(emu.stats().hangupsDropped()).isEqualTo(1);
        assertThat(emu.stats().ended()).isEqualTo(1);
    }

    private void awaitDelivered(String tx, int sequence) {
        Await.upTo(WAIT, "invocation " + sequence + " of " + tx + " answered").pollEvery(Duration.ofMillis(2))
                .until(() -> emu.calls().stream().filter(c -> c.transactionId().equals(tx))
                        .flatMap(c -> c.invocations().stream())
                        .anyMatch(i -> i.sequence() == sequence && i.result().equals("ok")));
    }

    private static String callId(JsonNode e) {
        return e.path("CallDetails").path("Participants").get(0).path("CallId").asText();
    }

    @Test
    void calleeWithoutDtmf_getDigitsFailsWithErrorTypeInsideActionData() {
        start(e -> Mono.just(switch (type(e)) {
            case "CALL_ANSWERED" -> TestWebhook.reply("[{\"Type\":\"SpeakAndGetDigits\",\"Parameters\":{\"CallId\":\"" + callId(e)
                    + "\",\"SpeechParameters\":{\"Text\":\"Press\"},\"FailureSpeechParameters\":{\"Text\":\"Sorry\"},"
                    + "\"RepeatDurationInMilliseconds\":3000}},"
                    + "{\"Type\":\"Speak\",\"Parameters\":{\"CallId\":\"" + callId(e) + "\",\"Text\":\"dropped\"}}]");
            case "ACTION_FAILED" -> TestWebhook.reply("[{\"Type\":\"Hangup\",\"Parameters\":{\"SipResponseCode\":\"0\"}}]");
            default -> TestWebhook.NO_ACTIONS;
        }));

        String tx = create(SILENT);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_FAILED", "HANGUP");
        assertEnvelope(events, tx, SILENT);
        JsonNode failed = events.get(3).path("ActionData");
        assertThat(failed.path("Type").asText()).isEqualTo("SpeakAndGetDigits");
        assertThat(failed.path("ErrorType").asText()).isEqualTo("InvalidDigitsReceived");
        assertThat(failed.path("ErrorMessage").asText()).isNotBlank();
        assertThat(failed.has("ReceivedDigits")).isFalse();
        assertThat(events.get(3).has("ErrorType")).isFalse();
        // The Speak after the failed action was dropped.
        assertThat(call.actions()).extracting(CallRecord.Action::type, CallRecord.Action::result)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("SpeakAndGetDigits", "ACTION_FAILED"),
                        org.assertj.core.groups.Tuple.tuple("Hangup", "ACTION_SUCCESSFUL"));
    }

    @Test
    void receiveDigits_reportsTheListThenDigitsReceived() {
        start(e -> Mono.just(switch (type(e)) {
            case "CALL_ANSWERED" -> TestWebhook.reply("[{\"Type\":\"ReceiveDigits\",\"Parameters\":{\"InputDigitsRegex\":\"^\\\\d+$\","
                    + "\"InBetweenDigitsDurationInMilliseconds\":1000,\"FlushDigitsDurationInMilliseconds\":10000}}]");
            case "DIGITS_RECEIVED" -> TestWebhook.reply("[{\"Type\":\"Hangup\",\"Parameters\":{}}]");
            default -> TestWebhook.NO_ACTIONS;
        }));

        String tx = create(ANSWERS);
        finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_SUCCESSFUL",
                "DIGITS_RECEIVED", "HANGUP");
        assertEnvelope(events, tx, ANSWERS);
        assertThat(events.get(3).path("ActionData").path("Type").asText()).isEqualTo("ReceiveDigits");
        JsonNode digits = events.get(4).path("ActionData");
        assertThat(digits.path("Type").asText()).isEqualTo("ReceiveDigits");
        assertThat(digits.path("ReceivedDigits").asText()).isEqualTo("1234");
        assertThat(digits.path("Parameters").path("InputDigitsRegex").asText()).isEqualTo("^\\d+$");
    }

    @Test
    void calleeHangsUpDuringPrompt_cancelsTheActionAndEndsWithHangup0() {
        start(e -> Mono.just(switch (type(e)) {
            case "CALL_ANSWERED" -> TestWebhook.reply("[{\"Type\":\"PlayAudio\",\"Parameters\":{\"AudioSource\":{\"Type\":\"S3\","
                    + "\"BucketName\":\"b\",\"Key\":\"k.wav\"}}},{\"Type\":\"Hangup\",\"Parameters\":{\"SipResponseCode\":\"0\"}}]");
            default -> TestWebhook.NO_ACTIONS;
        }));

        String tx = create(HANGS_UP_DURING_PROMPT);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "HANGUP");
        assertEnvelope(events, tx, HANGS_UP_DURING_PROMPT);
        assertThat(events.get(3).path("ActionData").path("Parameters").path("SipResponseCode").asInt()).isZero();
        assertThat(call.endReason()).isEqualTo("calleeHangup");
        assertThat(call.disposition()).isEqualTo("answered");
        assertThat(call.actions()).extracting(CallRecord.Action::type, CallRecord.Action::result)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("PlayAudio", "CANCELLED"));
    }

    @Test
    void callAndBridge_addsLegBWhoseHangupIsDeliveredWhileLegAStaysConnected() {
        start(e -> Mono.just(switch (type(e)) {
            case "CALL_ANSWERED" -> TestWebhook.reply("[{\"Type\":\"CallAndBridge\",\"Parameters\":{\"CallTimeoutSeconds\":30,"
                    + "\"CallerIdNumber\":\"" + FROM + "\",\"Endpoints\":[{\"BridgeEndpointType\":\"PSTN\",\"Uri\":\"" + BRIDGED + "\"}]}}]");
            case "HANGUP" -> TestWebhook.reply("[{\"Type\":\"Hangup\",\"Parameters\":{\"ParticipantTag\":\"LEG-A\"}}]");
            default -> TestWebhook.NO_ACTIONS;
        }));

        String tx = create(ANSWERS);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_SUCCESSFUL", "HANGUP", "HANGUP");
        assertEnvelope(events, tx, ANSWERS);
        JsonNode bridged = events.get(3);
        assertThat(bridged.path("ActionData").path("Type").asText()).isEqualTo("CallAndBridge");
        JsonNode legs = bridged.path("CallDetails").path("Participants");
        assertThat(legs.size()).isEqualTo(2);
        assertThat(legs.get(1).path("ParticipantTag").asText()).isEqualTo("LEG-B");
        assertThat(legs.get(1).path("To").asText()).isEqualTo(BRIDGED);
        assertThat(legs.get(1).path("From").asText()).isEqualTo(FROM);
        assertThat(legs.get(1).path("Status").asText()).isEqualTo("Connected");
        assertThat(legs.get(1).path("CallId").asText()).isNotEqualTo(legs.get(0).path("CallId").asText());
        JsonNode legBHangup = events.get(4);
        assertThat(legBHangup.path("ActionData").path("Parameters").path("ParticipantTag").asText()).isEqualTo("LEG-B");
        assertThat(legBHangup.path("CallDetails").path("Participants").get(0).path("Status").asText()).isEqualTo("Connected");
        assertThat(legBHangup.path("CallDetails").path("Participants").get(1).path("Status").asText()).isEqualTo("Disconnected");
        JsonNode last = events.get(5);
        assertThat(last.path("ActionData").path("Parameters").path("ParticipantTag").asText()).isEqualTo("LEG-A");
        assertThat(call.endReason()).isEqualTo("applicationHangup");
    }

    @Test
    void inProcessEndpoint_andWebhookSetAfterStart_receiveTheSameEvents() {
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        emu = ChimeEmulator.builder().timeScale(0.001).scenario(scenario())
                .endpoint(body -> {
                    seen.add(new String(body, java.nio.charset.StandardCharsets.UTF_8));
                    return Mono.just(TestWebhook.NO_ACTIONS.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }).start();
        create(BUSY);
        assertThat(emu.awaitIdle(WAIT)).isTrue();
        assertThat(seen).hasSize(3);
        assertThat(seen.get(2)).contains("\"InvocationEventType\":\"HANGUP\"").contains("\"SipResponseCode\":486");

        webhook = new TestWebhook(e -> Mono.just(TestWebhook.NO_ACTIONS));
        emu.webhook(webhook.url(), TestWebhook.SECRET);
        String tx = create(BUSY);
        finished(tx);
        assertThat(types(webhook.received())).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "HANGUP");
        assertThat(webhook.badSignatures()).isZero();
        assertThat(seen).hasSize(3);
        assertThat(emu.stats().duplicateNumbers()).isEqualTo(1);
    }

    private static String hangupReply() {
        return TestWebhook.reply("[{\"Type\":\"Hangup\",\"Parameters\":{\"SipResponseCode\":\"0\"}}]");
    }

    private static String speak(JsonNode e, String text) {
        return "{\"Type\":\"Speak\",\"Parameters\":{\"CallId\":\"" + callId(e) + "\",\"Text\":\"" + text + "\"}}";
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "Speak without Text           | {'Type':'Speak','Parameters':{'CallId':'CALL'}}                                             | MissingRequiredActionParameter",
        "Kevin with standard engine   | {'Type':'Speak','Parameters':{'CallId':'CALL','Text':'Hi','VoiceId':'Kevin'}}               | InvalidActionParameter",
        "Min above Max                | {'Type':'SpeakAndGetDigits','Parameters':{'CallId':'CALL','SpeechParameters':{'Text':'Hi'},'FailureSpeechParameters':{'Text':'No'},'MinNumberOfDigits':4,'MaxNumberOfDigits':2,'RepeatDurationInMilliseconds':3000}} | InvalidActionParameter",
        "PlayAudio without Key        | {'Type':'PlayAudio','Parameters':{'AudioSource':{'Type':'S3','BucketName':'b'}}}             | MissingRequiredActionParameter",
        "two bridge endpoints         | {'Type':'CallAndBridge','Parameters':{'CallerIdNumber':'+17035550100','Endpoints':[{'BridgeEndpointType':'PSTN','Uri':'+14155550009'},{'BridgeEndpointType':'PSTN','Uri':'+14155550009'}]}} | InvalidActionParameter"})
    void badParameters_failTheActionWithActionFailedAndTheNextResponseDecides(String name, String action, String errorType) {
        start(e -> Mono.just(switch (type(e)) {
            case "CALL_ANSWERED" -> TestWebhook.reply("[" + speak(e, "Hello") + ","
                    + action.replace('\'', '"').replace("CALL", callId(e)) + "," + speak(e, "dropped") + "]");
            case "ACTION_FAILED" -> hangupReply();
            default -> TestWebhook.NO_ACTIONS;
        }));

        String tx = create(ANSWERS);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_FAILED", "HANGUP");
        assertEnvelope(events, tx, ANSWERS);
        JsonNode failed = events.get(3);
        JsonNode sent = readTree(action.replace('\'', '"').replace("CALL", callId(events.get(2))));
        assertThat(failed.path("ActionData").path("Type")).isEqualTo(sent.path("Type"));
        assertThat(failed.path("ActionData").path("Parameters")).isEqualTo(sent.path("Parameters"));
        assertThat(failed.path("ActionData").path("ErrorType").asText()).isEqualTo(errorType);
        assertThat(failed.path("ActionData").path("ErrorMessage").asText()).isNotBlank();
        assertThat(failed.has("ErrorType")).isFalse();
        assertThat(status(failed)).isEqualTo("Connected");
        // The Speak before it ran; the one after it was dropped; the response to ACTION_FAILED hung up.
        assertThat(call.actions()).extracting(CallRecord.Action::type, CallRecord.Action::result, CallRecord.Action::errorType)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("Speak", "ACTION_SUCCESSFUL", null),
                        org.assertj.core.groups.Tuple.tuple(sent.path("Type").asText(), "ACTION_FAILED", errorType),
                        org.assertj.core.groups.Tuple.tuple("Hangup", "ACTION_SUCCESSFUL", null));
        assertThat(call.endReason()).isEqualTo("applicationHangup");
        EmulatorStats stats = emu.stats();
        assertThat(stats.invalidResponses()).isZero();
        assertThat(stats.actionErrors()).containsExactly(Map.entry(errorType, 1L));
    }

    private static JsonNode readTree(String json) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void injectedActionFailure_calleeHearsNothingAndTheNextResponseDecides() {
        // Every Speak fails as if Polly refused; this callee would hang up halfway through a prompt it heard.
        start(e -> Mono.just(switch (type(e)) {
            case "CALL_ANSWERED" -> TestWebhook.reply("[" + speak(e, "Hello") + "," + speak(e, "dropped") + "]");
            case "ACTION_FAILED" -> hangupReply();
            default -> TestWebhook.NO_ACTIONS;
        }), b -> b.faults(Faults.builder().actionFailure(1).actionErrorTypes("AccessDenied").build()));

        String tx = create(HANGS_UP_DURING_PROMPT);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_FAILED", "HANGUP");
        JsonNode failed = events.get(3).path("ActionData");
        assertThat(failed.path("Type").asText()).isEqualTo("Speak");
        assertThat(failed.path("Parameters").path("Text").asText()).isEqualTo("Hello");
        assertThat(failed.path("ErrorType").asText()).isEqualTo("AccessDenied");
        assertThat(failed.path("ErrorMessage").asText()).contains("AWSServiceRoleForAmazonChimeVoiceConnector");
        assertThat(call.endReason()).isEqualTo("applicationHangup");
        assertThat(call.actions()).extracting(CallRecord.Action::type, CallRecord.Action::result)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("Speak", "ACTION_FAILED"),
                        org.assertj.core.groups.Tuple.tuple("Hangup", "ACTION_SUCCESSFUL"));
        EmulatorStats stats = emu.stats();
        assertThat(stats.faults()).containsEntry("actionFailure", 1L).containsEntry("actionFailure.AccessDenied", 1L);
        assertThat(stats.actionErrors()).containsExactly(Map.entry("AccessDenied", 1L));
    }

    @Test
    void injectedInvalidAudioSource_failsAudioButNotSpeech() {
        start(e -> Mono.just(switch (type(e)) {
            case "CALL_ANSWERED" -> TestWebhook.reply("[" + speak(e, "Hello") + ",{\"Type\":\"PlayAudio\",\"Parameters\":"
                    + "{\"AudioSource\":{\"Type\":\"S3\",\"BucketName\":\"prompts\",\"Key\":\"gone.wav\"}}}]");
            case "ACTION_FAILED" -> hangupReply();
            default -> TestWebhook.NO_ACTIONS;
        }), b -> b.faults(Faults.builder().actionFailure(1).actionErrorTypes("InvalidAudioSource").build()));

        String tx = create(ANSWERS);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_FAILED", "HANGUP");
        JsonNode failed = events.get(3).path("ActionData");
        assertThat(failed.path("Type").asText()).isEqualTo("PlayAudio");
        assertThat(failed.path("ErrorType").asText()).isEqualTo("InvalidAudioSource");
        assertThat(failed.path("ErrorMessage").asText()).contains("s3://prompts/gone.wav");
        assertThat(call.actions()).extracting(CallRecord.Action::type, CallRecord.Action::result)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("Speak", "ACTION_SUCCESSFUL"),
                        org.assertj.core.groups.Tuple.tuple("PlayAudio", "ACTION_FAILED"),
                        org.assertj.core.groups.Tuple.tuple("Hangup", "ACTION_SUCCESSFUL"));
        assertThat(emu.stats().faults()).containsEntry("actionFailure.InvalidAudioSource", 1L)
                .doesNotContainKey("actionFailure.AccessDenied");
    }

    @ParameterizedTest(name = "{0} with terminators {1}, max {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        // The default terminator # ends the input and is not reported; what follows it is not heard.
        "+14155550006 | -     | 4 | 12",
        // Another terminator: # is an ordinary key.
        "+14155550006 | ['*'] | 4 | 12#9",
        // MaxNumberOfDigits ends the input too.
        "+14155550007 | -     | 4 | 1234",
        // Only the terminator: no digits, fewer than MinNumberOfDigits 1.
        "+14155550008 | -     | 4 | FAIL"})
    void getDigits_terminatorEndsTheInputAndIsNotReported(String number, String terminators, int max, String expected) {
        start(e -> Mono.just(switch (type(e)) {
            case "CALL_ANSWERED" -> TestWebhook.reply("[{\"Type\":\"SpeakAndGetDigits\",\"Parameters\":{\"CallId\":\"" + callId(e)
                    + "\",\"SpeechParameters\":{\"Text\":\"Enter your code\"},\"FailureSpeechParameters\":{\"Text\":\"Sorry\"},"
                    + "\"MinNumberOfDigits\":1,\"MaxNumberOfDigits\":" + max + ","
                    + (terminators.equals("-") ? "" : "\"TerminatorDigits\":" + terminators.replace('\'', '"') + ",")
                    + "\"RepeatDurationInMilliseconds\":3000}}]");
            case "ACTION_SUCCESSFUL", "ACTION_FAILED" -> hangupReply();
            default -> TestWebhook.NO_ACTIONS;
        }));

        String tx = create(number);
        CallRecord call = finished(tx);

        JsonNode result = webhook.received().get(3);
        if (expected.equals("FAIL")) {
            assertThat(type(result)).isEqualTo("ACTION_FAILED");
            assertThat(result.path("ActionData").path("ErrorType").asText()).isEqualTo("InvalidDigitsReceived");
        } else {
            assertThat(type(result)).isEqualTo("ACTION_SUCCESSFUL");
            assertThat(result.path("ActionData").path("ReceivedDigits").asText()).isEqualTo(expected);
            assertThat(call.actions().get(0).receivedDigits()).isEqualTo(expected);
        }
    }

    @Test
    void hangupWithoutSipCode_omitsTheCodeButTheGroundTruthKeepsIt() {
        start(e -> Mono.just(TestWebhook.NO_ACTIONS));

        String tx = create(BUSY_WITHOUT_CODE);
        CallRecord call = finished(tx);

        List<JsonNode> events = webhook.received();
        assertThat(types(events)).containsExactly("NEW_OUTBOUND_CALL", "RINGING", "HANGUP");
        JsonNode hangup = events.get(2).path("ActionData");
        assertThat(hangup.path("Type").asText()).isEqualTo("Hangup");
        assertThat(hangup.path("Parameters").has("SipResponseCode")).isFalse();
        assertThat(hangup.path("Parameters").path("ParticipantTag").asText()).isEqualTo("LEG-A");
        assertThat(call.sipCode()).isEqualTo(486);
        assertThat(call.sipCodeOmitted()).isTrue();
        assertThat(call.disposition()).isEqualTo("busy");
        assertThat(emu.stats().hangupsWithoutSipCode()).isEqualTo(1);

        String other = create(BUSY);
        assertThat(finished(other).sipCodeOmitted()).isFalse();
        assertThat(emu.stats().hangupsWithoutSipCode()).isEqualTo(1);
    }

    @Test
    void retrySequenceIncrement_theRetryTakesTheNextSequence() {
        java.util.concurrent.atomic.AtomicInteger newCall = new java.util.concurrent.atomic.AtomicInteger();
        List<JsonNode> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        // In-process endpoint: the first delivery of NEW_OUTBOUND_CALL fails (an error status), the retry is answered.
        emu = ChimeEmulator.builder().timeScale(0.001).scenario(scenario()).retrySequence(RetrySequence.INCREMENT)
                .endpoint(body -> {
                    JsonNode e = readTree(new String(body, java.nio.charset.StandardCharsets.UTF_8));
                    seen.add(e);
                    if (type(e).equals("NEW_OUTBOUND_CALL") && newCall.getAndIncrement() == 0) {
                        return Mono.error(new IllegalStateException("502 from the function"));
                    }
                    return Mono.just(TestWebhook.NO_ACTIONS.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }).start();

        String tx = create(BUSY);
        CallRecord call = finished(tx);

        assertThat(types(seen)).containsExactly("NEW_OUTBOUND_CALL", "NEW_OUTBOUND_CALL", "RINGING", "HANGUP");
        assertThat(seen).extracting(e -> e.path("Sequence").asInt()).containsExactly(1, 2, 3, 4);
        assertThat(call.invocations()).extracting(CallRecord.Invocation::sequence).containsExactly(1, 3, 4);
        assertThat(call.invocations().get(0).deliveries()).isEqualTo(2);
        assertThat(emu.stats().redeliveries()).isEqualTo(1);
    }

    @Test
    void retrySequenceSame_theRetryRepeatsTheSequence() {
        java.util.concurrent.atomic.AtomicInteger newCall = new java.util.concurrent.atomic.AtomicInteger();
        List<JsonNode> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        emu = ChimeEmulator.builder().timeScale(0.001).scenario(scenario())
                .endpoint(body -> {
                    JsonNode e = readTree(new String(body, java.nio.charset.StandardCharsets.UTF_8));
                    seen.add(e);
                    if (type(e).equals("NEW_OUTBOUND_CALL") && newCall.getAndIncrement() == 0) {
                        return Mono.error(new IllegalStateException("502 from the function"));
                    }
                    return Mono.just(TestWebhook.NO_ACTIONS.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }).start();

        finished(create(BUSY));

        assertThat(seen).extracting(e -> e.path("Sequence").asInt()).containsExactly(1, 1, 2, 3);
    }
}
