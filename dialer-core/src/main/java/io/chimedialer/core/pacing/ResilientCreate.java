package io.chimedialer.core.pacing;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.chime.Originator;
import io.chimedialer.core.pacing.internal.RegionRateLimiter;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RequestNotPermitted;
import io.github.resilience4j.reactor.circuitbreaker.operator.CircuitBreakerOperator;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/**
 * The resilience chain around one Create, in this order (outermost first):
 * <ol>
 *   <li><b>Retry</b>, only on {@link CreateOutcome.Throttled} and {@link CreateOutcome.NotSent}, exponential
 *       backoff with jitter on the injected scheduler. Outermost, so every retry takes a new rate permit and
 *       is seen by the breaker. {@code Unknown}, {@code Rejected} and {@code AtCapacity} are never retried
 *       (an Unknown call may exist; re-sending could dial the callee twice).</li>
 *   <li><b>CircuitBreaker</b> of the Region (resilience4j's {@link CircuitBreakerOperator}); it records
 *       Unknown and NotSent as failures. When it is open the call is not sent: NotSent.</li>
 *   <li><b>RateLimiter</b> of the Region: the permit is reserved when this call's Mono is subscribed, and the
 *       wait runs on the injected scheduler. A wait longer than the limiter's timeout: NotSent. Right before
 *       the request the rate is checked again on the times calls were really sent (a late wake-up waits on).</li>
 *   <li>{@link Originator#create}, one request per subscription.</li>
 * </ol>
 * A Throttled outcome also lowers the Region's {@link AdaptiveRate}. The returned Mono never errors for a
 * per-call failure.
 *
 * <p>Why the rate permit is not applied with resilience4j's {@code RateLimiterOperator}: that operator
 * waits with {@code Mono.delay} on Reactor's global parallel scheduler (not the injected one) and, while
 * waiting, has not yet passed a subscription downstream, so a cancel (a paused campaign) cannot stop the
 * Create that follows the wait: a call would be placed whose result nobody reads. {@link #withPermit} does
 * the same reservation on the same resilience4j {@link RateLimiter} interface, but waits on the injected
 * scheduler and stays cancellable. Thread-safe; stateless apart from its collaborators.
 */
public final class ResilientCreate {

    /** The reason of an attempt not sent because its campaign holds its calls (paused, or at its scheduled end). */
    static final String HELD = "not sent: the campaign was paused or reached its scheduled end";

    private final Originator originator;
    private final RetrySettings retry;
    private final Scheduler scheduler;
    private final RetryListener listener;

    /** Told before each retry, e.g. to count it; called on the retrying thread, must not block. */
    @FunctionalInterface
    public interface RetryListener {
        /**
         * A Create is about to be sent again.
         *
         * @param region  the Region's name
         * @param outcome the retryable outcome of the previous try ({@link CreateOutcome.Throttled} or
         *                {@link CreateOutcome.NotSent})
         */
        void beforeRetry(String region, CreateOutcome outcome);
    }

    public ResilientCreate(Originator originator, RetrySettings retry, Scheduler scheduler) {
        this(originator, retry, scheduler, (region, outcome) -> { });
    }

