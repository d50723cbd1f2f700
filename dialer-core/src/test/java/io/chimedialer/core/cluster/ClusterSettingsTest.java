package io.chimedialer.core.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {

    @Test
    void of_defaults_documentedValues() {
        ClusterSettings settings = ClusterSettings.of("node-1", "http://127.0.0.1:8080");

        assertThat(settings.heartbeat()).isEqualTo(Duration.ofSeconds(2));
        assertThat(settings.nodeTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(settings.lease()).isEqualTo(Duration.ofSeconds(30));
        assertThat(settings.claimBatch()).isEqualTo(100);
        assertThat(settings.pollInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(settings.callHold()).isEqualTo(Duration.ofMinutes(30));
    }

    @Test
    void withers_copyAndChangeOneField() {
        ClusterSettings settings = ClusterSettings.of("n", null)
                .withHeartbeat(Duration.ofMillis(500), Duration.ofSeconds(2))
                .withLease(Duration.ofSeconds(5)).withClaimBatch(7).withPollInterval(Duration.ofMillis(100))
                .withCallHold(Duration.ofMinutes(5)).withRateGuard(Duration.ofMillis(80));

        assertThat(settings).isEqualTo(new ClusterSettings("n", null, Duration.ofMillis(500), Duration.ofSeconds(2),
                Duration.ofSeconds(5), 7, Duration.ofMillis(100), Duration.ofMinutes(5), Duration.ofMillis(80)));
    }

    @Test
    void constructor_invalidValues_failNamingTheField() {
        ClusterSettings base = ClusterSettings.of("n", null);
        assertThatThrownBy(() -> ClusterSettings.of(" ", null)).hasMessageContaining("nodeId");
        assertThatThrownBy(() -> base.withHeartbeat(Duration.ofSeconds(1), Duration.ofMillis(2999)))
                .hasMessageContaining("nodeTimeout must be at least three heartbeats");
        assertThatThrownBy(() -> base.withLease(Duration.ofMillis(299))).hasMessageContaining("lease");
        assertThatThrownBy(() -> base.withClaimBatch(0)).hasMessageContaining("claimBatch");
        assertThatThrownBy(() -> base.withPollInterval(Duration.ZERO)).hasMessageContaining("pollInterval");
        assertThatThrownBy(() -> base.withCallHold(Duration.ofSeconds(-1))).hasMessageContaining("callHold");
        assertThatThrownBy(() -> base.withRateGuard(Duration.ofMillis(-1))).hasMessageContaining("rateGuard");
        assertThatThrownBy(() -> base.withRateGuard(Duration.ofMillis(1001))).hasMessageContaining("rateGuard");
        assertThat(base.rateGuard()).isEqualTo(ClusterSettings.DEFAULT_RATE_GUARD);
    }
}
