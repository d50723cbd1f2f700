package io.chimedialer.app.monitoring;

import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.metrics.ApiOperation;
import io.chimedialer.core.metrics.ApiOutcome;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.core.metrics.RetryReason;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Drives {@link DialerMetrics} like a small running campaign, one step at a time, so that every meter the
 * dashboard and the alert rules use has series and every counter grows between scrapes. Each step ends 3 calls
 * per Region, one of them answered: the answer ratio is exactly 1/3 whatever the number of steps; of the step's two
 * answered calls one confirms (odd steps) or opts out (even steps). The campaign is RUNNING.
 */
final class SyntheticCampaign {
    static final String CAMPAIGN = "reminders";
    static final List<String> REGIONS = List.of("us-east-1", "us-west-2");
    static final int CONTACTS = 10_000;
    static final double ANSWER_RATIO = 1.0 / 3.0;

    private final DialerMetrics metrics;
    private final AtomicInteger remaining = new AtomicInteger(CONTACTS);
    private final AtomicInteger steps = new AtomicInteger();
    // Held here because resilience4j's gauges reference the breakers weakly: once collected they read NaN.
    private final CircuitBreakerRegistry breakers = CircuitBreakerRegistry.ofDefaults();

    SyntheticCampaign(DialerMetrics metrics) {
        this.metrics = metrics;
    }

    /** Registers the gauges and the breakers (us-west-2's is open) and records the first step. */
    SyntheticCampaign start() {
        metrics.regionGauges("us-east-1", () -> 12, () -> 20, () -> 5, () -> 4);
        metrics.regionGauges("us-west-2", () -> 3, () -> 10, () -> 2, () -> 2);
        metrics.regionHealthGauge("us-east-1", () -> 1);
        metrics.regionHealthGauge("us-west-2", () -> 0);
        metrics.campaignGauges(CAMPAIGN, remaining::get, () -> 40);
        metrics.campaignStatusGauges(CAMPAIGN, List.of("RUNNING", "PAUSED", "COMPLETED"), () -> "RUNNING",
                () -> CONTACTS, () -> CONTACTS - remaining.get(), () -> 15);
        metrics.ledgerQueueDepth(() -> 2);
        metrics.bindCircuitBreakers(breakers);
        breakers.circuitBreaker("us-east-1");
        breakers.circuitBreaker("us-west-2").transitionToOpenState();
        step();
        return this;
    }

    /** How many steps were recorded. */
    int steps() {
        return steps.get();
    }

    /** Records one step of activity: calls placed and ended, API requests, invocations, ledger writes. */
    void step() {
        int step = steps.incrementAndGet();
        ApiOperation create = ApiOperation.CREATE_SIP_MEDIA_APPLICATION_CALL;
        for (String region : REGIONS) {
            for (int i = 0; i < 3; i++) {
                metrics.apiLatency(create, region, ApiOutcome.SUCCESS, Duration.ofMillis(60 + 20L * i));
                metrics.callOriginated(CAMPAIGN, region);
            }
            metrics.apiLatency(create, region, ApiOutcome.THROTTLED, Duration.ofMillis(25));
            metrics.throttled(create, region);
            metrics.retry(create, region, RetryReason.THROTTLED);
            metrics.apiLatency(ApiOperation.UPDATE_SIP_MEDIA_APPLICATION_CALL, region, ApiOutcome.SERVER_ERROR,
                    Duration.ofMillis(700));
            metrics.callEnded(CAMPAIGN, region, Disposition.ANSWERED, Duration.ofSeconds(6), Duration.ofSeconds(45));
            metrics.callEnded(CAMPAIGN, region, step % 2 == 0 ? Disposition.BUSY : Disposition.NO_ANSWER,
                    Duration.ofSeconds(20), Duration.ZERO);
            metrics.callEnded(CAMPAIGN, region, Disposition.FAILED, Duration.ofSeconds(1), Duration.ZERO);
        }
        for (String type : List.of("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_SUCCESSFUL",
                "DIGITS_RECEIVED", "HANGUP")) {
            metrics.webhookInvocation(type, Duration.ofMillis(8));
        }
        metrics.webhookInvocation("HANGUP", Duration.ofMillis(1200));
        metrics.invocationsPerCall(CAMPAIGN, 6);
        metrics.invocationsPerCall(CAMPAIGN, 3);
        if (step % 3 == 0) {
            metrics.budgetHangup(CAMPAIGN);
            metrics.invocationsPerCall(CAMPAIGN, 990);
        }
        metrics.actionFailed(CAMPAIGN, "Speak", "AccessDenied");
        // Of the step's 2 answered calls, 1 confirms (odd steps) or opts out (even steps).
        metrics.flowResult(CAMPAIGN, step % 2 == 0 ? DialerMetrics.FLOW_OPT_OUT : DialerMetrics.FLOW_CONFIRMED);
        metrics.unknownCallInvocation();
        metrics.signatureFailure();
        metrics.ledgerWrite(Duration.ofMillis(4));
        remaining.addAndGet(-3 * REGIONS.size());
    }
}
