package io.chimedialer.app.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.core.metrics.DialerMetrics;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/** The dashboard has what Grafana needs to import it, and queries only the catalog's meters. */
class DashboardTest {
    private static final Set<String> SCRAPE_LABELS = Set.of("instance", "job", "service");

    private final JsonNode dashboard = RepoFiles.json(RepoFiles.DASHBOARD);

    @Test
    void dashboard_topLevel_hasUidTitleSchemaVersion() {
        assertThat(dashboard.path("uid").asText()).isEqualTo("chime-dialer-overview");
        assertThat(dashboard.path("title").asText()).isEqualTo("Dialer overview");
        assertThat(dashboard.path("schemaVersion").isInt()).isTrue();
        assertThat(dashboard.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);
        assertThat(dashboard.path("panels").isArray()).isTrue();
        // Provisioned and imported dashboards must not carry a database id.
        assertThat(dashboard.path("id").isMissingNode() || dashboard.path("id").isNull()).isTrue();
    }

    @Test
    void templating_datasourceCampaignRegion_defined() {
        JsonNode list = dashboard.path("templating").path("list");
        JsonNode datasource = variable(list, "datasource");
        assertThat(datasource.path("type").asText()).isEqualTo("datasource");
        assertThat(datasource.path("query").asText()).isEqualTo("prometheus");

        for (String name : List.of("campaign", "region")) {
            JsonNode variable = variable(list, name);
            assertThat(variable.path("type").asText()).as(name).isEqualTo("query");
            assertThat(variable.path("datasource").path("uid").asText()).as(name).isEqualTo("${datasource}");
            assertThat(variable.path("includeAll").asBoolean()).as(name).isTrue();
            assertThat(variable.path("multi").asBoolean()).as(name).isTrue();
            assertThat(variable.path("allValue").asText()).as(name).isEqualTo(".*");
            String query = variable.path("query").path("query").asText();
            assertThat(PromQl.labelValuesQuery(query).get(1)).as(name).isEqualTo(name);
        }
    }

    @Test
    void variableQueries_labelValues_useCatalogMetricsThatCarryTheLabel() {
        List<String> queries = RepoFiles.variableQueries(dashboard);
        assertThat(queries).hasSize(2);
        for (String query : queries) {
            List<String> metricAndLabel = PromQl.labelValuesQuery(query);
            DialerMetrics.Metric metric = PromQl.ownMetric(metricAndLabel.get(0));
            assertThat(metric).as(query).isNotNull();
            assertThat(metric.tags()).as(query).contains(metricAndLabel.get(1));
        }
    }

