package io.chimedialer.core.domain;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ActionFailureTest {

    @Test
    void detail_readBackByParse_forEveryShape() {
        ActionFailure full = new ActionFailure("Speak", "AccessDenied", "Not authorized: role missing");
        ActionFailure noMessage = new ActionFailure("PlayAudio", "InvalidAudioSource", null);
        ActionFailure noType = new ActionFailure("Speak", null, "boom");
        ActionFailure bare = new ActionFailure("Hangup", null, null);

        assertThat(full.detail()).isEqualTo("Speak failed: AccessDenied: Not authorized: role missing");
        assertThat(noMessage.detail()).isEqualTo("PlayAudio failed: InvalidAudioSource");
        assertThat(noType.detail()).isEqualTo("Speak failed: -: boom");
        assertThat(bare.detail()).isEqualTo("Hangup failed");
        for (ActionFailure f : new ActionFailure[] {full, noMessage, noType, bare}) {
            assertThat(ActionFailure.parse(f.detail())).isEqualTo(f);
        }
        assertThat(ActionFailure.parse("sip=486")).isNull();
        assertThat(ActionFailure.parse(null)).isNull();
    }

    @Test
    void constructor_controlCharactersAndLongMessages_madeSafeForOneLine() {
        ActionFailure f = new ActionFailure(" ", "Access\nDenied", "x".repeat(500) + "\r\n");

        assertThat(f.action()).isEqualTo("unknown");
        assertThat(f.errorType()).isEqualTo("Access Denied");
        assertThat(f.message()).hasSize(ActionFailure.MAX_MESSAGE).doesNotContain("\n");
    }

    @Test
    void isCallOutcome_calleesInputAndUnansweredTransfer_notFailures() {
        assertThat(ActionFailure.isCallOutcome("SpeakAndGetDigits", "InvalidDigitsReceived")).isTrue();
        assertThat(ActionFailure.isCallOutcome("PlayAudioAndGetDigits", null)).isTrue();
        assertThat(ActionFailure.isCallOutcome("CallAndBridge", "CallNotAnswered")).isTrue();
        assertThat(ActionFailure.isCallOutcome("SpeakAndGetDigits", "AccessDenied")).isFalse();
        assertThat(ActionFailure.isCallOutcome("Speak", null)).isFalse();
        assertThat(new ActionFailure("SpeakAndGetDigits", "AccessDenied", null).wasAudible()).isTrue();
        assertThat(new ActionFailure("CallAndBridge", "SystemException", null).wasAudible()).isFalse();
    }
}
