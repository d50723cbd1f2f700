package io.chimedialer.lambda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BridgeConfigTest {

    private static final URI URL = URI.create("https://dialer.example.com/v1/sma/invocations");

    @Test
    void fromEnvironment_onlyRequiredVariables_appliesDefaults() {
        BridgeConfig config = BridgeConfig.fromEnvironment(Map.of(
                "DIALER_WEBHOOK_URL", URL.toString(), "DIALER_WEBHOOK_SECRET", "s3cret"));

        assertThat(config.webhookUrl()).isEqualTo(URL);
        assertThat(config.secret()).isEqualTo("s3cret");
        assertThat(config.timeout()).isEqualTo(Duration.ofMillis(2000));
        assertThat(config.fallbackText()).isEqualTo("We are sorry, we cannot continue this call right now. Goodbye.");
        assertThat(config.allowedUrlPrefixes()).isEmpty();
    }

    @Test
    void fromEnvironment_everyVariable_readsEach() {
        BridgeConfig config = BridgeConfig.fromEnvironment(Map.of(
                "DIALER_WEBHOOK_URL", " https://lb.example.com ",
                "DIALER_WEBHOOK_SECRET", "s3cret",
                "DIALER_TIMEOUT_MS", "2500",
                "DIALER_FALLBACK_TEXT", "Bye.",
                "DIALER_ALLOWED_URL_PREFIXES", " https://node-1.example.com/ ,,https://node-2.example.com "));

        assertThat(config.webhookUrl()).isEqualTo(URI.create("https://lb.example.com/v1/sma/invocations"));
        assertThat(config.timeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(config.fallbackText()).isEqualTo("Bye.");
        assertThat(config.allowedUrlPrefixes())
                .containsExactly("https://node-1.example.com/", "https://node-2.example.com");
    }

    @Test
    void fromEnvironment_everythingWrong_namesEveryVariableAtOnce() {
        assertThatThrownBy(() -> BridgeConfig.fromEnvironment(Map.of(
                "DIALER_TIMEOUT_MS", "soon",
                "DIALER_FALLBACK_TEXT", "x".repeat(1001),
                "DIALER_ALLOWED_URL_PREFIXES", "ftp://x/")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DIALER_WEBHOOK_URL: required")
                .hasMessageContaining("DIALER_WEBHOOK_SECRET: required")
                .hasMessageContaining("DIALER_TIMEOUT_MS: not a number")
                .hasMessageContaining("DIALER_FALLBACK_TEXT: longer than 1000")
                .hasMessageContaining("DIALER_ALLOWED_URL_PREFIXES: not an http(s) URL prefix: ftp://x/");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-5", "20001"})
    void fromEnvironment_timeoutOutOfRange_isRejected(String ms) {
        assertThatThrownBy(() -> BridgeConfig.fromEnvironment(Map.of(
                "DIALER_WEBHOOK_URL", URL.toString(), "DIALER_WEBHOOK_SECRET", "s", "DIALER_TIMEOUT_MS", ms)))
                .hasMessageContaining("DIALER_TIMEOUT_MS: must be 1 to 20000");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dialer.example.com", "ftp://dialer.example.com/", "file:///tmp/x", "mailto:a@b"})
    void fromEnvironment_webhookNotHttp_isRejected(String url) {
        assertThatThrownBy(() -> BridgeConfig.fromEnvironment(Map.of(
                "DIALER_WEBHOOK_URL", url, "DIALER_WEBHOOK_SECRET", "s")))
                .hasMessageContaining("DIALER_WEBHOOK_URL: not an absolute http(s) URL");
    }

    @Test
    void constructor_invalidComponents_nameTheComponent() {
        assertThatThrownBy(() -> BridgeConfig.of(URL, " ")).hasMessageStartingWith("secret:");
        assertThatThrownBy(() -> BridgeConfig.of(URL, "s").withTimeout(Duration.ZERO)).hasMessageStartingWith("timeout:");
        assertThatThrownBy(() -> BridgeConfig.of(URL, "s").withFallbackText("")).hasMessageStartingWith("fallbackText:");
        assertThatThrownBy(() -> BridgeConfig.of(URL, "s").withAllowedUrlPrefixes(List.of("x")))
                .hasMessageStartingWith("allowedUrlPrefixes:");
    }

    @Test
    void toString_neverShowsTheSecret() {
        assertThat(BridgeConfig.of(URL, "hunter2-very-secret").toString())
                .doesNotContain("hunter2").contains("secret=****");
    }

    @Test
    void allowedNodeUrl_noPrefixes_acceptsAnyHttpUrlAndAddsTheMissingPath() {
        BridgeConfig config = BridgeConfig.of(URL, "s");

        assertThat(config.allowedNodeUrl("http://10.0.0.7:8080")).isEqualTo(URI.create("http://10.0.0.7:8080/v1/sma/invocations"));
        assertThat(config.allowedNodeUrl("https://n.example.com/custom/hook"))
                .isEqualTo(URI.create("https://n.example.com/custom/hook"));
        assertThat(config.allowedNodeUrl(null)).isNull();
        assertThat(config.allowedNodeUrl("javascript:alert(1)")).isNull();
        assertThat(config.allowedNodeUrl("https://u:p@n.example.com/")).isNull();
    }

    @Test
    void allowedNodeUrl_withPrefixes_matchesOnlyAtABoundary() {
        BridgeConfig config = BridgeConfig.of(URL, "s")
                .withAllowedUrlPrefixes(List.of("https://node.example.com", "http://10.0.0.0/"));

        assertThat(config.allowedNodeUrl("https://node.example.com/v1/sma/invocations")).isNotNull();
        assertThat(config.allowedNodeUrl("HTTPS://NODE.example.com:8443/v1/sma/invocations")).isNotNull();
        assertThat(config.allowedNodeUrl("https://node.example.com")).isNotNull();
        assertThat(config.allowedNodeUrl("https://node.example.com.evil.net/v1/sma/invocations")).isNull();
        assertThat(config.allowedNodeUrl("https://node.example.community/")).isNull();
        assertThat(config.allowedNodeUrl("http://10.0.0.0/x")).isNotNull();
        assertThat(config.allowedNodeUrl("http://10.0.0.1/x")).isNull();
        assertThat(config.allowedNodeUrl("https://evil.net/?https://node.example.com")).isNull();
    }
}
