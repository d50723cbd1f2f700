package io.chimedialer.core.webhook;

import io.chimedialer.core.calls.Bodies;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.core.webhook.Invocation.EventType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class InvocationParserTest {

    private final InvocationParser parser = new InvocationParser();

    private Invocation parse(String json) {
        return parser.parse(Bodies.bytes(json));
    }

    @ParameterizedTest
    @EnumSource(value = EventType.class, names = "UNKNOWN", mode = EnumSource.Mode.EXCLUDE)
    void parse_everyDocumentedEventType_recognized(EventType type) {
        Invocation inv = parse("{\"SchemaVersion\":\"1.0\",\"Sequence\":4,\"InvocationEventType\":\"" + type.name()
                + "\",\"CallDetails\":{\"TransactionId\":\"tx\"}}");
        assertThat(inv.eventType()).isEqualTo(type);
        assertThat(inv.sequence()).isEqualTo(4);
        assertThat(inv.actionData()).isNull();
        assertThat(inv.participants()).isEmpty();
    }

    @Test
    void parse_realisticNewOutboundCall_readsEveryField() {
        Invocation inv = parser.parse(Bodies.bytes(Bodies.newOutbound(1, "tx-1", "att-9")));
        assertThat(inv.schemaVersion()).isEqualTo("1.0");
        assertThat(inv.eventType()).isEqualTo(EventType.NEW_OUTBOUND_CALL);
        assertThat(inv.transactionId()).isEqualTo("tx-1");
        assertThat(inv.awsAccountId()).isEqualTo("123456789012");
        assertThat(inv.awsRegion()).isEqualTo("us-east-1");
        assertThat(inv.sipMediaApplicationId()).isEqualTo("sma-1");
        assertThat(inv.arguments()).containsEntry("attemptId", "att-9").containsEntry("campaignId", "c1");
        assertThat(inv.actionData().type()).isEqualTo("CallCreateRequest");
        Invocation.Participant a = inv.legA();
        assertThat(a.callId()).isEqualTo("call-a-tx-1");
        assertThat(a.participantTag()).isEqualTo("LEG-A");
        assertThat(a.to()).isEqualTo(Bodies.CALLEE);
        assertThat(a.from()).isEqualTo(Bodies.FROM);
        assertThat(a.direction()).isEqualTo("Outbound");
        assertThat(a.startTimeMillis()).isEqualTo(1_700_000_000_000L);
        assertThat(a.status()).isNull();
        assertThat(a.connected()).isFalse();
    }

    @Test
    void parse_sipApplicationIdAlias_readAsSipMediaApplicationId() {
        Invocation inv = parse("{\"InvocationEventType\":\"RINGING\",\"CallDetails\":{\"TransactionId\":\"t\","
                + "\"SipApplicationId\":\"old-name\"}}");
        assertThat(inv.sipMediaApplicationId()).isEqualTo("old-name");
    }

    @Test
    void parse_mixedCaseParticipantTag_normalized() {
        Invocation inv = parse("{\"InvocationEventType\":\"HANGUP\",\"CallDetails\":{\"TransactionId\":\"t\","
                + "\"Participants\":[{\"CallId\":\"a\",\"ParticipantTag\":\"Leg-A\",\"Status\":\"Connected\"},"
                + "{\"CallId\":\"b\",\"ParticipantTag\":\"Leg-B\",\"Status\":\"Disconnected\"}]},"
                + "\"ActionData\":{\"Type\":\"ReceiveDigits\",\"Parameters\":{\"ParticipantTag\":\"Leg-B\"}}}");
        assertThat(inv.participant("LEG-A").callId()).isEqualTo("a");
        assertThat(inv.participant("leg-b").callId()).isEqualTo("b");
        assertThat(inv.actionData().participantTag()).isEqualTo("LEG-B");
    }

    @Test
    void parse_sipResponseCodeAsNumberOrString_bothRead() {
        String template = "{\"InvocationEventType\":\"HANGUP\",\"CallDetails\":{\"TransactionId\":\"t\"},"
                + "\"ActionData\":{\"Type\":\"Hangup\",\"Parameters\":{\"SipResponseCode\":%s}}}";
        assertThat(parse(template.formatted("486")).actionData().sipResponseCode()).isEqualTo(486);
        assertThat(parse(template.formatted("\"480\"")).actionData().sipResponseCode()).isEqualTo(480);
        assertThat(parse(template.formatted("\"0\"")).actionData().sipResponseCode()).isZero();
        assertThat(parse(template.formatted("\"busy\"")).actionData().sipResponseCode()).isNull();
        assertThat(parse(template.formatted("{}")).actionData().sipResponseCode()).isNull();
        assertThat(parse(template.formatted("-5")).actionData().sipResponseCode()).isNull();
    }

    @Test
    void parse_hangupWithoutSipResponseCode_codeNull() {
        Invocation inv = parse("{\"InvocationEventType\":\"HANGUP\",\"CallDetails\":{\"TransactionId\":\"t\"},"
                + "\"ActionData\":{\"Type\":\"Hangup\",\"Parameters\":{\"CallId\":\"x\"}}}");
        assertThat(inv.actionData().sipResponseCode()).isNull();
        assertThat(inv.actionData().callId()).isEqualTo("x");
    }

    @Test
    void parse_errorTypeAtTopLevel_read() {
        Invocation inv = parse("{\"InvocationEventType\":\"INVALID_LAMBDA_RESPONSE\",\"CallDetails\":{\"TransactionId\""
                + ":\"t\"},\"ErrorType\":\"TransactionAttributesInvalidMapSize\",\"ErrorMessage\":\"too many\"}");
        assertThat(inv.errorType()).isEqualTo("TransactionAttributesInvalidMapSize");
        assertThat(inv.errorMessage()).isEqualTo("too many");
    }

    @Test
    void parse_errorTypeInsideActionData_read() {
        Invocation inv = parse("{\"InvocationEventType\":\"ACTION_FAILED\",\"CallDetails\":{\"TransactionId\":\"t\"},"
                + "\"ActionData\":{\"Type\":\"CallAndBridge\",\"ErrorType\":\"CallNotAnswered\","
                + "\"ErrorMessage\":\"Call not answered\"}}");
        assertThat(inv.errorType()).isEqualTo("CallNotAnswered");
        assertThat(inv.errorMessage()).isEqualTo("Call not answered");
        assertThat(inv.actionData().errorType()).isEqualTo("CallNotAnswered");
    }

    @Test
    void parse_singleErrorString_splitIntoCodeAndMessage() {
        Invocation inv = parse("{\"InvocationEventType\":\"ACTION_FAILED\",\"CallDetails\":{\"TransactionId\":\"t\"},"
                + "\"ActionData\":{\"Type\":\"JoinChimeMeeting\",\"Error\":\"ErrorJoiningMeeting: Error while "
                + "joining meeting.\"}}");
        assertThat(inv.errorType()).isEqualTo("ErrorJoiningMeeting");
        assertThat(inv.errorMessage()).isEqualTo("Error while joining meeting.");
    }

    @Test
    void parse_errorStringWithoutColon_wholeStringIsType() {
        Invocation inv = parse("{\"InvocationEventType\":\"ACTION_FAILED\",\"CallDetails\":{\"TransactionId\":\"t\"},"
                + "\"Error\":\"SystemException\"}");
        assertThat(inv.errorType()).isEqualTo("SystemException");
    }

    @Test
    void parse_errorList_firstEntryRead() {
        Invocation inv = parse("{\"InvocationEventType\":\"ACTION_FAILED\",\"CallDetails\":{\"TransactionId\":\"t\"},"
                + "\"ActionData\":{\"Type\":\"ModifyChimeMeetingAttendees\",\"ErrorList\":[\"NoAccessToDestination:"
                + " denied\",\"x\"]}}");
        assertThat(inv.errorType()).isEqualTo("NoAccessToDestination");
        assertThat(inv.errorMessage()).isEqualTo("denied");
    }

    @Test
    void parse_missingStatusMissingActionDataUnknownFields_tolerated() {
        Invocation inv = parse("{\"SchemaVersion\":\"1.0\",\"Sequence\":1,\"InvocationEventType\":\"NEW_INBOUND_CALL\","
                + "\"Extra\":{\"deep\":[1,2,3]},\"CallDetails\":{\"TransactionId\":\"t\",\"Whatever\":true,"
                + "\"SipRuleId\":\"rule\",\"Participants\":[{\"CallId\":\"c\",\"ParticipantTag\":\"LEG-A\","
                + "\"From\":\"+15551234567\",\"Direction\":\"Inbound\",\"New\":1}]}}");
        assertThat(inv.eventType()).isEqualTo(EventType.NEW_INBOUND_CALL);
        assertThat(inv.sipRuleId()).isEqualTo("rule");
        assertThat(inv.legA().status()).isNull();
        assertThat(inv.actionData()).isNull();
        assertThat(inv.arguments()).isEmpty();
    }

    @Test
    void parse_unknownEventTypeAndIncomingAlias_mapped() {
        assertThat(parse("{\"InvocationEventType\":\"SOMETHING_NEW\",\"CallDetails\":{\"TransactionId\":\"t\"}}")
                .eventType()).isEqualTo(EventType.UNKNOWN);
        assertThat(parse("{\"CallDetails\":{\"TransactionId\":\"t\"}}").eventType()).isEqualTo(EventType.UNKNOWN);
        assertThat(parse("{\"InvocationEventType\":\"NEW_INCOMING_CALL\",\"CallDetails\":{\"TransactionId\":\"t\"}}")
                .eventType()).isEqualTo(EventType.NEW_INBOUND_CALL);
    }

    @Test
    void parse_sequenceAsStringOrMissingOrGarbage_readOrMinusOne() {
        assertThat(parse("{\"Sequence\":\"7\",\"CallDetails\":{\"TransactionId\":\"t\"}}").sequence()).isEqualTo(7);
        assertThat(parse("{\"CallDetails\":{\"TransactionId\":\"t\"}}").sequence()).isEqualTo(-1);
        assertThat(parse("{\"Sequence\":[1],\"CallDetails\":{\"TransactionId\":\"t\"}}").sequence()).isEqualTo(-1);
        assertThat(parse("{\"Sequence\":2.5,\"CallDetails\":{\"TransactionId\":\"t\"}}").sequence()).isEqualTo(-1);
    }

    @Test
    void parse_transactionAttributesWithNonStringValues_readAsText() {
        Invocation inv = parse("{\"CallDetails\":{\"TransactionId\":\"t\",\"TransactionAttributes\":"
                + "{\"a\":\"x\",\"n\":5,\"o\":{\"k\":1},\"z\":null}}}");
        assertThat(inv.transactionAttributes()).containsEntry("a", "x").containsEntry("n", "5")
                .containsEntry("o", "{\"k\":1}").doesNotContainKey("z");
    }

    @Test
    void parse_participantsAsSingleObject_tolerated() {
        Invocation inv = parse("{\"CallDetails\":{\"TransactionId\":\"t\",\"Participants\":{\"CallId\":\"c\","
                + "\"ParticipantTag\":\"leg-a\",\"StartTimeInMilliseconds\":\"garbage\"}}}");
        assertThat(inv.legA().callId()).isEqualTo("c");
        assertThat(inv.legA().startTimeMillis()).isNull();
    }

    @Test
    void parse_missingTransactionIdOrNotAnObject_rejected() {
        for (String bad : new String[] {"", "null", "[]", "42", "\"x\"", "{", "{\"CallDetails\":{}}",
                "{\"CallDetails\":{\"TransactionId\":\"\"}}", "{\"CallDetails\":{\"TransactionId\":{}}}",
                "{\"CallDetails\":[]}", "{\"CallDetails\":{\"TransactionId\":null}}", "not json"}) {
            assertThatThrownBy(() -> parse(bad)).as(bad)
                    .isInstanceOf(InvocationParser.MalformedInvocationException.class);
        }
    }
}
