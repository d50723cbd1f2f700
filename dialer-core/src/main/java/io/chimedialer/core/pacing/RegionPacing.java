package io.chimedialer.core.pacing;

import io.chimedialer.core.pacing.internal.RegionRateLimiter;
import io.chimedialer.core.pacing.internal.SchedulerClock;
import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.chime.RegionConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RequestNotPermitted;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Everything that paces one Region, shared by every campaign that dials there: its {@link AdaptiveRate},
 * its create {@link RegionRateLimiter} (named after the Region), its {@link CircuitBreaker} (named after the
 * Region), its {@link ActivePermits}, its {@link RegionHealth}, the hang-up limiter, the from-number rotation, and the
 * share of its rate between the campaigns by priority ({@link RegionDemand}).
 * All of it runs on
 * the given scheduler's time. Thread-safe.
 */
public final class RegionPacing {

    /** A live rate change may raise a Region's rate to at most this multiple of its configured rate. */
    public static final double MAX_RATE_CHANGE = 4.0;

    private final RegionConfig config;
    private final AdaptiveRate rate;
    private final RegionRateLimiter limiter;
    private final RegionRateLimiter hangUpLimiter;
    private final CircuitBreaker breaker;
    private final ActivePermits permits;
    private final RegionHealth health;
    private final RegionDemand demand = new RegionDemand();
    private final AtomicLong fromCursor = new AtomicLong();
    private final AdmissionHold admission;
    private volatile Mono<Void> ready = Mono.empty();

    private RegionPacing(RegionConfig config, AdaptiveRate rate, RegionRateLimiter limiter,
                         RegionRateLimiter hangUpLimiter, CircuitBreaker breaker, ActivePermits permits,
                         RegionHealth health, AdmissionHold admission) {
        this.health = health;
        this.admission = admission;
        this.config = config;
        this.rate = rate;
        this.limiter = limiter;
        this.hangUpLimiter = hangUpLimiter;
        this.breaker = breaker;
        this.permits = permits;
    }

    /**
     * Builds a Region's pacing.
     *
     * @param onReclaim told about every active-call permit reclaimed by the lifetime guard (its
     *                  {@link Permit#attemptId()} names the attempt to close as UNKNOWN)
     */
    public static RegionPacing create(RegionConfig config, PacingSettings settings, Scheduler scheduler,
                                      Consumer<Permit> onReclaim) {
        return create(config, settings, scheduler, onReclaim, AdmissionHold.never());
    }

