package io.chimedialer.core.chime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChimeClientSettingsTest {

    @Test
    void poolSizeFor_activeCallCap_clampedBetweenMinAndMax() {
        ChimeClientSettings settings = ChimeClientSettings.ofDefaults();

        assertThat(settings.poolSizeFor(1)).isEqualTo(8);
        assertThat(settings.poolSizeFor(150)).isEqualTo(150);
        assertThat(settings.poolSizeFor(10_000)).isEqualTo(256);
    }

    @Test
    void ofDefaults_oneEventLoopThreadPerRegion() {
        assertThat(ChimeClientSettings.ofDefaults().eventLoopThreads()).isEqualTo(1);
        assertThat(ChimeClientSettings.ofDefaults().withEventLoopThreads(2).eventLoopThreads()).isEqualTo(2);
    }

    @Test
    void constructor_invalidField_messageNamesTheField() {
        assertThatThrownBy(() -> ChimeClientSettings.ofDefaults().withApiCallTimeout(Duration.ZERO))
                .hasMessageContaining("apiCallTimeout");
        assertThatThrownBy(() -> new ChimeClientSettings(1, 8, 4, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofSeconds(1))).hasMessageContaining("maxConnections");
    }
}
