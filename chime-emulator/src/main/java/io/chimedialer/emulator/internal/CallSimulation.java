package io.chimedialer.emulator.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.Faults;
import io.chimedialer.emulator.RetrySequence;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.emulator.SmaEndpoint;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.PatternSyntaxException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * One call's life as the SIP media application sees it: NEW_OUTBOUND_CALL, RINGING, then CALL_ANSWERED
 * and the action lists the endpoint returns, or HANGUP with the callee's SIP code (CHIME.md §3-§5).
 *
 * <p>Threading: every state change runs as a task on this call's own {@link Scheduler.Worker}, which
 * runs tasks one at a time, so the worker-confined fields need no locks. Fields read by
 * {@link #snapshot()} from other threads are guarded by {@code this}.
 */
final class CallSimulation implements CallEntry {
    private static final Logger log = LoggerFactory.getLogger(CallSimulation.class);
    static final int MAX_INVOCATIONS = 1000;
    private static final byte[] EMPTY = new byte[0];
    /** Actions an UpdateSipMediaApplicationCall interrupts (CHIME.md §4.1). */
    private static final Set<String> INTERRUPTIBLE = Set.of("PlayAudio", "RecordAudio", "Pause");
    /** Actions that report their own ACTION_SUCCESSFUL mid-list; the others report once the list is done. */
    private static final Set<String> REPORTS_ITSELF = Set.of("CallAndBridge", "Hangup", "JoinChimeMeeting",
            "ModifyChimeMeetingAttendees", "PlayAudioAndGetDigits", "SpeakAndGetDigits", "RecordAudio",
            "StartBotConversation");
    private static final long DIGIT_MS = 500;
    private static final long PROMPT_MS = 3000;
    private static final long FAST_FAILURE_MS = 500;
    private static final long RINGING_AFTER_MS = 100;
    /** How long an injected runtime failure takes: the request to Polly or S3 that fails. */
    private static final long MEDIA_FAILURE_MS = 200;
    /** The actions an injected runtime failure applies to: those that fetch speech (Polly) or audio (S3). */
    private static final Set<String> SPEECH = Set.of("Speak", "SpeakAndGetDigits");
    private static final Set<String> AUDIO = Set.of("PlayAudio", "PlayAudioAndGetDigits");

    private enum State { DIALING, ANSWERED, ENDED }

    private static final class Leg {
        final String callId = Engine.uuid();
        final String tag;
        final String to;
        final String from;
        final long startMs;
        final Scenario.Callee callee;
        String status;
        Disposable talkTimer;

        Leg(String tag, String to, String from, long startMs, Scenario.Callee callee) {
            this.tag = tag;
            this.to = to;
            this.from = from;
            this.startMs = startMs;
            this.callee = callee;
        }

        boolean connected() {
            return "Connected".equals(status);
        }
    }

    /** How an action will end: after ms, with an error or with extra ActionData fields. */
    private record Plan(long ms, String errorType, String errorMessage, ObjectNode extra, Runnable onSuccess) {
        static Plan ok(long ms) {
            return new Plan(ms, null, null, null, null);
        }

        static Plan fail(long ms, String type, String message) {
            return new Plan(ms, type, message, null, null);
        }
    }

    private static final class Running {
        final ObjectNode echo;
        final String type;
        final Leg leg;
        final Plan plan;
        Disposable timer;

        Running(ObjectNode echo, String type, Leg leg, Plan plan) {
            this.echo = echo;
            this.type = type;
            this.leg = leg;
            this.plan = plan;
        }
    }

    private static final class InvocationLog {
        final int sequence;
        final String type;
        final Instant at;
        final AtomicInteger deliveries = new AtomicInteger();
        volatile String result = "pending";
        /** Set when the retry after a failed delivery was sent. */
        volatile boolean retried;

        InvocationLog(int sequence, String type, Instant at) {
            this.sequence = sequence;
            this.type = type;
            this.at = at;
        }
    }

    private final Engine engine;
    final Engine.RegionState region;
    final String transactionId;
    private final String from;
    private final String to;
    private final Map<String, String> arguments;
    private final Map<String, String> sipHeaders;
    private final Scenario.Callee callee;
    private final Instant createdAt;

    // Worker-confined state.
    private Scheduler.Worker worker;
    private State state = State.DIALING;
    private int sequence;
    private int invocationCount;
    private boolean invoking;
    private Map<String, String> attributes = Map.of();
    private final List<Leg> legs = new ArrayList<>();
    private final Leg legA;
    private final ArrayDeque<ObjectNode> pending = new ArrayDeque<>();
    private final ArrayDeque<Runnable> deferred = new ArrayDeque<>();
    private final List<Runnable> updatesBeforeAnswer = new ArrayList<>();
    private Running current;
    private ObjectNode listLast;
    private boolean playbackHangupUsed;

    // Shared with snapshot(); guarded by this.
    private volatile boolean ended;
    private Instant answeredAt;
    private Instant endedAt;
    private String disposition;
    private Integer sipCode;
    private boolean sipCodeOmitted;
    private String endReason;
    private int endCount;
    private final List<InvocationLog> invocationLog = new ArrayList<>();
    private final List<CallRecord.Action> actionLog = new ArrayList<>();

    CallSimulation(Engine engine, Engine.RegionState region, String transactionId, String from, String to,
                   Map<String, String> arguments, Map<String, String> sipHeaders, Scenario.Callee callee) {
        this.engine = engine;
        this.region = region;
        this.transactionId = transactionId;
        this.from = from;
        this.to = to;
        this.arguments = Map.copyOf(arguments);
        this.sipHeaders = Map.copyOf(sipHeaders);
        this.callee = callee;
        this.createdAt = engine.now();
        this.legA = new Leg("LEG-A", to, from, createdAt.toEpochMilli(), callee);
        legs.add(legA);
    }

    @Override
    public String smaId() {
        return region.config.sipMediaApplicationId();
    }

    @Override
    public boolean ended() {
        return ended;
    }

    // ---------------------------------------------------------------- entry points (any thread)

    void start() {
        worker = engine.scheduler.createWorker();
        exec(this::sendNewOutbound);
    }

    @Override
    public void requestUpdate(Map<String, String> updateArguments) {
        Map<String, String> args = Map.copyOf(updateArguments);
        exec(() -> onUpdate(args));
    }

    // ---------------------------------------------------------------- scheduling

    private void exec(Runnable task) {
        schedule(task, 0);
    }

    private Disposable schedule(Runnable task, long emulatedMs) {
        Runnable safe = () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("call {} failed inside the emulator", transactionId, e);
                if (!ended) {
                    endCall(503, "emulatorError", legA);
                }
            }
        };
        try {
            long nanos = engine.scaledNanos(emulatedMs);
            return nanos == 0 ? worker.schedule(safe) : worker.schedule(safe, nanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // The emulator is closing, or the call is over and its worker gone.
            return () -> { };
        }
    }

    // ---------------------------------------------------------------- the call's phases

    private void sendNewOutbound() {
        ObjectNode ad = engine.mapper.createObjectNode();
        ad.put("Type", "CallCreateRequest");
        ad.putObject("Parameters").set("Arguments", engine.mapper.valueToTree(arguments));
        invoke("NEW_OUTBOUND_CALL", ad, null, null, raw -> {
            keepAttributes(raw);
            Scenario.Outcome o = callee.outcome();
            if (o == Scenario.Outcome.INVALID_NUMBER || o == Scenario.Outcome.FAILED) {
                // The network refuses these at once: no RINGING.
                schedule(() -> endUnanswered(o), FAST_FAILURE_MS);
            } else {
                schedule(this::sendRinging, RINGING_AFTER_MS);
            }
        });
    }

    private void sendRinging() {
        invoke("RINGING", null, null, null, raw -> {
            keepAttributes(raw);
            Scenario.Outcome o = callee.outcome();
            schedule(o == Scenario.Outcome.ANSWERED ? this::answer : () -> endUnanswered(o), callee.ringMs());
        });
    }

    private void endUnanswered(Scenario.Outcome o) {
        if (ended) {
            return;
        }
        synchronized (this) {
            disposition = o.key();
        }
        endCall(o.sipCode(), "unanswered", legA);
    }

    private void answer() {
        if (ended) {
            return;
        }
        state = State.ANSWERED;
        legA.status = "Connected";
        synchronized (this) {
            answeredAt = engine.now();
            disposition = "answered";
        }
        legA.talkTimer = schedule(() -> calleeHangup(legA), callee.talkMs());
        deferred.addAll(updatesBeforeAnswer);
        updatesBeforeAnswer.clear();
        invoke("CALL_ANSWERED", null, null, null, raw -> handleResponse(raw, this::runNext));
    }

    private void runNext() {
        if (ended || invoking || current != null) {
            return;
        }
        Runnable event = deferred.poll();
        if (event != null) {
            event.run();
            return;
        }
        if (state != State.ANSWERED) {
            return;
        }
        ObjectNode next = pending.poll();
        if (next == null) {
            if (listLast != null) {
                ObjectNode ad = listLast;
                listLast = null;
                invoke("ACTION_SUCCESSFUL", ad, null, null, raw -> handleResponse(raw, this::runNext));
            }
            return;
        }
        startAction(next);
    }

    private void handleResponse(byte[] raw, Runnable then) {
        ResponseValidator.Parsed p = ResponseValidator.parse(engine.mapper, raw);
        if (p.invalid()) {
            engine.invalidResponses.increment();
            invoke("INVALID_LAMBDA_RESPONSE", null, p.errorType(), p.errorMessage(), r -> handleResponse(r, then));
            return;
        }
        if (p.attributes() != null) {
            attributes = p.attributes();
        }
        if (p.actions() != null && !p.actions().isEmpty()) {
            // Replacement semantics: the new list replaces whatever had not started yet.
            pending.clear();
            pending.addAll(p.actions());
            listLast = null;
        }
        then.run();
    }

    private void keepAttributes(byte[] raw) {
        Map<String, String> a = ResponseValidator.attributesLeniently(engine.mapper, raw);
        if (a != null) {
            attributes = a;
        }
    }

    // ---------------------------------------------------------------- actions

    private void startAction(ObjectNode action) {
        String type = action.get("Type").textValue();
        ObjectNode echo = action.deepCopy();
        ObjectNode params = echo.get("Parameters") instanceof ObjectNode o ? o : echo.putObject("Parameters");
        Leg target = targetLeg(params);
        if (target == null) {
            failNow(echo, type, null, "InvalidActionParameter", "Invalid CallId or ParticipantTag");
            return;
        }
        // Checked as sent, before the emulator fills in CallId: a parameter error fails this action, not the response.
        ActionValidator.Failure invalid = ActionValidator.validate(type, params);
        if (invalid != null) {
            failNow(echo, type, target, invalid.errorType(), invalid.errorMessage());
            return;
        }
        if (!"CallAndBridge".equals(type) && !params.has("CallId")) {
            params.put("CallId", target.callId);
        }
        if ("Hangup".equals(type)) {
            hangupAction(echo, params, target);
            return;
        }
        if (!target.connected()) {
            failNow(echo, type, target, "InvalidActionParameter", "Call leg " + target.tag + " is not connected");
            return;
        }
        Plan injected = injectedFailure(type, params);
        Plan plan = injected != null ? injected : plan(type, params, target);
        Running run = new Running(echo, type, target, plan);
        current = run;
        // The callee's hang-up is scheduled before the action's end, so its deadline is the earlier one however
        // long this thread is held up between the two (a busy machine once ended such a call with the prompt).
        // A prompt that failed to load is never heard, so it cannot be hung up on.
        boolean playback = injected == null && (SPEECH.contains(type) || AUDIO.contains(type));
        if (playback && target == legA && Boolean.TRUE.equals(callee.hangupDuringPlayback()) && !playbackHangupUsed) {
            playbackHangupUsed = true;
            schedule(() -> calleeHangup(legA), plan.ms() / 2);
        }
        run.timer = schedule(() -> completeAction(run), plan.ms());
    }

    /**
     * The injected runtime failure of a speech or audio action (faults actionFailure and actionErrorTypes), or null:
     * Polly or S3 refuses, the object is missing, or the service fails. The ErrorType is drawn among those of the
     * configured mix that fit the action (InvalidAudioSource only for audio).
     */
    private Plan injectedFailure(String type, ObjectNode params) {
        boolean speech = SPEECH.contains(type);
        if (!speech && !AUDIO.contains(type)) {
            return null;
        }
        Faults f = engine.config.faults();
        if (!engine.chance(f.actionFailure())) {
            return null;
        }
        double total = 0;
        for (Map.Entry<String, Double> e : f.actionErrorTypes().entrySet()) {
            total += fits(e.getKey(), speech) ? e.getValue() : 0;
        }
        if (total <= 0) {
            return null;
        }
        double x = engine.draw() * total;
        String errorType = null;
        for (Map.Entry<String, Double> e : f.actionErrorTypes().entrySet()) {
            if (fits(e.getKey(), speech) && e.getValue() > 0) {
                errorType = e.getKey();
                if (x < e.getValue()) {
                    break;
                }
                x -= e.getValue();
            }
        }
        engine.countFault("actionFailure");
        engine.countFault("actionFailure." + errorType);
        JsonNode source = params.path(speech ? "SpeechParameters" : "AudioSource");
        String object = "s3://" + source.path("BucketName").asText() + "/" + source.path("Key").asText();
        String message = switch (errorType) {
            case "AccessDenied" -> speech
                    ? "Amazon Polly refused the request: the service-linked role AWSServiceRoleForAmazonChimeVoiceConnector"
                    + " is missing or lacks permissions"
                    : "Access denied to " + object + ": the bucket policy does not allow voiceconnector.chime.amazonaws.com"
                    + " s3:GetObject";
            case "InvalidAudioSource" -> "Audio source " + object + " is invalid: the object does not exist";
            default -> "System error while running the action";
        };
        return Plan.fail(MEDIA_FAILURE_MS, errorType, message);
    }

    private static boolean fits(String errorType, boolean speech) {
        return !(speech && errorType.equals("InvalidAudioSource"));
    }

    private void failNow(ObjectNode echo, String type, Leg leg, String errorType, String message) {
        engine.countActionError(errorType);
        logAction(type, leg, "ACTION_FAILED", errorType, null);
        pending.clear();
        listLast = null;
        echo.put("ErrorType", errorType);
        echo.put("ErrorMessage", message);
        invoke("ACTION_FAILED", echo, null, null, raw -> handleResponse(raw, this::runNext));
    }

    private Leg targetLeg(ObjectNode params) {
        JsonNode callId = params.get("CallId");
        if (callId != null && callId.isTextual()) {
            for (Leg l : legs) {
                if (l.callId.equals(callId.textValue())) {
                    return l;
                }
            }
            return null;
        }
        JsonNode tag = params.get("ParticipantTag");
        if (tag != null && tag.isTextual()) {
            for (Leg l : legs) {
                if (l.tag.equalsIgnoreCase(tag.textValue())) {
                    return l;
                }
            }
            return null;
        }
        return legA;
    }

    private Plan plan(String type, ObjectNode params, Leg target) {
        switch (type) {
            case "Speak":
                return Plan.ok(speechMs(params.path("Text").asText()));
            case "PlayAudio": {
                int repeat = intParam(params, "Repeat", 1);
                params.put("Repeat", repeat);
                return Plan.ok(PROMPT_MS * repeat);
            }
            case "Pause":
                return Plan.ok(longParam(params, "DurationInMilliseconds", 0));
            case "SpeakAndGetDigits":
                return digits(speechMs(params.path("SpeechParameters").path("Text").asText()), params, target);
            case "PlayAudioAndGetDigits":
                return digits(PROMPT_MS, params, target);
            case "ReceiveDigits": {
                String d = target.callee.dtmf();
                ObjectNode echo = params.deepCopy();
                Runnable listen = d.isEmpty() ? null : () -> schedule(() -> digitsReceived(target, d, echo), DIGIT_MS * d.length());
                return new Plan(0, null, null, null, listen);
            }
            case "SendDigits": {
                String digits = params.path("Digits").asText();
                long tone = longParam(params, "ToneDurationInMilliseconds", 250);
                long ms = 0;
                for (char c : digits.toCharArray()) {
                    ms += c == ',' ? 500 : tone;
                }
                return Plan.ok(ms);
            }
            case "RecordAudio": {
                long ms = params.has("DurationInSeconds") ? longParam(params, "DurationInSeconds", 5) * 1000 : 5000;
                ObjectNode extra = engine.mapper.createObjectNode();
                JsonNode dest = params.path("RecordingDestination");
                ObjectNode rd = extra.putObject("RecordingDestination");
                rd.put("Type", dest.path("Type").asText("S3"));
                rd.put("BucketName", dest.path("BucketName").asText());
                rd.put("Key", dest.path("Prefix").asText("") + transactionId + ".wav");
                return new Plan(ms, null, null, extra, null);
            }
            case "CallAndBridge":
                return bridge(params);
            case "JoinChimeMeeting":
            case "ModifyChimeMeetingAttendees":
                return Plan.ok(1000);
            case "StartBotConversation": {
                ObjectNode extra = engine.mapper.createObjectNode();
                ObjectNode ir = extra.putObject("IntentResult");
                ir.put("SessionId", UUID.randomUUID().toString());
                ObjectNode intent = ir.putObject("SessionState").putObject("Intent");
                intent.put("Name", "Emulated");
                intent.put("State", "Fulfilled");
                return new Plan(5000, null, null, extra, null);
            }
            case "StartCallRecording": {
                ObjectNode extra = engine.mapper.createObjectNode();
                ObjectNode d = extra.putObject("CallRecordingDestination");
                d.put("Type", params.path("Destination").path("Type").asText("S3"));
                d.put("Location", params.path("Destination").path("Location").asText());
                return new Plan(200, null, null, extra, null);
            }
            default:
                return Plan.ok(200);
        }
    }

    /**
     * A *GetDigits action: the callee presses its DTMF after the prompt; a terminator (TerminatorDigits, default "#")
     * ends the input early and is not part of ReceivedDigits, and so does reaching MaxNumberOfDigits (what follows is
     * not heard). Input that ends neither way waits InBetweenDigitsDurationInMilliseconds for a digit that never
     * comes. The digits must then meet Min/MaxNumberOfDigits and InputDigitsRegex, else InvalidDigitsReceived after
     * every repeat.
     */
    private Plan digits(long promptMs, ObjectNode params, Leg target) {
        int repeat = Math.max(1, intParam(params, "Repeat", 1));
        long repeatMs = longParam(params, "RepeatDurationInMilliseconds", 5000);
        long betweenMs = longParam(params, "InBetweenDigitsDurationInMilliseconds", repeatMs);
        String pressed = target.callee.dtmf();
        if (pressed.isEmpty()) {
            return Plan.fail((promptMs + repeatMs) * repeat, "InvalidDigitsReceived", "No digits received");
        }
        int min = intParam(params, "MinNumberOfDigits", 0);
        int max = intParam(params, "MaxNumberOfDigits", ActionValidator.DEFAULT_MAX_DIGITS);
        String terminators = terminators(params);
        StringBuilder received = new StringBuilder();
        int heard = 0;
        boolean ended = false;
        for (char c : pressed.toCharArray()) {
            heard++;
            if (terminators.indexOf(c) >= 0) {
                ended = true;
                break;
            }
            received.append(c);
            if (received.length() >= max) {
                ended = true;
                break;
            }
        }
        String digits = received.toString();
        boolean ok = digits.length() >= min && digits.length() <= max;
        JsonNode regex = params.get("InputDigitsRegex");
        if (ok && regex != null && regex.isTextual()) {
            try {
                ok = digits.matches(regex.textValue());
            } catch (PatternSyntaxException e) {
                return Plan.fail(0, "InvalidActionParameter", "Invalid InputDigitsRegex");
            }
        }
        long entry = DIGIT_MS * heard + (ended ? 0 : betweenMs);
        if (!ok) {
            return Plan.fail((promptMs + entry) * repeat, "InvalidDigitsReceived", "Invalid digits received");
        }
        ObjectNode extra = engine.mapper.createObjectNode();
        extra.put("ReceivedDigits", digits);
        return new Plan(promptMs + entry, null, null, extra, null);
    }

    /** The TerminatorDigits of an action as one string of keys: "#" when absent (CHIME.md §4.3). */
    private static String terminators(JsonNode params) {
        JsonNode t = params.get("TerminatorDigits");
        if (t == null || !t.isArray()) {
            return "#";
        }
        StringBuilder sb = new StringBuilder();
        t.forEach(k -> sb.append(k.asText()));
        return sb.toString();
    }

    /** CallAndBridge, its parameters already checked by {@link ActionValidator}. */
    private Plan bridge(ObjectNode params) {
        if (legs.size() > 1) {
            return Plan.fail(0, "InvalidActionParameter", "The call already has a second leg");
        }
        String uri = params.path("Endpoints").path(0).path("Uri").asText();
        String callerId = params.path("CallerIdNumber").asText();
        if (!callerId.equals(from) && !region.config.fromNumbers().contains(callerId)) {
            return Plan.fail(0, "InvalidActionParameter", "Invalid caller ID");
        }
        Scenario.Callee b = engine.config.scenario().resolve(uri, engine.config.seed() + 1, 0);
        long timeoutMs = longParam(params, "CallTimeoutSeconds", 30) * 1000;
        if (b.outcome() != Scenario.Outcome.ANSWERED || b.ringMs() > timeoutMs) {
            return Plan.fail(Math.min(b.ringMs(), timeoutMs), "CallNotAnswered", "Call not answered");
        }
        Runnable addLeg = () -> {
            Leg legB = new Leg("LEG-B", uri, callerId, engine.now().toEpochMilli(), b);
            legB.status = "Connected";
            legs.add(legB);
            legB.talkTimer = schedule(() -> calleeHangup(legB), b.talkMs());
        };
        return new Plan(b.ringMs(), null, null, null, addLeg);
    }

    private void completeAction(Running run) {
        if (run != current || ended) {
            return;
        }
        current = null;
        Plan plan = run.plan;
        if (plan.errorType() != null) {
            failNow(run.echo, run.type, run.leg, plan.errorType(), plan.errorMessage());
            return;
        }
        ObjectNode ad = run.echo;
        if (plan.extra() != null) {
            ad.setAll(plan.extra());
        }
        if (plan.onSuccess() != null) {
            plan.onSuccess().run();
        }
        logAction(run.type, run.leg, "ACTION_SUCCESSFUL", null,
                ad.has("ReceivedDigits") ? ad.get("ReceivedDigits").asText() : null);
        if (REPORTS_ITSELF.contains(run.type)) {
            listLast = null;
            invoke("ACTION_SUCCESSFUL", ad, null, null, raw -> handleResponse(raw, this::runNext));
        } else {
            listLast = ad;
            runNext();
        }
    }

    private void hangupAction(ObjectNode echo, ObjectNode params, Leg target) {
        int code = intParam(params, "SipResponseCode", 0);
        logAction("Hangup", target, "ACTION_SUCCESSFUL", null, null);
        disconnect(target);
        if (legs.stream().noneMatch(Leg::connected)) {
            endCall(code, "applicationHangup", target);
            return;
        }
        invoke("ACTION_SUCCESSFUL", echo, null, null, raw -> handleResponse(raw, this::runNext));
    }

    private void digitsReceived(Leg leg, String digits, ObjectNode params) {
        if (ended || !leg.connected()) {
            return;
        }
        if (invoking || current != null) {
            deferred.add(() -> digitsReceived(leg, digits, params));
            return;
        }
        ObjectNode ad = engine.mapper.createObjectNode();
        ad.put("ReceivedDigits", digits);
        ad.put("Type", "ReceiveDigits");
        ad.set("Parameters", params);
        invoke("DIGITS_RECEIVED", ad, null, null, raw -> handleResponse(raw, this::runNext));
    }

    private void calleeHangup(Leg leg) {
        if (ended || !leg.connected()) {
            return;
        }
        if (invoking) {
            deferred.add(() -> calleeHangup(leg));
            return;
        }
        if (current != null) {
            current.timer.dispose();
            logAction(current.type, current.leg, "CANCELLED", null, null);
            current = null;
        }
        pending.clear();
        listLast = null;
        disconnect(leg);
        if (legs.stream().noneMatch(Leg::connected)) {
            endCall(0, "calleeHangup", leg);
            return;
        }
        invoke("HANGUP", hangupData(0, leg), null, null, raw -> handleResponse(raw, this::runNext));
    }

    private void disconnect(Leg leg) {
        leg.status = "Disconnected";
        if (leg.talkTimer != null) {
            leg.talkTimer.dispose();
        }
    }

    private void onUpdate(Map<String, String> args) {
        if (ended) {
            return;
        }
        if (state != State.ANSWERED) {
            updatesBeforeAnswer.add(() -> onUpdate(args));
            return;
        }
        if (invoking) {
            deferred.add(() -> onUpdate(args));
            return;
        }
        Running interrupted = null;
        if (current != null) {
            if (!INTERRUPTIBLE.contains(current.type)) {
                // Non-interruptible actions finish first; the update follows.
                deferred.add(() -> onUpdate(args));
                return;
            }
            current.timer.dispose();
            interrupted = current;
            current = null;
            logAction(interrupted.type, interrupted.leg, "ACTION_INTERRUPTED", null, null);
        }
        ObjectNode ad = engine.mapper.createObjectNode();
        ad.put("Type", "CallUpdateRequest");
        ad.putObject("Parameters").set("Arguments", engine.mapper.valueToTree(args));
        Running intr = interrupted;
        invoke("CALL_UPDATE_REQUESTED", ad, null, null, raw -> handleResponse(raw, () -> {
            if (intr == null) {
                runNext();
            } else {
                // Informational only: its response is ignored.
                invoke("ACTION_INTERRUPTED", intr.echo, null, null, ignored -> runNext());
            }
        }));
    }

    // ---------------------------------------------------------------- the end

    private void endCall(int code, String reason, Leg leg) {
        if (ended) {
            return;
        }
        if (current != null) {
            current.timer.dispose();
            logAction(current.type, current.leg, "CANCELLED", null, null);
            current = null;
        }
        pending.clear();
        deferred.clear();
        updatesBeforeAnswer.clear();
        for (Leg l : legs) {
            disconnect(l);
        }
        state = State.ENDED;
        String disp;
        boolean first;
        synchronized (this) {
            ended = true;
            endedAt = engine.now();
            sipCode = code;
            endReason = reason;
            if (disposition == null) {
                disposition = answeredAt != null ? "answered" : "noAnswer";
            }
            disp = disposition;
            first = ++endCount == 1;
        }
        // Held across the release of the active slot and the start of the HANGUP invocation, so that
        // awaitIdle never sees "no active call, nothing in flight" before the HANGUP is delivered.
        engine.inFlight.incrementAndGet();
        try {
            if (first) {
                engine.onEnded(this, disp);
            } else {
                engine.endedTwice.increment();
            }
            sendFinalHangup(code, leg);
        } finally {
            engine.inFlight.decrementAndGet();
        }
    }

    private void sendFinalHangup(int code, Leg leg) {
        if (engine.chance(engine.config.faults().dropHangup())) {
            engine.countFault("dropHangup");
            engine.hangupsDropped.increment();
            synchronized (this) {
                InvocationLog l = new InvocationLog(sequence + 1, "HANGUP", engine.now());
                l.result = "dropped";
                invocationLog.add(l);
            }
            finish();
            return;
        }
        ObjectNode ad = hangupData(code, leg);
        if (!ad.path("Parameters").has("SipResponseCode")) {
            synchronized (this) {
                sipCodeOmitted = true;
            }
        }
        invoke("HANGUP", ad, null, null, raw -> finish());
    }

    private void finish() {
        if (worker != null) {
            worker.dispose();
        }
    }

    /**
     * The ActionData of a HANGUP; without SipResponseCode for a callee the scenario picked for that (several of AWS's
     * examples show one), counted in hangupsWithoutSipCode.
     */
    private ObjectNode hangupData(int code, Leg leg) {
        ObjectNode ad = engine.mapper.createObjectNode();
        ad.put("Type", "Hangup");
        ObjectNode p = ad.putObject("Parameters");
        if (Boolean.TRUE.equals(leg.callee.hangupWithoutSipCode())) {
            engine.hangupsWithoutSipCode.increment();
        } else {
            p.put("SipResponseCode", code);
        }
        p.put("CallId", leg.callId);
        p.put("ParticipantTag", leg.tag);
        return ad;
    }

    // ---------------------------------------------------------------- invocations

    private void invoke(String type, ObjectNode actionData, String errorType, String errorMessage,
                        Consumer<byte[]> onResponse) {
        boolean hangup = "HANGUP".equals(type);
        if (ended && !hangup) {
            return;
        }
        if (invocationCount >= MAX_INVOCATIONS - 1 && !ended) {
            // The 1,000th invocation is the last: the call ends and that invocation is its final HANGUP
            // (only the final HANGUP is sent with ended set).
            engine.budgetExhausted.increment();
            if (current != null) {
                current.timer.dispose();
                current = null;
            }
            endCall(0, "budgetExhausted", legA);
            return;
        }
        int seq = ++sequence;
        invocationCount++;
        engine.invocations.increment();
        byte[] body = serialise(envelope(type, seq, actionData, errorType, errorMessage));
        // A retry repeats the body, or carries the next Sequence (built here, on the call's worker, which owns the
        // state it is made of); the call's Sequence moves past it once the retry has happened (see delivered()).
        boolean increment = engine.config.retrySequence() == RetrySequence.INCREMENT;
        byte[] retryBody = increment ? serialise(envelope(type, seq + 1, actionData, errorType, errorMessage)) : body;
        InvocationLog entry = new InvocationLog(seq, type, engine.now());
        synchronized (this) {
            invocationLog.add(entry);
        }
        invoking = true;
        engine.inFlight.incrementAndGet();
        Mono<byte[]> once = deliver(entry, body);
        // No answer in time, or an error status: retried once (CHIME.md §4.4).
        Mono<byte[]> retry = deliver(entry, retryBody);
        Mono<byte[]> delivery = once.onErrorResume(e -> {
            engine.redeliveries.increment();
            entry.retried = true;
            return retry;
        });
        if (engine.chance(engine.config.faults().duplicateInvocation())) {
            engine.countFault("duplicateInvocation");
            // The duplicate repeats the body that was answered (the retry's, if there was one).
            delivery = delivery.flatMap(first -> {
                engine.redeliveries.increment();
                return (entry.retried ? retry : once).onErrorReturn(first);
            });
        }
        // Deliberately fire-and-forget, and top-level: invoke() runs as a task on this call's worker, never inside
        // an operator or a subscriber's callback (both callbacks below only schedule the next task with exec),
        // and an invocation is asynchronous in Chime too. Its outcome is not lost: both signals are handled.
        delivery.subscribe(
                raw -> exec(() -> {
                    delivered(entry, "ok", increment);
                    onResponse.accept(raw);
                }),
                error -> exec(() -> {
                    delivered(entry, "failed", increment);
                    onDeliveryFailed(hangup);
                }));
    }

    /** One delivery attempt of a body to the endpoint, bounded by the webhook timeout. */
    private Mono<byte[]> deliver(InvocationLog entry, byte[] body) {
        return Mono.defer(() -> {
            // Timed per attempt (a retry and a duplicate each get their own send time), as Chime sees the answer.
            long sent = System.nanoTime();
            return Mono.defer(() -> {
                // Read on every attempt, so a retry goes to an endpoint set in the meantime.
                SmaEndpoint endpoint = engine.endpoint();
                entry.deliveries.incrementAndGet();
                return endpoint == null
                        ? Mono.<byte[]>error(new IllegalStateException("no SMA endpoint configured"))
                        : endpoint.invoke(body);
            }).defaultIfEmpty(EMPTY).timeout(engine.config.webhookTimeout(), engine.scheduler)
                    .doOnNext(answer -> engine.webhookAnswered(entry.type, System.nanoTime() - sent))
                    .doOnError(e -> engine.webhookNotAnswered(entry.type,
                            e instanceof java.util.concurrent.TimeoutException));
        });
    }

    private byte[] serialise(ObjectNode envelope) {
        try {
            return engine.mapper.writeValueAsBytes(envelope);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise an invocation", e);
        }
    }

    private void delivered(InvocationLog entry, String result, boolean incrementedRetry) {
        entry.result = result;
        invoking = false;
        engine.inFlight.decrementAndGet();
        if (incrementedRetry && entry.retried && sequence == entry.sequence) {
            // The retry used the next Sequence: the call's next invocation follows it.
            sequence++;
        }
    }

    private void onDeliveryFailed(boolean wasHangup) {
        if (wasHangup) {
            finish();
            return;
        }
        engine.webhookFailures.increment();
        endCall(480, "webhookUnavailable", legA);
    }

    private ObjectNode envelope(String type, int seq, ObjectNode actionData, String errorType, String errorMessage) {
        ObjectNode env = engine.mapper.createObjectNode();
        env.put("SchemaVersion", "1.0");
        env.put("Sequence", seq);
        env.put("InvocationEventType", type);
        if (actionData != null) {
            env.set("ActionData", actionData);
        }
        ObjectNode cd = env.putObject("CallDetails");
        cd.put("TransactionId", transactionId);
        if (!attributes.isEmpty()) {
            cd.set("TransactionAttributes", engine.mapper.valueToTree(attributes));
        }
        cd.put("AwsAccountId", Engine.ACCOUNT_ID);
        cd.put("AwsRegion", region.config.name());
        cd.put("SipMediaApplicationId", smaId());
        ArrayNode ps = cd.putArray("Participants");
        for (Leg l : legs) {
            ObjectNode p = ps.addObject();
            p.put("CallId", l.callId);
            p.put("ParticipantTag", l.tag);
            p.put("To", l.to);
            p.put("From", l.from);
            p.put("Direction", "Outbound");
            p.put("StartTimeInMilliseconds", Long.toString(l.startMs));
            if (l.status != null && !"INVALID_LAMBDA_RESPONSE".equals(type)) {
                p.put("Status", l.status);
            }
        }
        if (errorType != null) {
            env.put("ErrorType", errorType);
            env.put("ErrorMessage", errorMessage);
        }
        return env;
    }

    // ---------------------------------------------------------------- ground truth

    private void logAction(String type, Leg leg, String result, String errorType, String digits) {
        synchronized (this) {
            actionLog.add(new CallRecord.Action(type, leg == null ? null : leg.tag, result, errorType, digits, engine.now()));
        }
    }

    @Override
    public synchronized CallRecord snapshot() {
        List<CallRecord.Invocation> inv = new ArrayList<>(invocationLog.size());
        for (InvocationLog l : invocationLog) {
            inv.add(new CallRecord.Invocation(l.sequence, l.type, l.at, l.deliveries.get(), l.result));
        }
        return new CallRecord(transactionId, smaId(), region.config.name(), from, to, arguments, sipHeaders,
                createdAt, answeredAt, endedAt, disposition, ended ? sipCode : null, sipCodeOmitted, endReason, inv,
                List.copyOf(actionLog));
    }

    private static long speechMs(String text) {
        return 400 + 60L * text.length();
    }

    private static int intParam(JsonNode params, String name, int dflt) {
        return (int) longParam(params, name, dflt);
    }

    private static long longParam(JsonNode params, String name, long dflt) {
        JsonNode v = params.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (v.isNumber()) {
            return v.longValue();
        }
        try {
            return Long.parseLong(v.asText().trim());
        } catch (NumberFormatException e) {
            return dflt;
        }
    }
}
