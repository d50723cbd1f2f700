package io.chimedialer.app.bench;

import java.time.Duration;

/**
 * How long and how hard each measurement of {@link Bench} runs. Immutable.
 *
 * @param warmup              traffic sent (and not measured) before each throughput phase
 * @param originations        how long Creates are counted, for the pipeline and for the raw SDK loop each
 * @param sdkInFlight         Create requests in flight at once in the raw SDK loop
 * @param originationContacts contacts in the pipeline's list (enough to outlast warm-up plus the measurement)
 * @param webhookFixedRate    the fixed offered load of the webhook measurement, requests per second
 * @param webhookPhase        how long each webhook phase (fixed load, saturation) runs per server
 * @param webhookConnections  connections of the webhook load generator
 * @param pacingRate          the configured rate of the pacing measurement, calls per second
 * @param pacing              how long the pacing measurement runs
 * @param memoryRows          rows of the synthetic contact list streamed under {@code memoryHeap}
 * @param memoryHeap          the child JVM's -Xmx, e.g. {@code 256m}
 * @param endToEndCalls       contacts of each end-to-end round's campaign (calls are counted for
 *                            {@code originations} after {@code warmup}, or until the list is done)
 * @param rounds              interleaved rounds (ceiling, then measured side) of the originations, end-to-end and
 *                            webhook measurements; their ratio is the median of the rounds
 * @param pipelineWarmRounds  uncounted pipeline rounds at most before the counted originations rounds (fewer once
 *                            the pipeline is steady)
 */
public record BenchSettings(Duration warmup, Duration originations, int sdkInFlight, int originationContacts,
                            int webhookFixedRate, Duration webhookPhase, int webhookConnections,
                            double pacingRate, Duration pacing, long memoryRows, String memoryHeap,
                            int endToEndCalls, int rounds, int pipelineWarmRounds) {

    /**
     * Uncounted pipeline rounds at most in the full and quick runs. Four were too few: the pipeline's CPU per
     * Create still fell from round to round (1,704, 791, 547, 330 us) and its counted rounds spent 7 to 17 us per
     * Create in the JIT's compiler threads; it took 8 to 10.
     */
    public static final int PIPELINE_WARM_ROUNDS = 10;

    public BenchSettings {
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be >= 1, was " + rounds);
        }
        if (pipelineWarmRounds < 1) {
            throw new IllegalArgumentException("pipelineWarmRounds must be >= 1, was " + pipelineWarmRounds);
        }
    }

    /** The full run: the sizes issue 9 names (30 s of pacing, 10,000,000 rows, 10,000/s offered). */
    public static BenchSettings full() {
        return new BenchSettings(Duration.ofSeconds(3), Duration.ofSeconds(10), 64, 400_000, 10_000,
                Duration.ofSeconds(10), 64, 500, Duration.ofSeconds(30), 10_000_000, "256m", 200_000, 7,
                PIPELINE_WARM_ROUNDS);
    }

    /** {@code --quick}: every measurement briefly (three rounds of each ratio), about three minutes in all. */
    public static BenchSettings quick() {
        return new BenchSettings(Duration.ofSeconds(2), Duration.ofSeconds(3), 64, 100_000, 2_000,
                Duration.ofSeconds(3), 64, 500, Duration.ofSeconds(5), 1_000_000, "256m", 20_000, 3,
                PIPELINE_WARM_ROUNDS);
    }

    /** Tiny sizes for a smoke test of the harness itself (figures meaningless). */
    public static BenchSettings tiny() {
        return new BenchSettings(Duration.ofMillis(200), Duration.ofSeconds(1), 16, 5_000, 300,
                Duration.ofSeconds(1), 8, 100, Duration.ofSeconds(1), 20_000, "256m", 40, 2, 2);
    }
}