    /**
     * Builds a Region's pacing whose admission of new calls waits while {@code admission} holds (the webhook lags;
     * one hold is shared by every Region of the process, as the webhook is).
     */
    public static RegionPacing create(RegionConfig config, PacingSettings settings, Scheduler scheduler,
                                      Consumer<Permit> onReclaim, AdmissionHold admission) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(admission, "admission");
        Objects.requireNonNull(settings, "settings");
        AdaptiveRate rate = new AdaptiveRate(config.name(), config.callsPerSecond(), settings.aimd(), scheduler);
        // The limiter can follow a live rate change up to MAX_RATE_CHANGE times the configured rate.
        RegionRateLimiter limiter = new RegionRateLimiter(config.name(), rate::effectiveRate,
                config.callsPerSecond() * MAX_RATE_CHANGE, config.burst(), settings.maxRateWait(), scheduler);
        RegionRateLimiter hangUps = RegionRateLimiter.fixed(config.name() + "-update", config.updateCallsPerSecond(), 1,
                settings.maxRateWait(), scheduler);
        CircuitBreakerConfig breakerConfig = CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(settings.breakerWindow())
                .minimumNumberOfCalls(settings.breakerMinimumCalls())
                .failureRateThreshold(settings.breakerFailureRate())
                .waitDurationInOpenState(settings.breakerOpenFor())
                .permittedNumberOfCallsInHalfOpenState(settings.breakerProbes())
                // Time comes from the scheduler (virtual in tests); no timer thread moves it to half-open.
                .clock(new SchedulerClock(scheduler))
                .currentTimestampFunction(clock -> clock.millis(), TimeUnit.MILLISECONDS)
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .slowCallDurationThreshold(Duration.ofDays(1))
                // Outcomes are values: only those that say the Region itself is unhealthy count as failures.
                .recordResult(RegionPacing::isRegionFailure)
                .ignoreExceptions(RequestNotPermitted.class)
                .build();
        CircuitBreaker breaker = CircuitBreaker.of(config.name(), breakerConfig);
        int step = Math.max(1, (int) Math.round(config.maxActiveCalls() * settings.capRecoveryFraction()));
        ActivePermits permits = new ActivePermits(config.name(), config.maxActiveCalls(), settings.maxCallLifetime(),
                settings.capRecoveryInterval(), step, scheduler, onReclaim);
        return new RegionPacing(config, rate, limiter, hangUps, breaker, permits,
                new RegionHealth(config.name(), settings.regionFaultAfter()), admission);
    }

    /**
     * The hang-up limiters of some Regions by Region name, as {@code chime.SdkOriginator} takes them.
     */
    public static Map<String, RateLimiter> hangUpLimiters(Collection<RegionPacing> regions) {
        Map<String, RateLimiter> limiters = new LinkedHashMap<>();
        regions.forEach(r -> limiters.put(r.name(), r.hangUpLimiter()));
        return Collections.unmodifiableMap(limiters);
    }

    /** Whether an outcome counts against the Region's health: Unknown and NotSent do; throttles and rejections don't. */
    static boolean isRegionFailure(Object result) {
        return result instanceof CreateOutcome.Unknown || result instanceof CreateOutcome.NotSent;
    }

    /** The Region's config. */
    public RegionConfig config() {
        return config;
    }

    /** The Region's name. */
    public String name() {
        return config.name();
    }

    /** The AIMD-adjusted create rate. */
    public AdaptiveRate rate() {
        return rate;
    }

    /** The create rate limiter (a resilience4j RateLimiter named after the Region). */
    public RegionRateLimiter limiter() {
        return limiter;
    }

    /**
     * Sets the guard added to the 1 s window of the Creates' send-time check (a cluster node pacing its share of the
     * Region's rate sets its {@code cluster.rate-guard}); see {@link RegionRateLimiter#setSendGuard}.
     */
    public void setRateGuard(java.time.Duration guard) {
        limiter.setSendGuard(guard);
    }

    /** The hang-up (UpdateSipMediaApplicationCall) rate limiter, at the Region's update-calls-per-second. */
    public RegionRateLimiter hangUpLimiter() {
        return hangUpLimiter;
    }

    /** The circuit breaker (named after the Region). */
    public CircuitBreaker breaker() {
        return breaker;
    }

    /** Whether the Region can place calls at all (failed on an account or configuration error). */
    public RegionHealth health() {
        return health;
    }

    /** The active-call permits. */
    public ActivePermits permits() {
        return permits;
    }

    /** What holds the admission of new calls here while the webhook lags ({@link AdmissionHold}). */
    public AdmissionHold admission() {
        return admission;
    }

    /**
     * Holds the admission of new calls here until {@code warmUp} ends (its value, error or emptiness do not matter):
     * the Region's check at start ({@code chime.RegionWarmUp}), so that no rate permit is granted while the check
     * still holds the cold client. Subscribed once, now; a later call replaces the gate. Once it ended, admissions
     * no longer subscribe to it (the gate goes back to an empty {@code Mono}).
     */
    public void admitAfter(Mono<?> warmUp) {
        Mono<Void> gate = warmUp.then().onErrorResume(e -> Mono.empty()).cache();
        ready = gate;
        gate.subscribe(null, null, () -> {
            if (ready == gate) {
                ready = Mono.empty();
            }
        });
    }

    /** Completes once the Region may admit calls ({@link #admitAfter}); at once when nothing holds it. */
    public Mono<Void> ready() {
        return ready;
    }

    /** How the campaigns dialing here share the rate by priority. */
    RegionDemand demand() {
        return demand;
    }

    /** The next from-number of the Region's pool, round robin. */
    public String nextFromNumber() {
        var numbers = config.fromNumbers();
        return numbers.get((int) Math.floorMod(fromCursor.getAndIncrement(), (long) numbers.size()));
    }

    @Override
    public String toString() {
        return "RegionPacing{" + name() + "}";
    }
}
