package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.bench.Bench;
import io.chimedialer.app.bench.BenchSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs the benchmark harness at tiny sizes: every measurement must produce its figures, its ceiling and its
 * ratio as numbers, and the work counted must be the work sent. Speed is not asserted (figures at these
 * sizes mean nothing).
 */
class BenchIT {

    @Test
    @Timeout(value = 300)
    void run_tinySettings_everyMeasurementHasNumericFiguresCeilingAndRatio() throws Exception {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        Bench bench = new Bench(BenchSettings.tiny(), new PrintStream(progress, true, StandardCharsets.UTF_8));

        ObjectNode result = bench.run("BenchIT");
        // The file --json writes is this tree: round-trip it through text as the command does.
        JsonNode json = bench.json().readTree(bench.json().writeValueAsString(result));

        assertThat(Bench.complete(json)).as("result: %s%nprogress:%n%s", json, progress).isTrue();
        for (String name : Bench.MEASUREMENTS) {
            JsonNode o = json.get(name);
            assertThat(o.get("ceiling").isNumber()).as(name + ".ceiling").isTrue();
            assertThat(o.get("ratio").isNumber()).as(name + ".ratio").isTrue();
            assertThat(o.get("ceiling").asDouble()).as(name + ".ceiling").isPositive();
        }
        assertNumber(json, "originations", "perSecond");
        assertThat(json.get("originations").get("created").asLong()).isPositive();
        assertThat(json.get("originations").get("ceilingErrors").asLong()).isZero();
        assertNumber(json, "webhook", "perSecond");
        assertNumber(json, "webhook", "p50Ms");
        assertNumber(json, "webhook", "p99Ms");
        assertNumber(json, "webhook", "fixedP99Ms");
        // The dialer answered every signed invocation as a known call: the full handler path ran.
        JsonNode dialer = json.get("webhook").get("dialer");
        assertThat(dialer.get("handlerUnauthorized").asLong()).isZero();
        assertThat(dialer.get("handlerUnknownCalls").asLong()).isZero();
        assertThat(dialer.get("handlerAnswered").asLong()).isPositive();
        assertThat(dialer.get("saturationErrors").asLong()).isZero();
        assertThat(dialer.get("fixedErrors").asLong()).isZero();
        assertNumber(json, "pacing", "meanPerSecond");
        assertNumber(json, "pacing", "worstWindowPerSecond");
        assertNumber(json, "pacing", "jitterMs");
        BenchSettings tiny = BenchSettings.tiny();
        long expectedSends = Math.round(tiny.pacingRate() * tiny.pacing().toNanos() / 1e9);
        assertThat(json.get("pacing").get("sent").asLong()).isEqualTo(expectedSends);
        assertNumber(json, "memory", "rowsPerSecond");
        assertNumber(json, "memory", "peakHeapAfterGcMb");
        assertThat(json.get("memory").get("rows").asLong()).isEqualTo(tiny.memoryRows());
        // Synthetic defects: every 200th row invalid, every 100th a duplicate, every 100th on the DNC list.
        assertThat(json.get("memory").get("rejected").asLong()).isEqualTo(tiny.memoryRows() / 200);
        assertThat(json.get("memory").get("duplicates").asLong()).isEqualTo(tiny.memoryRows() / 100);
        assertThat(json.get("memory").get("suppressed").asLong()).isEqualTo(tiny.memoryRows() / 100);
        assertNumber(json, "endToEnd", "completedPerSecond");
        assertThat(json.get("endToEnd").get("calls").asLong()).isPositive();
        assertThat(json.get("endToEnd").get("webhookFailures").asLong()).isZero();
        // The ceiling is the bare dialer: it completed calls of the same flow, every answer valid and signed calls
        // verified; the earlier ratio to raw SDK Creates is kept beside it.
        JsonNode bare = json.get("endToEnd").get("bare");
        assertThat(bare.get("calls").asLong()).as("bare dialer calls").isPositive();
        assertThat(bare.get("invalidResponses").asLong()).isZero();
        assertThat(bare.get("unauthorized").asLong()).isZero();
        assertThat(bare.get("badRequests").asLong()).isZero();
        assertThat(bare.get("invocationsPerCall").asDouble()).isEqualTo(5.0);
        assertThat(json.get("endToEnd").get("ceiling").asDouble()).isEqualTo(bare.get("completedPerSecond").asDouble());
        assertNumber(json, "endToEnd", "ratioToRawCreates");
        assertNumber(json, "endToEnd", "rawCreatesPerSecond");
        assertNumber(json, "endToEnd", "cpuRatio");
        assertNumber(json, "endToEnd", "bareCpuMicrosPerCall");
        for (JsonNode round : json.get("endToEnd").get("rounds")) {
            assertThat(round.get("bareCalls").asLong()).as("bare calls in each round").isPositive();
        }
        assertThat(json.get("machine").get("nproc").asInt()).isPositive();
        // The ratios with a ceiling come from interleaved rounds: every round kept, the median within the spread.
        for (String name : new String[] {"originations", "webhook", "endToEnd"}) {
            JsonNode o = json.get(name);
            assertThat(o.get("roundsCount").asInt()).as(name + ".roundsCount").isEqualTo(tiny.rounds());
            assertThat(o.get("rounds")).as(name + ".rounds").hasSize(tiny.rounds());
            assertThat(o.get("ratioMin").asDouble()).as(name + ".ratioMin")
                    .isLessThanOrEqualTo(o.get("ratio").asDouble());
            assertThat(o.get("ratioMax").asDouble()).as(name + ".ratioMax")
                    .isGreaterThanOrEqualTo(o.get("ratio").asDouble());
            for (JsonNode round : o.get("rounds")) {
                assertThat(round.get("ceiling").isNumber()).as(name + " round ceiling").isTrue();
                assertThat(round.get("ratio").isNumber()).as(name + " round ratio").isTrue();
            }
        }
        assertThat(json.get("originations").get("configuredRate").asDouble())
                .as("the pipeline's rate is above the raw ceiling, so pacing does not bind")
                .isGreaterThan(json.get("originations").get("ceiling").asDouble());
        assertNumber(json, "webhook", "fixedP999Ms");
        assertNumber(json, "webhook", "fixedOver1s");
        assertNumber(json, "webhook", "fixedOver5s");
        JsonNode latency = json.get("endToEnd").get("webhookLatency");
        assertThat(latency.get("answered").asLong()).as("the emulator timed the webhook's answers").isPositive();
        assertThat(latency.get("p999Ms").isNumber()).isTrue();
        assertThat(latency.get("over1s").isNumber()).isTrue();
        assertThat(latency.get("over5s").isNumber()).isTrue();

        ByteArrayOutputStream table = new ByteArrayOutputStream();
        Bench.printTable(json, new PrintStream(table, true, StandardCharsets.UTF_8));
        assertThat(table.toString(StandardCharsets.UTF_8)).contains("originations", "webhook", "pacing", "memory",
                "endToEnd");
    }

    private static void assertNumber(JsonNode json, String measurement, String field) {
        JsonNode v = json.get(measurement).get(field);
        assertThat(v).as(measurement + "." + field).isNotNull();
        assertThat(v.isNumber()).as(measurement + "." + field + " = " + v).isTrue();
    }
}
