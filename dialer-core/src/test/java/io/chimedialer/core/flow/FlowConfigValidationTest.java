package io.chimedialer.core.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.core.flow.FlowConfig.Prompt;
import io.chimedialer.core.flow.FlowConfig.Voice;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What FlowConfig rejects at construction (configuration load) that Chime would fail on every call. */
class FlowConfigValidationTest {

    private static FlowConfig withVoiceAndMessage(Voice voice, Prompt message) {
        return new FlowConfig(FlowConfig.Type.MESSAGE, voice, null, message, null, null, null, null, null, null,
                null, null, null, null);
    }

    @Test
    void voice_knownCombinations_accepted() {
        assertThat(new Voice(null, null, null, null).voiceId()).isEqualTo("Joanna");
        assertThat(new Voice("Joanna", "en-US", "neural", null).engine()).isEqualTo("neural");
        assertThat(new Voice("Matthew", "en-US", "neural", null).voiceId()).isEqualTo("Matthew");
        assertThat(new Voice("Lea", "fr-FR", "standard", "ssml").languageCode()).isEqualTo("fr-FR");
        // A bilingual voice speaks its other language too.
        assertThat(new Voice("Aditi", "hi-IN", "standard", null).languageCode()).isEqualTo("hi-IN");
    }

    @Test
    void voice_unknownId_rejectedWithTheLanguagesVoices() {
        assertThatThrownBy(() -> new Voice("Joana", "en-US", "standard", null))
                .hasMessageStartingWith("flow.voice.voice-id: 'Joana' is not an Amazon Polly voice")
                .hasMessageContaining("standard voices for en-US: Ivy, Joanna, Kendra");
        assertThatThrownBy(() -> new Voice("joanna", null, null, null))
                .hasMessage("flow.voice.voice-id: Polly's voice ids are case-sensitive: 'joanna' should be 'Joanna'");
    }

    @Test
    void voice_languageTheVoiceDoesNotSpeak_rejectedAtLanguageCode() {
        assertThatThrownBy(() -> new Voice("Joanna", "fr-FR", null, null))
                .hasMessageStartingWith("flow.voice.language-code: Joanna speaks en-US, not 'fr-FR'")
                .hasMessageContaining("standard voices for fr-FR: Celine, Lea, Mathieu");
    }

    @Test
    void voice_engineTheVoiceLacks_rejectedAtEngine() {
        assertThatThrownBy(() -> new Voice("Matthew", "en-US", "standard", null))
                .hasMessageStartingWith("flow.voice.engine: Matthew has no standard voice, only neural");
        assertThatThrownBy(() -> new Voice("Zeina", "arb", "neural", null))
                .hasMessageContaining("(no neural voice speaks 'arb')");
    }

    @Test
    void pollyVoices_table_everyVoiceHasAnEngineChimeTakesAndTheDefaultIsListed() {
        assertThat(PollyVoices.all()).isNotEmpty().allSatisfy(v -> {
            assertThat(v.engines()).isNotEmpty().isSubsetOf(PollyVoices.STANDARD, PollyVoices.NEURAL);
            assertThat(v.languageCode()).matches("[a-z]{2,3}(-[A-Z]{2}(-[A-Z]{3})?)?");
        });
        assertThat(PollyVoices.problem("Joanna", "en-US", "standard")).isEmpty();
        assertThat(PollyVoices.voicesFor("en-GB", "neural")).containsExactly("Amy", "Emma", "Brian", "Arthur");
    }

    @Test
    void ssml_wellFormedWithSpeakRoot_accepted() {
        Voice ssml = new Voice(null, null, null, "ssml");
        FlowConfig cfg = withVoiceAndMessage(ssml, Prompt.text(
                "<speak>Hello {name}, <break time=\"300ms\"/><amazon:effect name=\"whispered\">see you</amazon:effect>"
                        + " on <say-as interpret-as=\"date\" format=\"mdy\">{date}</say-as>.</speak>"));

        assertThat(cfg.voice().textType()).isEqualTo("ssml");
        // Plain texts, like the defaults, are fine under ssml: they are escaped and wrapped when spoken.
        assertThat(withVoiceAndMessage(ssml, Prompt.text("Hello & welcome")).goodbye().text())
                .isEqualTo("Thank you. Goodbye.");
    }

