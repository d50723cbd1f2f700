package io.chimedialer.app.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The repository's monitoring files, found from the module directory (surefire and failsafe run there). */
final class RepoFiles {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final Path GRAFANA = ROOT.resolve("grafana");
    static final Path DASHBOARD = GRAFANA.resolve("dashboards/dialer-overview.json");
    static final Path ALERTS = GRAFANA.resolve("prometheus/alerts.yml");
    static final Path PROMETHEUS_CONFIG = GRAFANA.resolve("prometheus/prometheus.yml");
    static final Path DATASOURCE_PROVISIONING = GRAFANA.resolve("provisioning/datasources/prometheus.yaml");
    static final Path DASHBOARD_PROVISIONING = GRAFANA.resolve("provisioning/dashboards/dialer.yaml");
    static final Path METRICS_DOC = ROOT.resolve("docs/metrics.md");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private RepoFiles() {
    }

    static JsonNode json(Path file) {
        return read(JSON, file);
    }

    static JsonNode yaml(Path file) {
        return read(YAML, file);
    }

    static String text(Path file) {
        assertThat(file).as("run from the dialer-app module directory").isRegularFile();
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The panels of the dashboard that query (every panel but rows), including panels nested in rows. */
    static List<JsonNode> queryPanels(JsonNode dashboard) {
        List<JsonNode> panels = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            if ("row".equals(panel.path("type").asText())) {
                panel.path("panels").forEach(panels::add);
            } else {
                panels.add(panel);
            }
        }
        return panels;
    }

    /** Every {@code expr} of every panel target of the dashboard. */
    static List<String> dashboardExpressions(JsonNode dashboard) {
        List<String> exprs = new ArrayList<>();
        for (JsonNode panel : queryPanels(dashboard)) {
            for (JsonNode target : panel.path("targets")) {
                exprs.add(target.path("expr").asText());
            }
        }
        return exprs;
    }

    /** Every {@code expr} of every rule (alerting or recording) of a rules file. */
    static List<String> ruleExpressions(JsonNode rules) {
        List<String> exprs = new ArrayList<>();
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                exprs.add(rule.path("expr").asText());
            }
        }
        return exprs;
    }

    /** The query of every query variable of the dashboard, e.g. {@code label_values(m, campaign)}. */
    static List<String> variableQueries(JsonNode dashboard) {
        List<String> queries = new ArrayList<>();
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if ("query".equals(variable.path("type").asText())) {
                JsonNode query = variable.path("query");
                queries.add(query.isObject() ? query.path("query").asText() : query.asText());
            }
        }
        return queries;
    }

    private static JsonNode read(ObjectMapper mapper, Path file) {
        assertThat(file).as("run from the dialer-app module directory").isRegularFile();
        try {
            return mapper.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
