package io.chimedialer.core.flow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class FlowConfigBindingTest {

    @Test
    void bind_kebabCaseJson_buildsTheRecordTreeWithDefaults() throws Exception {
        String json = """
                {"type":"menu","voice":{"voice-id":"Matthew","engine":"neural"},"caller-name":"Acme",
                 "message":{"text":"Hi {name}"},"repeat":2,
                 "human-check":{"digit":"5","on-no-input":"message"},
                 "menu":{"prompt":{"audio":{"bucket":"acme-prompts","key":"menu.wav"}},"max-attempts":2,
                         "options":{"1":{"action":"confirm"},"9":{"action":"opt-out"},
                                    "0":{"action":"transfer","transfer-to":"+12065550199","caller-id":"+12065550100"}}},
                 "inbound":{"opt-out-digit":"8"},"invocation-reserve":20,"unknown-key-is-ignored?":null}
                """;
        ObjectMapper mapper = new ObjectMapper()
                .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        FlowConfig cfg = mapper.readValue(json, FlowConfig.class);

        assertThat(cfg.type()).isEqualTo(FlowConfig.Type.MENU);
        assertThat(cfg.voice().voiceId()).isEqualTo("Matthew");
        assertThat(cfg.voice().engine()).isEqualTo("neural");
        assertThat(cfg.voice().languageCode()).isEqualTo("en-US");
        assertThat(cfg.callerName()).isEqualTo("Acme");
        assertThat(cfg.repeat()).isEqualTo(2);
        assertThat(cfg.humanCheck().digit()).isEqualTo("5");
        assertThat(cfg.humanCheck().onNoInput()).isEqualTo(FlowConfig.HumanCheck.NoInput.MESSAGE);
        assertThat(cfg.menu().prompt().audio().key()).isEqualTo("menu.wav");
        assertThat(cfg.menu().maxAttempts()).isEqualTo(2);
        assertThat(cfg.menu().options()).containsOnlyKeys("1", "9", "0");
        assertThat(cfg.menu().options().get("9").action()).isEqualTo(FlowConfig.MenuOption.Action.OPT_OUT);
        assertThat(cfg.menu().options().get("0").callerId()).isEqualTo("+12065550100");
        assertThat(cfg.inbound().optOutDigit()).isEqualTo("8");
        assertThat(cfg.invocationReserve()).isEqualTo(20);
        assertThat(cfg.invocationBudget()).isEqualTo(1000);
        assertThat(cfg.goodbye().text()).isEqualTo("Thank you. Goodbye.");
    }

    @Test
    void default_isAMessageFlowWithReserveTen() {
        assertThat(FlowConfig.DEFAULT.type()).isEqualTo(FlowConfig.Type.MESSAGE);
        assertThat(FlowConfig.DEFAULT.message().text()).contains("{name}");
        assertThat(FlowConfig.DEFAULT.invocationReserve()).isEqualTo(10);
        assertThat(FlowConfig.DEFAULT.inbound().optOutDigit()).isEqualTo("9");
    }
}
