package io.chimedialer.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.chimedialer.app.cli.ServeCommand;
import io.chimedialer.core.cluster.ClusterSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code cluster:} section: defaults, validation with key paths, and the settings serve builds from it. */
class ClusterConfigTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path f = dir.resolve("dialer.yaml");
        Files.writeString(f, ConfigLoaderTest.minimal(yaml));
        return f;
    }

    @Test
    void load_noClusterSection_isOffWithDefaultsAndServeBuildsNoSettings() throws Exception {
        DialerConfig config = ConfigLoader.load(write(""), Map.of());

        assertThat(config.cluster().enabled()).isFalse();
        assertThat(config.cluster().heartbeat()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.cluster().nodeTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.cluster().lease()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.cluster().nodeId()).isNotBlank();
        assertThat(ServeCommand.clusterSettings(config)).isNull();
    }

    @Test
    void load_clusterEnabledWithPostgresAndPublicUrl_buildsTheNodeSettings() throws Exception {
        DialerConfig config = ConfigLoader.load(write("""
                server: { public-url: "https://dialer-1.internal:8443" }
                ledger: { url: "jdbc:postgresql://db:5432/dialer" }
                cluster:
                  enabled: true
                  node-id: dialer-1
                  heartbeat: 1s
                  node-timeout: 5s
                  lease: 20s
                  rate-guard: 80ms
                """), Map.of());

        ClusterSettings settings = ServeCommand.clusterSettings(config);
        assertThat(settings).isNotNull();
        assertThat(settings.nodeId()).isEqualTo("dialer-1");
        assertThat(config.cluster().claimsAhead()).isEqualTo(DialerConfig.Cluster.DEFAULT_CLAIMS_AHEAD);
        assertThat(settings.url()).isEqualTo("https://dialer-1.internal:8443");
        assertThat(settings.heartbeat()).isEqualTo(Duration.ofSeconds(1));
        assertThat(settings.nodeTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(settings.lease()).isEqualTo(Duration.ofSeconds(20));
        assertThat(settings.callHold()).isEqualTo(Duration.ofMinutes(30));
        assertThat(settings.rateGuard()).isEqualTo(Duration.ofMillis(80));
        assertThat(ServeCommand.withNodeFlags(config, "dialer-2", null, null).cluster().rateGuard())
                .isEqualTo(Duration.ofMillis(80));
        assertThat(ConfigLoader.load(write(""), Map.of()).cluster().rateGuard())
                .isEqualTo(ClusterSettings.DEFAULT_RATE_GUARD);
    }

    @Test
    void load_rateGuardAboveASecond_isAnErrorAtItsKey() throws Exception {
        Path f = write("""
                cluster: { rate-guard: 2s }
                """);

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(f, Map.of()));

        assertThat(e).isNotNull();
        assertThat(e.problems()).anySatisfy(p -> {
            assertThat(p.keyPath()).startsWith("cluster");
            assertThat(p.message()).contains("rate-guard must be 0 to 1s");
        });
    }

    @Test
    void load_missingContactFile_isAnErrorAloneButNotInClusterMode() throws Exception {
        String campaign = """
                campaigns:
                  reminders:
                    contacts: lists/not-on-this-node.csv
                    regions: { us-east-1: 1 }
                """;
        Path alone = write(campaign);
        ConfigException e = org.assertj.core.api.Assertions.catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.load(alone, Map.of()));
        assertThat(e).isNotNull();
        assertThat(e.problems()).anySatisfy(p -> {
            assertThat(p.keyPath()).isEqualTo("campaigns.reminders.contacts");
            assertThat(p.message()).startsWith("file not found: ").endsWith("not-on-this-node.csv");
        });

        // A node of a cluster needs the file only if it imports the list: it loads, the path kept for that case.
        DialerConfig clustered = ConfigLoader.load(write("""
                server: { public-url: "http://10.0.0.5:8080/" }
                ledger: { url: "jdbc:postgresql://db:5432/dialer" }
                cluster: { enabled: true }
                """ + campaign), Map.of());
        assertThat(clustered.campaign("reminders")).get()
                .satisfies(c -> assertThat(c.contacts()).endsWith("not-on-this-node.csv"));
        // So does a campaign defined through the control API on such a node.
        assertThat(ConfigLoader.parseCampaign("adhoc", "contacts: /nowhere/list.csv\nregions: { us-east-1: 1 }\n", null, clustered).contacts())
                .isEqualTo(Path.of("/nowhere/list.csv").toString());
    }

    @Test
    void load_defaultNodeIds_differBetweenNodesOnOneHost() throws Exception {
        DialerConfig one = ConfigLoader.load(write(""), Map.of());
        DialerConfig two = ConfigLoader.load(write(""), Map.of());

        assertThat(one.cluster().nodeId()).isNotEqualTo(two.cluster().nodeId());
    }

    @Test
    void serveFlags_nodeIdAndPublicUrlOrPort_overrideTheSharedFile() throws Exception {
        DialerConfig shared = ConfigLoader.load(write("""
                server: { port: 8080, public-url: "http://10.0.0.5:8080/" }
                ledger: { url: "jdbc:postgresql://db:5432/dialer" }
                cluster: { enabled: true, node-id: from-file }
                """), Map.of());

        DialerConfig b = ServeCommand.withNodeFlags(shared, "node-b", null, 8081);
        assertThat(b.cluster().nodeId()).isEqualTo("node-b");
        assertThat(b.server().port()).isEqualTo(8081);
        assertThat(b.server().publicUrl()).hasToString("http://10.0.0.5:8081/");
        assertThat(ServeCommand.clusterSettings(b).nodeId()).isEqualTo("node-b");

        DialerConfig c = ServeCommand.withNodeFlags(shared, "node-c", "https://node-c.internal:9443", 8082);
        assertThat(c.server().publicUrl()).hasToString("https://node-c.internal:9443");
        assertThat(c.server().port()).isEqualTo(8082);

        assertThat(ServeCommand.withNodeFlags(shared, null, null, null)).isEqualTo(shared);
        assertThatThrownBy(() -> ServeCommand.withNodeFlags(shared, null, "ftp://x", null))
                .hasMessageContaining("--public-url");
        DialerConfig single = ConfigLoader.load(write(""), Map.of());
        assertThatThrownBy(() -> ServeCommand.withNodeFlags(single, "n1", null, null))
                .hasMessageContaining("--node-id needs cluster.enabled");
    }

    @Test
    void load_clusterEnabledWithSqliteAndNoPublicUrl_reportsBothAtClusterEnabled() throws Exception {
        Path f = write("""
                cluster:
                  enabled: true
                  heartbeat: 5s
                  node-timeout: 10s
                """);

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(f, Map.of()));

        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::keyPath)
                .containsExactlyInAnyOrder("cluster.enabled", "cluster.enabled", "cluster.node-timeout");
        assertThat(e.problems()).extracting(ConfigProblem::message)
                .anySatisfy(m -> assertThat(m).contains("jdbc:postgresql:"))
                .anySatisfy(m -> assertThat(m).contains("server.public-url"))
                .anySatisfy(m -> assertThat(m).contains("three heartbeats"));
    }

    @Test
    void load_unknownClusterKey_isReportedWithItsPath() throws Exception {
        Path f = write("""
                cluster:
                  enabld: true
                """);

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(f, Map.of()));

        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::keyPath).containsExactly("cluster.enabld");
    }
}
