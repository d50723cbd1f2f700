package io.chimedialer.emulator;

import java.time.Duration;
import java.util.Objects;

/**
 * Injected faults, each with its own probability in [0, 1]. Immutable; {@link #none()} injects nothing.
 *
 * @param create5xxBeforeCreate probability that a Create answers 500/503 without creating the call
 * @param create5xxAfterCreate  probability that a Create answers 500/503 although the call was created (and will ring)
 * @param create429             probability that a Create answers 429 ThrottledClientException regardless of quota
 * @param latency               probability that a REST response is delayed by {@link #latencyAmount()} (real time)
 * @param latencyAmount         the added latency
 * @param connectionReset       probability that a Create's connection is reset without an answer (the call is created in half of these)
 * @param duplicateInvocation   probability that an invocation is delivered twice with the same Sequence
 * @param dropHangup            probability that a call's final HANGUP invocation is never delivered (the call still ends)
 */
public record Faults(double create5xxBeforeCreate, double create5xxAfterCreate, double create429,
                     double latency, Duration latencyAmount, double connectionReset,
                     double duplicateInvocation, double dropHangup) {

    public Faults {
        check("create5xxBeforeCreate", create5xxBeforeCreate);
        check("create5xxAfterCreate", create5xxAfterCreate);
        check("create429", create429);
        check("latency", latency);
        check("connectionReset", connectionReset);
        check("duplicateInvocation", duplicateInvocation);
        check("dropHangup", dropHangup);
        Objects.requireNonNull(latencyAmount, "latencyAmount");
        if (latencyAmount.isNegative()) {
            throw new IllegalArgumentException("latencyAmount must not be negative");
        }
    }

    private static void check(String field, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(field + " must be a probability in [0, 1], was " + p);
        }
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

    /** True when at least one fault has a non-zero probability. */
    public boolean any() {
        return create5xxBeforeCreate > 0 || create5xxAfterCreate > 0 || create429 > 0 || latency > 0
                || connectionReset > 0 || duplicateInvocation > 0 || dropHangup > 0;
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

        private Builder(Faults f) {
            create5xxBeforeCreate = f.create5xxBeforeCreate;
            create5xxAfterCreate = f.create5xxAfterCreate;
            create429 = f.create429;
            latency = f.latency;
            latencyAmount = f.latencyAmount;
            connectionReset = f.connectionReset;
            duplicateInvocation = f.duplicateInvocation;
            dropHangup = f.dropHangup;
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

        public Faults build() {
            return new Faults(create5xxBeforeCreate, create5xxAfterCreate, create429, latency, latencyAmount,
                    connectionReset, duplicateInvocation, dropHangup);
        }
    }
}
