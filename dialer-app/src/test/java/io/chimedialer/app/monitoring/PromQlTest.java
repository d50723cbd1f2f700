package io.chimedialer.app.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The PromQL reading the monitoring tests rely on finds every metric name and only those. */
class PromQlTest {

    @Test
    void metricNames_ratioWithMatchersAndGrouping_findsBothSelectors() {
        String expr = "sum by (campaign, region) (rate(dialer_calls_ended_total{disposition=\"ANSWERED\", "
                + "campaign=~\"$campaign\"}[$__rate_interval]))\n/\nsum by (campaign) (rate(other_total[5m]))";

        assertThat(PromQl.metricNames(expr)).containsExactly("dialer_calls_ended_total", "other_total");
    }

    @Test
    void metricNames_functionsKeywordsDurationsAndStrings_notNames() {
        String expr = "histogram_quantile(0.99, sum(rate(a_bucket{x=\"rate(b)\"}[5m] offset 15m)) by (le)) > 1 "
                + "and on (le) group_left (x) c unless d_total or bool_metric > bool 1e3 + atan2 e";

        assertThat(PromQl.metricNames(expr)).containsExactly("a_bucket", "c", "d_total", "bool_metric", "e");
    }

    @Test
    void metricNames_bareSelector_found() {
        assertThat(PromQl.metricNames("max(dialer_ledger_queue_depth) > 1000")).containsExactly(
                "dialer_ledger_queue_depth");
        assertThat(PromQl.metricNames("-deriv(x[15m]) > 0")).containsExactly("x");
    }

    @Test
    void matchedLabels_selectors_labelNamesPerMetric() {
        Map<String, Set<String>> labels = PromQl.matchedLabels(
                "a{x=\"1\", y=~\"a}b\"} / b{z!=\"\"} + c");

        assertThat(labels).containsOnlyKeys("a", "b");
        assertThat(labels.get("a")).containsExactly("x", "y");
        assertThat(labels.get("b")).containsExactly("z");
    }

    @Test
    void labelValuesQuery_forms_parsedOrRejected() {
        assertThat(PromQl.labelValuesQuery("label_values(dialer_calls_active, region)"))
                .containsExactly("dialer_calls_active", "region");
        assertThat(PromQl.labelValuesQuery("label_values(m{a=\"b\"}, c)")).containsExactly("m", "c");
        assertThatThrownBy(() -> PromQl.labelValuesQuery("query_result(up)"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void substituteGrafanaVariables_allVariables_replaced() {
        String expr = "rate(m{campaign=~\"$campaign\", region=~\"${region}\"}[$__rate_interval]) "
                + "+ increase(m[$__range]) + m[$__interval]";

        assertThat(PromQl.substituteGrafanaVariables(expr, "1m")).isEqualTo(
                "rate(m{campaign=~\".*\", region=~\".*\"}[1m]) + increase(m[1m]) + m[1m]");
    }

    @Test
    void catalogSeriesNames_histogramAndCounter_expanded() {
        assertThat(PromQl.catalogSeriesNames()).contains("dialer_calls_ended_total",
                "dialer_webhook_invocation_duration_seconds_bucket", "dialer_call_talk_duration_seconds_sum",
                "resilience4j_circuitbreaker_state", "jvm_memory_used_bytes")
                .doesNotContain("dialer_calls_ended", "dialer_calls_active_total");
        assertThat(List.copyOf(PromQl.catalogSeriesNames())).doesNotHaveDuplicates();
    }
}
