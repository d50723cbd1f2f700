package io.chimedialer.core.flow;

import io.chimedialer.core.flow.FlowConfig.MenuOption;
import io.chimedialer.core.flow.FlowConfig.Prompt;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides the next actions of a call from its flow, the state it carries in TransactionAttributes and what
 * just happened. Stateless and thread-safe: everything it needs is in the {@link FlowRequest}, so any node can
 * continue any call.
 *
 * <p>Each step of a flow is a deterministic plan of actions; a plan longer than {@link #MAX_ACTIONS} is sent
 * in chunks, the next one on the ACTION_SUCCESSFUL that ends the previous one (its position is kept in the
 * attributes). Chunks end with the only action whose result matters (a GetDigits, CallAndBridge or Hangup), so
 * a mid-list ACTION_SUCCESSFUL of another type is answered with no actions and the list runs on. Once the
 * invocations left fall to the flow's reserve, the call gets a short goodbye and a Hangup.
 */
public final class FlowEngine {

    /** Chime's limit of actions in one response. */
    public static final int MAX_ACTIONS = 10;
    /** Chime's limit of TransactionAttributes keys. */
    public static final int MAX_ATTRIBUTES = 10;
    /** Chime's limit of characters per TransactionAttributes value. */
    public static final int MAX_ATTRIBUTE_CHARS = 1024;

    /** Attribute: the attempt id (set by the webhook so that any node can correlate the call). */
    public static final String ATTR_ATTEMPT = "a";
    /** Attribute: epoch millis of CALL_ANSWERED (set by the webhook; talk time after a restart). */
    public static final String ATTR_ANSWERED_AT = "ans";
    /** Attribute: "1" once a Hangup of LEG-A was sent. */
    public static final String ATTR_HUNG_UP = "hu";
    /** Attribute: digits collected so far, in order (truncated at 64). */
    public static final String ATTR_DIGITS = "dg";
    /**
     * Attribute: the webhook URL of the dialer node that placed the call, copied by the webhook from
     * NEW_OUTBOUND_CALL's Arguments (ArgumentsMap key of the same name) and kept on every later response, so
     * that the Lambda bridge sends each invocation of the call to that node. Never truncated: a value over
     * {@link #MAX_ATTRIBUTE_CHARS} characters is dropped.
     */
    public static final String ATTR_DIALER_URL = "dialerUrl";
    static final String ATTR_STEP = "s";
    static final String ATTR_OFFSET = "o";
    static final String ATTR_LAST = "l";
    static final String ATTR_MENU_TRIES = "m";
    // Nine keys: within Chime's ten.
    private static final Set<String> KEYS = Set.of(ATTR_ATTEMPT, ATTR_ANSWERED_AT, ATTR_HUNG_UP, ATTR_DIGITS,
            ATTR_STEP, ATTR_OFFSET, ATTR_LAST, ATTR_MENU_TRIES, ATTR_DIALER_URL);

    // Steps, as stored in attribute "s".
    static final String HUMAN_CHECK = "H";
    static final String MESSAGE = "M";
    static final String MENU_FIRST = "U0";
    static final String MENU_INVALID = "U1";
    static final String MENU_AGAIN = "U2";
    static final String OPTION = "C";      // followed by the digit, e.g. "C1"
    static final String TRANSFER = "T";    // followed by the digit
    static final String BRIDGED = "X";
    static final String OPTED_OUT = "O";
    static final String GOODBYE = "B";
    static final String AGENT_UNAVAILABLE = "N";
    static final String ERROR = "E";
    static final String SILENT_HANGUP = "Z";
    static final String INBOUND = "I";

    static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z0-9_.-]+)}");
    private static final int MAX_DIGITS_KEPT = 64;
    /** Speak's limit on Text (and SpeakAndGetDigits' on each SpeechParameters.Text). */
    private static final int MAX_TEXT = 1000;

    /** Creates the engine; it holds no state. */
    public FlowEngine() {
    }

    /**
     * Decides the response to one step of a call.
     *
     * @param request what happened and the call's state
     * @return at most 10 actions, the complete new attributes and the side effects; never null
     */
    public FlowDecision decide(FlowRequest request) {
        Map<String, String> attrs = new LinkedHashMap<>();
        request.attributes().forEach((k, v) -> {
            if (KEYS.contains(k) && v != null
                    && !(ATTR_DIALER_URL.equals(k) && v.length() > MAX_ATTRIBUTE_CHARS)) {
                attrs.put(k, v);
            }
        });
        Ctx ctx = new Ctx(request, attrs);
        switch (request.kind()) {
            case CANCEL -> {
                // The call is being closed (its lifetime ran out, its campaign was cancelled), yet a callee who
                // pressed the opt-out key asked not to be called again: that is heard all the same.
                if (asksOptOut(ctx, request.receivedDigits())) {
                    ctx.effects.add(new FlowDecision.OptOut());
                }
                return ctx.alreadyHungUp() ? ctx.none() : ctx.start(SILENT_HANGUP);
            }
            case LEG_HANGUP -> {
                List<Action> actions = List.of(Action.hangup(request.legToHangUp() == null ? "LEG-A"
                        : request.legToHangUp()));
                if (!"LEG-B".equalsIgnoreCase(request.legToHangUp())) {
                    attrs.put(ATTR_HUNG_UP, "1");
                }
                return ctx.decision(actions);
            }
            default -> {
            }
        }
        if (ctx.alreadyHungUp()) {
            // After our Hangup nothing more is said; a repeated failure must not loop. But an action that failed
            // before our Hangup made Chime drop the rest of its list, that Hangup included: hang up again (a failed
            // Hangup, or one whose type is unknown, is not repeated).
            if (request.kind() == FlowRequest.Kind.ACTION_FAILED && request.actionType() != null
                    && !"Hangup".equalsIgnoreCase(request.actionType())) {
                return ctx.decision(List.of(Action.hangup()));
            }
            return ctx.none();
        }
        FlowConfig cfg = request.config();
        if (request.invocationsUsed() >= (long) cfg.invocationBudget() - cfg.invocationReserve()) {
            return ctx.start(GOODBYE);
        }
        return switch (request.kind()) {
            case ANSWERED -> ctx.start(cfg.humanCheck() != null ? HUMAN_CHECK
                    : cfg.type() == FlowConfig.Type.MESSAGE ? MESSAGE : MENU_FIRST);
            case INBOUND -> ctx.start(INBOUND);
            case INVALID_RESPONSE -> ctx.start(ERROR);
            case DIGITS_RECEIVED -> onDigits(ctx, request.receivedDigits());
            case ACTION_SUCCESSFUL -> onSuccess(ctx);
            case ACTION_FAILED -> onFailure(ctx);
            default -> ctx.none();
        };
    }

    private FlowDecision onSuccess(Ctx ctx) {
        FlowRequest r = ctx.request;
        String type = r.actionType();
        String last = ctx.attrs.get(ATTR_LAST);
        if (type != null && last != null && !type.equalsIgnoreCase(last)) {
            return ctx.none(); // mid-list success of an earlier action: let the list run on
        }
        if (isGetDigits(type) || (type == null && r.receivedDigits() != null)) {
            return onDigits(ctx, r.receivedDigits());
        }
        if ("CallAndBridge".equalsIgnoreCase(type)) {
            ctx.attrs.put(ATTR_STEP, BRIDGED);
            return ctx.none();
        }
        String step = ctx.attrs.getOrDefault(ATTR_STEP, "");
        List<Action> plan = plan(ctx, step);
        int offset = parseInt(ctx.attrs.get(ATTR_OFFSET), plan.size());
        if (!plan.isEmpty() && offset >= 0 && offset < plan.size()) {
            return ctx.chunk(step, plan, offset);
        }
        if (step.isEmpty() || BRIDGED.equals(step)) {
            return ctx.none();
        }
        // The plan ran out without a Hangup (should not happen); end politely rather than leave the call open.
        return plan.isEmpty() || !"Hangup".equals(plan.get(plan.size() - 1).type()) ? ctx.start(GOODBYE)
                : ctx.none();
    }

    private FlowDecision onFailure(Ctx ctx) {
        FlowRequest r = ctx.request;
        String type = r.actionType();
        String step = ctx.attrs.getOrDefault(ATTR_STEP, "");
        if ("Hangup".equalsIgnoreCase(type)) {
            return ctx.none();
        }
        if ("CallAndBridge".equalsIgnoreCase(type)) {
            return ctx.start(AGENT_UNAVAILABLE);
        }
        boolean noInput = r.errorType() == null || r.errorType().isBlank()
                || "InvalidDigitsReceived".equalsIgnoreCase(r.errorType());
        if ((isGetDigits(type) || "ReceiveDigits".equalsIgnoreCase(type)) && !noInput) {
            // The prompt itself failed (e.g. AccessDenied for Polly): asking again would fail the same way.
            return ctx.start(SILENT_HANGUP);
        }
        if (isGetDigits(type) || "InvalidDigitsReceived".equalsIgnoreCase(r.errorType())
                || "ReceiveDigits".equalsIgnoreCase(type)) {
            FlowConfig cfg = r.config();
            if (HUMAN_CHECK.equals(step)) {
                return cfg.humanCheck() != null && cfg.humanCheck().onNoInput() == FlowConfig.HumanCheck.NoInput.MESSAGE
                        ? ctx.start(afterHumanCheck(cfg)) : ctx.start(SILENT_HANGUP);
            }
            if (step.startsWith("U")) {
                return menuAgain(ctx, MENU_AGAIN);
            }
            return ctx.start(GOODBYE);
        }
        return ctx.start(SILENT_HANGUP);
    }

    private FlowDecision onDigits(Ctx ctx, String digits) {
        String d = digits == null ? "" : digits.trim();
        if (!d.isEmpty()) {
            ctx.effects.add(new FlowDecision.DigitsCollected(d));
            String so = ctx.attrs.getOrDefault(ATTR_DIGITS, "") + d;
            ctx.attrs.put(ATTR_DIGITS, so.length() > MAX_DIGITS_KEPT ? so.substring(so.length() - MAX_DIGITS_KEPT) : so);
        }
        FlowConfig cfg = ctx.request.config();
        String step = ctx.attrs.getOrDefault(ATTR_STEP, "");
        if (HUMAN_CHECK.equals(step)) {
            // Any key press means a person is listening.
            return d.isEmpty() ? onFailureNoInputHuman(ctx, cfg) : ctx.start(afterHumanCheck(cfg));
        }
        if (INBOUND.equals(step)) {
            if (d.equals(cfg.inbound().optOutDigit())) {
                ctx.effects.add(new FlowDecision.OptOut());
                return ctx.start(OPTED_OUT);
            }
            return ctx.start(GOODBYE);
        }
        if (step.startsWith("U") && cfg.menu() != null) {
            String key = d.isEmpty() ? "" : d.substring(0, 1);
            MenuOption option = cfg.menu().options().get(key);
            if (option == null) {
                return menuAgain(ctx, MENU_INVALID);
            }
            return switch (option.action()) {
                case CONFIRM -> {
                    ctx.effects.add(new FlowDecision.Confirmed(key));
                    yield ctx.start(OPTION + key);
                }
                case REPEAT -> menuAgain(ctx, MENU_FIRST);
                case TRANSFER -> ctx.start(TRANSFER + key);
                case OPT_OUT -> {
                    ctx.effects.add(new FlowDecision.OptOut());
                    yield ctx.start(OPTED_OUT);
                }
                case HANGUP -> ctx.start(GOODBYE);
            };
        }
        // Digits outside a menu (e.g. a stray DIGITS_RECEIVED): recorded, nothing else changes.
        return ctx.none();
    }

    /**
     * Whether digits pressed at the call's current step ask to opt out: the inbound flow's opt-out digit, or a
     * menu key whose option is {@code opt-out}. The same reading as {@link #onDigits}, without its other effects.
     */
    private static boolean asksOptOut(Ctx ctx, String digits) {
        String d = digits == null ? "" : digits.trim();
        if (d.isEmpty()) {
            return false;
        }
        FlowConfig cfg = ctx.request.config();
        String step = ctx.attrs.getOrDefault(ATTR_STEP, "");
        if (INBOUND.equals(step)) {
            return d.equals(cfg.inbound().optOutDigit());
        }
        if (step.startsWith("U") && cfg.menu() != null) {
            MenuOption option = cfg.menu().options().get(d.substring(0, 1));
            return option != null && option.action() == MenuOption.Action.OPT_OUT;
        }
        return false;
    }

    private FlowDecision onFailureNoInputHuman(Ctx ctx, FlowConfig cfg) {
        return cfg.humanCheck() != null && cfg.humanCheck().onNoInput() == FlowConfig.HumanCheck.NoInput.MESSAGE
                ? ctx.start(afterHumanCheck(cfg)) : ctx.start(SILENT_HANGUP);
    }

    private FlowDecision menuAgain(Ctx ctx, String step) {
        FlowConfig.Menu menu = ctx.request.config().menu();
        int tries = Math.max(0, parseInt(ctx.attrs.get(ATTR_MENU_TRIES), 0)) + 1;
        // A menu step in the attributes of a flow without a menu (foreign or forged state): end politely.
        if (menu == null || tries >= menu.maxAttempts()) {
            return ctx.start(GOODBYE);
        }
        ctx.attrs.put(ATTR_MENU_TRIES, Integer.toString(tries));
        return ctx.start(step);
    }

    private static String afterHumanCheck(FlowConfig cfg) {
        return cfg.type() == FlowConfig.Type.MESSAGE ? MESSAGE : MENU_FIRST;
    }

    /** The whole plan of a step, rebuilt from the config so that a continuation needs only the step's name. */
    private List<Action> plan(Ctx ctx, String step) {
        FlowConfig cfg = ctx.request.config();
        List<Action> plan = new ArrayList<>();
        if (step.isEmpty()) {
            return plan;
        }
        switch (step.substring(0, 1)) {
            case HUMAN_CHECK -> {
                FlowConfig.HumanCheck hc = cfg.humanCheck() == null ? FlowConfig.HumanCheck.DEFAULT : cfg.humanCheck();
                plan.add(getDigits(ctx, hc.prompt(), Prompt.text(FlowConfig.FAILURE_TEXT), "^[0-9#*]$",
                        hc.terminatorDigit(), hc.attempts(), hc.timeoutMillis()));
            }
            case MESSAGE -> {
                addMessage(ctx, plan);
                plan.add(Action.hangup());
            }
            case "U" -> {
                FlowConfig.Menu menu = cfg.menu();
                if (menu == null) {
                    plan.add(Action.hangup());
                    break;
                }
                if (step.equals(MENU_FIRST) && cfg.message() != null) {
                    addMessage(ctx, plan);
                } else if (step.equals(MENU_INVALID)) {
                    plan.add(say(ctx, menu.invalidChoice()));
                }
                plan.add(getDigits(ctx, menu.prompt(), menu.failurePrompt(), menuRegex(menu), menu.terminatorDigit(),
                        1, menu.timeoutMillis()));
            }
            case OPTION -> {
                MenuOption option = option(cfg, step);
                plan.add(say(ctx, option != null && option.prompt() != null ? option.prompt()
                        : Prompt.text(FlowConfig.CONFIRMED_TEXT)));
                plan.add(Action.hangup());
            }
            case TRANSFER -> {
                MenuOption option = option(cfg, step);
                if (option == null || option.transferTo() == null) {
                    plan.add(say(ctx, cfg.agentUnavailable()));
                    plan.add(Action.hangup());
                    break;
                }
                plan.add(say(ctx, option.prompt() != null ? option.prompt()
                        : Prompt.text("Please hold while we connect you.")));
                plan.add(bridge(option, ctx.request.callerId()));
            }
            case OPTED_OUT -> {
                plan.add(say(ctx, cfg.optedOut()));
                plan.add(Action.hangup());
            }
            case GOODBYE -> {
                plan.add(say(ctx, cfg.goodbye()));
                plan.add(Action.hangup());
            }
            case AGENT_UNAVAILABLE -> {
                plan.add(say(ctx, cfg.agentUnavailable()));
                plan.add(Action.hangup());
            }
            case ERROR -> {
                plan.add(say(ctx, cfg.error()));
                plan.add(Action.hangup());
            }
            case INBOUND -> plan.add(getDigits(ctx, cfg.inbound().prompt(), Prompt.text("Goodbye."),
                    "^[0-9#*]$", cfg.inbound().terminatorDigit(), 2, cfg.inbound().timeoutMillis()));
            case SILENT_HANGUP -> plan.add(Action.hangup());
            default -> {
                // BRIDGED and unknown steps have no plan.
            }
        }
        return plan;
    }

    private static MenuOption option(FlowConfig cfg, String step) {
        return cfg.menu() == null || step.length() < 2 ? null : cfg.menu().options().get(step.substring(1, 2));
    }

    private static String menuRegex(FlowConfig.Menu menu) {
        StringBuilder sb = new StringBuilder("^[");
        for (String digit : menu.options().keySet()) {
            sb.append(digit.equals("*") || digit.equals("#") ? "\\" + digit : digit);
        }
        return sb.append("]$").toString();
    }

    private void addMessage(Ctx ctx, List<Action> plan) {
        FlowConfig cfg = ctx.request.config();
        Prompt message = cfg.message() == null ? cfg.goodbye() : cfg.message();
        if (message.audio() != null) {
            Map<String, Object> p = target(ctx);
            p.put("Repeat", cfg.repeat());
            p.put("AudioSource", s3(message.audio()));
            plan.add(new Action("PlayAudio", p));
        } else {
            for (int i = 0; i < cfg.repeat(); i++) {
                plan.add(say(ctx, message));
            }
        }
    }

    private Action say(Ctx ctx, Prompt prompt) {
        Map<String, Object> p = target(ctx);
        if (prompt.audio() != null) {
            p.put("AudioSource", s3(prompt.audio()));
            return new Action("PlayAudio", p);
        }
        p.putAll(speech(ctx, prompt));
        return new Action("Speak", p);
    }

    /** A GetDigits whose terminator is never a key the step offers (Chime does not report the terminator). */
    private Action getDigits(Ctx ctx, Prompt prompt, Prompt failure, String regex, String terminator, int repeat,
                             int timeoutMillis) {
        Map<String, Object> p = target(ctx);
        p.put("InputDigitsRegex", regex);
        boolean audio = prompt.audio() != null;
        if (audio) {
            p.put("AudioSource", s3(prompt.audio()));
            p.put("FailureAudioSource", failure.audio() != null ? s3(failure.audio()) : s3(prompt.audio()));
        } else {
            p.put("SpeechParameters", speech(ctx, prompt));
            Prompt f = failure.text() != null ? failure : Prompt.text(FlowConfig.FAILURE_TEXT);
            p.put("FailureSpeechParameters", speech(ctx, f));
        }
        p.put("MinNumberOfDigits", 1);
        p.put("MaxNumberOfDigits", 1);
        p.put("TerminatorDigits", List.of(terminator));
        p.put("InBetweenDigitsDurationInMilliseconds", timeoutMillis);
        p.put("Repeat", repeat);
        p.put("RepeatDurationInMilliseconds", timeoutMillis);
        return new Action(audio ? "PlayAudioAndGetDigits" : "SpeakAndGetDigits", p);
    }

    private static Action bridge(MenuOption option, String defaultCallerId) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("CallTimeoutSeconds", 30);
        p.put("CallerIdNumber", option.callerId() != null ? option.callerId() : defaultCallerId);
        Map<String, Object> endpoint = new LinkedHashMap<>();
        endpoint.put("BridgeEndpointType", "PSTN");
        endpoint.put("Uri", option.transferTo());
        p.put("Endpoints", List.of(endpoint));
        return new Action("CallAndBridge", p);
    }

    private static Map<String, Object> target(Ctx ctx) {
        Map<String, Object> p = new LinkedHashMap<>();
        if (ctx.request.callId() != null) {
            p.put("CallId", ctx.request.callId());
        } else {
            p.put("ParticipantTag", "LEG-A");
        }
        return p;
    }

    private static Map<String, Object> speech(Ctx ctx, Prompt prompt) {
        FlowConfig.Voice voice = ctx.request.config().voice();
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("Text", render(prompt.text(), ctx.variables, "ssml".equals(voice.textType())));
        p.put("Engine", voice.engine());
        p.put("LanguageCode", voice.languageCode());
        p.put("TextType", voice.textType());
        p.put("VoiceId", voice.voiceId());
        return p;
    }

    private static Map<String, Object> s3(FlowConfig.Audio audio) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("Type", "S3");
        s.put("BucketName", audio.bucket());
        s.put("Key", audio.key());
        return s;
    }

    /**
     * Replaces {@code {name}} placeholders by their values; unknown placeholders become empty, and the result
     * is cut at Speak's 1,000 characters.
     */
    static String render(String template, Map<String, String> variables) {
        String text = substitute(template, variables, Integer.MAX_VALUE, false).strip();
        if (text.isEmpty()) {
            text = ".";
        }
        return text.length() > MAX_TEXT ? text.substring(0, MAX_TEXT) : text;
    }

    /**
     * {@link #render(String, Map)} for Speak's {@code TextType}. As SSML ({@code ssml} true), a template that is
     * markup gets its values XML-escaped (a name like {@code Smith & <Sons>} is spoken, not parsed), and when the
     * result would exceed 1,000 characters the values are shortened, never the markup, so the document stays
     * well-formed; a plain-text template is rendered as text and then escaped and wrapped in {@code <speak>}.
     */
    static String render(String template, Map<String, String> variables, boolean ssml) {
        if (!ssml) {
            return render(template, variables);
        }
        if (!Ssml.isMarkup(template)) {
            return Ssml.wrap(render(template, variables), MAX_TEXT);
        }
        String full = substitute(template, variables, Integer.MAX_VALUE, true).strip();
        if (full.length() <= MAX_TEXT) {
            return full;
        }
        // The longest cap on each value's length that fits; with every value empty the template alone fits
        // (its length is checked at configuration).
        int lo = 0;
        int hi = 0;
        for (String v : variables.values()) {
            hi = Math.max(hi, v == null ? 0 : v.length());
        }
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (substitute(template, variables, mid, true).strip().length() <= MAX_TEXT) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        String text = substitute(template, variables, lo, true).strip();
        return text.length() > MAX_TEXT ? text.substring(0, MAX_TEXT) : text;
    }

    /** The template with each placeholder replaced by its value cut at {@code cap} characters, escaped or not. */
    private static String substitute(String template, Map<String, String> variables, int cap, boolean escape) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String value = variables.get(m.group(1));
            if (value == null) {
                value = variables.get(m.group(1).toLowerCase(Locale.ROOT));
            }
            value = value == null ? "" : value;
            if (value.length() > cap) {
                int end = cap > 0 && Character.isHighSurrogate(value.charAt(cap - 1)) ? cap - 1 : cap;
                value = value.substring(0, end);
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(escape ? Ssml.escape(value) : value));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static boolean isGetDigits(String type) {
        return "SpeakAndGetDigits".equalsIgnoreCase(type) || "PlayAudioAndGetDigits".equalsIgnoreCase(type);
    }

    private static int parseInt(String s, int fallback) {
        if (s == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** Mutable working state of one decision. */
    private final class Ctx {
        final FlowRequest request;
        final Map<String, String> attrs;
        final Map<String, String> variables;
        final List<FlowDecision.Effect> effects = new ArrayList<>();

        Ctx(FlowRequest request, Map<String, String> attrs) {
            this.request = request;
            this.attrs = attrs;
            Map<String, String> vars = new LinkedHashMap<>(request.variables());
            vars.putIfAbsent("caller-name", request.config().callerName());
            this.variables = vars;
        }

        boolean alreadyHungUp() {
            return "1".equals(attrs.get(ATTR_HUNG_UP));
        }

        FlowDecision none() {
            return decision(List.of());
        }

        FlowDecision start(String step) {
            return chunk(step, plan(this, step), 0);
        }

        FlowDecision chunk(String step, List<Action> plan, int offset) {
            int end = Math.min(plan.size(), offset + MAX_ACTIONS);
            List<Action> actions = plan.subList(offset, end);
            attrs.put(ATTR_STEP, step);
            attrs.put(ATTR_OFFSET, Integer.toString(end));
            if (!actions.isEmpty()) {
                attrs.put(ATTR_LAST, actions.get(actions.size() - 1).type());
            }
            for (Action a : actions) {
                if ("Hangup".equals(a.type()) && !"LEG-B".equals(a.parameters().get("ParticipantTag"))) {
                    attrs.put(ATTR_HUNG_UP, "1");
                }
            }
            return decision(actions);
        }

        FlowDecision decision(List<Action> actions) {
            Map<String, String> out = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : attrs.entrySet()) {
                if (out.size() == MAX_ATTRIBUTES) {
                    break;
                }
                String v = e.getValue();
                out.put(e.getKey(), v.length() > MAX_ATTRIBUTE_CHARS ? v.substring(0, MAX_ATTRIBUTE_CHARS) : v);
            }
            return new FlowDecision(actions, out, effects);
        }
    }
}
