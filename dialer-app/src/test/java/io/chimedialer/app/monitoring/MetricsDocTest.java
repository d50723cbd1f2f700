package io.chimedialer.app.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.metrics.DialerMetrics;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** docs/metrics.md documents every meter of the catalog as the catalog defines it. */
class MetricsDocTest {
    private final String doc = RepoFiles.text(RepoFiles.METRICS_DOC);

    @Test
    void doc_eachDialerMeter_hasRowWithCatalogNameTypeUnitAndTags() {
        List<String> lines = doc.lines().toList();
        for (DialerMetrics.Metric metric : DialerMetrics.Metric.values()) {
            String prefix = "| `" + metric.scrapeName() + "` | `" + metric.micrometerName() + "` |";
            List<String> rows = lines.stream().filter(l -> l.startsWith(prefix)).toList();
            assertThat(rows).as(metric.name()).hasSize(1);
            List<String> cells = Arrays.stream(rows.get(0).split("\\|")).map(String::strip).skip(1).toList();
            assertThat(cells.get(2)).as(metric.name()).isEqualTo(metric.type().prometheusType());
            assertThat(cells.get(3)).as(metric.name()).isEqualTo(metric.unit());
            String tags = metric.tags().isEmpty() ? "—"
                    : metric.tags().stream().map(t -> "`" + t + "`").collect(Collectors.joining(", "));
            assertThat(cells.get(4)).as(metric.name()).isEqualTo(tags);
            assertThat(cells.get(5)).as(metric.name()).isEqualTo(metric.description());
        }
    }

    @Test
    void doc_eachLibraryMeter_named() {
        for (DialerMetrics.ExternalMetric metric : DialerMetrics.ExternalMetric.values()) {
            assertThat(doc).as(metric.name()).contains("`" + metric.scrapeName() + "`").contains(metric.source());
        }
    }

    @Test
    void doc_pointingPrometheusAndGrafana_coversServeAndDemoHold() {
        assertThat(doc).contains("dialer serve").contains("dialer demo --hold --port 8080")
                .contains("grafana/prometheus/prometheus.yml").contains("grafana/provisioning/datasources/prometheus.yaml")
                .contains("grafana/provisioning/dashboards/dialer.yaml").contains("dialer-overview.json");
    }
}
