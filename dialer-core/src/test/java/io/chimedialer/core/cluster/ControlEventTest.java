package io.chimedialer.core.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The payloads of control commands: an ENDED carries its call's end and nothing else reads as one. */
class ControlEventTest {

    @Test
    void ended_payloadRoundTrips_andNoOtherCommandHasACallEnd() {
        String payload = new ControlEvent.CallEnd("att-1", "NO_ANSWER", 480).toJson();
        ControlEvent ended = new ControlEvent(7, ControlEvent.Command.ENDED, "c1", null, null, payload, "node-a",
                Instant.EPOCH);

        assertThat(ended.callEnd()).contains(new ControlEvent.CallEnd("att-1", "NO_ANSWER", 480));
        assertThat(ClusterControl.describe(ended)).isEqualTo("c1 att-1=NO_ANSWER");
        assertThat(new ControlEvent(8, ControlEvent.Command.ENDED, "c1", null, null,
                new ControlEvent.CallEnd("att-2", "ANSWERED", null).toJson(), "node-a", Instant.EPOCH).callEnd())
                .contains(new ControlEvent.CallEnd("att-2", "ANSWERED", null));
        assertThat(new ControlEvent(9, ControlEvent.Command.DNC, "c1", null, null, payload, "node-a", Instant.EPOCH)
                .callEnd()).isEmpty();
        assertThat(new ControlEvent(10, ControlEvent.Command.ENDED, "c1", null, null, "{\"attemptId\":\"x\"}",
                "node-a", Instant.EPOCH).callEnd()).isEmpty();
    }
}
