package io.chimedialer.emulator.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Action parameters checked as the SMA does when it runs an action (CHIME.md §4.3); quotes are written as '. */
class ActionValidatorTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String MISSING = "MissingRequiredActionParameter";
    private static final String INVALID = "InvalidActionParameter";
    private static final String DIGITS = "'RepeatDurationInMilliseconds':5000";
    private static final String SPEECH = "'CallId':'c','SpeechParameters':{'Text':'Press 1'},"
            + "'FailureSpeechParameters':{'Text':'Sorry'}," + DIGITS;
    private static final String AUDIO = "'AudioSource':{'Type':'S3','BucketName':'b','Key':'k.wav'},"
            + "'FailureAudioSource':{'Type':'S3','BucketName':'b','Key':'f.wav'}," + DIGITS;
    private static final String BRIDGE = "'CallerIdNumber':'+17035550100',"
            + "'Endpoints':[{'BridgeEndpointType':'PSTN','Uri':'+14155550123'}]";

    private static JsonNode json(String quoted) {
        try {
            return MAPPER.readTree(quoted.replace('\'', '"'));
        } catch (IOException e) {
            throw new IllegalArgumentException(quoted, e);
        }
    }

    private static ActionValidator.Failure validate(String type, String params) {
        return ActionValidator.validate(type, json("{" + params + "}"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "Speak                 | 'CallId':'c','Text':'Hello'",
        "Speak                 | 'CallId':'c','Text':'Hi','Engine':'neural','VoiceId':'Kevin','LanguageCode':'en-US'",
        "Speak                 | 'CallId':'c','Text':'Hi','Engine':'neural','VoiceId':'Ruth'",
        "Speak                 | 'CallId':'c','Text':'Bonjour','Engine':'standard','VoiceId':'Celine','LanguageCode':'fr-FR'",
        "Speak                 | 'CallId':'c','Text':'Namaste','VoiceId':'Aditi','LanguageCode':'hi-IN'",
        "Speak                 | 'CallId':'c','Text':'<speak>Hello <break time=\\'1s\\'/> there</speak>','TextType':'ssml'",
        "SpeakAndGetDigits     | " + "'CallId':'c','SpeechParameters':{'Text':'Press 1','Engine':'neural','VoiceId':'Kevin'},"
                + "'FailureSpeechParameters':{'Text':'Sorry'},'MinNumberOfDigits':1,'MaxNumberOfDigits':1,"
                + "'TerminatorDigits':['#'],'InBetweenDigitsDurationInMilliseconds':5000,'Repeat':3,'RepeatDurationInMilliseconds':5000",
        "PlayAudio             | 'AudioSource':{'Type':'S3','BucketName':'b','Key':'k.wav'},'Repeat':2,'PlaybackTerminators':['#','*','0']",
        "PlayAudioAndGetDigits | " + "'AudioSource':{'Type':'S3','BucketName':'b','Key':'k.wav'},"
                + "'FailureAudioSource':{'Type':'S3','BucketName':'b','Key':'f.wav'},'MinNumberOfDigits':'3',"
                + "'MaxNumberOfDigits':'5','RepeatDurationInMilliseconds':'10000'",
        "CallAndBridge         | " + "'CallerIdNumber':'+17035550100','CallTimeoutSeconds':120,"
                + "'Endpoints':[{'BridgeEndpointType':'PSTN','Uri':'+14155550123'}]",
        "CallAndBridge         | " + "'CallerIdNumber':'+17035550100','SipHeaders':{'X-Campaign':'c7'},"
                + "'Endpoints':[{'BridgeEndpointType':'AWS','Uri':'agent-7','Arn':'arn:aws:chime:us-east-1:123456789012:vc/x'}]",
        "Pause                 | 'DurationInMilliseconds':'3000'",
        "ReceiveDigits         | 'InputDigitsRegex':'^\\\\d+$','InBetweenDigitsDurationInMilliseconds':1000,'FlushDigitsDurationInMilliseconds':10000",
        "SendDigits            | 'CallId':'c','Digits':'1,2#*A','ToneDurationInMilliseconds':50",
        "Hangup                | 'SipResponseCode':'0','ParticipantTag':'leg-a'"})
    void validate_documentedParameters_pass(String type, String params) {
        assertThat(validate(type, params)).isNull();
    }

    @ParameterizedTest(name = "{0}: {3}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        // Speak: Text, Engine, TextType (SSML), VoiceId for the engine and the language.
        "Speak | 'CallId':'c' | " + MISSING + " | Text is a required parameter",
        "Speak | 'Text':'Hello' | " + MISSING + " | CallId is a required parameter",
        "Speak | 'CallId':'c','Text':'Hi','Engine':'turbo' | " + INVALID + " | Engine must be standard or neural",
        "Speak | 'CallId':'c','Text':'Hi','VoiceId':'Robot' | " + INVALID + " | VoiceId 'Robot'",
        "Speak | 'CallId':'c','Text':'Hi','VoiceId':'joanna' | " + INVALID + " | VoiceId 'joanna'",
        "Speak | 'CallId':'c','Text':'Hi','VoiceId':'Kevin' | " + INVALID + " | Kevin is not available with the standard engine",
        "Speak | 'CallId':'c','Text':'Hi','VoiceId':'Ruth','Engine':'standard' | " + INVALID + " | Ruth",
        "Speak | 'CallId':'c','Text':'Hi','VoiceId':'Mathieu','Engine':'neural' | " + INVALID + " | Mathieu is not available with the neural",
        "Speak | 'CallId':'c','Text':'Hi','VoiceId':'Joanna','LanguageCode':'fr-FR' | " + INVALID + " | does not speak fr-FR",
        "Speak | 'CallId':'c','Text':'Hi','TextType':'html' | " + INVALID + " | TextType must be text or ssml",
        "Speak | 'CallId':'c','Text':'<speak>Hi','TextType':'ssml' | " + INVALID + " | not well-formed SSML",
        "Speak | 'CallId':'c','Text':'Hi & bye','TextType':'ssml' | " + INVALID + " | not well-formed SSML",
        "Speak | 'CallId':'c','Text':'<p>Hi</p>','TextType':'ssml' | " + INVALID + " | not <speak>",
        "Speak | 'CallId':'c','Text':'<!DOCTYPE speak [<!ENTITY x \\'y\\'>]><speak>&x;</speak>','TextType':'ssml' | " + INVALID + " | SSML",
        "Speak | 'CallId':'c','Text':'Hi','Engine':5 | " + INVALID + " | Engine must be a string",
        "Speak | 'CallId':'c','Text':'Hi','ParticipantTag':'LEG-C' | " + INVALID + " | ParticipantTag",
        // SpeakAndGetDigits: both speech parameter sets (the failure one inherits), digit counts, terminators, timeouts.
        "SpeakAndGetDigits | 'CallId':'c','SpeechParameters':{'Text':'Press 1'}," + DIGITS + " | " + MISSING + " | FailureSpeechParameters",
        "SpeakAndGetDigits | 'CallId':'c','SpeechParameters':{'Text':'Press 1'},'FailureSpeechParameters':{'Text':'Sorry'} | " + MISSING + " | RepeatDurationInMilliseconds",
        "SpeakAndGetDigits | 'CallId':'c','SpeechParameters':{'Text':'Press','Engine':'neural','VoiceId':'Kevin'},'FailureSpeechParameters':{'Text':'No','Engine':'standard'}," + DIGITS + " | " + INVALID + " | FailureSpeechParameters.Engine",
        "SpeakAndGetDigits | " + SPEECH + ",'MinNumberOfDigits':5,'MaxNumberOfDigits':3 | " + INVALID + " | MinNumberOfDigits (5) must not be greater than MaxNumberOfDigits (3)",
        "SpeakAndGetDigits | " + SPEECH + ",'MinNumberOfDigits':-1 | " + INVALID + " | MinNumberOfDigits must be 0 or more",
        "SpeakAndGetDigits | " + SPEECH + ",'MinNumberOfDigits':200 | " + INVALID + " | must not be greater than MaxNumberOfDigits (128)",
        "SpeakAndGetDigits | " + SPEECH + ",'MaxNumberOfDigits':0 | " + INVALID + " | MaxNumberOfDigits must be 1 or more",
        "SpeakAndGetDigits | " + SPEECH + ",'TerminatorDigits':['x'] | " + INVALID + " | TerminatorDigits",
        "SpeakAndGetDigits | " + SPEECH + ",'TerminatorDigits':['##'] | " + INVALID + " | TerminatorDigits",
        "SpeakAndGetDigits | " + SPEECH + ",'TerminatorDigits':'#' | " + INVALID + " | TerminatorDigits",
        "SpeakAndGetDigits | " + SPEECH + ",'Repeat':0 | " + INVALID + " | Repeat must be greater than 0",
        "SpeakAndGetDigits | " + SPEECH + ",'InBetweenDigitsDurationInMilliseconds':-5 | " + INVALID + " | InBetweenDigitsDurationInMilliseconds",
        "SpeakAndGetDigits | " + SPEECH + ",'Repeat':1.5 | " + INVALID + " | Repeat must be a whole number",
        "SpeakAndGetDigits | " + SPEECH + ",'InputDigitsRegex':'[' | " + INVALID + " | InputDigitsRegex",
        // Audio: an S3 source with bucket and key.
        "PlayAudio | 'Repeat':1 | " + MISSING + " | AudioSource is a required parameter",
        "PlayAudio | 'AudioSource':{'Type':'S3','BucketName':'b'} | " + MISSING + " | AudioSource.Key",
        "PlayAudio | 'AudioSource':{'Type':'HTTP','BucketName':'b','Key':'k'} | " + INVALID + " | AudioSource.Type must be S3",
        "PlayAudio | 'AudioSource':{'Type':'S3','BucketName':'b','Key':'k'},'Repeat':0 | " + INVALID + " | Repeat",
        "PlayAudioAndGetDigits | 'AudioSource':{'Type':'S3','BucketName':'b','Key':'k'}," + DIGITS + " | " + MISSING + " | FailureAudioSource",
        "PlayAudioAndGetDigits | " + AUDIO + ",'MaxNumberOfDigits':0 | " + INVALID + " | MaxNumberOfDigits",
        // CallAndBridge: one endpoint, its type and Uri, an E.164 caller id, the timeout, no X-AMZN header.
        "CallAndBridge | 'CallerIdNumber':'+17035550100' | " + MISSING + " | Endpoints",
        "CallAndBridge | 'CallerIdNumber':'+17035550100','Endpoints':[] | " + INVALID + " | Invalid number of endpoints provided",
        "CallAndBridge | 'CallerIdNumber':'+17035550100','Endpoints':[{'Uri':'+14155550123'}] | " + MISSING + " | BridgeEndpointType",
        "CallAndBridge | 'CallerIdNumber':'+17035550100','Endpoints':[{'BridgeEndpointType':'PSTN'}] | " + MISSING + " | Endpoints[0].Uri",
        "CallAndBridge | 'CallerIdNumber':'+17035550100','Endpoints':[{'BridgeEndpointType':'PSTN','Uri':'sales'}] | " + INVALID + " | Uri must be an E.164",
        "CallAndBridge | 'CallerIdNumber':'+17035550100','Endpoints':[{'BridgeEndpointType':'SIP','Uri':'+14155550123'}] | " + INVALID + " | PSTN or AWS",
        "CallAndBridge | 'CallerIdNumber':'+17035550100','Endpoints':[{'BridgeEndpointType':'AWS','Uri':'a'}] | " + MISSING + " | Arn",
        "CallAndBridge | 'CallerIdNumber':'unknown','Endpoints':[{'BridgeEndpointType':'PSTN','Uri':'+14155550123'}] | " + INVALID + " | Invalid caller ID",
        "CallAndBridge | " + BRIDGE + ",'CallTimeoutSeconds':121 | " + INVALID + " | CallTimeoutSeconds must be in [1, 120]",
        "CallAndBridge | " + BRIDGE + ",'SipHeaders':{'X-AMZN-Id':'1'} | " + INVALID + " | Invalid SIP header(s) provided: X-AMZN-Id",
        // The rest.
        "Pause | 'DurationInMilliseconds':'soon' | " + INVALID + " | DurationInMilliseconds must be a whole number",
        "Pause | 'DurationInMilliseconds':0 | " + INVALID + " | DurationInMilliseconds must be greater than 0",
        "SendDigits | 'CallId':'c','Digits':'12X' | " + INVALID + " | Digits",
        "SendDigits | 'CallId':'c','Digits':'1','ToneDurationInMilliseconds':10 | " + INVALID + " | ToneDurationInMilliseconds",
        "RecordAudio | 'RecordingTerminators':['#'],'RecordingDestination':{'Type':'FTP','BucketName':'b'} | " + INVALID + " | RecordingDestination.Type",
        "ReceiveDigits | 'InputDigitsRegex':'(','InBetweenDigitsDurationInMilliseconds':1,'FlushDigitsDurationInMilliseconds':1 | " + INVALID + " | InputDigitsRegex",
        "JoinChimeMeeting | 'CallId':'c' | " + MISSING + " | JoinToken"})
    void validate_badParameters_failWithTheDocumentedErrorType(String type, String params, String errorType, String message) {
        ActionValidator.Failure f = validate(type, params);

        assertThat(f).as("failure").isNotNull();
        assertThat(f.errorType()).isEqualTo(errorType);
        assertThat(f.errorMessage()).contains(message);
    }

    @Test
    void validate_textOverAThousandCharacters_isMissingRequiredActionParameterAsAwsReportsIt() {
        String ok = "a".repeat(1000);
        String tooLong = "a".repeat(1001);

        assertThat(validate("Speak", "'CallId':'c','Text':'" + ok + "'")).isNull();
        ActionValidator.Failure f = validate("Speak", "'CallId':'c','Text':'" + tooLong + "'");
        assertThat(f.errorType()).isEqualTo(MISSING);
        assertThat(f.errorMessage()).contains("Text is limited to 1,000 characters");
        ActionValidator.Failure g = validate("SpeakAndGetDigits", "'CallId':'c','SpeechParameters':{'Text':'Hi'},"
                + "'FailureSpeechParameters':{'Text':'" + tooLong + "'}," + DIGITS);
        assertThat(g.errorMessage()).startsWith("FailureSpeechParameters.Text is limited");
    }

    @Test
    void validate_failureSpeechParameters_inheritVoiceAndEngine() {
        // Kevin exists only as a neural voice: the failure text is spoken by neural Kevin too.
        assertThat(validate("SpeakAndGetDigits", "'CallId':'c','SpeechParameters':{'Text':'Press','Engine':'neural',"
                + "'VoiceId':'Kevin','LanguageCode':'en-US'},'FailureSpeechParameters':{'Text':'Sorry'}," + DIGITS)).isNull();
        assertThat(validate("SpeakAndGetDigits", "'CallId':'c','SpeechParameters':{'Text':'Press','VoiceId':'Celine',"
                + "'LanguageCode':'fr-FR'},'FailureSpeechParameters':{'Text':'Pardon','VoiceId':'Joanna'}," + DIGITS)
                .errorMessage()).contains("Joanna does not speak fr-FR");
    }

    @Test
    void voices_everyVoiceHasAnEngineAndALanguage() {
        assertThat(PollyVoices.VOICES).hasSizeGreaterThan(40);
        PollyVoices.VOICES.values().forEach(v -> {
            assertThat(v.engines()).isNotEmpty().isSubsetOf("standard", "neural");
            assertThat(v.languages()).isNotEmpty().allMatch(l -> l.matches("[a-z]{2}-[A-Z]{2}"));
        });
        assertThat(PollyVoices.voice("Kevin").engines()).containsExactly("neural");
        assertThat(PollyVoices.voice("Joanna").engines()).containsExactlyInAnyOrder("standard", "neural");
        assertThat(PollyVoices.voice("Hans").engines()).containsExactly("standard");
    }
}
