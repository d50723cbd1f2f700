package io.chimedialer.app.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class RoundsTest {

    @Test
    void median_oddEvenEmpty() {
        assertThat(Rounds.median(new double[] {5, 1, 3})).isEqualTo(3);
        assertThat(Rounds.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
        assertThat(Rounds.median(new double[] {7})).isEqualTo(7);
        assertThat(Rounds.median(new double[0])).isZero();
    }

    @Test
    void median_doesNotReorderItsInput() {
        double[] values = {3, 1, 2};
        Rounds.median(values);
        assertThat(values).containsExactly(3, 1, 2);
    }

    @Test
    void ratio_isTheMedianOfEachRoundsOwnRatio_notTheRatioOfMedians() {
        // A load swing: round 2's both sides are slow. Each round's ratio pairs its own ceiling and measured side.
        Rounds rounds = new Rounds()
                .add(1_000, 800, null)
                .add(100, 90, null)
                .add(1_000, 700, null);

        assertThat(rounds.medianRatio()).isCloseTo(0.8, within(1e-12));
        assertThat(rounds.minRatio()).isCloseTo(0.7, within(1e-12));
        assertThat(rounds.maxRatio()).isCloseTo(0.9, within(1e-12));
        assertThat(rounds.medianCeiling()).isEqualTo(1_000);
        assertThat(rounds.medianMeasured()).isEqualTo(700);
        assertThat(rounds.describeRatio()).isEqualTo("median 0.80 (0.70 to 0.90, 3 rounds)");
    }

    @Test
    void ratio_zeroCeiling_countsAsZeroNotInfinity() {
        Rounds rounds = new Rounds().add(0, 50, null).add(100, 50, null).add(100, 60, null);

        assertThat(rounds.minRatio()).isZero();
        assertThat(rounds.medianRatio()).isEqualTo(0.5);
        assertThat(rounds.maxRatio()).isEqualTo(0.6);
    }

    @Test
    void writeTo_keepsEveryRoundWithItsFiguresAndDetail() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode detail = Rounds.detail().put("created", 2_400).put("ratio", -1);
        Rounds rounds = new Rounds().add(1_000, 800, detail).add(500, 450, null).add(2_000, 1_000, null);

        ObjectNode o = rounds.writeTo(mapper.createObjectNode(), "perSecond");
        JsonNode json = mapper.readTree(mapper.writeValueAsString(o));

        assertThat(json.get("perSecond").asDouble()).isEqualTo(800);
        assertThat(json.get("ceiling").asDouble()).isEqualTo(1_000);
        assertThat(json.get("ratio").asDouble()).isEqualTo(0.8);
        assertThat(json.get("ratioMin").asDouble()).isEqualTo(0.5);
        assertThat(json.get("ratioMax").asDouble()).isEqualTo(0.9);
        assertThat(json.get("roundsCount").asInt()).isEqualTo(3);
        JsonNode all = json.get("rounds");
        assertThat(all.isArray()).isTrue();
        assertThat(all).hasSize(3);
        JsonNode first = all.get(0);
        assertThat(first.get("round").asInt()).isEqualTo(1);
        assertThat(first.get("ceiling").asDouble()).isEqualTo(1_000);
        assertThat(first.get("perSecond").asDouble()).isEqualTo(800);
        assertThat(first.get("created").asLong()).isEqualTo(2_400);
        assertThat(first.get("ratio").asDouble()).as("a detail never overrides the round's own ratio").isEqualTo(0.8);
        assertThat(all.get(1).get("round").asInt()).isEqualTo(2);
        assertThat(all.get(1).get("ratio").asDouble()).isEqualTo(0.9);
        assertThat(all.get(2).get("ratio").asDouble()).isEqualTo(0.5);
    }

    @Test
    void settings_quickHasAtLeastThreeRounds_fullMore() {
        assertThat(BenchSettings.quick().rounds()).isGreaterThanOrEqualTo(3);
        assertThat(BenchSettings.full().rounds()).isGreaterThan(BenchSettings.quick().rounds());
    }

    @Test
    void latencyStats_quantilesAndCountsOverOneAndFiveSeconds() {
        long[] latencies = new long[2_000];
        for (int i = 0; i < latencies.length; i++) {
            latencies[i] = (i + 1) * 1_000_000L; // 1 ms .. 2,000 ms
        }
        latencies[0] = 6_000_000_000L; // one answer after 6 s

        WebhookBench.Stats stats = WebhookBench.Load.stats(latencies, latencies.length, 100, 3);

        assertThat(stats.p50Ms()).isEqualTo(1_001);
        assertThat(stats.p99Ms()).isEqualTo(1_981);
        assertThat(stats.p999Ms()).isEqualTo(1_999);
        assertThat(stats.over1s()).as("1,001 ms .. 2,000 ms, and the 6 s one").isEqualTo(1_001);
        assertThat(stats.over5s()).isEqualTo(1);
        assertThat(stats.errors()).isEqualTo(3);
    }
}
