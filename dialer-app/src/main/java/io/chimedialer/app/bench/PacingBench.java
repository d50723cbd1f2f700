package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.chime.CreateOutcome;
import io.chimedialer.core.chime.Originator;
import io.chimedialer.core.chime.UpdateOutcome;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.pacing.PacingSettings;
import io.chimedialer.core.pacing.RegionPacing;
import io.chimedialer.core.pacing.ResilientCreate;
import io.chimedialer.core.pacing.RetrySettings;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Measurement 3: a configured rate through the Region's rate limiter and the resilience chain against an
 * originator that only records when each Create was sent, on real time.
 */
final class PacingBench {
    private PacingBench() {
    }

    static ObjectNode run(BenchSettings s, ObjectMapper json) {
        double rate = s.pacingRate();
        int total = (int) Math.round(rate * s.pacing().toNanos() / 1e9);
        long[] sent = new long[total];
        AtomicInteger index = new AtomicInteger();
        Originator noop = new Originator() {
            @Override
            public Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments) {
                return Mono.fromSupplier(() -> {
                    int i = index.getAndIncrement();
                    if (i < sent.length) {
                        sent[i] = System.nanoTime();
                    }
                    return new CreateOutcome.Placed(attempt.attemptId());
                });
            }

            @Override
            public Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId) {
                return Mono.empty();
            }
        };
        Scheduler scheduler = Schedulers.newParallel("bench-pacing", 2, true);
        try {
            RegionConfig region = new RegionConfig("us-east-1", "11111111-1111-4111-8111-111111111111", rate, 1,
                    1_000_000, 5, List.of("+17035550100"), null);
            RegionPacing pacing = RegionPacing.create(region, PacingSettings.ofDefaults(), scheduler, p -> { });
            ResilientCreate create = new ResilientCreate(noop, RetrySettings.ofDefaults(), scheduler);
            Flux.range(0, total)
                    .flatMap(i -> create.create(new Attempt("a" + i, "bench", new Contact(i, "c" + i,
                            Synthetic.number(i), "", null, Map.of()), 1, region.name(), "+17035550100"),
                            pacing, Map.of()), 256)
                    .then()
                    .block(s.pacing().multipliedBy(3).plusSeconds(30));
        } finally {
            scheduler.dispose();
        }
        int n = Math.min(index.get(), sent.length);
        long[] t = Arrays.copyOf(sent, n);
        Arrays.sort(t);
        double seconds = (t[n - 1] - t[0]) / 1e9;
        double mean = (n - 1) / seconds;
        // Sliding 1 s windows starting at every send: the most and the fewest sends (windows wholly inside the run).
        int worst = 0;
        int fewest = Integer.MAX_VALUE;
        int j = 0;
        for (int i = 0; i < n; i++) {
            while (j < n && t[j] - t[i] < 1_000_000_000L) {
                j++;
            }
            worst = Math.max(worst, j - i);
            if (t[i] + 1_000_000_000L <= t[n - 1]) {
                fewest = Math.min(fewest, j - i);
            }
        }
        double sum = 0;
        double sumSq = 0;
        long maxGap = 0;
        for (int i = 1; i < n; i++) {
            long gap = t[i] - t[i - 1];
            sum += gap;
            sumSq += (double) gap * gap;
            maxGap = Math.max(maxGap, gap);
        }
        double meanGap = sum / (n - 1);
        double stddev = Math.sqrt(Math.max(0, sumSq / (n - 1) - meanGap * meanGap));
        ObjectNode o = json.createObjectNode();
        o.put("configuredPerSecond", rate);
        o.put("seconds", seconds);
        o.put("sent", n);
        o.put("meanPerSecond", mean);
        o.put("meanErrorPercent", (mean - rate) / rate * 100);
        o.put("worstWindowPerSecond", worst);
        o.put("fewestWindowPerSecond", fewest == Integer.MAX_VALUE ? n : fewest);
        o.put("meanGapMs", meanGap / 1e6);
        o.put("jitterMs", stddev / 1e6);
        o.put("maxGapMs", maxGap / 1e6);
        o.put("ceiling", rate);
        o.put("ceilingIs", "the configured rate");
        o.put("ratio", mean / rate);
        return o;
    }
}
