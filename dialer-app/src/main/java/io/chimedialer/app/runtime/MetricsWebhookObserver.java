package io.chimedialer.app.runtime;

import io.chimedialer.core.calls.WebhookObserver;
import io.chimedialer.core.metrics.DialerMetrics;
import java.time.Duration;

/** Feeds the webhook's observations into the meters. */
final class MetricsWebhookObserver implements WebhookObserver {
    private final DialerMetrics metrics;

    MetricsWebhookObserver(DialerMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void invocation(String eventType, int status, Duration latency) {
        if (eventType != null) {
            metrics.webhookInvocation(eventType, latency);
        }
    }

    @Override
    public void signatureFailure() {
        metrics.signatureFailure();
    }

    @Override
    public void unknownCall(String eventType) {
        metrics.unknownCallInvocation();
    }

    @Override
    public void budgetHangup(String campaignId) {
        metrics.budgetHangup(campaignId);
    }

    @Override
    public void actionFailed(String campaignId, String action, String errorType) {
        metrics.actionFailed(campaignId, action, errorType);
    }

    @Override
    public void flowResult(String campaignId, boolean confirmed) {
        metrics.flowResult(campaignId, confirmed ? DialerMetrics.FLOW_CONFIRMED : DialerMetrics.FLOW_OPT_OUT);
    }
}
