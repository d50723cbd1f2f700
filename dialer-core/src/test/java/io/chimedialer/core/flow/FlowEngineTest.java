package io.chimedialer.core.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.core.flow.FlowConfig.Menu;
import io.chimedialer.core.flow.FlowConfig.MenuOption;
import io.chimedialer.core.flow.FlowConfig.Prompt;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FlowEngineTest {

    private static final Map<String, String> VARS = Map.of("name", "Ada", "date", "Monday");
    private final FlowEngine engine = new FlowEngine();

    private static FlowConfig menuFlow() {
        Map<String, MenuOption> options = new LinkedHashMap<>();
        options.put("1", MenuOption.of(MenuOption.Action.CONFIRM));
        options.put("2", MenuOption.of(MenuOption.Action.REPEAT));
        options.put("0", MenuOption.transfer("+12065550199", "+12065550111"));
        options.put("9", MenuOption.of(MenuOption.Action.OPT_OUT));
        options.put("*", MenuOption.of(MenuOption.Action.HANGUP));
        return FlowConfig.menu(Prompt.text("Hello {name}, your visit is on {date}."),
                Menu.of(Prompt.text("Press 1 to confirm."), options));
    }

    /** A message flow whose voice speaks SSML. */
    static FlowConfig ssmlMessage(Prompt message) {
        return new FlowConfig(FlowConfig.Type.MESSAGE, new FlowConfig.Voice(null, null, null, "ssml"), null, message,
                null, null, null, null, null, null, null, null, null, null);
    }

    private FlowDecision decide(FlowConfig cfg, FlowRequest.Kind kind, Map<String, String> attrs, String type,
                                String digits, long used) {
        return engine.decide(new FlowRequest(cfg, kind, attrs, VARS, "call-a", type, digits, null, null, used,
                "+12065550100"));
    }

    private static List<String> types(FlowDecision d) {
        return d.actions().stream().map(Action::type).toList();
    }

    @Test
    void answered_messageFlow_speaksRenderedTextThenHangsUp() {
        FlowConfig cfg = FlowConfig.message(Prompt.text("Hello {name}, see you {date}.{unknown}"));
        FlowDecision d = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of("a", "att"), null, null, 3);

        assertThat(types(d)).containsExactly("Speak", "Hangup");
        Map<String, Object> speak = d.actions().get(0).parameters();
        assertThat(speak).containsEntry("CallId", "call-a").containsEntry("Text", "Hello Ada, see you Monday.")
                .containsEntry("Engine", "standard").containsEntry("LanguageCode", "en-US")
                .containsEntry("TextType", "text").containsEntry("VoiceId", "Joanna");
        assertThat(d.actions().get(1).parameters()).containsEntry("SipResponseCode", "0");
        assertThat(d.attributes()).containsEntry("a", "att").containsEntry(FlowEngine.ATTR_HUNG_UP, "1")
                .containsEntry("s", "M");
    }

    @Test
    void answered_audioMessageRepeated_playAudioWithRepeatAndS3Source() {
        FlowConfig cfg = FlowConfig.message(Prompt.audio("bucket", "msg.wav")).withRepeat(3);
        FlowDecision d = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);

        assertThat(types(d)).containsExactly("PlayAudio", "Hangup");
        assertThat(d.actions().get(0).parameters()).containsEntry("Repeat", 3)
                .containsEntry("AudioSource", Map.of("Type", "S3", "BucketName", "bucket", "Key", "msg.wav"));
    }

    @Test
    void longPlan_repeat25_sentInChunksOfTenOnEachActionSuccessful() {
        FlowConfig cfg = FlowConfig.message(Prompt.text("Hi {name}.")).withRepeat(25);
        FlowDecision first = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        assertThat(first.actions()).hasSize(10).allMatch(a -> a.type().equals("Speak"));
        assertThat(first.attributes()).doesNotContainKey(FlowEngine.ATTR_HUNG_UP);

        FlowDecision second = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, first.attributes(), "Speak", null, 4);
        assertThat(second.actions()).hasSize(10).allMatch(a -> a.type().equals("Speak"));

        FlowDecision third = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, second.attributes(), "Speak", null, 5);
        assertThat(types(third)).hasSize(6).endsWith("Hangup").containsOnly("Speak", "Hangup");
        assertThat(third.attributes()).containsEntry(FlowEngine.ATTR_HUNG_UP, "1");

        FlowDecision after = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, third.attributes(), "Hangup", null, 6);
        assertThat(after.actions()).isEmpty();
    }

    @Test
    void actionSuccessful_midListTypeDiffersFromLastAction_emptySoTheListRunsOn() {
        FlowConfig cfg = menuFlow();
        FlowDecision start = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        assertThat(types(start)).containsExactly("Speak", "SpeakAndGetDigits");

        FlowDecision mid = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, start.attributes(), "Speak", null, 4);
        assertThat(mid.actions()).isEmpty();
        assertThat(mid.attributes()).isEqualTo(start.attributes());
    }

    @Test
    void menu_getDigitsParameters_matchChimeCatalogue() {
        FlowDecision d = decide(menuFlow(), FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        Map<String, Object> p = d.actions().get(1).parameters();
        assertThat(p).containsEntry("CallId", "call-a").containsEntry("InputDigitsRegex", "^[1209\\*]$")
                .containsEntry("MinNumberOfDigits", 1).containsEntry("MaxNumberOfDigits", 1)
                .containsEntry("Repeat", 1).containsEntry("RepeatDurationInMilliseconds", 5000)
                .containsEntry("TerminatorDigits", List.of("#"))
                .containsKeys("SpeechParameters", "FailureSpeechParameters");
        @SuppressWarnings("unchecked")
        Map<String, Object> speech = (Map<String, Object>) p.get("SpeechParameters");
        assertThat(speech).containsEntry("Text", "Press 1 to confirm.").containsEntry("VoiceId", "Joanna");
    }

    @Test
    void menu_offeringHash_terminatorIsAKeyTheMenuDoesNotOffer() {
        Map<String, MenuOption> options = new LinkedHashMap<>();
        options.put("1", MenuOption.of(MenuOption.Action.CONFIRM));
        options.put("#", MenuOption.of(MenuOption.Action.REPEAT));
        FlowConfig hashMenu = FlowConfig.menu(null, Menu.of(Prompt.text("Press 1, or # to hear it again."), options));
        options.put("*", MenuOption.of(MenuOption.Action.HANGUP));
        options.put("0", MenuOption.of(MenuOption.Action.OPT_OUT));
        FlowConfig hashStarZero = FlowConfig.menu(null, Menu.of(Prompt.text("Press a key."), options));

        assertThat(decide(hashMenu, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3).actions().get(0).parameters())
                .containsEntry("TerminatorDigits", List.of("*")).containsEntry("InputDigitsRegex", "^[1\\#]$");
        assertThat(decide(hashStarZero, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3).actions().get(0)
                .parameters()).containsEntry("TerminatorDigits", List.of("2"));
    }

    @Test
    void menu_offeringEveryKey_rejectedNamingTheKeyToFree() {
        Map<String, MenuOption> options = new LinkedHashMap<>();
        for (String key : List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#")) {
            options.put(key, MenuOption.of(MenuOption.Action.CONFIRM));
        }

        assertThatThrownBy(() -> Menu.of(Prompt.text("Press any key."), options))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("flow.menu.options: offers every key").hasMessageContaining("\"#\"")
                .hasMessageContaining("TerminatorDigits");
    }

    @Test
    void humanCheckAndInbound_digitIsHash_terminatorIsStar() {
        FlowConfig cfg = FlowConfig.message(Prompt.text("Hi.")).withHumanCheck(
                new FlowConfig.HumanCheck(null, "#", null, null, null))
                .withInbound(new FlowConfig.Inbound(null, "#", null));

        assertThat(decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3).actions().get(0).parameters())
                .containsEntry("TerminatorDigits", List.of("*"));
        assertThat(decide(cfg, FlowRequest.Kind.INBOUND, Map.of(), null, null, 1).actions().get(0).parameters())
                .containsEntry("TerminatorDigits", List.of("*"));
        assertThat(decide(FlowConfig.message(Prompt.text("Hi.")).withHumanCheck(FlowConfig.HumanCheck.DEFAULT),
                FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3).actions().get(0).parameters())
                .containsEntry("TerminatorDigits", List.of("#"));
    }

    @Test
    void decide_dialerUrlInAttributes_keptOnEveryStepWithinTenKeys() {
        FlowConfig cfg = menuFlow();
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("a", "att");
        attrs.put(FlowEngine.ATTR_DIALER_URL, "https://dialer-2.example.com/v1/sma/invocations");
        for (int i = 0; i < 4; i++) {
            attrs.put("foreign" + i, "x"); // not the flow's: dropped, so they cannot push dialerUrl out
        }
        FlowDecision d = decide(cfg, FlowRequest.Kind.ANSWERED, attrs, null, null, 3);
        List<FlowDecision> steps = new java.util.ArrayList<>(List.of(d));
        d = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(), "SpeakAndGetDigits", "2", 4);
        steps.add(d);
        d = decide(cfg, FlowRequest.Kind.ACTION_FAILED, d.attributes(), "SpeakAndGetDigits", null, 5);
        steps.add(d);
        d = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(), "SpeakAndGetDigits", "1", 6);
        steps.add(d);
        assertThat(types(d)).containsExactly("Speak", "Hangup");
        d = decide(cfg, FlowRequest.Kind.CANCEL, d.attributes(), null, null, 7);
        steps.add(d);

        assertThat(steps).allSatisfy(step -> {
            assertThat(step.attributes()).containsEntry(FlowEngine.ATTR_DIALER_URL,
                    "https://dialer-2.example.com/v1/sma/invocations");
            assertThat(step.attributes()).hasSizeLessThanOrEqualTo(FlowEngine.MAX_ATTRIBUTES)
                    .doesNotContainKeys("foreign0", "foreign3");
        });
        assertThat(steps.get(3).attributes()).containsEntry(FlowEngine.ATTR_DIGITS, "21")
                .containsEntry(FlowEngine.ATTR_HUNG_UP, "1");
    }

    @Test
    void decide_dialerUrlLongerThanAnAttributeValue_droppedNotTruncated() {
        String tooLong = "https://dialer.example.com/" + "p".repeat(FlowEngine.MAX_ATTRIBUTE_CHARS);
        FlowDecision d = decide(menuFlow(), FlowRequest.Kind.ANSWERED,
                Map.of("a", "att", FlowEngine.ATTR_DIALER_URL, tooLong), null, null, 3);

        assertThat(d.attributes()).containsEntry("a", "att").doesNotContainKey(FlowEngine.ATTR_DIALER_URL);
    }

    @Test
    void menu_digitConfirm_recordsDigitsThanksAndHangsUp() {
        FlowConfig cfg = menuFlow();
        FlowDecision start = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        FlowDecision d = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, start.attributes(), "SpeakAndGetDigits",
                "1", 4);
        assertThat(types(d)).containsExactly("Speak", "Hangup");
        assertThat(d.effects()).containsExactly(new FlowDecision.DigitsCollected("1"), new FlowDecision.Confirmed("1"));
        assertThat(d.attributes()).containsEntry(FlowEngine.ATTR_DIGITS, "1");
    }

    @Test
    void menu_digitRepeat_playsMessageAndMenuAgain_untilMaxAttemptsThenGoodbye() {
        FlowConfig cfg = menuFlow();
        FlowDecision d = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        d = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(), "SpeakAndGetDigits", "2", 4);
        assertThat(types(d)).containsExactly("Speak", "SpeakAndGetDigits");
        d = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(), "SpeakAndGetDigits", "2", 5);
        assertThat(types(d)).containsExactly("Speak", "SpeakAndGetDigits");
        d = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(), "SpeakAndGetDigits", "2", 6);
        assertThat(types(d)).containsExactly("Speak", "Hangup");
        assertThat(d.actions().get(0).parameters()).containsEntry("Text", "Thank you. Goodbye.");
        assertThat(d.attributes()).containsEntry(FlowEngine.ATTR_DIGITS, "222");
    }

    @Test
    void menu_digitTransfer_callAndBridgeWithCallerIdAndPstnEndpoint() {
        FlowConfig cfg = menuFlow();
        FlowDecision d = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        d = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(), "SpeakAndGetDigits", "0", 4);
        assertThat(types(d)).containsExactly("Speak", "CallAndBridge");
        assertThat(d.actions().get(1).parameters()).containsEntry("CallerIdNumber", "+12065550111")
                .containsEntry("CallTimeoutSeconds", 30)
                .containsEntry("Endpoints", List.of(Map.of("BridgeEndpointType", "PSTN", "Uri", "+12065550199")));

        FlowDecision bridged = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(), "CallAndBridge",
                null, 5);
        assertThat(bridged.actions()).isEmpty();

        FlowDecision failed = decide(cfg, FlowRequest.Kind.ACTION_FAILED, d.attributes(), "CallAndBridge", null, 5);
        assertThat(types(failed)).containsExactly("Speak", "Hangup");
        assertThat(failed.actions().get(0).parameters().get("Text")).asString().contains("no agent");
    }

    @Test
    void menu_digitOptOut_optOutEffectAndConfirmation() {
        FlowConfig cfg = menuFlow();
        FlowDecision d = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        d = decide(cfg, FlowRequest.Kind.DIGITS_RECEIVED, d.attributes(), "ReceiveDigits", "9", 4);
        assertThat(d.effects()).containsExactly(new FlowDecision.DigitsCollected("9"), new FlowDecision.OptOut());
        assertThat(types(d)).containsExactly("Speak", "Hangup");
        assertThat(d.actions().get(0).parameters()).containsEntry("Text", "You will not be called again. Goodbye.");
    }

    @Test
    void menu_unmappedDigit_invalidChoiceThenMenuAgain() {
        FlowConfig cfg = menuFlow();
        FlowDecision d = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        d = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(), "SpeakAndGetDigits", "5", 4);
        assertThat(types(d)).containsExactly("Speak", "SpeakAndGetDigits");
        assertThat(d.actions().get(0).parameters()).containsEntry("Text", "Sorry, that is not a valid choice.");
    }

    @Test
    void menu_noInputFailures_retriedThenGoodbye() {
        FlowConfig cfg = menuFlow();
        FlowDecision d = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        d = engine.decide(new FlowRequest(cfg, FlowRequest.Kind.ACTION_FAILED, d.attributes(), VARS, "call-a",
                "SpeakAndGetDigits", null, "InvalidDigitsReceived", null, 4, null));
        assertThat(types(d)).containsExactly("SpeakAndGetDigits");
        d = decide(cfg, FlowRequest.Kind.ACTION_FAILED, d.attributes(), "SpeakAndGetDigits", null, 5);
        assertThat(types(d)).containsExactly("SpeakAndGetDigits");
        d = decide(cfg, FlowRequest.Kind.ACTION_FAILED, d.attributes(), "SpeakAndGetDigits", null, 6);
        assertThat(types(d)).containsExactly("Speak", "Hangup");
    }

    @Test
    void humanCheck_digitPressed_messageFollows_noInput_hangsUpSilently() {
        FlowConfig cfg = FlowConfig.message(Prompt.text("Your message.")).withHumanCheck(FlowConfig.HumanCheck.DEFAULT);
        FlowDecision check = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        assertThat(types(check)).containsExactly("SpeakAndGetDigits");
        @SuppressWarnings("unchecked")
        Map<String, Object> speech = (Map<String, Object>) check.actions().get(0).parameters().get("SpeechParameters");
        assertThat(speech.get("Text")).isEqualTo("Press 1 to hear a message from an automated reminder service.");
        assertThat(check.actions().get(0).parameters()).containsEntry("Repeat", 2);

        FlowDecision human = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, check.attributes(), "SpeakAndGetDigits",
                "1", 4);
        assertThat(types(human)).containsExactly("Speak", "Hangup");
        assertThat(human.actions().get(0).parameters()).containsEntry("Text", "Your message.");

        FlowDecision machine = decide(cfg, FlowRequest.Kind.ACTION_FAILED, check.attributes(), "SpeakAndGetDigits",
                null, 4);
        assertThat(types(machine)).containsExactly("Hangup");
    }

    @Test
    void humanCheck_noInputWithOnNoInputMessage_leavesMessage() {
        FlowConfig cfg = FlowConfig.message(Prompt.text("Your message.")).withHumanCheck(
                new FlowConfig.HumanCheck(null, null, null, null, FlowConfig.HumanCheck.NoInput.MESSAGE));
        FlowDecision check = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        FlowDecision d = decide(cfg, FlowRequest.Kind.ACTION_FAILED, check.attributes(), "SpeakAndGetDigits", null, 4);
        assertThat(types(d)).containsExactly("Speak", "Hangup");
    }

    @Test
    void budget_reachingReserve_goodbyeAndHangupInsteadOfTheNextStep() {
        FlowConfig cfg = menuFlow().withInvocationLimits(1000, 10);
        FlowDecision d = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        FlowDecision before = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(), "SpeakAndGetDigits",
                "2", 989);
        assertThat(types(before)).containsExactly("Speak", "SpeakAndGetDigits");
        FlowDecision at = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(), "SpeakAndGetDigits",
                "2", 990);
        assertThat(types(at)).containsExactly("Speak", "Hangup");
        assertThat(at.actions().get(0).parameters()).containsEntry("Text", "Thank you. Goodbye.");
        FlowDecision afterHangup = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, at.attributes(), "Hangup", null,
                991);
        assertThat(afterHangup.actions()).isEmpty();
    }

    @Test
    void budget_customReserve_respected() {
        FlowConfig cfg = FlowConfig.message(Prompt.text("x")).withRepeat(100).withInvocationLimits(12, 3);
        FlowDecision d = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        int used = 3;
        int speaks = 10;
        while (!d.attributes().containsKey(FlowEngine.ATTR_HUNG_UP)) {
            used++;
            d = decide(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(), "Speak", null, used);
            speaks += (int) d.actions().stream().filter(a -> a.type().equals("Speak")).count();
        }
        // Chunks at invocations 4..8 continue; at 9 (= 12 - 3) the goodbye replaces the next chunk.
        assertThat(used).isEqualTo(9);
        assertThat(types(d)).containsExactly("Speak", "Hangup");
        assertThat(d.actions().get(0).parameters()).containsEntry("Text", "Thank you. Goodbye.");
        assertThat(speaks).isEqualTo(10 * 6 + 1);
    }

    @Test
    void inbound_default_saysWhoCalledOffersOptOutNeverEmpty() {
        FlowConfig cfg = FlowConfig.DEFAULT;
        FlowDecision d = engine.decide(new FlowRequest(cfg, FlowRequest.Kind.INBOUND, Map.of(),
                Map.of("from", "+15551234567"), "c", null, null, null, null, 1, null));
        assertThat(types(d)).containsExactly("SpeakAndGetDigits");
        @SuppressWarnings("unchecked")
        Map<String, Object> speech = (Map<String, Object>) d.actions().get(0).parameters().get("SpeechParameters");
        assertThat((String) speech.get("Text")).contains("an automated reminder service").contains("press 9");

        FlowDecision optOut = engine.decide(new FlowRequest(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(),
                Map.of(), "c", "SpeakAndGetDigits", "9", null, null, 2, null));
        assertThat(optOut.effects()).contains(new FlowDecision.OptOut());
        assertThat(types(optOut)).containsExactly("Speak", "Hangup");

        FlowDecision other = engine.decide(new FlowRequest(cfg, FlowRequest.Kind.ACTION_SUCCESSFUL, d.attributes(),
                Map.of(), "c", "SpeakAndGetDigits", "3", null, null, 2, null));
        assertThat(other.effects()).doesNotContain(new FlowDecision.OptOut());
        assertThat(types(other)).containsExactly("Speak", "Hangup");
    }

    @Test
    void cancel_hangsUpOnce() {
        FlowDecision d = decide(menuFlow(), FlowRequest.Kind.CANCEL, Map.of("a", "x"), null, null, 5);
        assertThat(types(d)).containsExactly("Hangup");
        FlowDecision again = decide(menuFlow(), FlowRequest.Kind.CANCEL, d.attributes(), null, null, 6);
        assertThat(again.actions()).isEmpty();
    }

    @Test
    void cancel_optOutKeyPressedInTheMenu_optOutEffectWithTheHangup() {
        FlowConfig cfg = menuFlow();
        FlowDecision menu = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);

        FlowDecision optOut = decide(cfg, FlowRequest.Kind.CANCEL, menu.attributes(), "ReceiveDigits", "9", 4);
        FlowDecision confirm = decide(cfg, FlowRequest.Kind.CANCEL, menu.attributes(), "ReceiveDigits", "1", 4);
        FlowDecision noDigits = decide(cfg, FlowRequest.Kind.CANCEL, menu.attributes(), null, null, 4);

        assertThat(optOut.effects()).containsExactly(new FlowDecision.OptOut());
        assertThat(types(optOut)).containsExactly("Hangup");
        assertThat(confirm.effects()).isEmpty();
        assertThat(noDigits.effects()).isEmpty();
    }

    @Test
    void cancel_optOutDigitOfTheInboundFlow_optOutEffect() {
        FlowConfig cfg = FlowConfig.DEFAULT;
        FlowDecision d = engine.decide(new FlowRequest(cfg, FlowRequest.Kind.INBOUND, Map.of(),
                Map.of("from", "+15551234567"), "c", null, null, null, null, 1, null));

        FlowDecision cancelled = engine.decide(new FlowRequest(cfg, FlowRequest.Kind.CANCEL, d.attributes(),
                Map.of(), "c", "SpeakAndGetDigits", "9", null, null, 2, null));

        assertThat(cancelled.effects()).containsExactly(new FlowDecision.OptOut());
        assertThat(types(cancelled)).containsExactly("Hangup");
    }

    @Test
    void cancel_digitsOutsideAMenu_noOptOut() {
        FlowConfig cfg = FlowConfig.message(Prompt.text("Hello."));
        FlowDecision d = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);

        FlowDecision cancelled = decide(cfg, FlowRequest.Kind.CANCEL, d.attributes(), "ReceiveDigits", "9", 4);

        assertThat(cancelled.effects()).isEmpty();
    }

    @Test
    void invalidResponse_apologizesAndHangsUp() {
        FlowDecision d = decide(menuFlow(), FlowRequest.Kind.INVALID_RESPONSE, Map.of(), null, null, 5);
        assertThat(types(d)).containsExactly("Speak", "Hangup");
        assertThat(d.actions().get(0).parameters()).containsEntry("Text", "Sorry, something went wrong. Goodbye.");
    }

    @Test
    void attributes_foreignAndOversizedValues_limitedToTenKeysOf1024Chars() {
        Map<String, String> attrs = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            attrs.put("foreign" + i, "v");
        }
        attrs.put("a", "x".repeat(5000));
        FlowDecision d = decide(menuFlow(), FlowRequest.Kind.ANSWERED, attrs, null, null, 3);
        assertThat(d.attributes()).hasSizeLessThanOrEqualTo(10).doesNotContainKey("foreign0");
        assertThat(d.attributes().get("a")).hasSize(1024);
        assertThat(d.attributes().values()).allMatch(v -> v.length() <= 1024);
    }

    @Test
    void render_longTextCutAt1000AndMissingVariablesEmpty() {
        assertThat(FlowEngine.render("{x}" + "y".repeat(2000), Map.of("x", "z"))).hasSize(1000).startsWith("zy");
        assertThat(FlowEngine.render("Hi {nobody}!", Map.of())).isEqualTo("Hi !");
        assertThat(FlowEngine.render("{a}", Map.of("a", "$1 \\ {b}"))).isEqualTo("$1 \\ {b}");
    }

    @Test
    void render_ssmlTemplate_contactValuesXmlEscaped() {
        String out = FlowEngine.render("<speak>Hello <emphasis>{name}</emphasis>, {note}</speak>",
                Map.of("name", "Smith & <Sons>", "note", "\"quoted\" it's"), true);

        assertThat(out).isEqualTo("<speak>Hello <emphasis>Smith &amp; &lt;Sons&gt;</emphasis>, "
                + "&quot;quoted&quot; it&apos;s</speak>");
    }

    @Test
    void render_plainTextTemplate_valuesLeftAsIs() {
        assertThat(FlowEngine.render("Hello {name}", Map.of("name", "Smith & <Sons>"), false))
                .isEqualTo("Hello Smith & <Sons>");
    }

    @Test
    void render_plainTemplateAsSsml_escapedAndWrappedInSpeak() {
        assertThat(FlowEngine.render("Goodbye, {name} & co.", Map.of("name", "<Ann>"), true))
                .isEqualTo("<speak>Goodbye, &lt;Ann&gt; &amp; co.</speak>");
        String longText = FlowEngine.render("a&b " + "x".repeat(990), Map.of(), true);
        assertThat(longText).hasSizeLessThanOrEqualTo(1000).startsWith("<speak>a&amp;b x").endsWith("x</speak>");
    }

    @Test
    void render_ssmlLongerThan1000_valuesShortenedMarkupKept() {
        String template = "<speak><p>{a}</p><p>{b}</p></speak>";
        String out = FlowEngine.render(template, Map.of("a", "&".repeat(600), "b", "y".repeat(600)), true);

        assertThat(out).hasSizeLessThanOrEqualTo(1000).startsWith("<speak><p>&amp;").endsWith("y</p></speak>");
        assertThat(out).doesNotContain("&amp&").contains("</p><p>y");
    }

    @Test
    void answered_ssmlVoice_speakTextIsEscapedSsml() {
        FlowConfig cfg = ssmlMessage(Prompt.text("<speak>Hello {name}</speak>"));
        FlowDecision d = engine.decide(new FlowRequest(cfg, FlowRequest.Kind.ANSWERED, Map.of(),
                Map.of("name", "Tom & Jerry"), "call-a", null, null, null, null, 3, null));

        assertThat(d.actions().get(0).parameters()).containsEntry("TextType", "ssml")
                .containsEntry("Text", "<speak>Hello Tom &amp; Jerry</speak>");
    }

    @Test
    void actionFailed_speakBeforeOurHangup_hangsUpAgainSinceChimeDroppedTheRestOfTheList() {
        FlowConfig cfg = FlowConfig.message(Prompt.text("Hi."));
        Map<String, String> afterAnswer = decide(cfg, FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3).attributes();
        assertThat(afterAnswer).containsEntry(FlowEngine.ATTR_HUNG_UP, "1");

        FlowDecision speakFailed = engine.decide(new FlowRequest(cfg, FlowRequest.Kind.ACTION_FAILED, afterAnswer,
                VARS, "call-a", "Speak", null, "AccessDenied", null, 4, null));
        FlowDecision hangupFailed = engine.decide(new FlowRequest(cfg, FlowRequest.Kind.ACTION_FAILED,
                speakFailed.attributes(), VARS, "call-a", "Hangup", null, "SystemException", null, 5, null));

        assertThat(types(speakFailed)).containsExactly("Hangup");
        assertThat(hangupFailed.actions()).isEmpty();
    }

    @Test
    void actionFailed_digitPromptDeniedNotNoInput_hangsUpSilently() {
        FlowDecision first = decide(menuFlow(), FlowRequest.Kind.ANSWERED, Map.of(), null, null, 3);
        FlowDecision denied = engine.decide(new FlowRequest(menuFlow(), FlowRequest.Kind.ACTION_FAILED,
                first.attributes(), VARS, "call-a", "SpeakAndGetDigits", null, "AccessDenied", null, 4, null));

        assertThat(types(denied)).containsExactly("Hangup");
    }

    @Test
    void config_invalidValues_rejectedWithFieldName() {
        assertThatThrownBy(() -> FlowConfig.message(null)).hasMessageContaining("flow.message");
        assertThatThrownBy(() -> FlowConfig.message(Prompt.text("x")).withRepeat(0))
                .hasMessageContaining("flow.repeat");
        assertThatThrownBy(() -> FlowConfig.message(Prompt.text("x")).withInvocationLimits(1000, 1000))
                .hasMessageContaining("flow.invocation-reserve");
        assertThatThrownBy(() -> new Prompt("x", new FlowConfig.Audio("prompts-bucket", "k"))).hasMessageContaining("exactly one");
        assertThatThrownBy(() -> MenuOption.transfer("12345", null)).hasMessageContaining("transfer-to");
        assertThatThrownBy(() -> Menu.of(Prompt.text("x"), Map.of("12", MenuOption.of(MenuOption.Action.CONFIRM))))
                .hasMessageContaining("flow.menu.options");
    }
}
