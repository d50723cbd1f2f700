package io.chimedialer.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.testkit.Await;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/** The meters the composition root binds, read from its real scrape. */
class DialerRuntimeMetricsTest {
    @TempDir
    Path dir;

    private DialerRuntime runtime;

    @AfterEach
    void tearDown() {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void ledgerWrites_eachCommittedBatch_recordedInTheWriteDurationHistogram() {
        runtime = DialerRuntime.start(new DialerRuntime.Options(List.of(new RegionConfig("us-east-1", "sma-1", 1, 1,
                10, 5, List.of("+12065550100"), URI.create("http://127.0.0.1:9"))),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("KEY", "secret")),
                "jdbc:sqlite:" + dir.resolve("ledger.db"), "metrics-secret", "127.0.0.1", 0, null, false, null, null));
        Instant now = Instant.now();

        runtime.ledger().upsertCampaign("c", null, now).block(Duration.ofSeconds(10));
        for (int i = 0; i < 3; i++) {
            runtime.ledger().addDnc("list", "+1202555010" + i, now).block(Duration.ofSeconds(10));
        }

        long batches = runtime.ledger().stats().batches();
        assertThat(batches).as("transactions committed").isGreaterThanOrEqualTo(4);
        double recorded = Await.upTo(Duration.ofSeconds(10), "every committed batch recorded")
                .untilValue(() -> sample(runtime.meterRegistry().scrape(), "dialer_ledger_write_duration_seconds_count"),
                        count -> count >= batches);
        assertThat(recorded).isEqualTo((double) runtime.ledger().stats().batches());
        assertThat(sample(runtime.meterRegistry().scrape(), "dialer_ledger_write_duration_seconds_sum"))
                .isGreaterThan(0);
    }

    @Test
    void inboundCallsEvicted_boundToTheCallRegistry_inTheScrape() {
        runtime = DialerRuntime.start(new DialerRuntime.Options(List.of(new RegionConfig("us-east-1", "sma-1", 1, 1,
                10, 5, List.of("+12065550100"), URI.create("http://127.0.0.1:9"))),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("KEY", "secret")),
                "jdbc:sqlite:" + dir.resolve("ledger.db"), "metrics-secret", "127.0.0.1", 0, null, false, null, null));

        assertThat(runtime.meterRegistry().scrape()).contains("# TYPE dialer_webhook_inbound_calls_evicted_total counter");
        assertThat(sample(runtime.meterRegistry().scrape(), "dialer_webhook_inbound_calls_evicted_total"))
                .isEqualTo((double) runtime.calls().inboundCallsEvicted()).isZero();
    }

    private static double sample(String scrape, String name) {
        return scrape.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }
}
