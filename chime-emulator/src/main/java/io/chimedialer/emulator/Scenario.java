package io.chimedialer.emulator;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * How callees behave: the seeded mix of outcomes, ring and talk durations (emulated milliseconds, before
 * the time scale), the DTMF a callee presses when asked, hang-ups during playback, and numbers whose
 * behaviour is scripted. Immutable and validated at construction; the file format is described in
 * docs/emulator.md and read by {@link #load(Path)}.
 *
 * <p>A callee's behaviour is a pure function of (seed, number, how many times the number was dialed
 * before), so a run is reproducible whatever order the Creates arrive in.
 *
 * @param mix                             relative weights of the outcomes of unscripted numbers
 * @param ringMs                          how long a call rings before it is answered, busy, rejected or fails
 * @param talkMs                          how long an answered callee stays before hanging up
 * @param noAnswerMs                      how long an unanswered call rings before it ends with 480
 * @param dtmfProbability                 chance that a callee presses digits when a *GetDigits action asks
 * @param dtmfDigits                      the digit strings a callee picks from (uniformly)
 * @param hangupDuringPlaybackProbability chance that an answered callee hangs up halfway through the first prompt
 * @param numbers                         scripted callees by E.164 number (with {@code +})
 * @param hangupWithoutSipCodeProbability chance that a call's HANGUP invocations carry no {@code SipResponseCode} in
 *                                        their ActionData, as several of AWS's own examples show (CHIME.md §3.3); the
 *                                        ground truth keeps the real code
 */
