package io.chimedialer.core.flow;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The Amazon Polly voices a Speak or SpeakAndGetDigits action may name, with the language each speaks and the
 * engines it has among the two Chime accepts ({@code standard}, {@code neural}). Chime answers a Speak whose
 * {@code VoiceId}, {@code LanguageCode} and {@code Engine} do not go together with ACTION_FAILED
 * ({@code InvalidActionParameter}); configuration checks them against this table first, and the emulator applies
 * the same facts. Immutable and thread-safe.
 *
 * <p>Source: Amazon Polly's voice list ({@code DescribeVoices} and the developer guide's "Available voices" table,
 * as of 2024); Polly's generative and long-form engines are left out since Chime's Speak does not take them. A voice
 * Polly adds later is unknown here and rejected until it is added to {@link #TABLE} (docs/configuration.md lists
 * the table).
 */
public final class PollyVoices {

    /** Chime's engine names. */
    public static final String STANDARD = "standard";
    /** Chime's engine names. */
    public static final String NEURAL = "neural";

    private static final Set<String> S = Set.of(STANDARD);
    private static final Set<String> N = Set.of(NEURAL);
    private static final Set<String> NS = Set.of(NEURAL, STANDARD);

    /**
     * One voice.
     *
     * @param id             the VoiceId, case as Polly spells it (e.g. {@code Joanna})
     * @param languageCode   the language it speaks (e.g. {@code en-US})
     * @param otherLanguages further languages of a bilingual voice (e.g. {@code hi-IN} for Aditi), may be empty
     * @param engines        {@code standard} and/or {@code neural}
     */
    public record Voice(String id, String languageCode, Set<String> otherLanguages, Set<String> engines) {
        public Voice {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(languageCode, "languageCode");
            otherLanguages = Set.copyOf(otherLanguages);
            engines = Set.copyOf(engines);
        }

        /** Whether it speaks this language, as its own or as a bilingual voice's other language. */
        public boolean speaks(String language) {
            return languageCode.equals(language) || otherLanguages.contains(language);
        }
    }

    /** Every voice, by language. */
    private static final List<Voice> TABLE = List.of(
            v("Zeina", "arb", S),
            v("Hala", "ar-AE", N), v("Zayd", "ar-AE", N),
            v("Arlet", "ca-ES", N),
            v("Zhiyu", "cmn-CN", NS),
            v("Jitka", "cs-CZ", N),
            v("Gwyneth", "cy-GB", S),
            v("Naja", "da-DK", S), v("Mads", "da-DK", S), v("Sofie", "da-DK", N),
            v("Hannah", "de-AT", N),
            v("Marlene", "de-DE", S), v("Vicki", "de-DE", NS), v("Hans", "de-DE", S), v("Daniel", "de-DE", N),
            v("Nicole", "en-AU", S), v("Olivia", "en-AU", N), v("Russell", "en-AU", S),
            v("Amy", "en-GB", NS), v("Emma", "en-GB", NS), v("Brian", "en-GB", NS), v("Arthur", "en-GB", N),
            v("Geraint", "en-GB-WLS", S),
            v("Niamh", "en-IE", N),
            new Voice("Aditi", "en-IN", Set.of("hi-IN"), S), v("Raveena", "en-IN", S),
            new Voice("Kajal", "en-IN", Set.of("hi-IN"), N),
            v("Aria", "en-NZ", N),
            v("Danielle", "en-US", N), v("Gregory", "en-US", N), v("Ivy", "en-US", NS), v("Joanna", "en-US", NS),
            v("Kendra", "en-US", NS), v("Kimberly", "en-US", NS), v("Salli", "en-US", NS), v("Joey", "en-US", NS),
            v("Justin", "en-US", N), v("Kevin", "en-US", NS), v("Matthew", "en-US", N), v("Ruth", "en-US", N),
            v("Stephen", "en-US", N),
            v("Ayanda", "en-ZA", N),
            v("Conchita", "es-ES", S), v("Lucia", "es-ES", NS), v("Enrique", "es-ES", S), v("Sergio", "es-ES", N),
            v("Mia", "es-MX", NS), v("Andres", "es-MX", N),
            v("Lupe", "es-US", NS), v("Penelope", "es-US", S), v("Miguel", "es-US", S), v("Pedro", "es-US", N),
            v("Suvi", "fi-FI", N),
            v("Isabelle", "fr-BE", N),
            v("Chantal", "fr-CA", S), v("Gabrielle", "fr-CA", N), v("Liam", "fr-CA", N),
            v("Celine", "fr-FR", S), v("Lea", "fr-FR", NS), v("Mathieu", "fr-FR", S), v("Remi", "fr-FR", N),
            v("Dora", "is-IS", S), v("Karl", "is-IS", S),
            v("Carla", "it-IT", S), v("Bianca", "it-IT", NS), v("Giorgio", "it-IT", S), v("Adriano", "it-IT", N),
            v("Mizuki", "ja-JP", S), v("Takumi", "ja-JP", NS), v("Kazuha", "ja-JP", N), v("Tomoko", "ja-JP", N),
            v("Seoyeon", "ko-KR", NS),
            v("Liv", "nb-NO", S), v("Ida", "nb-NO", N),
            v("Lisa", "nl-BE", N),
            v("Lotte", "nl-NL", S), v("Ruben", "nl-NL", S), v("Laura", "nl-NL", N),
            v("Ewa", "pl-PL", S), v("Maja", "pl-PL", S), v("Jacek", "pl-PL", S), v("Jan", "pl-PL", S),
            v("Ola", "pl-PL", N),
            v("Camila", "pt-BR", NS), v("Vitoria", "pt-BR", NS), v("Ricardo", "pt-BR", S), v("Thiago", "pt-BR", N),
            v("Ines", "pt-PT", NS), v("Cristiano", "pt-PT", S),
            v("Carmen", "ro-RO", S),
            v("Tatyana", "ru-RU", S), v("Maxim", "ru-RU", S),
            v("Astrid", "sv-SE", S), v("Elin", "sv-SE", N),
            v("Filiz", "tr-TR", S), v("Burcu", "tr-TR", N),
            v("Hiujin", "yue-CN", N));

