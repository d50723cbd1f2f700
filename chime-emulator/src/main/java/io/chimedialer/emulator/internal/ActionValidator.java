package io.chimedialer.emulator.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.io.StringReader;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * Checks the Parameters of a well-formed action as the SIP media application does when it runs the action (CHIME.md
 * §4.3): a required parameter that is missing is {@code MissingRequiredActionParameter}, a value out of its documented
 * range is {@code InvalidActionParameter}. Either fails that action with an ACTION_FAILED invocation; a response that
 * cannot be read as a list of known actions is {@link ResponseValidator}'s business instead (INVALID_LAMBDA_RESPONSE).
 * The rules are listed in docs/emulator.md. Stateless and thread-safe.
 */
final class ActionValidator {
    static final String MISSING = "MissingRequiredActionParameter";
    static final String INVALID = "InvalidActionParameter";
    /** Speak's Text limit; AWS reports a longer text as MissingRequiredActionParameter (DG speak, speak-and-get-digits). */
    static final int MAX_TEXT_CHARS = 1000;
    static final int DEFAULT_MAX_DIGITS = 128;
    private static final String DIGITS = "0123456789#*";
    private static final Pattern E164 = RestApi.E164;
    private static final Pattern SEND_DIGITS = Pattern.compile("^[0-9*#A-Da-d,]{1,50}$");
    private static final JsonNode NONE = JsonNodeFactory.instance.objectNode();
    private static final DocumentBuilderFactory XML = xmlFactory();

    /** Required parameter paths per action Type (dots for nested objects), from CHIME.md §4.3: also the known Types. */
    static final Map<String, List<String>> REQUIRED;

    static {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("PlayAudio", List.of("AudioSource", "AudioSource.Type", "AudioSource.BucketName", "AudioSource.Key"));
        m.put("PlayAudioAndGetDigits", List.of("AudioSource", "AudioSource.Type", "AudioSource.BucketName",
                "AudioSource.Key", "FailureAudioSource", "FailureAudioSource.Type", "FailureAudioSource.BucketName",
                "FailureAudioSource.Key", "RepeatDurationInMilliseconds"));
        m.put("ReceiveDigits", List.of("InputDigitsRegex", "InBetweenDigitsDurationInMilliseconds",
                "FlushDigitsDurationInMilliseconds"));
        m.put("RecordAudio", List.of("RecordingTerminators", "RecordingDestination", "RecordingDestination.Type",
                "RecordingDestination.BucketName"));
        m.put("Pause", List.of("DurationInMilliseconds"));
        m.put("Hangup", List.of());
        m.put("CallAndBridge", List.of("CallerIdNumber", "Endpoints"));
        m.put("JoinChimeMeeting", List.of("JoinToken"));
        m.put("ModifyChimeMeetingAttendees", List.of("Operation", "MeetingId", "AttendeeList"));
        m.put("SendDigits", List.of("CallId", "Digits"));
        m.put("Speak", List.of("CallId", "Text"));
        m.put("SpeakAndGetDigits", List.of("CallId", "SpeechParameters", "SpeechParameters.Text",
                "FailureSpeechParameters", "FailureSpeechParameters.Text", "RepeatDurationInMilliseconds"));
        m.put("StartBotConversation", List.of("BotAliasArn"));
        m.put("VoiceFocus", List.of("Enable", "CallId"));
        m.put("StartCallRecording", List.of("CallId", "Track", "Destination", "Destination.Type", "Destination.Location"));
        m.put("StopCallRecording", List.of("CallId"));
        m.put("PauseCallRecording", List.of("CallId"));
        m.put("ResumeCallRecording", List.of("CallId"));
        REQUIRED = Collections.unmodifiableMap(m);
    }

    /** Why an action fails: its ErrorType and ErrorMessage. */
    record Failure(String errorType, String errorMessage) {
    }

    /** A failed check, thrown to the top of {@link #validate}; no stack trace. */
    private static final class Bad extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Failure failure;

