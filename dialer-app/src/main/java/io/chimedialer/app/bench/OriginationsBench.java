package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.chime.ChimeClientSettings;
import io.chimedialer.core.chime.ChimeClients;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.core.ledger.LedgerStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.chimesdkvoice.ChimeSdkVoiceAsyncClient;
import software.amazon.awssdk.services.chimesdkvoice.model.CreateSipMediaApplicationCallRequest;

/**
 * Measurement 1: Creates per second through the whole pipeline (CampaignRun: CSV, validation, dedupe,
 * ledger intents on SQLite, pacing at a rate far above what can be reached, the resilience chain, metrics)
 * against an API-only emulator in another process, beside a bare loop of the same SDK client (retries off,
 * a bounded number of requests in flight) against the same emulator.
 */
final class OriginationsBench {
    static final String REGION = "us-east-1";
    static final String SMA = "11111111-1111-4111-8111-111111111111";
    static final List<String> FROM = List.of("+17035550100", "+17035550101", "+17035550102");
    static final StaticCredentialsProvider CREDENTIALS =
            StaticCredentialsProvider.create(AwsBasicCredentials.create("BENCHACCESSKEY", "bench-secret-key"));

    private OriginationsBench() {
    }

    /** The result, and the raw SDK ceiling (creates per second) for the end-to-end ratio. */
    record Result(ObjectNode json, double sdkCeiling) {
    }

    static Result run(BenchSettings s, Path work, ObjectMapper json, PrintStream log) throws Exception {
        try (Children.Child emulator = Children.Child.start(List.of(Children.java(), "-Xmx1g", "-cp",
                Children.classPath(), "io.chimedialer.app.DialerMain", "emulator", "--port", "0", "--api-only",
                "--create-tps", "100000000", "--update-tps", "100000000", "--max-active-calls", "1000000000"))) {
            URI url = emulator.awaitUrl(60_000);
            log.printf("  originations: emulator (API-only, separate process) at %s%n", url);

            double[] sdk = sdkLoop(s, url);
            log.printf("  originations: raw SDK loop %,.0f Creates/s (%d in flight)%n", sdk[0], s.sdkInFlight());
            double[] pipeline = pipeline(s, url, work);
            log.printf("  originations: pipeline %,.0f Creates/s (ledger: %.0f commits, %.1f writes per commit, "
                    + "mean write %.1f ms)%n", pipeline[0], pipeline[3], pipeline[3] > 0 ? pipeline[4] / pipeline[3] : 0,
                    pipeline[5]);
            JsonNode stats = fetch(url.resolve("/emulator/v1/stats"), json);

            ObjectNode o = json.createObjectNode();
            o.put("perSecond", pipeline[0]);
            o.put("created", (long) pipeline[1]);
            o.put("seconds", pipeline[2]);
            o.put("sdkInFlight", s.sdkInFlight());
            o.put("ledgerCommits", (long) pipeline[3]);
            o.put("ledgerWrites", (long) pipeline[4]);
            o.put("ledgerWritesPerCommit", pipeline[3] > 0 ? pipeline[4] / pipeline[3] : 0);
            o.put("ledgerMeanWriteMs", pipeline[5]);
            o.put("ledgerMaxCommitMs", pipeline[6]);
            o.put("ceiling", sdk[0]);
            o.put("ceilingIs", "bare ChimeSdkVoiceAsyncClient loop, same emulator, Creates/s");
            o.put("ceilingCreated", (long) sdk[1]);
            o.put("ceilingErrors", (long) sdk[2]);
            o.put("emulatorCreated", stats.path("created").asLong());
            o.put("emulatorThrottled", stats.path("throttled").asLong());
            o.put("ratio", sdk[0] > 0 ? pipeline[0] / sdk[0] : 0);
            return new Result(o, sdk[0]);
        }
    }