    private static final Map<String, Voice> BY_ID;

    static {
        Map<String, Voice> byId = new LinkedHashMap<>();
        for (Voice voice : TABLE) {
            if (byId.put(voice.id(), voice) != null) {
                throw new IllegalStateException("voice listed twice: " + voice.id());
            }
        }
        BY_ID = Collections.unmodifiableMap(byId);
    }

    private PollyVoices() {
    }

    private static Voice v(String id, String language, Set<String> engines) {
        return new Voice(id, language, Set.of(), engines);
    }

    /** Every voice of the table, grouped by language. */
    public static List<Voice> all() {
        return TABLE;
    }

    /** The voice with this exact VoiceId (Polly's ids are case-sensitive). */
    public static Optional<Voice> find(String voiceId) {
        return Optional.ofNullable(BY_ID.get(voiceId));
    }

    /** The ids of the voices that speak this language with this engine, in table order. */
    public static List<String> voicesFor(String languageCode, String engine) {
        List<String> ids = new ArrayList<>();
        for (Voice voice : TABLE) {
            if (voice.speaks(languageCode) && voice.engines().contains(engine)) {
                ids.add(voice.id());
            }
        }
        return ids;
    }

    /**
     * What is wrong with this combination, or empty when Chime accepts it. The message starts with the key it is
     * about ({@code flow.voice.voice-id:}, {@code flow.voice.language-code:} or {@code flow.voice.engine:}).
     *
     * @param voiceId      the VoiceId
     * @param languageCode the LanguageCode
     * @param engine       {@code standard} or {@code neural}
     */
    public static Optional<String> problem(String voiceId, String languageCode, String engine) {
        Voice voice = BY_ID.get(voiceId);
        if (voice == null) {
            for (Voice other : TABLE) {
                if (other.id().equalsIgnoreCase(voiceId)) {
                    return Optional.of("flow.voice.voice-id: Polly's voice ids are case-sensitive: '" + voiceId
                            + "' should be '" + other.id() + "'");
                }
            }
            return Optional.of("flow.voice.voice-id: '" + voiceId + "' is not an Amazon Polly voice the dialer knows"
                    + choices(languageCode, engine));
        }
        if (!voice.speaks(languageCode)) {
            String speaks = voice.otherLanguages().isEmpty() ? voice.languageCode()
                    : voice.languageCode() + " and " + String.join(", ", voice.otherLanguages());
            return Optional.of("flow.voice.language-code: " + voice.id() + " speaks " + speaks + ", not '"
                    + languageCode + "'" + choices(languageCode, engine));
        }
        if (!voice.engines().contains(engine)) {
            return Optional.of("flow.voice.engine: " + voice.id() + " has no " + engine + " voice, only "
                    + String.join(", ", voice.engines()) + choices(languageCode, engine));
        }
        return Optional.empty();
    }

    private static String choices(String languageCode, String engine) {
        List<String> ids = voicesFor(languageCode, engine);
        return ids.isEmpty() ? " (no " + engine + " voice speaks '" + languageCode + "')"
                : " (" + engine + " voices for " + languageCode + ": " + String.join(", ", ids) + ")";
    }
}