public record Scenario(Mix mix, Range ringMs, Range talkMs, long noAnswerMs, double dtmfProbability,
                       List<String> dtmfDigits, double hangupDuringPlaybackProbability,
                       Map<String, Callee> numbers, double hangupWithoutSipCodeProbability) {

    /** What happens to a dialed call, with the SIP code of the HANGUP that ends it unanswered. */
    public enum Outcome {
        ANSWERED("answered", 0),
        BUSY("busy", 486),
        NO_ANSWER("noAnswer", 480),
        INVALID_NUMBER("invalidNumber", 404),
        REJECTED("rejected", 603),
        FAILED("failed", 503);

        private final String key;
        private final int sipCode;

        Outcome(String key, int sipCode) {
            this.key = key;
            this.sipCode = sipCode;
        }

        /** The name used in scenario files and ground truth, e.g. {@code noAnswer}. */
        @JsonValue
        public String key() {
            return key;
        }

        /** SipResponseCode of the HANGUP when the call ends with this outcome (0 for answered). */
        public int sipCode() {
            return sipCode;
        }

        /** Parses {@link #key()} (case-insensitive). */
        public static Outcome ofKey(String key) {
            for (Outcome o : values()) {
                if (o.key.equalsIgnoreCase(key)) {
                    return o;
                }
            }
            throw new IllegalArgumentException("unknown outcome '" + key + "' (expected one of answered, busy, noAnswer, invalidNumber, rejected, failed)");
        }
    }

    /** Relative weights (need not sum to 1; at least one must be positive). */
    public record Mix(double answered, double busy, double noAnswer, double invalidNumber, double rejected,
                      double failed) {
        public Mix {
            double[] all = {answered, busy, noAnswer, invalidNumber, rejected, failed};
            double sum = 0;
            for (double w : all) {
                if (!(w >= 0) || Double.isInfinite(w)) {
                    throw new IllegalArgumentException("mix weights must be finite and >= 0");
                }
                sum += w;
            }
            if (sum <= 0) {
                throw new IllegalArgumentException("mix weights must not all be 0");
            }
        }

        Outcome pick(double u) {
            double[] all = {answered, busy, noAnswer, invalidNumber, rejected, failed};
            double sum = 0;
            for (double w : all) {
                sum += w;
            }
            double x = u * sum;
            Outcome[] outcomes = Outcome.values();
            for (int i = 0; i < all.length; i++) {
                if (x < all[i]) {
                    return outcomes[i];
                }
                x -= all[i];
            }
            for (int i = all.length - 1; i >= 0; i--) {
                if (all[i] > 0) {
                    return outcomes[i];
                }
            }
            return Outcome.ANSWERED;
        }
    }

    /** An inclusive range of emulated milliseconds. */
    public record Range(long min, long max) {
        public Range {
            if (min < 0 || max < min) {
                throw new IllegalArgumentException("range needs 0 <= min <= max, was [" + min + ", " + max + "]");
            }
        }

        long pick(SplittableRandom r) {
            return min == max ? min : r.nextLong(min, max + 1);
        }
    }

    /**
     * One callee's behaviour. In a scripted number, a null field is drawn from the scenario like any
     * other number; {@link #resolve} returns a Callee with every field set.
     *
     * @param outcome              the outcome
     * @param ringMs               ring time before the outcome (for noAnswer: before the 480)
     * @param talkMs               time from answer until the callee hangs up
     * @param dtmf                 digits pressed at a *GetDigits action (a terminator such as {@code #} ends the
     *                             input; what follows it is not heard); empty = presses nothing
     * @param hangupDuringPlayback hangs up halfway through the first prompt
     * @param hangupWithoutSipCode the HANGUP invocations of this callee's leg carry no {@code SipResponseCode}
     */
    public record Callee(Outcome outcome, Long ringMs, Long talkMs, String dtmf, Boolean hangupDuringPlayback,
                         Boolean hangupWithoutSipCode) {
        public Callee {
            if (ringMs != null && ringMs < 0) {
                throw new IllegalArgumentException("ringMs must be >= 0");
            }
            if (talkMs != null && talkMs < 0) {
                throw new IllegalArgumentException("talkMs must be >= 0");
            }
            if (dtmf != null && !dtmf.matches("[0-9*#A-D]*")) {
                throw new IllegalArgumentException("dtmf may contain only 0-9 * # A-D, was '" + dtmf + "'");
            }
        }

        /** A callee whose HANGUPs' code is drawn from the scenario (scripted) or sent (resolved). */
        public Callee(Outcome outcome, Long ringMs, Long talkMs, String dtmf, Boolean hangupDuringPlayback) {
            this(outcome, ringMs, talkMs, dtmf, hangupDuringPlayback, null);
        }

        /** A scripted callee with only the outcome fixed. */
        public static Callee of(Outcome outcome) {
            return new Callee(outcome, null, null, null, null, null);
        }
    }

    public Scenario {
        Objects.requireNonNull(mix, "mix");
        Objects.requireNonNull(ringMs, "ringMs");
        Objects.requireNonNull(talkMs, "talkMs");
        if (noAnswerMs < 0) {
            throw new IllegalArgumentException("noAnswerMs must be >= 0");
        }
        if (!(dtmfProbability >= 0 && dtmfProbability <= 1)) {
            throw new IllegalArgumentException("dtmf.probability must be in [0, 1]");
        }
        if (!(hangupDuringPlaybackProbability >= 0 && hangupDuringPlaybackProbability <= 1)) {
            throw new IllegalArgumentException("hangupDuringPlaybackProbability must be in [0, 1]");
        }
        if (!(hangupWithoutSipCodeProbability >= 0 && hangupWithoutSipCodeProbability <= 1)) {
            throw new IllegalArgumentException("hangupWithoutSipCodeProbability must be in [0, 1]");
        }
        dtmfDigits = List.copyOf(dtmfDigits);
        for (String d : dtmfDigits) {
            if (!d.matches("[0-9*#A-D]+")) {
                throw new IllegalArgumentException("dtmf.digits: '" + d + "' may contain only 0-9 * # A-D");
            }
        }
        if (dtmfProbability > 0 && dtmfDigits.isEmpty()) {
            throw new IllegalArgumentException("dtmf.digits must not be empty when dtmf.probability > 0");
        }
        numbers = Map.copyOf(numbers);
        for (Map.Entry<String, Callee> e : numbers.entrySet()) {
            if (!e.getKey().matches("^\\+[1-9]\\d{1,14}$")) {
                throw new IllegalArgumentException("numbers: '" + e.getKey() + "' is not E.164 with a leading +");
            }
            Objects.requireNonNull(e.getValue(), "numbers." + e.getKey());
        }
    }

    /** A scenario whose HANGUPs all carry their SipResponseCode. */
    public Scenario(Mix mix, Range ringMs, Range talkMs, long noAnswerMs, double dtmfProbability,
                    List<String> dtmfDigits, double hangupDuringPlaybackProbability, Map<String, Callee> numbers) {
        this(mix, ringMs, talkMs, noAnswerMs, dtmfProbability, dtmfDigits, hangupDuringPlaybackProbability, numbers, 0);
    }

    /**
     * The built-in scenario: 70% answered, 10% busy, 10% no answer, 4% invalid number, 3% rejected,
     * 3% failed; ring 2-8 s; talk 5-30 s; no answer after 30 s; 60% of callees press one of 1, 2, 9;
     * 5% hang up during the first prompt; no scripted numbers; every HANGUP carries its SipResponseCode
     * (hangupWithoutSipCodeProbability 0, for now: the dialer learns to classify code-less HANGUPs first).
     */
    public static Scenario defaults() {
        return new Scenario(new Mix(0.70, 0.10, 0.10, 0.04, 0.03, 0.03), new Range(2_000, 8_000),
                new Range(5_000, 30_000), 30_000, 0.6, List.of("1", "2", "9"), 0.05, Map.of(), 0);
    }

    public static Builder builder() {
        return new Builder(defaults());
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * The behaviour of the {@code occurrence}-th dial (0-based) of {@code to}: the scripted fields of
     * {@link #numbers()} where set, the rest drawn from a random generator seeded by (seed, to, occurrence).
     */
    public Callee resolve(String to, long seed, int occurrence) {
        long mixed = seed * 0x9E3779B97F4A7C15L ^ ((long) to.hashCode() << 32) ^ occurrence * 0xBF58476D1CE4E5B9L;
        SplittableRandom r = new SplittableRandom(mixed);
        // Draw every field, in a fixed order, so a scripted field does not shift the others.
        Outcome outcome = mix.pick(r.nextDouble());
        long ring = ringMs.pick(r);
        long talk = talkMs.pick(r);
        String dtmf = r.nextDouble() < dtmfProbability && !dtmfDigits.isEmpty()
                ? dtmfDigits.get(r.nextInt(dtmfDigits.size())) : "";
        boolean hangup = r.nextDouble() < hangupDuringPlaybackProbability;
        // Drawn last, so the fields above are the same as before it existed.
        boolean noCode = r.nextDouble() < hangupWithoutSipCodeProbability;
        Callee scripted = numbers.get(to.startsWith("+") ? to : "+" + to);
        if (scripted != null) {
            outcome = scripted.outcome() != null ? scripted.outcome() : outcome;
            ring = scripted.ringMs() != null ? scripted.ringMs() : ring;
            talk = scripted.talkMs() != null ? scripted.talkMs() : talk;
            dtmf = scripted.dtmf() != null ? scripted.dtmf() : dtmf;
            hangup = scripted.hangupDuringPlayback() != null ? scripted.hangupDuringPlayback() : hangup;
            noCode = scripted.hangupWithoutSipCode() != null ? scripted.hangupWithoutSipCode() : noCode;
        }
        if (outcome == Outcome.NO_ANSWER && (scripted == null || scripted.ringMs() == null)) {
            ring = noAnswerMs;
        }
        return new Callee(outcome, ring, talk, dtmf, hangup, noCode);
    }

    /**
     * This scenario in the file format of {@link #load} (what {@code GET /emulator/v1/config} shows):
     * parsing its JSON gives an equal scenario.
     */
    public Map<String, Object> toDocument() {
        Map<String, Object> doc = new LinkedHashMap<>();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("answered", mix.answered());
        m.put("busy", mix.busy());
        m.put("noAnswer", mix.noAnswer());
        m.put("invalidNumber", mix.invalidNumber());
        m.put("rejected", mix.rejected());
        m.put("failed", mix.failed());
        doc.put("mix", m);
        doc.put("ringMs", Map.of("min", ringMs.min(), "max", ringMs.max()));
        doc.put("talkMs", Map.of("min", talkMs.min(), "max", talkMs.max()));
        doc.put("noAnswerMs", noAnswerMs);
        doc.put("dtmf", Map.of("probability", dtmfProbability, "digits", dtmfDigits));
        doc.put("hangupDuringPlaybackProbability", hangupDuringPlaybackProbability);
        doc.put("hangupWithoutSipCodeProbability", hangupWithoutSipCodeProbability);
        Map<String, Object> ns = new LinkedHashMap<>();
        numbers.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            Callee c = e.getValue();
            Map<String, Object> v = new LinkedHashMap<>();
            if (c.outcome() != null) {
                v.put("outcome", c.outcome().key());
            }
            if (c.ringMs() != null) {
                v.put("ringMs", c.ringMs());
            }
            if (c.talkMs() != null) {
                v.put("talkMs", c.talkMs());
            }
            if (c.dtmf() != null) {
                v.put("dtmf", c.dtmf());
            }
            if (c.hangupDuringPlayback() != null) {
                v.put("hangupDuringPlayback", c.hangupDuringPlayback());
            }
            if (c.hangupWithoutSipCode() != null) {
                v.put("hangupWithoutSipCode", c.hangupWithoutSipCode());
            }
            ns.put(e.getKey(), v);
        });
        doc.put("numbers", ns);
        return doc;
    }

    /** Reads a scenario file: YAML (.yaml, .yml) or JSON (anything else); every error is reported at once. */
    public static Scenario load(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean yaml = name.endsWith(".yaml") || name.endsWith(".yml");
        try {
            return parse(Files.readString(file), yaml);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read scenario " + file, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("scenario " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses scenario text (YAML is a superset of JSON, so {@code yaml=true} reads both). */
    public static Scenario parse(String text, boolean yaml) {
        ObjectMapper mapper = yaml ? new ObjectMapper(new YAMLFactory()) : new ObjectMapper();
        JsonNode root;
        try {
            root = mapper.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException("not valid " + (yaml ? "YAML" : "JSON") + ": " + e.getMessage(), e);
        }
        return new Parser().parse(root);
    }

    /** Mutable builder starting from a scenario; {@link #build()} validates. Not thread-safe. */
    public static final class Builder {
        private Mix mix;
        private Range ringMs;
        private Range talkMs;
        private long noAnswerMs;
        private double dtmfProbability;
        private List<String> dtmfDigits;
        private double hangupDuringPlaybackProbability;
        private double hangupWithoutSipCodeProbability;
        private final Map<String, Callee> numbers;

        private Builder(Scenario s) {
            mix = s.mix;
            ringMs = s.ringMs;
            talkMs = s.talkMs;
            noAnswerMs = s.noAnswerMs;
            dtmfProbability = s.dtmfProbability;
            dtmfDigits = s.dtmfDigits;
            hangupDuringPlaybackProbability = s.hangupDuringPlaybackProbability;
            hangupWithoutSipCodeProbability = s.hangupWithoutSipCodeProbability;
            numbers = new LinkedHashMap<>(s.numbers);
        }

        public Builder mix(Mix mix) {
            this.mix = mix;
            return this;
        }

        public Builder ringMs(long min, long max) {
            this.ringMs = new Range(min, max);
            return this;
        }

        public Builder talkMs(long min, long max) {
            this.talkMs = new Range(min, max);
            return this;
        }

        public Builder noAnswerMs(long ms) {
            this.noAnswerMs = ms;
            return this;
        }

        public Builder dtmf(double probability, List<String> digits) {
            this.dtmfProbability = probability;
            this.dtmfDigits = digits;
            return this;
        }

        public Builder hangupDuringPlaybackProbability(double p) {
            this.hangupDuringPlaybackProbability = p;
            return this;
        }

        /** The chance that a call's HANGUP invocations omit SipResponseCode (default 0). */
        public Builder hangupWithoutSipCodeProbability(double p) {
            this.hangupWithoutSipCodeProbability = p;
            return this;
        }

        /** Scripts one number (replacing an earlier script of it). */
        public Builder number(String e164, Callee callee) {
            numbers.put(e164, callee);
            return this;
        }

        public Scenario build() {
            return new Scenario(mix, ringMs, talkMs, noAnswerMs, dtmfProbability, dtmfDigits,
                    hangupDuringPlaybackProbability, numbers, hangupWithoutSipCodeProbability);
        }
    }

    /** Tree-to-record conversion that collects every problem before failing. */
    private static final class Parser {
        private final List<String> errors = new ArrayList<>();

        Scenario parse(JsonNode root) {
            Scenario d = defaults();
            if (root == null || root.isMissingNode() || root.isNull()) {
                return d;
            }
            if (!root.isObject()) {
                throw new IllegalArgumentException("the scenario must be an object");
            }
            known(root, "", Set.of("mix", "ringMs", "talkMs", "noAnswerMs", "dtmf",
                    "hangupDuringPlaybackProbability", "hangupWithoutSipCodeProbability", "numbers"));
            Mix mix = d.mix();
            JsonNode m = root.get("mix");
            if (m != null) {
                if (!m.isObject()) {
                    errors.add("mix: must be an object");
                } else {
                    known(m, "mix.", Set.of("answered", "busy", "noAnswer", "invalidNumber", "rejected", "failed"));
                    try {
                        mix = new Mix(dbl(m, "mix.", "answered", 0), dbl(m, "mix.", "busy", 0),
                                dbl(m, "mix.", "noAnswer", 0), dbl(m, "mix.", "invalidNumber", 0),
                                dbl(m, "mix.", "rejected", 0), dbl(m, "mix.", "failed", 0));
                    } catch (IllegalArgumentException e) {
                        errors.add("mix: " + e.getMessage());
                    }
                }
            }
            Range ring = range(root, "ringMs", d.ringMs());
            Range talk = range(root, "talkMs", d.talkMs());
            long noAnswer = lng(root, "", "noAnswerMs", d.noAnswerMs());
            double dtmfP = d.dtmfProbability();
            List<String> digits = d.dtmfDigits();
            JsonNode dt = root.get("dtmf");
            if (dt != null) {
                if (!dt.isObject()) {
                    errors.add("dtmf: must be an object");
                } else {
                    known(dt, "dtmf.", Set.of("probability", "digits"));
                    dtmfP = dbl(dt, "dtmf.", "probability", dtmfP);
                    JsonNode ds = dt.get("digits");
                    if (ds != null) {
                        if (!ds.isArray()) {
                            errors.add("dtmf.digits: must be a list of strings");
                        } else {
                            List<String> list = new ArrayList<>();
                            ds.forEach(x -> list.add(x.asText()));
                            digits = list;
                        }
                    }
                }
            }
            double hup = dbl(root, "", "hangupDuringPlaybackProbability", d.hangupDuringPlaybackProbability());
            double noCode = dbl(root, "", "hangupWithoutSipCodeProbability", d.hangupWithoutSipCodeProbability());
            Map<String, Callee> numbers = new LinkedHashMap<>();
            JsonNode ns = root.get("numbers");
            if (ns != null) {
                if (!ns.isObject()) {
                    errors.add("numbers: must be an object keyed by E.164 number");
                } else {
                    for (Map.Entry<String, JsonNode> e : ns.properties()) {
                        Callee c = callee("numbers." + e.getKey() + ".", e.getValue());
                        if (c != null) {
                            numbers.put(e.getKey(), c);
                        }
                    }
                }
            }
            if (!errors.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", errors));
            }
            try {
                return new Scenario(mix, ring, talk, noAnswer, dtmfP, digits, hup, numbers, noCode);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }

        private Callee callee(String path, JsonNode n) {
            if (!n.isObject()) {
                errors.add(path + ": must be an object");
                return null;
            }
            known(n, path, Set.of("outcome", "ringMs", "talkMs", "dtmf", "hangupDuringPlayback", "hangupWithoutSipCode"));
            Outcome outcome = null;
            if (n.hasNonNull("outcome")) {
                try {
                    outcome = Outcome.ofKey(n.get("outcome").asText());
                } catch (IllegalArgumentException e) {
                    errors.add(path + "outcome: " + e.getMessage());
                }
            }
            Long ring = n.hasNonNull("ringMs") ? lng(n, path, "ringMs", 0) : null;
            Long talk = n.hasNonNull("talkMs") ? lng(n, path, "talkMs", 0) : null;
            String dtmf = n.hasNonNull("dtmf") ? n.get("dtmf").asText() : null;
            Boolean hup = null;
            if (n.hasNonNull("hangupDuringPlayback")) {
                if (!n.get("hangupDuringPlayback").isBoolean()) {
                    errors.add(path + "hangupDuringPlayback: must be true or false");
                } else {
                    hup = n.get("hangupDuringPlayback").booleanValue();
                }
            }
            Boolean noCode = null;
            if (n.hasNonNull("hangupWithoutSipCode")) {
                if (!n.get("hangupWithoutSipCode").isBoolean()) {
                    errors.add(path + "hangupWithoutSipCode: must be true or false");
                } else {
                    noCode = n.get("hangupWithoutSipCode").booleanValue();
                }
            }
            try {
                return new Callee(outcome, ring, talk, dtmf, hup, noCode);
            } catch (IllegalArgumentException e) {
                errors.add(path.substring(0, path.length() - 1) + ": " + e.getMessage());
                return null;
            }
        }

        private Range range(JsonNode root, String field, Range dflt) {
            JsonNode n = root.get(field);
            if (n == null) {
                return dflt;
            }
            if (n.isNumber()) {
                return new Range(n.longValue(), n.longValue());
            }
            if (!n.isObject()) {
                errors.add(field + ": must be a number or {min, max}");
                return dflt;
            }
            known(n, field + ".", Set.of("min", "max"));
            long min = lng(n, field + ".", "min", dflt.min());
            long max = lng(n, field + ".", "max", Math.max(min, dflt.max()));
            if (min < 0 || max < min) {
                errors.add(field + ": needs 0 <= min <= max");
                return dflt;
            }
            return new Range(min, max);
        }

        private void known(JsonNode n, String path, Set<String> allowed) {
            n.fieldNames().forEachRemaining(f -> {
                if (!allowed.contains(f)) {
                    errors.add(path + f + ": unknown field (expected one of " + allowed.stream().sorted().toList() + ")");
                }
            });
        }

        private double dbl(JsonNode n, String path, String field, double dflt) {
            JsonNode v = n.get(field);
            if (v == null || v.isNull()) {
                return dflt;
            }
            if (!v.isNumber()) {
                errors.add(path + field + ": must be a number");
                return dflt;
            }
            return v.doubleValue();
        }

        private long lng(JsonNode n, String path, String field, long dflt) {
            JsonNode v = n.get(field);
            if (v == null || v.isNull()) {
                return dflt;
            }
            if (!v.canConvertToLong() || !v.isIntegralNumber()) {
                errors.add(path + field + ": must be a whole number");
                return dflt;
            }
            return v.longValue();
        }
    }
}