    /** {perSecond, created, errors}. */
    private static double[] sdkLoop(BenchSettings s, URI url) {
        RegionConfig region = new RegionConfig(REGION, SMA, 1_000_000, 1, 256, 1_000_000, FROM, url);
        try (ChimeClients clients = ChimeClients.create(List.of(region), CREDENTIALS, ChimeClientSettings.ofDefaults())) {
            ChimeSdkVoiceAsyncClient client = clients.client(REGION);
            AtomicLong seq = new AtomicLong();
            loop(client, s.sdkInFlight(), s.warmup(), seq, new AtomicLong(), new AtomicLong());
            AtomicLong ok = new AtomicLong();
            AtomicLong errors = new AtomicLong();
            long start = System.nanoTime();
            loop(client, s.sdkInFlight(), s.originations(), seq, ok, errors);
            double seconds = (System.nanoTime() - start) / 1e9;
            return new double[] {ok.get() / seconds, ok.get(), errors.get()};
        }
    }

    private static void loop(ChimeSdkVoiceAsyncClient client, int inFlight, Duration duration, AtomicLong seq,
                             AtomicLong ok, AtomicLong errors) {
        long end = System.nanoTime() + duration.toNanos();
        Flux.range(0, inFlight)
                .flatMap(w -> Mono.defer(() -> {
                    long n = seq.getAndIncrement();
                    CreateSipMediaApplicationCallRequest request = CreateSipMediaApplicationCallRequest.builder()
                            .sipMediaApplicationId(SMA)
                            .fromPhoneNumber(FROM.get((int) (n % FROM.size())))
                            .toPhoneNumber(Synthetic.number(n))
                            .argumentsMap(Map.of("campaignId", "bench-sdk", "attemptId", UUID.randomUUID().toString()))
                            .build();
                    return Mono.fromFuture(() -> client.createSipMediaApplicationCall(request))
                            .doOnNext(r -> ok.incrementAndGet())
                            .then()
                            .onErrorResume(e -> {
                                errors.incrementAndGet();
                                return Mono.empty();
                            });
                }).repeat(() -> System.nanoTime() < end), inFlight)
                .then()
                .block(duration.plusSeconds(60));
    }

    /** {perSecond, created, seconds, ledger commits, ledger writes, mean write ms, max commit ms}. */
    private static double[] pipeline(BenchSettings s, URI url, Path work) throws Exception {
        Path csv = work.resolve("originations.csv");
        Synthetic.write(csv, s.originationContacts(), false, null);
        RegionConfig region = new RegionConfig(REGION, SMA, 1_000_000, 1_000, 100_000_000, 1_000_000, FROM, url);
        DialerRuntime.Options options = new DialerRuntime.Options(List.of(region), CREDENTIALS,
                "jdbc:sqlite:" + work.resolve("originations.db"), "bench-webhook-secret", "127.0.0.1", 0, null,
                false, null, null);
        try (DialerRuntime runtime = DialerRuntime.start(options)) {
            CampaignConfig campaign = new CampaignConfig("bench-originations", csv.toString(), Map.of(REGION, 1), "US",
                    null, null, FlowConfig.DEFAULT, List.of(), Duration.ofHours(1), false);
            CampaignManager.Started started = runtime.campaigns().launch(campaign, csv, false);
            MeterRegistry registry = runtime.meterRegistry();
            // The warm-up starts at the first Create, so start-up time (counting the list, the ledger) is not counted.
            for (long deadline = System.nanoTime() + 60_000_000_000L;
                 originated(registry) == 0 && System.nanoTime() < deadline; ) {
                Thread.sleep(10);
            }
            Thread.sleep(s.warmup().toMillis());
            double c0 = originated(registry);
            LedgerStats l0 = runtime.ledger().stats();
            long t0 = System.nanoTime();
            Thread.sleep(s.originations().toMillis());
            double c1 = originated(registry);
            LedgerStats l1 = runtime.ledger().stats();
            double seconds = (System.nanoTime() - t0) / 1e9;
            started.run().pause();
            long batches = l1.batches() - l0.batches();
            long ops = l1.opsCommitted() - l0.opsCommitted();
            double writeNanos = l1.totalWriteLatency().toNanos() - l0.totalWriteLatency().toNanos();
            return new double[] {(c1 - c0) / seconds, c1 - c0, seconds, batches, ops,
                    ops > 0 ? writeNanos / ops / 1e6 : 0, l1.maxCommitLatency().toNanos() / 1e6};
        }
    }

    private static double originated(MeterRegistry registry) {
        return registry.find("dialer.calls.originated").counters().stream().mapToDouble(Counter::count).sum();
    }

    static JsonNode fetch(URI uri, ObjectMapper json) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET()
                .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return json.readTree(response.body());
    }
}
