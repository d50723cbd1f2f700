package io.chimedialer.core.flow;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What a campaign's call does once answered (and what an inbound callback hears). An immutable tree of
 * records, validated at construction, that Jackson binds from YAML with kebab-case keys; every field may be
 * omitted and then takes the default named on it.
 *
 * <pre>
 * flow:
 *   type: menu                       # message (default) | menu
 *   voice: { voice-id: Joanna, language-code: en-US, engine: standard }
 *   caller-name: "Acme Clinic"       # {caller-name} in any text
 *   message: { text: "Hello {name}, your appointment is on {date}." }   # or audio: { bucket: b, key: k }
 *   repeat: 1                        # how many times the message is played
 *   human-check: { prompt: { text: "Press 1 to hear this message." }, on-no-input: hangup }
 *   menu:
 *     prompt: { text: "Press 1 to confirm, 2 to hear this again, 0 for an agent, 9 to opt out." }
 *     options:
 *       "1": { action: confirm, prompt: { text: "Thank you, confirmed." } }
 *       "2": { action: repeat }
 *       "0": { action: transfer, transfer-to: "+12065550199", caller-id: "+12065550100" }
 *       "9": { action: opt-out }
 *   invocation-reserve: 10
 * </pre>
 *
 * @param type              {@code MESSAGE} (default) or {@code MENU}
 * @param voice             Polly voice settings for every spoken text (default Joanna, en-US, standard)
 * @param callerName        who is calling, available as {@code {caller-name}} (default "an automated reminder service")
 * @param message           the message; for MENU it is spoken before the menu prompt when present
 * @param repeat            how many times the message is played, 1..100 (default 1)
 * @param menu              the menu, required when type is MENU
 * @param humanCheck        when present, "press 1 to hear this message" runs before everything else
 * @param goodbye           spoken before a polite hang-up (default "Thank you. Goodbye.")
 * @param optedOut          spoken after an opt-out (default "You will not be called again. Goodbye.")
 * @param agentUnavailable  spoken when a transfer fails (default "Sorry, no agent is available. Goodbye.")
 * @param error             spoken after Chime reported an invalid response (default "Sorry, something went wrong. Goodbye.")
 * @param inbound           the flow of NEW_INBOUND_CALL (default: says who called, press 9 to opt out)
 * @param invocationBudget  Chime's invocations per call, 1..1000 (default 1000)
 * @param invocationReserve the call is hung up politely once fewer than this many invocations remain,
 *                          1..budget-1 (default 10)
 */
@JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
public record FlowConfig(Type type, Voice voice, String callerName, Prompt message, Integer repeat, Menu menu,
                         HumanCheck humanCheck, Prompt goodbye, Prompt optedOut, Prompt agentUnavailable,
                         Prompt error, Inbound inbound, Integer invocationBudget, Integer invocationReserve) {

    /** A short message, then hang up. */
    public static final FlowConfig DEFAULT = FlowConfig.message(
            Prompt.text("Hello {name}, this is a reminder call from {caller-name}. Goodbye."));

    /** Chime's hard limit of invocations per call. */
    public static final int CHIME_INVOCATION_LIMIT = 1000;

    /** The speaking pace {@link #longestPath()} assumes, in characters per second. */
    public static final double SPEECH_CHARS_PER_SECOND = 8;

    /** What Chime says when a digit prompt gets no valid input (the engine's FailureSpeechParameters default). */
    static final String FAILURE_TEXT = "Sorry, I did not get that.";
    /** Said after a confirm option without its own prompt. */
    static final String CONFIRMED_TEXT = "Thank you, your answer has been recorded. Goodbye.";

    public FlowConfig {
        type = type == null ? Type.MESSAGE : type;
        voice = voice == null ? Voice.DEFAULT : voice;
        callerName = callerName == null || callerName.isBlank() ? "an automated reminder service" : callerName;
        repeat = repeat == null ? 1 : repeat;
        if (repeat < 1 || repeat > 100) {
            throw new IllegalArgumentException("flow.repeat must be 1..100, was " + repeat);
        }
        if (type == Type.MESSAGE && message == null) {
            throw new IllegalArgumentException("flow.message is required when flow.type is message");
        }
        if (type == Type.MENU && menu == null) {
            throw new IllegalArgumentException("flow.menu is required when flow.type is menu");
        }
        goodbye = goodbye == null ? Prompt.text("Thank you. Goodbye.") : goodbye;
        optedOut = optedOut == null ? Prompt.text("You will not be called again. Goodbye.") : optedOut;
        agentUnavailable = agentUnavailable == null
                ? Prompt.text("Sorry, no agent is available right now. Goodbye.") : agentUnavailable;
        error = error == null ? Prompt.text("Sorry, something went wrong. Goodbye.") : error;
        inbound = inbound == null ? Inbound.DEFAULT : inbound;
        invocationBudget = invocationBudget == null ? CHIME_INVOCATION_LIMIT : invocationBudget;
        if (invocationBudget < 1 || invocationBudget > CHIME_INVOCATION_LIMIT) {
            throw new IllegalArgumentException("flow.invocation-budget must be 1..1000, was " + invocationBudget);
        }
        invocationReserve = invocationReserve == null ? Math.min(10, invocationBudget - 1) : invocationReserve;
        if (invocationReserve < 0 || invocationReserve >= invocationBudget) {
            throw new IllegalArgumentException("flow.invocation-reserve must be 0.." + (invocationBudget - 1)
                    + ", was " + invocationReserve);
        }
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Prompt> e : prompts(message, menu, humanCheck, goodbye, optedOut, agentUnavailable,
                error, inbound).entrySet()) {
            String text = e.getValue().text();
            String problem = text == null ? null : Ssml.problem(text, voice.textType());
            if (problem != null) {
                problems.add(e.getKey() + ".text: " + problem);
            }
        }
        if (!problems.isEmpty()) {
            // One line per problem, each starting with its key: the configuration reports each at its key.
            throw new IllegalArgumentException(String.join("\n", problems));
        }
    }

    /**
     * The longest an answered outbound call can stay in this flow, from CALL_ANSWERED to its last action, or empty
     * when the configuration does not bound it: a menu with a transfer (the bridged conversation lasts as long as the
     * agent talks) or an audio prompt (the length of the WAV is not known here). It adds the human check's attempts,
     * every menu attempt with its longest variant (the message again, or the invalid-choice text) and timeout, and
     * the longest closing text; speech is estimated at {@value #SPEECH_CHARS_PER_SECOND} characters per second (about
     * half Polly's usual pace), a text with a {@code {column}} at Speak's full 1,000 characters, an SSML
     * {@code <break>} at Polly's longest (10 s) and an SSML text with a {@code <prosody rate>} five times slower
     * (Polly's slowest rate is 20 %).
     */
    public Optional<java.time.Duration> longestPath() {
        Map<String, Prompt> heard = prompts();
        heard.remove("flow.inbound.prompt");
        heard.remove("flow.agent-unavailable");
        if (heard.values().stream().anyMatch(p -> p.audio() != null)) {
            return Optional.empty();
        }
        long ms = 0;
        if (humanCheck != null) {
            ms += humanCheck.attempts() * (speechMillis(humanCheck.prompt()) + humanCheck.timeoutMillis()
                    + speechMillis(Prompt.text(FAILURE_TEXT)));
        }
        long messageMs = message == null ? 0 : repeat * speechMillis(message);
        long closing = Math.max(speechMillis(goodbye), speechMillis(error));
        if (type == Type.MENU && menu != null) {
            if (menu.options().values().stream().anyMatch(o -> o.action() == MenuOption.Action.TRANSFER)) {
                return Optional.empty();
            }
            long perAttempt = Math.max(messageMs, speechMillis(menu.invalidChoice())) + speechMillis(menu.prompt())
                    + menu.timeoutMillis() + speechMillis(menu.failurePrompt());
            ms += menu.maxAttempts() * perAttempt;
            closing = Math.max(closing, speechMillis(optedOut));
            closing = Math.max(closing, speechMillis(Prompt.text(CONFIRMED_TEXT)));
            for (MenuOption option : menu.options().values()) {
                if (option.prompt() != null) {
                    closing = Math.max(closing, speechMillis(option.prompt()));
                }
            }
        } else {
            ms += messageMs;
        }
        return Optional.of(java.time.Duration.ofMillis(ms + closing));
    }

    /** Estimated speaking time of a text prompt, in milliseconds (see {@link #longestPath()}). */
    private long speechMillis(Prompt prompt) {
        String text = prompt.text();
        int chars = FlowEngine.PLACEHOLDER.matcher(text).find() ? 1000 : text.length();
        double seconds = chars / SPEECH_CHARS_PER_SECOND;
        if ("ssml".equals(voice.textType()) && Ssml.isMarkup(text)) {
            if (text.contains("<prosody") && text.contains("rate")) {
                seconds *= 5;
            }
            int breaks = 0;
            for (int i = text.indexOf("<break"); i >= 0; i = text.indexOf("<break", i + 1)) {
                breaks++;
            }
            seconds += breaks * 10;
        }
        return (long) Math.ceil(seconds * 1000);
    }

    /** Every prompt of the flow that the callee may hear, by its key ({@code flow.menu.options.1.prompt}). */
    public Map<String, Prompt> prompts() {
        return prompts(message, menu, humanCheck, goodbye, optedOut, agentUnavailable, error, inbound);
    }

    private static Map<String, Prompt> prompts(Prompt message, Menu menu, HumanCheck humanCheck, Prompt goodbye,
                                               Prompt optedOut, Prompt agentUnavailable, Prompt error,
                                               Inbound inbound) {
        Map<String, Prompt> all = new LinkedHashMap<>();
        if (humanCheck != null) {
            all.put("flow.human-check.prompt", humanCheck.prompt());
        }
        if (message != null) {
            all.put("flow.message", message);
        }
        if (menu != null) {
            all.put("flow.menu.prompt", menu.prompt());
            all.put("flow.menu.failure-prompt", menu.failurePrompt());
            all.put("flow.menu.invalid-choice", menu.invalidChoice());
            menu.options().forEach((key, option) -> {
                if (option.prompt() != null) {
                    all.put("flow.menu.options." + key + ".prompt", option.prompt());
                }
            });
        }
        all.put("flow.goodbye", goodbye);
        all.put("flow.opted-out", optedOut);
        all.put("flow.agent-unavailable", agentUnavailable);
        all.put("flow.error", error);
        all.put("flow.inbound.prompt", inbound.prompt());
        return all;
    }

    /** A MESSAGE flow with every other setting at its default. */
    public static FlowConfig message(Prompt message) {
        return new FlowConfig(Type.MESSAGE, null, null, message, null, null, null, null, null, null, null, null,
                null, null);
    }

    /** A MENU flow (optionally preceded by {@code message}) with every other setting at its default. */
    public static FlowConfig menu(Prompt message, Menu menu) {
        return new FlowConfig(Type.MENU, null, null, message, null, menu, null, null, null, null, null, null,
                null, null);
    }

    /** A copy with a human check before the flow. */
    public FlowConfig withHumanCheck(HumanCheck check) {
        return new FlowConfig(type, voice, callerName, message, repeat, menu, check, goodbye, optedOut,
                agentUnavailable, error, inbound, invocationBudget, invocationReserve);
    }

    /** A copy with another message repeat count. */
    public FlowConfig withRepeat(int times) {
        return new FlowConfig(type, voice, callerName, message, times, menu, humanCheck, goodbye, optedOut,
                agentUnavailable, error, inbound, invocationBudget, invocationReserve);
    }

    /** A copy with another invocation budget and reserve. */
    public FlowConfig withInvocationLimits(int budget, int reserve) {
        return new FlowConfig(type, voice, callerName, message, repeat, menu, humanCheck, goodbye, optedOut,
                agentUnavailable, error, inbound, budget, reserve);
    }

    /** A copy with another voice. */
    public FlowConfig withVoice(Voice v) {
        return new FlowConfig(type, v, callerName, message, repeat, menu, humanCheck, goodbye, optedOut,
                agentUnavailable, error, inbound, invocationBudget, invocationReserve);
    }

    /** A copy with another inbound flow. */
    public FlowConfig withInbound(Inbound in) {
        return new FlowConfig(type, voice, callerName, message, repeat, menu, humanCheck, goodbye, optedOut,
                agentUnavailable, error, in, invocationBudget, invocationReserve);
    }

    /** The kind of flow. Binds case-insensitively ({@code message}, {@code MENU}). */
    public enum Type {
        MESSAGE, MENU;

        @JsonCreator
        static Type of(String value) {
            return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }

    /**
     * Polly settings of Speak and SpeakAndGetDigits. The voice, its language and its engine must go together as
     * {@link PollyVoices} lists them (Chime fails the action otherwise).
     *
     * @param voiceId      Polly voice (default Joanna)
     * @param languageCode e.g. en-US (default en-US)
     * @param engine       standard or neural (default standard)
     * @param textType     text or ssml (default text)
     */
    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    public record Voice(String voiceId, String languageCode, String engine, String textType) {
        /** Joanna, en-US, standard, text. */
        public static final Voice DEFAULT = new Voice(null, null, null, null);

        public Voice {
            voiceId = voiceId == null || voiceId.isBlank() ? "Joanna" : voiceId;
            languageCode = languageCode == null || languageCode.isBlank() ? "en-US" : languageCode;
            engine = engine == null || engine.isBlank() ? "standard" : engine;
            if (!engine.equals("standard") && !engine.equals("neural")) {
                throw new IllegalArgumentException("flow.voice.engine must be standard or neural, was " + engine);
            }
            textType = textType == null || textType.isBlank() ? "text" : textType;
            if (!textType.equals("text") && !textType.equals("ssml")) {
                throw new IllegalArgumentException("flow.voice.text-type must be text or ssml, was " + textType);
            }
            PollyVoices.problem(voiceId, languageCode, engine).ifPresent(problem -> {
                throw new IllegalArgumentException(problem);
            });
        }
    }

    /**
     * Something the callee hears: either a text spoken by Polly (with {@code {variable}} placeholders from the
     * contact row) or a WAV object in S3. Exactly one of the two.
     *
     * @param text  the text, at most 1,000 characters
     * @param audio the S3 object
     */
    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    public record Prompt(String text, Audio audio) {
        public Prompt {
            if ((text == null) == (audio == null)) {
                throw new IllegalArgumentException("a prompt needs exactly one of text or audio");
            }
            if (text != null && (text.isBlank() || text.length() > 1000)) {
                throw new IllegalArgumentException("prompt text must be 1..1000 characters, was " + text.length());
            }
        }

        /** A spoken prompt. */
        public static Prompt text(String text) {
            return new Prompt(text, null);
        }

        /** A prompt played from S3. */
        public static Prompt audio(String bucket, String key) {
            return new Prompt(null, new Audio(bucket, key));
        }
    }

    /**
     * An audio object in S3 (same account; raw PCM WAV).
     *
     * @param bucket the bucket name
     * @param key    the object key
     */
    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    public record Audio(String bucket, String key) {
        public Audio {
            if (bucket == null || bucket.isBlank() || key == null || key.isBlank()) {
                throw new IllegalArgumentException("audio needs a bucket and a key");
            }
            if (!S3_BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
                throw new IllegalArgumentException("audio.bucket must be an S3 bucket name (3 to 63 lower-case"
                        + " letters, digits, dots and hyphens, starting and ending with a letter or digit), was '"
                        + bucket + "'");
            }
            if (key.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 1024) {
                throw new IllegalArgumentException("audio.key must be at most 1,024 bytes (S3's limit)");
            }
        }
    }

    /**
     * A digit menu.
     *
     * @param prompt        what is asked (required)
     * @param failurePrompt what Chime says when the input is invalid or missing (default "Sorry, I did not get that.")
     * @param invalidChoice spoken when a digit has no option (default "Sorry, that is not a valid choice.")
     * @param options       digit (0-9, * or #) to option; at least one
     * @param maxAttempts   how many times the menu is offered before a polite hang-up, 1..10 (default 3)
     * @param timeoutMillis how long to wait for a digit (RepeatDurationInMilliseconds), 1000..60000 (default 5000)
     */
    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    public record Menu(Prompt prompt, Prompt failurePrompt, Prompt invalidChoice, Map<String, MenuOption> options,
                       Integer maxAttempts, Integer timeoutMillis) {
        public Menu {
            if (prompt == null) {
                throw new IllegalArgumentException("flow.menu.prompt is required");
            }
            failurePrompt = failurePrompt == null ? Prompt.text(FAILURE_TEXT) : failurePrompt;
            invalidChoice = invalidChoice == null ? Prompt.text("Sorry, that is not a valid choice.") : invalidChoice;
            if (options == null || options.isEmpty()) {
                throw new IllegalArgumentException("flow.menu.options needs at least one digit");
            }
            options.forEach((digit, option) -> {
                if (digit == null || !digit.matches("[0-9*#]")) {
                    throw new IllegalArgumentException("flow.menu.options key must be one digit 0-9, * or #, was "
                            + digit);
                }
                if (option == null) {
                    throw new IllegalArgumentException("flow.menu.options." + digit + " is empty");
                }
            });
            options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
            if (terminatorAvoiding(options.keySet()) == null) {
                throw new IllegalArgumentException("flow.menu.options: offers every key, \"#\" included: Chime ends"
                        + " digit input on a terminator key (TerminatorDigits) and does not report it, so one key must"
                        + " stay free for that; remove one option, e.g. \"#\"");
            }
            maxAttempts = maxAttempts == null ? 3 : maxAttempts;
            if (maxAttempts < 1 || maxAttempts > 10) {
                throw new IllegalArgumentException("flow.menu.max-attempts must be 1..10, was " + maxAttempts);
            }
            timeoutMillis = timeoutMillis == null ? 5000 : timeoutMillis;
            if (timeoutMillis < 1000 || timeoutMillis > 60000) {
                throw new IllegalArgumentException("flow.menu.timeout-millis must be 1000..60000, was "
                        + timeoutMillis);
            }
        }

        /** A menu with default failure texts, attempts and timeout. */
        public static Menu of(Prompt prompt, Map<String, MenuOption> options) {
            return new Menu(prompt, null, null, options, null, null);
        }

        /**
         * The key sent as the menu's {@code TerminatorDigits}: {@code #}, or when the menu offers {@code #}, the
         * first key it does not offer ({@code *}, then 0-9). Chime ends input on it without reporting it, so an
         * offered key must never be the terminator.
         */
        public String terminatorDigit() {
            return terminatorAvoiding(options.keySet());
        }
    }

    /**
     * What one digit of a menu does.
     *
     * @param action     confirm, repeat, transfer, opt-out or hangup
     * @param prompt     spoken after the choice (defaults: confirm "Thank you, your answer has been recorded.
     *                   Goodbye.", transfer "Please hold while we connect you.", opt-out and hangup use the flow's
     *                   opted-out and goodbye texts)
     * @param transferTo E.164 number of the agent, required for transfer
     * @param callerId   caller id of the bridged leg (a number you own); defaults to the number that placed the call
     */
    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    public record MenuOption(Action action, Prompt prompt, String transferTo, String callerId) {
        public MenuOption {
            if (action == null) {
                throw new IllegalArgumentException("a menu option needs an action");
            }
            if (action == Action.TRANSFER && (transferTo == null || !transferTo.matches("\\+[1-9][0-9]{1,14}"))) {
                throw new IllegalArgumentException("transfer-to must be an E.164 number, was " + transferTo);
            }
        }

        /** An option with its default prompt. */
        public static MenuOption of(Action action) {
            return new MenuOption(action, null, null, null);
        }

        /** A transfer to an agent. */
        public static MenuOption transfer(String agentNumber, String callerId) {
            return new MenuOption(Action.TRANSFER, null, agentNumber, callerId);
        }

        /** What a menu digit does. Binds case-insensitively, with - or _ ({@code opt-out}). */
        public enum Action {
            CONFIRM, REPEAT, TRANSFER, OPT_OUT, HANGUP;

            @JsonCreator
            static Action of(String value) {
                return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            }
        }
    }

    /**
     * "Press 1 to hear this message": separates people from answering machines before the message.
     *
     * @param prompt        what is asked (default "Press 1 to hear a message from {caller-name}.")
     * @param digit         the digit to press (default "1"); any other digit also counts as a person
     * @param attempts      how many times the prompt is repeated while waiting, 1..5 (default 2)
     * @param timeoutMillis how long each attempt waits, 1000..60000 (default 5000)
     * @param onNoInput     {@code HANGUP} (default) or {@code MESSAGE} (leave the message anyway, e.g. on voicemail)
     */
    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    public record HumanCheck(Prompt prompt, String digit, Integer attempts, Integer timeoutMillis, NoInput onNoInput) {
        /** All defaults. */
        public static final HumanCheck DEFAULT = new HumanCheck(null, null, null, null, null);

        public HumanCheck {
            prompt = prompt == null ? Prompt.text("Press 1 to hear a message from {caller-name}.") : prompt;
            digit = digit == null ? "1" : digit;
            if (!digit.matches("[0-9*#]")) {
                throw new IllegalArgumentException("flow.human-check.digit must be one of 0-9, * or #, was " + digit);
            }
            attempts = attempts == null ? 2 : attempts;
            if (attempts < 1 || attempts > 5) {
                throw new IllegalArgumentException("flow.human-check.attempts must be 1..5, was " + attempts);
            }
            timeoutMillis = timeoutMillis == null ? 5000 : timeoutMillis;
            if (timeoutMillis < 1000 || timeoutMillis > 60000) {
                throw new IllegalArgumentException("flow.human-check.timeout-millis must be 1000..60000, was "
                        + timeoutMillis);
            }
            onNoInput = onNoInput == null ? NoInput.HANGUP : onNoInput;
        }

        /**
         * The check's {@code TerminatorDigits}: {@code #}, or {@code *} when {@code #} is the digit to press. That
         * key ends input without a digit, so pressing it counts as no input.
         */
        public String terminatorDigit() {
            return terminatorAvoiding(java.util.Set.of(digit));
        }

        /** What happens when nobody presses a digit. */
        public enum NoInput {
            HANGUP, MESSAGE;

            @JsonCreator
            static NoInput of(String value) {
                return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            }
        }
    }

    /**
     * The flow of a NEW_INBOUND_CALL (someone calling one of our numbers back). Never answers with an empty
     * action list.
     *
     * @param prompt        says who called and offers the opt-out; {@code {from}} is the caller, {@code {to}} our
     *                      number (default "You received a call from {caller-name}. To stop receiving these calls,
     *                      press 9. Otherwise, you may hang up.")
     * @param optOutDigit   the opt-out digit (default "9")
     * @param timeoutMillis how long to wait for the digit, 1000..60000 (default 5000)
     */
    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    public record Inbound(Prompt prompt, String optOutDigit, Integer timeoutMillis) {
        /** All defaults. */
        public static final Inbound DEFAULT = new Inbound(null, null, null);

        public Inbound {
            prompt = prompt == null ? Prompt.text("You received a call from {caller-name}. To stop receiving these"
                    + " calls, press 9. Otherwise, you may hang up.") : prompt;
            optOutDigit = optOutDigit == null ? "9" : optOutDigit;
            if (!optOutDigit.matches("[0-9*#]")) {
                throw new IllegalArgumentException("flow.inbound.opt-out-digit must be one of 0-9, * or #, was "
                        + optOutDigit);
            }
            timeoutMillis = timeoutMillis == null ? 5000 : timeoutMillis;
            if (timeoutMillis < 1000 || timeoutMillis > 60000) {
                throw new IllegalArgumentException("flow.inbound.timeout-millis must be 1000..60000, was "
                        + timeoutMillis);
            }
        }

        /** The inbound prompt's {@code TerminatorDigits}: {@code #}, or {@code *} when {@code #} is the opt-out digit. */
        public String terminatorDigit() {
            return terminatorAvoiding(java.util.Set.of(optOutDigit));
        }
    }

    /** An S3 bucket name: 3 to 63 of a-z, 0-9, '.', '-', starting and ending with a letter or digit. */
    private static final java.util.regex.Pattern S3_BUCKET =
            java.util.regex.Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    /** Terminator keys in order of preference. */
    private static final List<String> TERMINATORS = List.of("#", "*", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

    /** The first key of {@code #}, {@code *}, 0-9 that is not among {@code offered}, or null when all are. */
    static String terminatorAvoiding(java.util.Collection<String> offered) {
        for (String key : TERMINATORS) {
            if (!offered.contains(key)) {
                return key;
            }
        }
        return null;
    }
}
