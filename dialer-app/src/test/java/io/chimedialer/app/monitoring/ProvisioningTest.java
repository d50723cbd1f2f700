package io.chimedialer.app.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** Grafana's provisioning files and the Prometheus scrape config point where docs/metrics.md says. */
class ProvisioningTest {

    @Test
    void datasourceProvisioning_prometheusOnLocalhost9090_isDefault() {
        JsonNode file = RepoFiles.yaml(RepoFiles.DATASOURCE_PROVISIONING);

        assertThat(file.path("apiVersion").asInt()).isEqualTo(1);
        JsonNode datasource = file.path("datasources").get(0);
        assertThat(datasource.path("type").asText()).isEqualTo("prometheus");
        assertThat(datasource.path("url").asText()).isEqualTo("http://localhost:9090");
        assertThat(datasource.path("access").asText()).isEqualTo("proxy");
        assertThat(datasource.path("isDefault").asBoolean()).isTrue();
    }

    @Test
    void dashboardProvisioning_fileProvider_hasPath() {
        JsonNode file = RepoFiles.yaml(RepoFiles.DASHBOARD_PROVISIONING);

        assertThat(file.path("apiVersion").asInt()).isEqualTo(1);
        JsonNode provider = file.path("providers").get(0);
        assertThat(provider.path("type").asText()).isEqualTo("file");
        assertThat(provider.path("options").path("path").asText()).isNotBlank();
    }

    @Test
    void scrapeConfig_dialerJob_scrapesMetricsOnLocalhost8080AndLoadsAlerts() {
        JsonNode config = RepoFiles.yaml(RepoFiles.PROMETHEUS_CONFIG);

        assertThat(config.path("rule_files").get(0).asText()).isEqualTo("alerts.yml");
        JsonNode job = config.path("scrape_configs").get(0);
        assertThat(job.path("job_name").asText()).isEqualTo("dialer");
        assertThat(job.path("metrics_path").asText()).isEqualTo("/metrics");
        assertThat(job.path("static_configs").get(0).path("targets").get(0).asText()).isEqualTo("localhost:8080");
    }
}
