package io.chimedialer.emulator;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Injected faults: each probabilistic one has its own probability in [0, 1], drawn from the seeded generator;
 * {@link #authDeniedRegions()} is a fixed set. Immutable; {@link #none()} injects nothing.
 *
 * @param create5xxBeforeCreate probability that a Create answers 500/503 without creating the call
 * @param create5xxAfterCreate  probability that a Create answers 500/503 although the call was created (and will ring)
 * @param create429             probability that a Create answers 429 ThrottledClientException regardless of quota
 * @param latency               probability that a REST response is delayed by {@link #latencyAmount()} (real time)
 * @param latencyAmount         the added latency
 * @param connectionReset       probability that a Create's connection is reset without an answer (the call is created in half of these)
 * @param duplicateInvocation   probability that an invocation is delivered twice with the same Sequence
 * @param dropHangup            probability that a call's final HANGUP invocation is never delivered (the call still ends)
 * @param authDeniedRegions     Regions whose every Create and Update is refused with 403 AccessDeniedException, as
 *                              an account whose IAM policy does not allow the action; {@code "*"} means every Region
 * @param actionFailure         probability that a Speak, SpeakAndGetDigits, PlayAudio or PlayAudioAndGetDigits
 *                              action fails at run time (the callee hears nothing; ACTION_FAILED is invoked)
 * @param actionErrorTypes      relative weights of the ErrorTypes of those failures, keys from {@link #ACTION_ERROR_TYPES}
 */
public record Faults(double create5xxBeforeCreate, double create5xxAfterCreate, double create429,
                     double latency, Duration latencyAmount, double connectionReset,
                     double duplicateInvocation, double dropHangup, Set<String> authDeniedRegions,
                     double actionFailure, Map<String, Double> actionErrorTypes) {

    /** The Region wildcard of {@link #authDeniedRegions()}: every Region. */
    public static final String ALL_REGIONS = "*";

    /**
     * The ErrorTypes an injected action failure can have (CHIME.md §4.3): {@code AccessDenied} (Polly without the
     * service-linked role, or S3 without the bucket policy), {@code InvalidAudioSource} (the S3 object is missing;
     * audio actions only) and {@code SystemException}. In this order, which is also the order of the draw.
     */
    public static final List<String> ACTION_ERROR_TYPES = List.of("AccessDenied", "InvalidAudioSource", "SystemException");

    public Faults {
        check("create5xxBeforeCreate", create5xxBeforeCreate);
        check("create5xxAfterCreate", create5xxAfterCreate);
        check("create429", create429);
        check("latency", latency);
        check("connectionReset", connectionReset);
        check("duplicateInvocation", duplicateInvocation);
        check("dropHangup", dropHangup);
        check("actionFailure", actionFailure);
        Objects.requireNonNull(latencyAmount, "latencyAmount");
        if (latencyAmount.isNegative()) {
            throw new IllegalArgumentException("latencyAmount must not be negative");
        }
        SortedSet<String> regions = new TreeSet<>();
        for (String r : Objects.requireNonNull(authDeniedRegions, "authDeniedRegions")) {
            if (r == null || r.isBlank()) {
                throw new IllegalArgumentException("authDeniedRegions must not contain a blank Region name");
            }
            regions.add(r.trim());
        }
        authDeniedRegions = Collections.unmodifiableSortedSet(regions);
        Objects.requireNonNull(actionErrorTypes, "actionErrorTypes");
        Map<String, Double> weights = new LinkedHashMap<>();
        double sum = 0;
        for (String type : ACTION_ERROR_TYPES) {
            Double w = actionErrorTypes.get(type);
            if (w != null) {
                if (!(w >= 0) || Double.isInfinite(w)) {
                    throw new IllegalArgumentException("actionErrorTypes." + type + " must be a finite weight >= 0, was " + w);
                }
                weights.put(type, w);
                sum += w;
            }
        }
        for (String type : actionErrorTypes.keySet()) {
            if (!ACTION_ERROR_TYPES.contains(type)) {
                throw new IllegalArgumentException("actionErrorTypes: unknown ErrorType '" + type + "' (expected one of "
                        + String.join(", ", ACTION_ERROR_TYPES) + ")");
            }
        }
        if (sum <= 0) {
            throw new IllegalArgumentException("actionErrorTypes must give at least one ErrorType a positive weight");
        }
        actionErrorTypes = Collections.unmodifiableMap(weights);
    }

    /** The faults of the first eight kinds only (no Region denied, no action failures). */
    public Faults(double create5xxBeforeCreate, double create5xxAfterCreate, double create429, double latency,
                  Duration latencyAmount, double connectionReset, double duplicateInvocation, double dropHangup) {
        this(create5xxBeforeCreate, create5xxAfterCreate, create429, latency, latencyAmount, connectionReset,
                duplicateInvocation, dropHangup, Set.of(), 0, defaultActionErrorTypes());
    }

    private static void check(String field, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(field + " must be a probability in [0, 1], was " + p);
        }
    }

    private static Map<String, Double> defaultActionErrorTypes() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String type : ACTION_ERROR_TYPES) {
            m.put(type, 1.0);
        }
        return m;
    }

    /** No faults. */
    public static Faults none() {
        return new Faults(0, 0, 0, 0, Duration.ZERO, 0, 0, 0);
    }

    public static Builder builder() {
        return new Builder(none());
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** True when every Create and Update in {@code region} is refused with AccessDeniedException. */
    public boolean authDenied(String region) {
        return authDeniedRegions.contains(ALL_REGIONS) || authDeniedRegions.contains(region);
    }

    /** True when at least one fault is injected. */
    public boolean any() {
        return create5xxBeforeCreate > 0 || create5xxAfterCreate > 0 || create429 > 0 || latency > 0
                || connectionReset > 0 || duplicateInvocation > 0 || dropHangup > 0 || !authDeniedRegions.isEmpty()
                || actionFailure > 0;
    }

    /** Mutable builder; {@link #build()} validates. Not thread-safe. */
    public static final class Builder {
        private double create5xxBeforeCreate;
        private double create5xxAfterCreate;
        private double create429;
        private double latency;
        private Duration latencyAmount;
        private double connectionReset;
        private double duplicateInvocation;
        private double dropHangup;
        private Set<String> authDeniedRegions;
        private double actionFailure;
        private Map<String, Double> actionErrorTypes;

        private Builder(Faults f) {
            create5xxBeforeCreate = f.create5xxBeforeCreate;
            create5xxAfterCreate = f.create5xxAfterCreate;
            create429 = f.create429;
            latency = f.latency;
            latencyAmount = f.latencyAmount;
            connectionReset = f.connectionReset;
            duplicateInvocation = f.duplicateInvocation;
            dropHangup = f.dropHangup;
            authDeniedRegions = f.authDeniedRegions;
            actionFailure = f.actionFailure;
            actionErrorTypes = f.actionErrorTypes;
        }

        public Builder create5xxBeforeCreate(double p) {
            create5xxBeforeCreate = p;
            return this;
        }

        public Builder create5xxAfterCreate(double p) {
            create5xxAfterCreate = p;
            return this;
        }

        public Builder create429(double p) {
            create429 = p;
            return this;
        }

        public Builder latency(double p, Duration amount) {
            latency = p;
            latencyAmount = amount;
            return this;
        }

        public Builder connectionReset(double p) {
            connectionReset = p;
            return this;
        }

        public Builder duplicateInvocation(double p) {
            duplicateInvocation = p;
            return this;
        }

        public Builder dropHangup(double p) {
            dropHangup = p;
            return this;
        }

        /**
         * Refuses every Create and Update in these Regions with 403 AccessDeniedException (replacing an earlier
         * set); {@value #ALL_REGIONS} means every Region, no argument none.
         */
        public Builder authDenied(String... regions) {
            authDeniedRegions = new LinkedHashSet<>(Arrays.asList(regions));
            return this;
        }

        /** The probability that a Speak, SpeakAndGetDigits, PlayAudio or PlayAudioAndGetDigits fails at run time. */
        public Builder actionFailure(double p) {
            actionFailure = p;
            return this;
        }

        /** The ErrorTypes of injected action failures, drawn with equal weight (default: all three). */
        public Builder actionErrorTypes(String... types) {
            Map<String, Double> m = new LinkedHashMap<>();
            for (String t : types) {
                m.put(t, 1.0);
            }
            actionErrorTypes = m;
            return this;
        }

        /** The ErrorTypes of injected action failures with their relative weights. */
        public Builder actionErrorTypes(Map<String, Double> weights) {
            actionErrorTypes = new LinkedHashMap<>(weights);
            return this;
        }

        public Faults build() {
            return new Faults(create5xxBeforeCreate, create5xxAfterCreate, create429, latency, latencyAmount,
                    connectionReset, duplicateInvocation, dropHangup, authDeniedRegions, actionFailure,
                    actionErrorTypes);
        }
    }
}