    @Test
    void panels_each_haveTypeTitleDatasourceTargetsAndGridPos() {
        List<JsonNode> panels = RepoFiles.queryPanels(dashboard);
        assertThat(panels).hasSizeGreaterThanOrEqualTo(20);
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : dashboard.path("panels")) {
            assertThat(ids.add(panel.path("id").asInt())).as("unique id %s", panel.path("id")).isTrue();
            assertGridPos(panel);
        }
        for (JsonNode panel : panels) {
            String title = panel.path("title").asText();
            assertThat(title).isNotBlank();
            assertThat(panel.path("type").asText()).as(title).isIn("timeseries", "stat", "bargauge");
            assertThat(panel.path("datasource").path("type").asText()).as(title).isEqualTo("prometheus");
            assertThat(panel.path("datasource").path("uid").asText()).as(title).isEqualTo("${datasource}");
            assertThat(panel.path("targets").size()).as(title).isPositive();
            Set<String> refIds = new HashSet<>();
            for (JsonNode target : panel.path("targets")) {
                assertThat(target.path("expr").asText()).as(title).isNotBlank();
                assertThat(refIds.add(target.path("refId").asText())).as("%s refId", title).isTrue();
                assertThat(target.path("datasource").path("uid").asText()).as(title).isEqualTo("${datasource}");
            }
        }
    }

    @Test
    void panels_gridPos_doNotOverlap() {
        List<JsonNode> panels = new ArrayList<>();
        dashboard.path("panels").forEach(panels::add);
        for (int i = 0; i < panels.size(); i++) {
            for (int j = i + 1; j < panels.size(); j++) {
                assertThat(overlap(panels.get(i).path("gridPos"), panels.get(j).path("gridPos")))
                        .as("%s overlaps %s", panels.get(i).path("title"), panels.get(j).path("title")).isFalse();
            }
        }
    }

    @Test
    void panels_issuesRequiredViews_present() {
        Set<String> titles = new HashSet<>();
        RepoFiles.queryPanels(dashboard).forEach(p -> titles.add(p.path("title").asText()));
        assertThat(titles).contains("Answer rate by campaign and Region", "Achieved vs configured calls per second",
                "Active calls vs cap", "Dispositions over time", "ASR", "ACD", "API latency p50 / p99", "API errors",
                "Throttles and retries", "Circuit breaker state", "Webhook p99 vs Chime's 5 s limit",
                "Invocations per call", "Campaign progress", "Campaign ETA", "Campaign state", "Contacts by campaign",
                "Opt-out and confirm rates", "Live calls by campaign", "Failed Regions");
    }

    @Test
    void answerRatePanel_expression_isAnsweredOverAllDispositions() {
        String expr = target("Answer rate by campaign and Region");
        assertThat(expr).contains("dialer_calls_ended_total{disposition=\"ANSWERED\"").contains("\n/\n");
        assertThat(PromQl.metricNames(expr)).containsExactly("dialer_calls_ended_total");
    }

    @Test
    void webhookPanel_thresholds_markOneAndFiveSeconds() {
        JsonNode panel = panel("Webhook p99 vs Chime's 5 s limit");
        List<Double> steps = StreamSupport.stream(panel.path("fieldConfig").path("defaults").path("thresholds")
                .path("steps").spliterator(), false).filter(s -> !s.path("value").isNull())
                .map(s -> s.path("value").asDouble()).toList();
        assertThat(steps).containsExactly(1.0, 5.0);
        assertThat(panel.path("fieldConfig").path("defaults").path("unit").asText()).isEqualTo("s");
    }

    @Test
    void expressions_dashboardAndAlerts_referenceOnlyCatalogMetrics() {
        Set<String> catalog = PromQl.catalogSeriesNames();
        List<String> exprs = PromQl.all(RepoFiles.dashboardExpressions(dashboard),
                RepoFiles.ruleExpressions(RepoFiles.yaml(RepoFiles.ALERTS)));
        assertThat(exprs).hasSizeGreaterThan(30);
        Set<String> used = new HashSet<>();
        for (String expr : exprs) {
            Set<String> names = PromQl.metricNames(expr);
            assertThat(names).as(expr).isNotEmpty();
            assertThat(catalog).as(expr).containsAll(names);
            used.addAll(names);
        }
        // Every meter the issue asks the dashboard to show is on it.
        assertThat(used).contains("dialer_calls_ended_total", "dialer_calls_originated_total",
                "dialer_pacing_configured_calls_per_second", "dialer_pacing_effective_calls_per_second",
                "dialer_calls_active", "dialer_calls_active_limit", "dialer_api_request_duration_seconds_bucket",
                "dialer_api_throttled_total", "resilience4j_circuitbreaker_state",
                "dialer_webhook_invocation_duration_seconds_bucket", "dialer_call_invocations_bucket",
                "dialer_campaign_contacts_remaining", "dialer_ledger_queue_depth", "dialer_campaign_state",
                "dialer_campaign_contacts_read", "dialer_campaign_contacts_dialed", "dialer_campaign_contacts_waiting",
                "dialer_campaign_calls_live", "dialer_call_flow_results_total", "dialer_region_up");
    }

    @Test
    void expressions_dashboardAndAlerts_matchOnlyLabelsTheMetricHas() {
        List<String> exprs = PromQl.all(RepoFiles.dashboardExpressions(dashboard),
                RepoFiles.ruleExpressions(RepoFiles.yaml(RepoFiles.ALERTS)));
        int checked = 0;
        for (String expr : exprs) {
            for (Map.Entry<String, Set<String>> selector : PromQl.matchedLabels(expr).entrySet()) {
                DialerMetrics.Metric metric = PromQl.ownMetric(selector.getKey());
                if (metric == null) {
                    continue;
                }
                Set<String> allowed = new HashSet<>(metric.tags());
                allowed.addAll(SCRAPE_LABELS);
                if (selector.getKey().endsWith("_bucket")) {
                    allowed.add("le");
                }
                assertThat(allowed).as("%s in %s", selector.getKey(), expr).containsAll(selector.getValue());
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(20);
    }

    private String target(String title) {
        return panel(title).path("targets").get(0).path("expr").asText();
    }

    private JsonNode panel(String title) {
        return RepoFiles.queryPanels(dashboard).stream().filter(p -> title.equals(p.path("title").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("no panel " + title));
    }

    private static JsonNode variable(JsonNode list, String name) {
        for (JsonNode variable : list) {
            if (name.equals(variable.path("name").asText())) {
                return variable;
            }
        }
        throw new AssertionError("no variable " + name);
    }

    private static void assertGridPos(JsonNode panel) {
        JsonNode grid = panel.path("gridPos");
        String title = panel.path("title").asText();
        for (String key : List.of("x", "y", "w", "h")) {
            assertThat(grid.path(key).isInt()).as("%s gridPos.%s", title, key).isTrue();
        }
        assertThat(grid.path("x").asInt()).as(title).isBetween(0, 23);
        assertThat(grid.path("w").asInt()).as(title).isBetween(1, 24);
        assertThat(grid.path("x").asInt() + grid.path("w").asInt()).as(title).isLessThanOrEqualTo(24);
        assertThat(grid.path("h").asInt()).as(title).isPositive();
        assertThat(grid.path("y").asInt()).as(title).isNotNegative();
    }

    private static boolean overlap(JsonNode a, JsonNode b) {
        return a.path("x").asInt() < b.path("x").asInt() + b.path("w").asInt()
                && b.path("x").asInt() < a.path("x").asInt() + a.path("w").asInt()
                && a.path("y").asInt() < b.path("y").asInt() + b.path("h").asInt()
                && b.path("y").asInt() < a.path("y").asInt() + a.path("h").asInt();
    }
}
