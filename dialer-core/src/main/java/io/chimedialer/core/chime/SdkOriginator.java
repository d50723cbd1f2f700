package io.chimedialer.core.chime;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.util.Masking;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RequestNotPermitted;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import software.amazon.awssdk.services.chimesdkvoice.ChimeSdkVoiceAsyncClient;
import software.amazon.awssdk.services.chimesdkvoice.model.CreateSipMediaApplicationCallRequest;
import software.amazon.awssdk.services.chimesdkvoice.model.UpdateSipMediaApplicationCallRequest;

/**
 * The {@link Originator} on the AWS SDK: one request per subscription, through {@link ChimeClients}
 * (whose SDK retries are off), with every failure mapped to a value by {@link SdkErrors}.
 *
 * <p>Hang-ups go through a per-Region resilience4j {@link RateLimiter} (built by the caller at the
 * Region's update-calls-per-second); a permit's wait runs on the given {@link Scheduler}. Thread-safe.
 */
public final class SdkOriginator implements Originator {

    private static final Logger LOG = LoggerFactory.getLogger(SdkOriginator.class);
    private static final Map<String, String> HANG_UP = Map.of("action", "hangup");

    private final ChimeClients clients;
    private final Map<String, RateLimiter> hangUpLimiters;
    private final Scheduler scheduler;

    /**
     * @param clients        the per-Region SDK clients
     * @param hangUpLimiters one limiter per Region name, paced at the Region's update-calls-per-second
     * @param scheduler      where waits for a hang-up permit run
     */
    public SdkOriginator(ChimeClients clients, Map<String, RateLimiter> hangUpLimiters, Scheduler scheduler) {
        this.clients = Objects.requireNonNull(clients, "clients");
        this.hangUpLimiters = Map.copyOf(hangUpLimiters);
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    @Override
    public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments) {
        Map<String, String> all;
        try {
            all = Originator.argumentsOf(attempt, arguments);
        } catch (IllegalArgumentException e) {
            // A bad request for this one call is this call's failure, not the campaign's.
            return Mono.just(new CreateOutcome.Rejected(Disposition.FAILED, "InvalidRequest", e.getMessage()));
        }
        if (attempt.fromNumber() == null) {
            return Mono.just(new CreateOutcome.Rejected(Disposition.FAILED, "InvalidRequest",
                    "attempt " + attempt.attemptId() + " has no from-number"));
        }
        ChimeSdkVoiceAsyncClient client = clients.client(region.name());
        CreateSipMediaApplicationCallRequest request = CreateSipMediaApplicationCallRequest.builder()
                .sipMediaApplicationId(region.sipMediaApplicationId())
                .fromPhoneNumber(attempt.fromNumber())
                .toPhoneNumber(attempt.contact().number())
                .argumentsMap(all)
                .build();
        // fromFuture(supplier): each subscription sends a new request, so a retry operator re-sends.
        return Mono.fromFuture(() -> client.createSipMediaApplicationCall(request))
                .map(r -> (CreateOutcome) new CreateOutcome.Placed(r.sipMediaApplicationCall().transactionId()))
                .onErrorResume(e -> Mono.just(SdkErrors.classifyCreate(e)))
                .doOnNext(o -> {
                    if (LOG.isDebugEnabled()) {
                        LOG.debug("create attempt={} region={} to={} -> {}", attempt.attemptId(), region.name(),
                                Masking.phone(attempt.contact().number()), o.getClass().getSimpleName());
                    }
                });
    }

    @Override
    public Mono<RegionCheck> check(RegionConfig region) {
        ChimeSdkVoiceAsyncClient client = clients.client(region.name());
        return Mono.fromFuture(() -> client.getSipMediaApplication(b -> b.sipMediaApplicationId(
                        region.sipMediaApplicationId())))
                .map(r -> (RegionCheck) new RegionCheck.Found(r.sipMediaApplication().name(),
                        r.sipMediaApplication().awsRegion()))
                .onErrorResume(e -> Mono.just(SdkErrors.classifyCheck(e)));
    }

    @Override
    public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
        RateLimiter limiter = hangUpLimiters.get(region.name());
        if (limiter == null) {
            throw new IllegalArgumentException("no hang-up rate limiter for Region " + region.name());
        }
        ChimeSdkVoiceAsyncClient client = clients.client(region.name());
        UpdateSipMediaApplicationCallRequest request = UpdateSipMediaApplicationCallRequest.builder()
                .sipMediaApplicationId(region.sipMediaApplicationId())
                .transactionId(transactionId)
                .arguments(HANG_UP)
                .build();
        Mono<UpdateOutcome> call = Mono.fromFuture(() -> client.updateSipMediaApplicationCall(request))
                .map(r -> (UpdateOutcome) new UpdateOutcome.Updated(transactionId))
                .onErrorResume(e -> Mono.just(SdkErrors.classifyUpdate(e)));
        return Mono.defer(() -> {
            long waitNanos = limiter.reservePermission();
            if (waitNanos < 0) {
                return Mono.just(new UpdateOutcome.Failed("RequestNotPermitted",
                        RequestNotPermitted.createRequestNotPermitted(limiter)));
            }
            return waitNanos == 0 ? call : Mono.delay(Duration.ofNanos(waitNanos), scheduler).then(call);
        });
    }
}
