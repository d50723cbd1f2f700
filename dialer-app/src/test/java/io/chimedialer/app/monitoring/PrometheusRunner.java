package io.chimedialer.app.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.testkit.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Prometheus (Debian's {@code prometheus} binary) for integration tests: it listens on 127.0.0.1, scrapes one
 * target every second into a temporary storage directory, optionally evaluates rule files every second, and
 * answers PromQL through its HTTP API. Every wait is bounded; {@link #close()} stops the process and deletes the
 * directory, and must always be called (try-with-resources or an {@code @AfterAll}).
 *
 * <pre>{@code
 * try (PrometheusRunner prometheus = PrometheusRunner.start(URI.create("http://127.0.0.1:" + port + "/metrics"),
 *         List.of(RepoFiles.ALERTS))) {
 *     prometheus.awaitScrapes(3, Duration.ofSeconds(30));
 *     JsonNode result = prometheus.query("sum(dialer_calls_originated_total)");
 * }
 * }</pre>
 */
public final class PrometheusRunner implements AutoCloseable {
    /** The scrape job's name, and the {@code job} label of every scraped series. */
    public static final String JOB = "dialer";

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final int START_ATTEMPTS = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path directory;
    private final URI baseUri;
    private final HttpClient http;

    private PrometheusRunner(Process process, Path directory, URI baseUri, HttpClient http) {
        this.process = process;
        this.directory = directory;
        this.baseUri = baseUri;
        this.http = http;
    }

    /**
     * Starts Prometheus scraping {@code target} every second and waits until it is ready (at most 30 s).
     *
     * @param target    the full URL of the metrics endpoint, e.g. {@code http://127.0.0.1:41234/metrics}
     * @param ruleFiles rule files to load and evaluate every second (may be empty)
     * @return the running Prometheus; close it
     * @throws IllegalStateException when the binary is missing or Prometheus does not become ready
     */
    public static PrometheusRunner start(URI target, List<Path> ruleFiles) {
        Path binary = Promtool.onPath("prometheus").orElseThrow(() -> new IllegalStateException(
                "prometheus is not on PATH: " + Promtool.INSTALL_HINT));
        Path directory;
        try {
            directory = Files.createTempDirectory("prometheus-it-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT).build();
        IllegalStateException failure = null;
        // A free port can be taken between probing and Prometheus binding it; try again on another one.
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            int port = freePort();
            Path config = directory.resolve("prometheus.yml");
            Path log = directory.resolve("prometheus-" + attempt + ".log");
            Process process = null;
            try {
                Files.writeString(config, config(target, ruleFiles));
                process = new ProcessBuilder(binary.toString(),
                        "--config.file=" + config,
                        "--storage.tsdb.path=" + directory.resolve("data-" + attempt),
                        "--web.listen-address=127.0.0.1:" + port,
                        "--log.level=warn")
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
                PrometheusRunner runner = new PrometheusRunner(process, directory,
                        URI.create("http://127.0.0.1:" + port), http);
                runner.awaitReady(log);
                return runner;
            } catch (IOException e) {
                destroy(process);
                deleteRecursively(directory);
                throw new UncheckedIOException(e);
            } catch (IllegalStateException e) {
                destroy(process);
                failure = e;
            }
        }
        deleteRecursively(directory);
        throw Objects.requireNonNull(failure);
    }

    /** Where its HTTP API listens, e.g. {@code http://127.0.0.1:45678}. */
    public URI baseUri() {
        return baseUri;
    }

    /**
     * Waits until the target has been scraped successfully at least {@code scrapes} times.
     *
     * @param scrapes how many successful scrapes
     * @param timeout how long at most
     * @throws AssertionError on timeout, with the targets' state
     */
    public void awaitScrapes(int scrapes, Duration timeout) {
        String query = "sum_over_time(up{job=\"" + JOB + "\"}[10m])";
        Await.upTo(timeout, scrapes + " successful scrapes").pollEvery(POLL)
                .withContext(() -> "targets: " + get("/api/v1/targets"))
                .untilValue(() -> {
                    JsonNode result = query(query).path("data").path("result");
                    return result.isEmpty() ? 0 : result.get(0).path("value").get(1).asDouble();
                }, done -> done >= scrapes);
    }

    /**
     * Evaluates a PromQL expression at the current time ({@code GET /api/v1/query}).
     *
     * @param promql the expression
     * @return the response: {@code status} ({@code success} or {@code error}), {@code data.resultType},
     *         {@code data.result}, or {@code errorType} and {@code error}
     */
    public JsonNode query(String promql) {
        return get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    }

    /**
     * Evaluates a PromQL expression at a given time ({@code GET /api/v1/query?time=}), e.g. a moment while a campaign
     * that has since ended was running.
     *
     * @param promql   the expression
     * @param unixTime the evaluation time, seconds since the epoch
     */
    public JsonNode query(String promql, double unixTime) {
        return get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8) + "&time="
                + String.format(java.util.Locale.ROOT, "%.3f", unixTime));
    }

    /** The loaded rule groups and each rule's health and last error ({@code GET /api/v1/rules}). */
    public JsonNode rules() {
        return get("/api/v1/rules");
    }

    /**
     * The values of a label on the series that match a selector ({@code GET /api/v1/label/NAME/values}), as Grafana's
     * {@code label_values(metric, label)} queries them.
     */
    public List<String> labelValues(String label, String match) {
        JsonNode response = get("/api/v1/label/" + label + "/values?match[]="
                + URLEncoder.encode(match, StandardCharsets.UTF_8));
        List<String> values = new ArrayList<>();
        response.path("data").forEach(v -> values.add(v.asText()));
        return values;
    }

    /** Stops Prometheus (at most 10 s, then forcibly) and deletes its directory. */
    @Override
    public void close() {
        destroy(process);
        deleteRecursively(directory);
    }

    /** GETs a path of the HTTP API and parses the JSON answer, whatever its status code (errors are JSON too). */
    JsonNode get(String pathAndQuery) {
        HttpRequest request = HttpRequest.newBuilder(baseUri.resolve(pathAndQuery)).timeout(HTTP_TIMEOUT).GET()
                .build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + request.uri(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Waits for {@code /-/ready}; an IllegalStateException when it does not come, so that start tries again. */
    private void awaitReady(Path log) {
        HttpRequest ready = HttpRequest.newBuilder(baseUri.resolve("/-/ready")).timeout(HTTP_TIMEOUT).GET().build();
        try {
            Await.upTo(START_TIMEOUT, "prometheus ready").pollEvery(POLL)
                    .failFastIf(() -> !process.isAlive(), () -> "prometheus exited with " + process.exitValue())
                    .withContext(() -> tail(log))
                    .until(() -> {
                        try {
                            return http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                        } catch (IOException notYetListening) {
                            return false;
                        }
                    });
        } catch (AssertionError e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static String config(URI target, List<Path> ruleFiles) {
        StringBuilder yaml = new StringBuilder()
                .append("global:\n")
                .append("  scrape_interval: 1s\n")
                .append("  scrape_timeout: 1s\n")
                .append("  evaluation_interval: 1s\n");
        if (!ruleFiles.isEmpty()) {
            yaml.append("rule_files:\n");
            ruleFiles.forEach(f -> yaml.append("  - '").append(f.toAbsolutePath()).append("'\n"));
        }
        return yaml.append("scrape_configs:\n")
                .append("  - job_name: ").append(JOB).append('\n')
                .append("    scheme: ").append(target.getScheme()).append('\n')
                .append("    metrics_path: '").append(target.getRawPath()).append("'\n")
                .append("    static_configs:\n")
                .append("      - targets: ['").append(target.getHost()).append(':').append(target.getPort())
                .append("']\n")
                .toString();
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void destroy(Process process) {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void deleteRecursively(Path directory) {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
