package io.chimedialer.emulator.internal;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Amazon Polly voices a Speak or SpeakAndGetDigits may name: a small table of real voices (VoiceId as Polly spells
 * it, case-sensitive), the engines each supports and the languages it speaks. Voices outside the table are rejected like
 * an unknown voice; docs/emulator.md lists the table. Immutable.
 */
final class PollyVoices {
    private static final Set<String> STANDARD = Set.of("standard");
    private static final Set<String> NEURAL = Set.of("neural");
    private static final Set<String> BOTH = Set.of("standard", "neural");

    /** A voice: the engines it supports and its languages, the default one first. */
    record Voice(String id, Set<String> engines, List<String> languages) {
    }

    /** By VoiceId, in the order of docs/emulator.md's table. */
    static final Map<String, Voice> VOICES;

    static {
        Map<String, Voice> m = new LinkedHashMap<>();
        // en-US: Kevin, Ruth, Stephen, Danielle and Gregory have no standard variant.
        for (String v : List.of("Ivy", "Joanna", "Kendra", "Kimberly", "Salli", "Joey", "Justin", "Matthew")) {
            add(m, v, BOTH, "en-US");
        }
        for (String v : List.of("Kevin", "Ruth", "Stephen", "Danielle", "Gregory")) {
            add(m, v, NEURAL, "en-US");
        }
        add(m, "Amy", BOTH, "en-GB");
        add(m, "Emma", BOTH, "en-GB");
        add(m, "Brian", BOTH, "en-GB");
        add(m, "Arthur", NEURAL, "en-GB");
        add(m, "Nicole", STANDARD, "en-AU");
        add(m, "Russell", STANDARD, "en-AU");
        add(m, "Olivia", NEURAL, "en-AU");
        add(m, "Aditi", STANDARD, "en-IN", "hi-IN");
        add(m, "Raveena", STANDARD, "en-IN");
        add(m, "Kajal", NEURAL, "en-IN", "hi-IN");
        add(m, "Celine", STANDARD, "fr-FR");
        add(m, "Lea", BOTH, "fr-FR");
        add(m, "Mathieu", STANDARD, "fr-FR");
        add(m, "Remi", NEURAL, "fr-FR");
        add(m, "Chantal", STANDARD, "fr-CA");
        add(m, "Gabrielle", NEURAL, "fr-CA");
        add(m, "Liam", NEURAL, "fr-CA");
        add(m, "Hans", STANDARD, "de-DE");
        add(m, "Marlene", STANDARD, "de-DE");
        add(m, "Vicki", BOTH, "de-DE");
        add(m, "Daniel", NEURAL, "de-DE");
        add(m, "Conchita", STANDARD, "es-ES");
        add(m, "Enrique", STANDARD, "es-ES");
        add(m, "Lucia", BOTH, "es-ES");
        add(m, "Sergio", NEURAL, "es-ES");
        add(m, "Lupe", BOTH, "es-US");
        add(m, "Penelope", STANDARD, "es-US");
        add(m, "Miguel", STANDARD, "es-US");
        add(m, "Pedro", NEURAL, "es-US");
        add(m, "Mia", BOTH, "es-MX");
        add(m, "Andres", NEURAL, "es-MX");
        add(m, "Carla", STANDARD, "it-IT");
        add(m, "Giorgio", STANDARD, "it-IT");
        add(m, "Bianca", BOTH, "it-IT");
        add(m, "Adriano", NEURAL, "it-IT");
        add(m, "Camila", BOTH, "pt-BR");
        add(m, "Vitoria", BOTH, "pt-BR");
        add(m, "Ricardo", STANDARD, "pt-BR");
        add(m, "Thiago", NEURAL, "pt-BR");
        add(m, "Mizuki", STANDARD, "ja-JP");
        add(m, "Takumi", BOTH, "ja-JP");
        add(m, "Kazuha", NEURAL, "ja-JP");
        add(m, "Tomoko", NEURAL, "ja-JP");
        VOICES = Collections.unmodifiableMap(m);
    }

    private PollyVoices() {
    }

    private static void add(Map<String, Voice> m, String id, Set<String> engines, String... languages) {
        m.put(id, new Voice(id, engines, List.of(languages)));
    }

    /** The voice, or null when the table does not know it. */
    static Voice voice(String id) {
        return VOICES.get(id);
    }
}