    @Test
    void ssml_malformedOrWrongRoot_rejectedAtTheTextsKey() {
        Voice ssml = new Voice(null, null, null, "ssml");

        assertThatThrownBy(() -> withVoiceAndMessage(ssml, Prompt.text("<speak>Hello <emphasis>{name}</speak>")))
                .hasMessageStartingWith("flow.message.text: not well-formed SSML (line 1, column")
                .hasMessageContaining("emphasis");
        assertThatThrownBy(() -> withVoiceAndMessage(ssml, Prompt.text("<p>Hello</p>")))
                .hasMessage("flow.message.text: SSML must have <speak> as its root element, was <p>");
        assertThatThrownBy(() -> withVoiceAndMessage(ssml, Prompt.text("<speak>Tom & Jerry</speak>")))
                .hasMessageStartingWith("flow.message.text: not well-formed SSML");
    }

    @Test
    void ssml_doctypeOrExternalEntity_rejectedWithoutReadingIt() {
        Voice ssml = new Voice(null, null, null, "ssml");
        String xxe = "<?xml version=\"1.0\"?><!DOCTYPE speak [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                + "<speak>&x;</speak>";

        assertThatThrownBy(() -> withVoiceAndMessage(ssml, Prompt.text(xxe)))
                .hasMessageStartingWith("flow.message.text: not well-formed SSML").hasMessageContaining("DOCTYPE")
                .hasMessageNotContaining("root:");
    }

    @Test
    void ssml_markupWithTextTypeText_rejected() {
        assertThatThrownBy(() -> FlowConfig.message(Prompt.text("<speak>Hello</speak>")))
                .hasMessageStartingWith("flow.message.text: looks like SSML").hasMessageContaining("text-type: ssml");
    }

    @Test
    void ssml_severalBadTexts_eachOnItsOwnLineWithItsKey() {
        Map<String, FlowConfig.MenuOption> options = new LinkedHashMap<>();
        options.put("1", new FlowConfig.MenuOption(FlowConfig.MenuOption.Action.CONFIRM, Prompt.text("<speak>ok"),
                null, null));
        FlowConfig.Menu menu = FlowConfig.Menu.of(Prompt.text("<speek>Press 1</speek>"), options);

        assertThatThrownBy(() -> new FlowConfig(FlowConfig.Type.MENU, new Voice(null, null, null, "ssml"), null, null,
                null, menu, null, null, null, null, null, null, null, null))
                .hasMessageContaining("flow.menu.prompt.text: SSML must have <speak> as its root element, was <speek>")
                .hasMessageContaining("\nflow.menu.options.1.prompt.text: not well-formed SSML");
    }

    @Test
    void audio_bucketNotAnS3NameOrKeyTooLong_rejected() {
        assertThat(Prompt.audio("acme-prompts.v2", "reminders/en/message.wav").audio().bucket())
                .isEqualTo("acme-prompts.v2");
        assertThatThrownBy(() -> Prompt.audio("Acme_Prompts", "m.wav")).hasMessageStartingWith("audio.bucket must be"
                + " an S3 bucket name").hasMessageContaining("'Acme_Prompts'");
        assertThatThrownBy(() -> Prompt.audio("ab", "m.wav")).hasMessageStartingWith("audio.bucket");
        assertThatThrownBy(() -> Prompt.audio("acme", "k".repeat(1025))).hasMessageStartingWith("audio.key");
        assertThatThrownBy(() -> Prompt.audio("acme", " ")).hasMessage("audio needs a bucket and a key");
    }

    @Test
    void text_longerThanSpeaksLimit_rejected() {
        assertThat(Prompt.text("x".repeat(1000)).text()).hasSize(1000);
        assertThatThrownBy(() -> Prompt.text("x".repeat(1001))).hasMessageContaining("1..1000 characters");
    }
}
