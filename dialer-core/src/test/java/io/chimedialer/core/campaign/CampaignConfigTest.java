package io.chimedialer.core.campaign;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.core.flow.FlowConfig.Menu;
import io.chimedialer.core.flow.FlowConfig.MenuOption;
import io.chimedialer.core.flow.FlowConfig.Prompt;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CampaignConfigTest {

    private static CampaignConfig campaign(FlowConfig flow, Duration maxCallLifetime) {
        return new CampaignConfig("c", null, Map.of("us-east-1", 1), null, null, null, flow, List.of(),
                maxCallLifetime, false);
    }

    /** Milliseconds of speech for this many characters at the assumed pace. */
    private static long speech(int chars) {
        return (long) Math.ceil(chars / FlowConfig.SPEECH_CHARS_PER_SECOND * 1000);
    }

    @Test
    void maxCallLifetime_absent_ringAllowancePlusLongestPathPlusMargin() {
        // "Hello {name}..." has a placeholder: counted at Speak's 1,000 characters; then the longest closing text
        // (the error text, 37 characters, against the goodbye's 19).
        long path = speech(1000) + speech("Sorry, something went wrong. Goodbye.".length());

        assertThat(FlowConfig.DEFAULT.longestPath()).contains(Duration.ofMillis(path));
        assertThat(campaign(null, null).maxCallLifetime()).isEqualTo(Duration.ofSeconds(
                (CampaignConfig.RING_ALLOWANCE.toMillis() + path + CampaignConfig.LIFETIME_MARGIN.toMillis()
                        + 999) / 1000));
        assertThat(campaign(null, null).maxCallLifetime()).isEqualTo(Duration.ofSeconds(430))
                .isLessThan(CampaignConfig.UNBOUNDED_FLOW_LIFETIME);
    }

    @Test
    void longestPath_menuWithHumanCheck_addsEveryAttemptItsLongestVariantAndTimeout() {
        Map<String, MenuOption> options = new LinkedHashMap<>();
        options.put("1", new MenuOption(MenuOption.Action.CONFIRM, Prompt.text("Confirmed, thank you. Goodbye now."),
                null, null));
        options.put("9", MenuOption.of(MenuOption.Action.OPT_OUT));
        String message = "Your appointment is tomorrow at nine.";           // 37 characters, said twice
        String prompt = "Press 1 to confirm or 9 to opt out.";              // 35
        FlowConfig flow = FlowConfig.menu(Prompt.text(message),
                        new Menu(Prompt.text(prompt), null, null, options, 2, 8000))
                .withRepeat(2)
                .withHumanCheck(new FlowConfig.HumanCheck(Prompt.text("Press 1 to hear a message."), null, 3, 4000,
                        null));

        long humanCheck = 3 * (speech(26) + 4000 + speech("Sorry, I did not get that.".length()));
        long attempt = Math.max(2 * speech(37), speech("Sorry, that is not a valid choice.".length())) + speech(35)
                + 8000 + speech("Sorry, I did not get that.".length());
        long closing = speech("Thank you, your answer has been recorded. Goodbye.".length()); // 50, the longest
        assertThat(flow.longestPath()).contains(Duration.ofMillis(humanCheck + 2 * attempt + closing));
    }

    @Test
    void longestPath_ssmlBreaksAndSlowProsody_countedAtPollysLongest() {
        String ssml = "<speak>Hi<break time=\"2s\"/>there<break/></speak>"; // 49 characters, two breaks
        FlowConfig flow = new FlowConfig(FlowConfig.Type.MESSAGE, new FlowConfig.Voice(null, null, null, "ssml"),
                null, Prompt.text(ssml), null, null, null, null, null, null, null, null, null, null);
        String slow = "<speak><prosody rate=\"x-slow\">Hi there</prosody></speak>";
        FlowConfig slowFlow = new FlowConfig(FlowConfig.Type.MESSAGE, new FlowConfig.Voice(null, null, null, "ssml"),
                null, Prompt.text(slow), null, null, null, null, null, null, null, null, null, null);
        long closing = speech("Sorry, something went wrong. Goodbye.".length());

        assertThat(flow.longestPath()).contains(Duration.ofMillis(speech(ssml.length()) + 20_000 + closing));
        assertThat(slowFlow.longestPath()).contains(Duration.ofMillis(
                (long) Math.ceil(slow.length() / FlowConfig.SPEECH_CHARS_PER_SECOND * 5 * 1000) + closing));
    }

    @Test
    void maxCallLifetime_flowWithTransferOrAudio_unboundedDefault() {
        Map<String, MenuOption> options = new LinkedHashMap<>();
        options.put("0", MenuOption.transfer("+12065550199", null));
        FlowConfig transfer = FlowConfig.menu(null, Menu.of(Prompt.text("Press 0 for an agent."), options));
        FlowConfig audio = FlowConfig.message(Prompt.audio("acme-prompts", "reminder.wav"));

        assertThat(transfer.longestPath()).isEmpty();
        assertThat(audio.longestPath()).isEmpty();
        assertThat(campaign(transfer, null).maxCallLifetime()).isEqualTo(Duration.ofMinutes(30));
        assertThat(campaign(audio, null).maxCallLifetime()).isEqualTo(Duration.ofMinutes(30));
    }

    @Test
    void maxCallLifetime_explicit_wins() {
        assertThat(campaign(null, Duration.ofMinutes(45)).maxCallLifetime()).isEqualTo(Duration.ofMinutes(45));
        assertThat(campaign(FlowConfig.message(Prompt.audio("acme-prompts", "r.wav")), Duration.ofSeconds(90))
                .maxCallLifetime()).isEqualTo(Duration.ofSeconds(90));
    }
}
