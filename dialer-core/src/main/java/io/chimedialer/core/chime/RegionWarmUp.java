package io.chimedialer.core.chime;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The check of each Region at start ({@link Originator#check}): bounded in time, told to the operator in one log
 * line, never an error. A Region's admission waits for it ({@code RegionPacing.admitAfter}), so that the first paced
 * Creates do not race the check for a cold client and find its connection open.
 */
public final class RegionWarmUp {
    private static final Logger log = LoggerFactory.getLogger(RegionWarmUp.class);

    /** How long a Region's admission waits for its check at most; then dialing starts anyway. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private RegionWarmUp() {
    }

    /**
     * Checks one Region, logs what came of it, and completes with it; a check that does not answer within
     * {@code timeout} (on {@code timer}'s clock) completes as {@link RegionCheck.Failed}.
     */
    public static Mono<RegionCheck> run(Originator originator, RegionConfig region, Duration timeout, Scheduler timer) {
        Objects.requireNonNull(originator, "originator");
        Objects.requireNonNull(region, "region");
        return Mono.defer(() -> {
            long start = timer.now(TimeUnit.MILLISECONDS);
            return originator.check(region)
                    .timeout(timeout, timer)
                    .onErrorResume(e -> Mono.just(e instanceof TimeoutException
                            ? new RegionCheck.Failed("Timeout", "no answer within " + timeout.toMillis() + " ms")
                            : new RegionCheck.Failed(e.getClass().getSimpleName(), String.valueOf(e.getMessage()))))
                    .defaultIfEmpty(new RegionCheck.Skipped())
                    .doOnNext(check -> report(region, check,
                            timer.now(TimeUnit.MILLISECONDS) - start));
        });
    }

    private static void report(RegionConfig region, RegionCheck check, long millis) {
        String sma = region.sipMediaApplicationId();
        if (check instanceof RegionCheck.Found found) {
            log.info("Region {}: SIP media application {} ('{}' in {}) read in {} ms; dialing there starts now",
                    region.name(), sma, found.name(), found.awsRegion(), millis);
        } else if (check instanceof RegionCheck.NotFound notFound) {
            log.error("Region {}: SIP media application {} was not found ({}); every Create there will fail until "
                            + "regions.{}.sip-media-application-id names one of this account's in that Region",
                    region.name(), sma, notFound.message(), region.name());
        } else if (check instanceof RegionCheck.NotPermitted denied) {
            log.info("Region {}: SIP media application {} not checked: the credentials may not call "
                            + "chime:GetSipMediaApplication ({}). Placing calls does not need it; "
                            + "deploy/dialer-iam-policy.json allows it so that a wrong id shows at start",
                    region.name(), sma, denied.errorType());
        } else if (check instanceof RegionCheck.Failed failed) {
            log.warn("Region {}: SIP media application {} could not be read ({}: {}); dialing there starts anyway",
                    region.name(), sma, failed.errorType(), failed.message());
        }
    }
}