    public ResilientCreate(Originator originator, RetrySettings retry, Scheduler scheduler, RetryListener listener) {
        this.originator = Objects.requireNonNull(originator, "originator");
        this.retry = Objects.requireNonNull(retry, "retry");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Places one attempt in a Region through the chain; cold, and each subscription runs the chain anew.
     *
     * @param arguments extra ArgumentsMap entries for the call flow
     */
    public Mono<CreateOutcome> create(Attempt attempt, RegionPacing region, Map<String, String> arguments) {
        return create(attempt, region, arguments, () -> false);
    }

    /**
     * Like {@link #create(Attempt, RegionPacing, Map)}, with a last check right before each request is sent (after
     * the rate wait): while {@code held} says so (the campaign was paused meanwhile) nothing is sent and the
     * outcome is {@link CreateOutcome.Withdrawn}.
     */
    public Mono<CreateOutcome> create(Attempt attempt, RegionPacing region, Map<String, String> arguments,
                                      java.util.function.BooleanSupplier held) {
        return create(attempt, region, null, arguments, held);
    }

    /**
     * Like {@link #create(Attempt, RegionPacing, Map, java.util.function.BooleanSupplier)}, under the campaign's
     * own rate as well as the Region's: in the limiter step the campaign's permit is reserved (and waited for)
     * first, then the Region's, and right before the request both are confirmed at once
     * ({@link RegionRateLimiter#trySendBoth}), and both hold the call until its answer. Each retry takes a new permit
     * of both.
     *
     * @param campaignRate the campaign's {@code calls-per-second} limiter, or null when it has none
     */
    public Mono<CreateOutcome> create(Attempt attempt, RegionPacing region, RegionRateLimiter campaignRate,
                                      Map<String, String> arguments, java.util.function.BooleanSupplier held) {
        Mono<CreateOutcome> once = Mono.defer(() -> held.getAsBoolean()
                        ? Mono.<CreateOutcome>just(new CreateOutcome.Withdrawn(HELD))
                        : originator.create(attempt, region.config(), arguments))
                .transform(call -> campaignRate == null ? withPermit(region.limiter(), scheduler, call)
                        : withPermits(campaignRate, region.limiter(), scheduler, call))
                .transform(CircuitBreakerOperator.of(region.breaker()))
                // Both mean "not sent": an open breaker, or a rate wait beyond the limiter's timeout (which
                // the breaker ignores: it is local congestion, not the Region's health).
                .onErrorResume(CallNotPermittedException.class, e -> Mono.just(new CreateOutcome.NotSent(e)))
                .onErrorResume(RequestNotPermitted.class, e -> Mono.just(new CreateOutcome.NotSent(e)))
                .doOnNext(outcome -> {
                    if (outcome instanceof CreateOutcome.Throttled) {
                        region.rate().onThrottled();
                    }
                });
        if (retry.maxAttempts() == 1) {
            return once;
        }
        return once
                .flatMap(o -> retryable(o) ? Mono.error(new RetryableOutcome(o)) : Mono.just(o))
                .retryWhen(Retry.backoff(retry.maxAttempts() - 1L, retry.firstBackoff())
                        .maxBackoff(retry.maxBackoff())
                        .jitter(retry.jitter())
                        .scheduler(scheduler)
                        .filter(RetryableOutcome.class::isInstance)
                        .doBeforeRetry(signal -> listener.beforeRetry(region.name(),
                                ((RetryableOutcome) signal.failure()).outcome))
                        .onRetryExhaustedThrow((spec, signal) -> signal.failure()))
                .onErrorResume(RetryableOutcome.class, e -> Mono.just(e.outcome));
    }

    /** Whether the chain retries an outcome: only when the call provably was not executed. */
    public static boolean retryable(CreateOutcome outcome) {
        return outcome instanceof CreateOutcome.Throttled || outcome instanceof CreateOutcome.NotSent;
    }

    /**
     * Applies a resilience4j {@link RateLimiter} to one call: a permit is reserved on subscription, the wait
     * (if any) runs on {@code scheduler}, then {@code call} is subscribed. Errors with
     * {@link RequestNotPermitted} when the wait would exceed the limiter's timeout. A cancel during the wait
     * cancels the call (the reserved slot is not reused). With a {@link RegionRateLimiter}, the rate is checked
     * again right before the call ({@link RegionRateLimiter#trySend()}): a wait that ended late (a stalled
     * scheduler) does not send a call above the rate, it waits on; and the call holds its place in the limiter's
     * window until its answer.
     */
    public static <T> Mono<T> withPermit(RateLimiter limiter, Scheduler scheduler, Mono<T> call) {
        Mono<T> send = limiter instanceof RegionRateLimiter region ? atSendTime(region, scheduler, call) : call;
        return Mono.defer(() -> {
            long waitNanos = limiter.reservePermission();
            if (waitNanos < 0) {
                return Mono.error(RequestNotPermitted.createRequestNotPermitted(limiter));
            }
            return waitNanos == 0 ? send : Mono.delay(Duration.ofNanos(waitNanos), scheduler).then(send);
        });
    }

    /**
     * Like {@link #withPermit}, under two limiters: a permit of {@code campaign} is reserved and waited for, then
     * one of {@code region}; right before the call both confirm the send at once. A wait beyond either limiter's
     * timeout errors with {@link RequestNotPermitted}.
     */
    static <T> Mono<T> withPermits(RegionRateLimiter campaign, RegionRateLimiter region, Scheduler scheduler,
                                   Mono<T> call) {
        Mono<T> send = atSendTime(campaign, region, scheduler, call);
        Mono<T> regionThenSend = Mono.defer(() -> {
            long waitNanos = region.reservePermission();
            if (waitNanos < 0) {
                return Mono.error(RequestNotPermitted.createRequestNotPermitted(region));
            }
            return waitNanos == 0 ? send : Mono.delay(Duration.ofNanos(waitNanos), scheduler).then(send);
        });
        return Mono.defer(() -> {
            long waitNanos = campaign.reservePermission();
            if (waitNanos < 0) {
                return Mono.error(RequestNotPermitted.createRequestNotPermitted(campaign));
            }
            return waitNanos == 0 ? regionThenSend
                    : Mono.delay(Duration.ofNanos(waitNanos), scheduler).then(regionThenSend);
        });
    }

    private static <T> Mono<T> atSendTime(RegionRateLimiter campaign, RegionRateLimiter region, Scheduler scheduler,
                                          Mono<T> call) {
        return Mono.defer(() -> {
            RegionRateLimiter.Send send = RegionRateLimiter.trySendBoth(campaign, region);
            if (!send.confirmed()) {
                return Mono.delay(Duration.ofNanos(send.waitNanos()), scheduler)
                        .then(atSendTime(campaign, region, scheduler, call));
            }
            return call.doFinally(signal -> {
                campaign.answered(send.sentAt());
                region.answered(send.sentAt());
            });
        });
    }

    /**
     * Confirms the send with the limiter right before subscribing to {@code call} ({@link RegionRateLimiter#trySend}),
     * waiting and asking again while it says to, and tells it of the answer (a value, an error or a cancellation):
     * the call counts against the rate until a window after its answer, so one that was slow on its way still
     * counts in every second at the service that it shares with the sends after it.
     */
    private static <T> Mono<T> atSendTime(RegionRateLimiter limiter, Scheduler scheduler, Mono<T> call) {
        return Mono.defer(() -> {
            RegionRateLimiter.Send send = limiter.trySend();
            if (!send.confirmed()) {
                return Mono.delay(Duration.ofNanos(send.waitNanos()), scheduler)
                        .then(atSendTime(limiter, scheduler, call));
            }
            return call.doFinally(signal -> limiter.answered(send.sentAt()));
        });
    }

    /** Carries a retryable outcome through retryWhen; never escapes this class. */
    private static final class RetryableOutcome extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient CreateOutcome outcome;

        RetryableOutcome(CreateOutcome outcome) {
            super(null, null, false, false);
            this.outcome = outcome;
        }
    }
}
