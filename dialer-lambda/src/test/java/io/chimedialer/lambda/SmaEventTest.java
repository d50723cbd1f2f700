package io.chimedialer.lambda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class SmaEventTest {

    private static SmaEvent parse(String json) {
        return SmaEvent.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void parse_documentedEvent_readsEveryField() {
        SmaEvent event = SmaEvent.parse(Events.answeredWithNode("https://node-1/"));

        assertThat(event).isEqualTo(new SmaEvent("CALL_ANSWERED", Events.TRANSACTION_ID, "3", "sma-1",
                Events.LEG_A_CALL_ID, "https://node-1/", null));
        assertThat(event.dialerUrl()).isEqualTo("https://node-1/");
    }

    @Test
    void parse_newOutboundCall_readsDialerUrlFromArguments() {
        SmaEvent event = SmaEvent.parse(Events.newOutboundCall("https://node-2/"));

        assertThat(event.argumentsDialerUrl()).isEqualTo("https://node-2/");
        assertThat(event.attributesDialerUrl()).isNull();
        assertThat(event.dialerUrl()).isEqualTo("https://node-2/");
    }

    @Test
    void parse_olderDocVariant_acceptsAliasAndLegCasing() {
        SmaEvent event = SmaEvent.parse(Events.twoLegsOddCasing("ACTION_SUCCESSFUL"));

        assertThat(event.sipMediaApplicationId()).isEqualTo("sma-old");
        assertThat(event.legACallId()).isEqualTo(Events.LEG_A_CALL_ID);
        assertThat(event.sequence()).isEqualTo("7");
    }

    @Test
    void parse_lowerCaseKeysAndEventType_areAccepted() {
        SmaEvent event = parse("{\"invocationEventType\":\"call_answered\",\"callDetails\":{\"transactionId\":\"t-1\","
                + "\"participants\":[{\"callId\":\"c-1\",\"participantTag\":\"leg-a\"}]}}");

        assertThat(event.type()).isEqualTo("CALL_ANSWERED");
        assertThat(event.transactionId()).isEqualTo("t-1");
        assertThat(event.legACallId()).isEqualTo("c-1");
    }

    @Test
    void parse_untaggedSingleParticipant_isLegA() {
        SmaEvent event = parse("{\"InvocationEventType\":\"NEW_INBOUND_CALL\",\"CallDetails\":"
                + "{\"Participants\":[{\"CallId\":\"c-9\"}]}}");

        assertThat(event.legACallId()).isEqualTo("c-9");
    }

    @Test
    void parse_onlyLegB_hasNoLegACallId() {
        SmaEvent event = parse("{\"InvocationEventType\":\"HANGUP\",\"CallDetails\":"
                + "{\"Participants\":[{\"CallId\":\"c-b\",\"ParticipantTag\":\"LEG-B\"}]}}");

        assertThat(event.legACallId()).isNull();
    }

    @Test
    void parse_missingOrOddlyTypedFields_givesNulls() {
        SmaEvent event = parse("{\"InvocationEventType\":42,\"CallDetails\":{\"TransactionId\":null,"
                + "\"Participants\":{},\"TransactionAttributes\":{\"dialerUrl\":[1]}},\"ActionData\":\"x\"}");

        assertThat(event).isEqualTo(new SmaEvent("42", null, null, null, null, null, null));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "null", "[]", "{", "{\"a\":1} {\"b\":2}", "\u0000\u0001"})
    void parse_notAnEventObject_neverThrows(String text) {
        SmaEvent event = parse(text);

        assertThat(event.type()).isNull();
        assertThat(event.transactionId()).isNull();
        assertThat(event.dialerUrl()).isNull();
    }
}
