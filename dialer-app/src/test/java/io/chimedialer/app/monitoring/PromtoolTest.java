package io.chimedialer.app.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.metrics.DialerMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * promtool accepts the alert rules, the scrape config and the dialer's scrape. Fails (does not skip) when promtool
 * is missing: {@value Promtool#INSTALL_HINT}.
 */
class PromtoolTest {

    /**
     * Lint findings promtool reports on meters of Micrometer's own binders, which the dialer does not name:
     * {@code process.cpu.time} in nanoseconds and {@code system.cpu.count}.
     */
    private static final Set<String> MICROMETER_BINDER_FINDINGS = Set.of(
            "process_cpu_time_ns_total metric names should not contain abbreviated units",
            "system_cpu_count non-histogram and non-summary metrics should not have \"_count\" suffix");

    /** promtool must find every rule of the file (a rule it skipped would be a finding of its own). */
    private static final int RULES = RepoFiles.ruleExpressions(RepoFiles.yaml(RepoFiles.ALERTS)).size();

    @Test
    void checkRules_alertsYml_passes() {
        Promtool.Result result = Promtool.run(null, "check", "rules", RepoFiles.ALERTS.toString());

        assertThat(RULES).isGreaterThanOrEqualTo(7);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("SUCCESS: " + RULES + " rules found");
    }

    @Test
    void checkConfig_prometheusYml_passesWithItsRuleFile() {
        Promtool.Result result = Promtool.run(null, "check", "config", RepoFiles.PROMETHEUS_CONFIG.toString());

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("SUCCESS: 1 rule files found")
                .contains("SUCCESS: " + RULES + " rules found");
    }

    @Test
    void checkMetrics_scrapeOfSyntheticCampaign_isClean() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try {
            SyntheticCampaign campaign = new SyntheticCampaign(new DialerMetrics(registry)).start();
            campaign.step();
            String scrape = registry.scrape();
            assertThat(scrape).contains("# TYPE dialer_calls_ended_total counter")
                    .contains("# TYPE resilience4j_circuitbreaker_state gauge");

            Promtool.Result result = Promtool.run(scrape, "check", "metrics");

            assertThat(result.exitCode()).as(result.output()).isZero();
            assertThat(result.output()).isBlank();
        } finally {
            registry.close();
        }
    }

    @Test
    void checkMetrics_scrapeWithJvmBinders_onlyMicrometersOwnFindings() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (JvmGcMetrics gc = new JvmGcMetrics()) {
            new SyntheticCampaign(new DialerMetrics(registry)).start();
            new JvmMemoryMetrics().bindTo(registry);
            new JvmThreadMetrics().bindTo(registry);
            new ProcessorMetrics().bindTo(registry);
            new UptimeMetrics().bindTo(registry);
            gc.bindTo(registry);

            Promtool.Result result = Promtool.run(registry.scrape(), "check", "metrics");

            List<String> findings = Arrays.stream(result.output().split("\n")).map(String::strip)
                    .filter(line -> !line.isEmpty()).toList();
            assertThat(findings).isSubsetOf(MICROMETER_BINDER_FINDINGS);
            assertThat(findings).noneMatch(line -> line.startsWith("dialer_") || line.startsWith("resilience4j_"));
        } finally {
            registry.close();
        }
    }

    @Test
    void checkMetrics_counterWithoutTotalSuffix_reported() {
        // Proves the check above is not vacuous: promtool does read stdin and flag problems.
        Promtool.Result result = Promtool.run("# HELP calls Calls.\n# TYPE calls counter\ncalls 1\n",
                "check", "metrics");

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.output()).contains("calls").contains("_total");
    }
}
