package io.chimedialer.app.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.core.metrics.DialerMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A real Prometheus scrapes a registry filled by {@link DialerMetrics} (a synthetic campaign that advances one step
 * per scrape, served by reactor-netty), then evaluates every PromQL expression of the dashboard and the alert
 * rules through its HTTP API.
 *
 * <p>Dashboard expressions built on {@code rate}, {@code increase} or {@code deriv} need at least two scrapes
 * (the campaign ETA needs the remaining contacts to have decreased between them); the test waits for
 * {@value #SCRAPES} before evaluating.
 */
class DashboardQueriesIT {
    private static final int SCRAPES = 5;
    /** Stands for $__rate_interval and $__range: longer than the test, so every sample is in the window. */
    private static final String WINDOW = "5m";

    private static PrometheusMeterRegistry registry;
    private static SyntheticCampaign campaign;
    private static DisposableServer server;
    private static PrometheusRunner prometheus;

    @BeforeAll
    static void startScraping() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        campaign = new SyntheticCampaign(new DialerMetrics(registry)).start();
        // The JVM and process binders dialer-app binds, for the dashboard's process row.
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        server = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                .route(routes -> routes.get("/metrics", (request, response) -> {
                    // Each scrape sees one more step, so counters grow and rates are non-zero.
                    campaign.step();
                    return response.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                            .sendString(Mono.fromSupplier(registry::scrape));
                }))
                .bindNow(Duration.ofSeconds(10));
        prometheus = PrometheusRunner.start(URI.create("http://127.0.0.1:" + server.port() + "/metrics"),
                List.of(RepoFiles.ALERTS));
        prometheus.awaitScrapes(SCRAPES, Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        try {
            if (prometheus != null) {
                prometheus.close();
            }
        } finally {
            if (server != null) {
                server.disposeNow(Duration.ofSeconds(10));
            }
            if (registry != null) {
                registry.close();
            }
        }
    }

    @Test
    void dashboardExpressions_evaluated_eachReturnsAtLeastOneSeries() {
        List<String> exprs = RepoFiles.dashboardExpressions(RepoFiles.json(RepoFiles.DASHBOARD));
        assertThat(exprs).hasSizeGreaterThan(30);

        List<String> failures = new ArrayList<>();
        for (String expr : exprs) {
            String promql = PromQl.substituteGrafanaVariables(expr, WINDOW);
            JsonNode response = prometheus.query(promql);
            if (!"success".equals(response.path("status").asText())) {
                failures.add(promql + " -> " + response.path("errorType").asText() + ": "
                        + response.path("error").asText());
            } else if (response.path("data").path("result").isEmpty()) {
                failures.add(promql + " -> no series");
            }
        }
        assertThat(failures).as("after %d steps", campaign.steps()).isEmpty();
    }

    @Test
    void alertExpressions_evaluated_eachWithoutError() {
        List<String> exprs = RepoFiles.ruleExpressions(RepoFiles.yaml(RepoFiles.ALERTS));
        assertThat(exprs).hasSize(8);

        List<String> failures = new ArrayList<>();
        for (String expr : exprs) {
            JsonNode response = prometheus.query(expr);
            if (!"success".equals(response.path("status").asText())) {
                failures.add(expr + " -> " + response.path("error").asText());
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void alertRules_loadedByPrometheus_allHealthy() {
        JsonNode groups = prometheus.rules().path("data").path("groups");
        List<String> rules = new ArrayList<>();
        for (JsonNode group : groups) {
            for (JsonNode rule : group.path("rules")) {
                assertThat(rule.path("health").asText()).as("%s: %s", rule.path("name"), rule.path("lastError"))
                        .isIn("ok", "unknown");
                rules.add(rule.path("name").asText());
            }
        }
        assertThat(rules).containsExactlyInAnyOrder("DialerAnswerRateDrop", "DialerThrottleStorm",
                "DialerCircuitBreakerOpen", "DialerWebhookSlow", "DialerLedgerBacklog", "DialerCampaignStalled",
                "DialerRegionFailed", "DialerActionsFailing");
    }

    @Test
    void alertRegionFailed_usWest2Failed_matchesThatRegionOnly() {
        String expr = RepoFiles.ruleExpressions(RepoFiles.yaml(RepoFiles.ALERTS)).stream()
                .filter(e -> e.contains("dialer_region_up")).findFirst().orElseThrow();

        JsonNode result = prometheus.query(expr).path("data").path("result");

        assertThat(result).hasSize(1);
        assertThat(result.get(0).path("metric").path("region").asText()).isEqualTo("us-west-2");
    }

    @Test
    void alertBreakerOpen_usWest2BreakerOpen_matchesThatRegionOnly() {
        String expr = RepoFiles.ruleExpressions(RepoFiles.yaml(RepoFiles.ALERTS)).stream()
                .filter(e -> e.contains("resilience4j_circuitbreaker_state")).findFirst().orElseThrow();

        JsonNode result = prometheus.query(expr).path("data").path("result");

        assertThat(result).hasSize(1);
        assertThat(result.get(0).path("metric").path("name").asText()).isEqualTo("us-west-2");
    }

    @Test
    void alertWebhookSlow_oneSlowHangupPerStep_fires() {
        // One invocation in seven takes 1.2 s: the p99 is above the 1 s threshold.
        String expr = RepoFiles.ruleExpressions(RepoFiles.yaml(RepoFiles.ALERTS)).stream()
                .filter(e -> e.contains("dialer_webhook_invocation_duration_seconds_bucket")).findFirst()
                .orElseThrow();

        JsonNode result = prometheus.query(expr).path("data").path("result");

        assertThat(result).hasSize(1);
        assertThat(result.get(0).path("value").get(1).asDouble()).isBetween(1.0, 1.5);
    }

    @Test
    void answerRatio_promql_equalsSyntheticGroundTruth() {
        JsonNode instant = prometheus.query("sum(dialer_calls_ended_total{disposition=\"ANSWERED\"})"
                + " / sum(dialer_calls_ended_total)").path("data").path("result");
        assertThat(instant).hasSize(1);
        assertThat(instant.get(0).path("value").get(1).asDouble()).isCloseTo(SyntheticCampaign.ANSWER_RATIO,
                within(1e-9));

        String panel = RepoFiles.queryPanels(RepoFiles.json(RepoFiles.DASHBOARD)).stream()
                .filter(p -> p.path("title").asText().equals("Answer rate by campaign and Region")).findFirst()
                .orElseThrow().path("targets").get(0).path("expr").asText();
        JsonNode perRegion = prometheus.query(PromQl.substituteGrafanaVariables(panel, WINDOW))
                .path("data").path("result");
        assertThat(perRegion).hasSize(SyntheticCampaign.REGIONS.size());
        for (JsonNode series : perRegion) {
            assertThat(series.path("metric").path("campaign").asText()).isEqualTo(SyntheticCampaign.CAMPAIGN);
            assertThat(series.path("value").get(1).asDouble()).isCloseTo(SyntheticCampaign.ANSWER_RATIO,
                    within(1e-6));
        }
    }

    @Test
    void campaignStatusPanels_equalSyntheticGroundTruth() {
        JsonNode dashboard = RepoFiles.json(RepoFiles.DASHBOARD);

        JsonNode state = panelResult(dashboard, "Campaign state", 0);
        assertThat(state).hasSize(1);
        assertThat(state.get(0).path("metric").path("campaign").asText()).isEqualTo(SyntheticCampaign.CAMPAIGN);
        assertThat(state.get(0).path("metric").path("state").asText()).isEqualTo("RUNNING");

        JsonNode read = panelResult(dashboard, "Contacts by campaign", 0);
        assertThat(read).hasSize(1);
        assertThat(read.get(0).path("value").get(1).asDouble()).isEqualTo(SyntheticCampaign.CONTACTS);
        // dialed + remaining = read: the synthetic campaign dials each contact it takes off the remaining ones.
        double dialed = panelResult(dashboard, "Contacts by campaign", 1).get(0).path("value").get(1).asDouble();
        double remaining = panelResult(dashboard, "Contacts by campaign", 2).get(0).path("value").get(1).asDouble();
        assertThat(dialed).isPositive();
        assertThat(dialed + remaining).isEqualTo(SyntheticCampaign.CONTACTS);

        JsonNode regions = panelResult(dashboard, "Failed Regions", 0);
        assertThat(regions).hasSize(2);
        for (JsonNode series : regions) {
            double expected = series.path("metric").path("region").asText().equals("us-west-2") ? 0 : 1;
            assertThat(series.path("value").get(1).asDouble()).as(series.toString()).isEqualTo(expected);
        }

        assertThat(panelResult(dashboard, "Live calls by campaign", 0).get(0).path("value").get(1).asDouble())
                .isEqualTo(15);
        for (int target = 0; target < 2; target++) {
            JsonNode rate = panelResult(dashboard, "Opt-out and confirm rates", target);
            assertThat(rate).hasSize(1);
            // A quarter of the answered calls each (4 answered, 1 confirm, 1 opt-out every two steps); the
            // increases are extrapolated from series that started one step apart, hence the bounds.
            assertThat(rate.get(0).path("value").get(1).asDouble()).isBetween(0.1, 0.5);
        }
    }

    private static JsonNode panelResult(JsonNode dashboard, String title, int target) {
        String expr = RepoFiles.queryPanels(dashboard).stream().filter(p -> p.path("title").asText().equals(title))
                .findFirst().orElseThrow().path("targets").get(target).path("expr").asText();
        return prometheus.query(PromQl.substituteGrafanaVariables(expr, WINDOW)).path("data").path("result");
    }

    @Test
    void variableQueries_labelValues_listTheCampaignAndRegions() {
        List<String> queries = RepoFiles.variableQueries(RepoFiles.json(RepoFiles.DASHBOARD));
        for (String query : queries) {
            List<String> metricAndLabel = PromQl.labelValuesQuery(query);
            List<String> values = prometheus.labelValues(metricAndLabel.get(1), metricAndLabel.get(0));
            if (metricAndLabel.get(1).equals("campaign")) {
                assertThat(values).as(query).containsExactly(SyntheticCampaign.CAMPAIGN);
            } else {
                assertThat(values).as(query).containsExactlyElementsOf(SyntheticCampaign.REGIONS);
            }
        }
    }
}