        Bad(String errorType, String message) {
            super(message, null, false, false);
            this.failure = new Failure(errorType, message);
        }
    }

    private ActionValidator() {
    }

    /** True for an action Type the SIP media application knows. */
    static boolean known(String type) {
        return REQUIRED.containsKey(type);
    }

    /**
     * The reason this action fails before it runs, or null when its Parameters are acceptable.
     *
     * @param type   a known action Type
     * @param params its Parameters as the response sent them (an object, or null when absent)
     */
    static Failure validate(String type, JsonNode params) {
        JsonNode p = params == null || params.isNull() ? NONE : params;
        try {
            for (String path : REQUIRED.getOrDefault(type, List.of())) {
                if (!present(p, path)) {
                    throw new Bad(MISSING, path + " is a required parameter of " + type);
                }
            }
            target(p);
            switch (type) {
                case "Speak" -> speech(p, null, "");
                case "SpeakAndGetDigits" -> {
                    JsonNode speech = object(p, "SpeechParameters");
                    speech(speech, null, "SpeechParameters.");
                    speech(object(p, "FailureSpeechParameters"), speech, "FailureSpeechParameters.");
                    digits(p);
                }
                case "PlayAudio" -> {
                    audioSource(p, "AudioSource");
                    positive(p, "Repeat");
                    keys(p, "PlaybackTerminators");
                }
                case "PlayAudioAndGetDigits" -> {
                    audioSource(p, "AudioSource");
                    audioSource(p, "FailureAudioSource");
                    digits(p);
                }
                case "CallAndBridge" -> bridge(p);
                case "Pause" -> positive(p, "DurationInMilliseconds");
                case "SendDigits" -> {
                    if (!SEND_DIGITS.matcher(text(p, "Digits")).matches()) {
                        throw new Bad(INVALID, "Digits must be 1 to 50 of 0-9, *, #, A-D and ','");
                    }
                    range(p, "ToneDurationInMilliseconds", 50, 24_000);
                }
                case "RecordAudio" -> {
                    s3Type(p.get("RecordingDestination"), "RecordingDestination");
                    keys(p, "RecordingTerminators");
                    positive(p, "DurationInSeconds");
                    range(p, "SilenceDurationInSeconds", 1, 1000);
                    range(p, "SilenceThreshold", 1, 1000);
                }
                case "ReceiveDigits" -> {
                    regex(p, "InputDigitsRegex");
                    positive(p, "InBetweenDigitsDurationInMilliseconds");
                    positive(p, "FlushDigitsDurationInMilliseconds");
                }
                case "Hangup" -> whole(p, "SipResponseCode");
                default -> {
                    // The required parameters are all the emulator checks of the other actions.
                }
            }
            return null;
        } catch (Bad b) {
            return b.failure;
        }
    }

    // ---------------------------------------------------------------- per concern

    private static void target(JsonNode p) {
        JsonNode callId = p.get("CallId");
        if (callId != null && !callId.isNull() && !callId.isTextual()) {
            throw new Bad(INVALID, "CallId must be a string");
        }
        JsonNode tag = p.get("ParticipantTag");
        if (tag != null && !tag.isNull() && !(tag.isTextual()
                && (tag.textValue().equalsIgnoreCase("LEG-A") || tag.textValue().equalsIgnoreCase("LEG-B")))) {
            throw new Bad(INVALID, "ParticipantTag must be LEG-A or LEG-B");
        }
    }

    /**
     * Polly's parameters: Text (at most 1,000 characters), Engine standard|neural, TextType text|ssml (ssml: well-formed
     * XML under a speak root), a VoiceId of the table that supports the engine and speaks the LanguageCode. Unset
     * fields take {@code defaults}' (FailureSpeechParameters' from SpeechParameters), else Polly's defaults.
     */
    private static void speech(JsonNode sp, JsonNode defaults, String prefix) {
        String text = text(sp, "Text", prefix);
        if (text.length() > MAX_TEXT_CHARS) {
            throw new Bad(MISSING, prefix + "Text is limited to 1,000 characters, was " + text.length());
        }
        String engine = string(sp, "Engine", prefix, inherited(defaults, "Engine", "standard"));
        if (!engine.equals("standard") && !engine.equals("neural")) {
            throw new Bad(INVALID, prefix + "Engine must be standard or neural, was '" + engine + "'");
        }
        String textType = string(sp, "TextType", prefix, inherited(defaults, "TextType", "text"));
        if (textType.equals("ssml")) {
            ssml(text, prefix);
        } else if (!textType.equals("text")) {
            throw new Bad(INVALID, prefix + "TextType must be text or ssml, was '" + textType + "'");
        }
        String voiceId = string(sp, "VoiceId", prefix, inherited(defaults, "VoiceId", "Joanna"));
        PollyVoices.Voice voice = PollyVoices.voice(voiceId);
        if (voice == null) {
            throw new Bad(INVALID, prefix + "VoiceId '" + voiceId + "' is not an Amazon Polly voice");
        }
        if (!voice.engines().contains(engine)) {
            throw new Bad(INVALID, "Voice " + voiceId + " is not available with the " + engine + " engine ("
                    + prefix + "Engine)");
        }
        String language = string(sp, "LanguageCode", prefix, inherited(defaults, "LanguageCode", null));
        if (language != null && !voice.languages().contains(language)) {
            throw new Bad(INVALID, "Voice " + voiceId + " does not speak " + language + " (" + prefix
                    + "LanguageCode; it speaks " + String.join(", ", voice.languages()) + ")");
        }
    }

    private static String inherited(JsonNode defaults, String field, String fallback) {
        if (defaults != null) {
            JsonNode v = defaults.get(field);
            if (v != null && v.isTextual()) {
                return v.textValue();
            }
        }
        return fallback;
    }

    private static void ssml(String text, String prefix) {
        Document doc;
        try {
            DocumentBuilder parser;
            synchronized (XML) {
                parser = XML.newDocumentBuilder();
            }
            parser.setErrorHandler(SILENT);
            doc = parser.parse(new InputSource(new StringReader(text)));
        } catch (SAXException | IOException | ParserConfigurationException e) {
            throw new Bad(INVALID, prefix + "Text is not well-formed SSML: " + e.getMessage());
        }
        String root = doc.getDocumentElement().getLocalName() != null
                ? doc.getDocumentElement().getLocalName() : doc.getDocumentElement().getTagName();
        if (!"speak".equals(root)) {
            throw new Bad(INVALID, prefix + "Text is SSML whose root element is <" + root + ">, not <speak>");
        }
    }

    /** The *GetDigits rules: Min >= 0, Max >= 1, Min <= Max, terminators, positive timeouts and Repeat, a valid regex. */
    private static void digits(JsonNode p) {
        Long min = whole(p, "MinNumberOfDigits");
        Long max = whole(p, "MaxNumberOfDigits");
        if (min != null && min < 0) {
            throw new Bad(INVALID, "MinNumberOfDigits must be 0 or more, was " + min);
        }
        if (max != null && max < 1) {
            throw new Bad(INVALID, "MaxNumberOfDigits must be 1 or more, was " + max);
        }
        long lo = min == null ? 0 : min;
        long hi = max == null ? DEFAULT_MAX_DIGITS : max;
        if (lo > hi) {
            throw new Bad(INVALID, "MinNumberOfDigits (" + lo + ") must not be greater than MaxNumberOfDigits (" + hi + ")");
        }
        keys(p, "TerminatorDigits");
        positive(p, "InBetweenDigitsDurationInMilliseconds");
        positive(p, "Repeat");
        positive(p, "RepeatDurationInMilliseconds");
        regex(p, "InputDigitsRegex");
    }

    /** An AudioSource-shaped object: Type S3, BucketName, Key (their presence is checked by {@link #REQUIRED}). */
    private static void audioSource(JsonNode p, String name) {
        JsonNode source = object(p, name);
        s3Type(source, name);
        text(source, "BucketName", name + ".");
        text(source, "Key", name + ".");
    }

    private static void s3Type(JsonNode source, String name) {
        if (source == null || !source.isObject()) {
            throw new Bad(INVALID, name + " must be an object");
        }
        JsonNode type = source.get("Type");
        if (type != null && !"S3".equals(type.asText())) {
            throw new Bad(INVALID, name + ".Type must be S3, was '" + type.asText() + "'");
        }
    }

    /** CallAndBridge: one endpoint (PSTN with an E.164 Uri, or AWS with an Arn), an E.164 caller id, 1-120 s, no X-AMZN headers. */
    private static void bridge(JsonNode p) {
        JsonNode endpoints = p.get("Endpoints");
        if (!endpoints.isArray() || endpoints.size() != 1) {
            throw new Bad(INVALID, "Invalid number of endpoints provided");
        }
        JsonNode e = endpoints.get(0);
        if (!e.isObject()) {
            throw new Bad(INVALID, "Endpoints[0] must be an object");
        }
        if (!present(e, "BridgeEndpointType")) {
            throw new Bad(MISSING, "Endpoints[0].BridgeEndpointType is a required parameter of CallAndBridge");
        }
        if (!present(e, "Uri")) {
            throw new Bad(MISSING, "Endpoints[0].Uri is a required parameter of CallAndBridge");
        }
        String kind = e.get("BridgeEndpointType").asText();
        String uri = e.get("Uri").asText();
        if (kind.equals("PSTN")) {
            if (!E164.matcher(uri).matches()) {
                throw new Bad(INVALID, "Endpoints[0].Uri must be an E.164 number for a PSTN endpoint, was '" + uri + "'");
            }
        } else if (kind.equals("AWS")) {
            if (!present(e, "Arn")) {
                throw new Bad(MISSING, "Endpoints[0].Arn is a required parameter of an AWS endpoint");
            }
            if (uri.length() > 30) {
                throw new Bad(INVALID, "Endpoints[0].Uri must be 1 to 30 characters for an AWS endpoint");
            }
        } else {
            throw new Bad(INVALID, "Endpoints[0].BridgeEndpointType must be PSTN or AWS, was '" + kind + "'");
        }
        if (!E164.matcher(p.get("CallerIdNumber").asText()).matches()) {
            throw new Bad(INVALID, "Invalid caller ID");
        }
        range(p, "CallTimeoutSeconds", 1, 120);
        JsonNode headers = p.get("SipHeaders");
        if (headers != null && !headers.isNull()) {
            if (!headers.isObject()) {
                throw new Bad(INVALID, "SipHeaders must be a map of strings");
            }
            headers.fieldNames().forEachRemaining(name -> {
                if (name.toLowerCase(Locale.ROOT).startsWith("x-amzn")) {
                    throw new Bad(INVALID, "Invalid SIP header(s) provided: " + name);
                }
            });
        }
        JsonNode ringback = p.get("RingbackTone");
        if (ringback != null && !ringback.isNull()) {
            audioSource(p, "RingbackTone");
        }
    }

    // ---------------------------------------------------------------- values

    private static JsonNode object(JsonNode p, String name) {
        JsonNode n = p.get(name);
        if (n == null || !n.isObject()) {
            throw new Bad(INVALID, name + " must be an object");
        }
        return n;
    }

    private static String text(JsonNode p, String name) {
        return text(p, name, "");
    }

    /** A required string; absent or empty is MissingRequiredActionParameter, not a string InvalidActionParameter. */
    private static String text(JsonNode p, String name, String prefix) {
        JsonNode n = p.get(name);
        if (n == null || n.isNull() || (n.isTextual() && n.textValue().isEmpty())) {
            throw new Bad(MISSING, prefix + name + " is a required parameter");
        }
        if (!n.isTextual()) {
            throw new Bad(INVALID, prefix + name + " must be a string");
        }
        return n.textValue();
    }

    /** An optional string, or {@code dflt} when absent. */
    private static String string(JsonNode p, String name, String prefix, String dflt) {
        JsonNode n = p.get(name);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw new Bad(INVALID, prefix + name + " must be a string");
        }
        return n.textValue();
    }

    /** An optional whole number (a JSON integer or a string of one, as AWS's examples send both), null when absent. */
    static Long whole(JsonNode p, String name) {
        JsonNode n = p.get(name);
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            return n.longValue();
        }
        if (n.isTextual()) {
            try {
                return Long.parseLong(n.textValue().trim());
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new Bad(INVALID, name + " must be a whole number, was " + n);
    }

    private static void positive(JsonNode p, String name) {
        Long v = whole(p, name);
        if (v != null && v <= 0) {
            throw new Bad(INVALID, name + " must be greater than 0, was " + v);
        }
    }

    private static void range(JsonNode p, String name, long lo, long hi) {
        Long v = whole(p, name);
        if (v != null && (v < lo || v > hi)) {
            throw new Bad(INVALID, name + " must be in [" + lo + ", " + hi + "], was " + v);
        }
    }

    /** A list of DTMF keys (TerminatorDigits, PlaybackTerminators, RecordingTerminators): each one of 0-9, # or *. */
    private static void keys(JsonNode p, String name) {
        JsonNode n = p.get(name);
        if (n == null || n.isNull()) {
            return;
        }
        if (!n.isArray()) {
            throw new Bad(INVALID, name + " must be a list of 0-9, # or *");
        }
        for (JsonNode k : n) {
            if (!k.isTextual() || k.textValue().length() != 1 || DIGITS.indexOf(k.textValue().charAt(0)) < 0) {
                throw new Bad(INVALID, name + " must be a list of 0-9, # or *, has " + k);
            }
        }
    }

    private static void regex(JsonNode p, String name) {
        JsonNode n = p.get(name);
        if (n == null || n.isNull()) {
            return;
        }
        if (!n.isTextual()) {
            throw new Bad(INVALID, name + " must be a string");
        }
        try {
            Pattern.compile(n.textValue());
        } catch (PatternSyntaxException e) {
            throw new Bad(INVALID, name + " is not a valid regular expression");
        }
    }

    /** True when the dotted path leads to a value that is neither null nor an empty string. */
    static boolean present(JsonNode params, String path) {
        JsonNode n = params;
        for (String part : path.split("\\.")) {
            if (n == null || !n.isObject()) {
                return false;
            }
            n = n.get(part);
        }
        return n != null && !n.isNull() && !(n.isTextual() && n.textValue().isEmpty());
    }

    // ---------------------------------------------------------------- XML

    private static final ErrorHandler SILENT = new ErrorHandler() {
        @Override
        public void warning(SAXParseException e) {
            // not an error
        }

        @Override
        public void error(SAXParseException e) throws SAXException {
            throw e;
        }

        @Override
        public void fatalError(SAXParseException e) throws SAXException {
            throw e;
        }
    };

    /** A namespace-aware parser that reads no DTD and no external entity: SSML comes from the endpoint. */
    private static DocumentBuilderFactory xmlFactory() {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setExpandEntityReferences(false);
        try {
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks a secure configuration", e);
        }
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        return f;
    }
}
