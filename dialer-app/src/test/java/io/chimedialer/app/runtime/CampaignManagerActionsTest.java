package io.chimedialer.app.runtime;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.app.http.ControlApi;
import io.chimedialer.core.campaign.CampaignRun.State;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CampaignManagerActionsTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"pause, PAUSED", "resume, RUNNING", "cancel, CANCELLING", "cancel, CANCELLED"})
    void refuseIfNoEffect_actionTookEffectOrWasRepeated_accepted(String action, State after) {
        assertThatCode(() -> CampaignManager.refuseIfNoEffect("c", action, after)).doesNotThrowAnyException();
    }

    @ParameterizedTest(name = "{0} when {1}")
    @CsvSource(delimiter = '|', value = {
            "resume | CANCELLED  | campaign c cannot resume: it was cancelled; start it again with POST /v1/campaigns",
            "resume | CANCELLING | campaign c cannot resume: it is being cancelled",
            "pause  | CANCELLED  | campaign c cannot pause: it was cancelled; start it again with POST /v1/campaigns",
            "resume | COMPLETED  | campaign c cannot resume: it has completed; start it again with POST /v1/campaigns",
            "cancel | COMPLETED  | campaign c cannot cancel: it has completed; start it again with POST /v1/campaigns",
            "pause  | FAILED     | campaign c cannot pause: it has failed; start it again with POST /v1/campaigns",
            "resume | CREATED    | campaign c cannot resume: it is starting; try again in a moment",
    })
    void refuseIfNoEffect_actionWithoutEffect_409WithTheReason(String action, State after, String message) {
        assertThatThrownBy(() -> CampaignManager.refuseIfNoEffect("c", action, after))
                .isInstanceOfSatisfying(ControlApi.ControlException.class,
                        e -> org.assertj.core.api.Assertions.assertThat(e.status()).isEqualTo(409))
                .hasMessage(message);
    }
}
