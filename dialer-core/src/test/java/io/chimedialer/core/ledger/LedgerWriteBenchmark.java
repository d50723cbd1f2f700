package io.chimedialer.core.ledger;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.AttemptIds;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.contacts.Contact;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Sustained ledger write throughput, as the pipeline writes: intents in batches, then per attempt its
 * placement and its result, many attempts in flight. Not a test; run it by hand (see docs/benchmarks.md).
 *
 * <p>Arguments: {@code [url|sqlite] [attempts=100000] [inFlight=256] [intentBatch=20] [eventsPerAttempt=0]
 * [ids=time]}. {@code ids}: {@code time} gives attempt ids from {@link AttemptIds}, as the dialer does, and
 * TransactionIds random UUIDs, as Chime does; {@code random} gives both random UUIDs (the dialer before
 * {@link AttemptIds}); {@code ordered} gives both in insertion order, the cheapest case for the indexes on them.
 * With events, each attempt also records that many SMA invocations ({@code recordEvent}) before its result. With no URL (or
 * {@code sqlite}) it uses a fresh SQLite file in a temporary directory; with a PostgreSQL URL it works in a
 * schema of its own, dropped at the end.
 */
public final class LedgerWriteBenchmark {
    private LedgerWriteBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String url = args.length > 0 && !args[0].equals("sqlite") ? args[0] : null;
        int attempts = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        int inFlight = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        int intentBatch = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        int events = args.length > 4 ? Integer.parseInt(args[4]) : 0;
        String ids = args.length > 5 ? args[5] : "time";
        if (!List.of("random", "time", "ordered").contains(ids)) {
            throw new IllegalArgumentException("ids: random, time or ordered, not " + ids);
        }
        Path tempDir = null;
        String schema = null;
        String ledgerUrl;
        if (url == null) {
            tempDir = Files.createTempDirectory("ledger-bench");
            ledgerUrl = "jdbc:sqlite:" + tempDir.resolve("bench.db");
        } else {
            schema = "dialer_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            try (Connection connection = DriverManager.getConnection(url);
                 Statement statement = connection.createStatement()) {
                statement.execute("CREATE SCHEMA " + schema);
            }
            ledgerUrl = url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
        }
        try (JdbcLedger ledger = JdbcLedger.open(LedgerOptions.of(ledgerUrl, Clock.systemUTC()))) {
            run(ledger, "warmup", 0, Math.max(intentBatch, attempts / 10), inFlight, intentBatch, events, ids);
            run(ledger, "measured", attempts, attempts, inFlight, intentBatch, events, ids);
        } finally {
            if (schema != null) {
                try (Connection connection = DriverManager.getConnection(url);
                     Statement statement = connection.createStatement()) {
                    statement.execute("DROP SCHEMA " + schema + " CASCADE");
                }
            }
            if (tempDir != null) {
                try (var files = Files.list(tempDir)) {
                    for (Path file : (Iterable<Path>) files::iterator) {
                        Files.deleteIfExists(file);
                    }
                }
                Files.deleteIfExists(tempDir);
            }
        }
    }

    private static void run(JdbcLedger ledger, String label, int offset, int attempts, int inFlight,
                            int intentBatch, int events, String ids) {
        AttemptIds timeOrdered = AttemptIds.timeOrdered(Clock.systemUTC());
        String campaign = "bench-" + label;
        List<List<Attempt>> batches = new ArrayList<>();
        for (int start = 0; start < attempts; start += intentBatch) {
            List<Attempt> batch = new ArrayList<>(intentBatch);
            for (int i = start; i < Math.min(attempts, start + intentBatch); i++) {
                int n = offset + i;
                String attemptId = switch (ids) {
                    case "random" -> UUID.randomUUID().toString();
                    case "time" -> timeOrdered.get();
                    default -> label + "-" + n;
                };
                batch.add(new Attempt(attemptId, campaign,
                        new Contact(n, "c" + n, String.format("+1206%07d", n % 10_000_000), "", null, null), 1,
                        "us-east-1", "+12065550100"));
            }
            batches.add(batch);
        }
        LedgerStats before = ledger.stats();
        long writerCpu0 = writerCpuNanos();
        long startNanos = System.nanoTime();
        Flux.fromIterable(batches)
                .flatMap(batch -> ledger.recordIntents(batch)
                        .thenMany(Flux.fromIterable(batch))
                        .flatMap(attempt -> {
                            String tx = ids.equals("ordered") ? "tx-" + attempt.attemptId() : UUID.randomUUID().toString();
                            Instant now = Instant.now();
                            return ledger.recordPlaced(attempt.attemptId(), tx, now)
                                    .thenMany(Flux.range(1, events).concatMap(sequence -> ledger.recordEvent(
                                            new Ledger.AttemptEvent(tx, sequence, attempt.attemptId(), "EVENT",
                                                    now, null))))
                                    .then(ledger.recordResult(new CallResult(attempt.attemptId(), campaign, tx,
                                            Disposition.ANSWERED, null, Duration.ofSeconds(3),
                                            Duration.ofSeconds(20), "1", 5, now)));
                        }), Math.max(1, inFlight / intentBatch))
                .then(Mono.empty())
                .block(Duration.ofMinutes(30));
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        double writerCpuMicros = (writerCpuNanos() - writerCpu0) / 1e3 / attempts;
        LedgerStats after = ledger.stats();
        long ops = after.opsCommitted() - before.opsCommitted();
        long transactions = after.batches() - before.batches();
        double meanLatencyMs = ops == 0 ? 0
                : after.totalWriteLatency().minus(before.totalWriteLatency()).toNanos() / 1e6 / ops;
        System.out.printf(Locale.ROOT, "%s %-8s %s ids, attempts=%d events/attempt=%d in %.2fs: %.0f attempts/s, "
                        + "%.0f row writes/s (intent+placed+events+result), %.0f ops/s, %.0f commits/s, mean batch %.1f ops, mean write "
                        + "latency %.2f ms, max commit %d ms, writer thread CPU %.1f us per attempt%n",
                ledger.describe().contains("postgresql") ? "postgresql" : "sqlite", label,
                ids, attempts, events, seconds,
                attempts / seconds, (3 + events) * attempts / seconds, ops / seconds, transactions / seconds,
                transactions == 0 ? 0 : (double) ops / transactions, meanLatencyMs,
                after.maxCommitLatency().toMillis(), writerCpuMicros);
    }

    /** CPU time of the ledger's writer threads so far (the work that is the same whatever the machine's load). */
    private static long writerCpuNanos() {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (java.lang.management.ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith("ledger-writer")) {
                long cpu = threads.getThreadCpuTime(info.getThreadId());
                sum += Math.max(0, cpu);
            }
        }
        return sum;
    }
}
