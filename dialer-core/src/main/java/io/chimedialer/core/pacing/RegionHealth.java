package io.chimedialer.core.pacing;

import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.domain.Disposition;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Whether a Region can place calls at all, as opposed to how fast ({@link AdaptiveRate}) or whether it is
 * flaky (the circuit breaker). A Region fails on a refusal that is the account's or the Region's fault
 * ({@link CreateOutcome.RegionFault}: credentials, IAM, the SIP media application, the from-number), or on a run
 * of unexplained 4xx answers in a row; it stays failed, and no campaign sends a Create there, until an operator
 * restores it (a campaign's resume does). Shared by every campaign dialing the Region. Thread-safe.
 *
 * <p>Until a Region has accepted one Create (at start, and again after a restore) it is unproven, and Creates go
 * there one at a time ({@link #mayProbe()}): a Region that refuses every call, such as one whose credentials or
 * from-number are wrong, is found out by one Create rather than by as many as the rate lets out in a round trip.
 */
public final class RegionHealth {

    /** Default number of unexplained 4xx answers in a row that fail a Region. */
    public static final int DEFAULT_UNEXPLAINED_LIMIT = 5;

    /**
     * Why a Region failed.
     *
     * @param errorType the service's error type, e.g. {@code AccessDeniedException}
     * @param message   the service's message
     * @param at        when
     */
    public record Failure(String errorType, String message, Instant at) {
        public Failure {
            Objects.requireNonNull(errorType, "errorType");
            message = message == null ? "" : message;
        }

        /** One line for logs and status: the error type and the message. */
        public String describe() {
            return message.isEmpty() ? errorType : errorType + ": " + message;
        }
    }

    private final String region;
    private final int unexplainedLimit;
    private final AtomicReference<Failure> failure = new AtomicReference<>();
    private final AtomicInteger unexplainedInARow = new AtomicInteger();
    /** A Create was accepted since the Region was created or restored. */
    private final AtomicBoolean proven = new AtomicBoolean();
    /** A Create is out as the probe of an unproven Region. */
    private final AtomicBoolean probing = new AtomicBoolean();

    /**
     * @param region           the Region's name
     * @param unexplainedLimit unexplained 4xx answers in a row that fail the Region (&gt;= 1)
     */
    public RegionHealth(String region, int unexplainedLimit) {
        this.region = Objects.requireNonNull(region, "region");
        if (unexplainedLimit < 1) {
            throw new IllegalArgumentException("unexplainedLimit must be >= 1, was " + unexplainedLimit);
        }
        this.unexplainedLimit = unexplainedLimit;
    }

    /** The Region's name. */
    public String region() {
        return region;
    }

    /** Whether Creates may be sent there. */
    public boolean up() {
        return failure.get() == null;
    }

    /** Why the Region failed, or empty while it is up. */
    public Optional<Failure> failure() {
        return Optional.ofNullable(failure.get());
    }

    /**
     * Whether a Create may be sent now: always once the Region is proven; while unproven, only by the one caller
     * that becomes its probe (the others wait until the probe's outcome is judged).
     */
    public boolean mayProbe() {
        return proven.get() || probing.compareAndSet(false, true);
    }

    /**
     * Whether {@link #mayProbe()} could succeed now (proven, or no probe out), without claiming the probe: what a
     * caller waiting for the probe's outcome looks at.
     */
    public boolean probeFree() {
        return proven.get() || !probing.get();
    }

    /** Whether the Region has accepted a Create since it was created or restored. */
    public boolean proven() {
        return proven.get();
    }

    /**
     * Judges one Create's outcome in this Region and returns the outcome the pipeline acts on: a
     * {@link CreateOutcome.RegionFault} fails the Region; an unexplained {@link CreateOutcome.Rejected} (FAILED)
     * counts towards the limit, and the one that reaches it becomes a RegionFault (the contact is not charged with
     * it); a placed call resets the count.
     */
    public CreateOutcome judge(CreateOutcome outcome, Instant now) {
        try {
            return judged(outcome, now);
        } finally {
            probing.set(false);
        }
    }

    private CreateOutcome judged(CreateOutcome outcome, Instant now) {
        if (outcome instanceof CreateOutcome.Placed) {
            unexplainedInARow.set(0);
            proven.set(true);
        } else if (outcome instanceof CreateOutcome.RegionFault fault) {
            fail(fault.errorType(), fault.message(), now);
        } else if (outcome instanceof CreateOutcome.Rejected rejected
                && rejected.disposition() == Disposition.FAILED) {
            int n = unexplainedInARow.incrementAndGet();
            if (n >= unexplainedLimit) {
                String type = rejected.errorType() == null ? "Rejected" : rejected.errorType();
                String message = n + " unexplained refusals in a row, the last: "
                        + (rejected.message() == null ? "" : rejected.message());
                fail(type, message, now);
                return new CreateOutcome.RegionFault(type, message);
            }
        }
        return outcome;
    }

    /**
     * Marks the Region failed; the first failure stands until {@link #restore()}.
     *
     * @return whether this call failed it (it was up)
     */
    public boolean fail(String errorType, String message, Instant now) {
        return failure.compareAndSet(null, new Failure(errorType, message, now));
    }

    /**
     * Lets Creates go to the Region again (the operator fixed the configuration and resumed).
     *
     * @return whether it was failed
     */
    public boolean restore() {
        unexplainedInARow.set(0);
        proven.set(false);
        return failure.getAndSet(null) != null;
    }
}
