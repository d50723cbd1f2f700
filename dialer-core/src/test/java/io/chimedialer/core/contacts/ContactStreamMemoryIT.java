package io.chimedialer.core.contacts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The acceptance criterion "a 1,000,000-row CSV streams through validation and suppression under -Xmx128m with
 * flat heap": a child JVM with a 128 MB heap streams a synthesized list (no file) through {@link ContactSource},
 * {@link PhoneNumbers}, {@link Deduplicator} and {@link DncList}, and reports counts and heap samples after GC.
 */
class ContactStreamMemoryIT {
    private static final long ROWS = 1_000_000;
    private static final long MARGIN = 16L * 1024 * 1024;

    @Test
    void millionRows_underSmallHeap_exactCountsAndFlatHeap() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                ContactStreamMemoryMain.class.getName(), Long.toString(ROWS))
                .redirectErrorStream(true)
                .start();
        CompletableFuture<List<String>> output = CompletableFuture.supplyAsync(() -> readLines(child));
        boolean exited = child.waitFor(4, TimeUnit.MINUTES);
        if (!exited) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        List<String> lines = output.get(30, TimeUnit.SECONDS);
        assertThat(exited).as("child finished in time; output: %s", lines).isTrue();
        assertThat(child.exitValue()).as("child exit code; output: %s", lines).isZero();

        Map<String, Long> counts = new HashMap<>();
        Map<Long, Long> heap = new TreeMap<>();
        long dedupeBytes = -1;
        long heapEnd = -1;
        for (String line : lines) {
            String[] parts = line.split(" ");
            switch (parts[0]) {
                case "count" -> counts.put(parts[1], Long.parseLong(parts[2]));
                case "heap" -> heap.put(Long.parseLong(parts[1]), Long.parseLong(parts[2]));
                case "dedupeBytes" -> dedupeBytes = Long.parseLong(parts[1]);
                case "heapEnd" -> heapEnd = Long.parseLong(parts[1]);
                default -> {
                    // Other output (JVM warnings) is only shown when an assertion fails.
                }
            }
        }

        System.out.println("ContactStreamMemoryIT heap after GC by rows " + heap + ", end " + heapEnd
                + ", dedupe table " + dedupeBytes);

        // Ground truth from the generator's rules (see SyntheticCsv).
        long malformed = ROWS / 100_000;
        long missing = ROWS / 100_000;
        long invalid = ROWS / 50;
        long duplicates = ROWS / 100;
        long listed = ROWS / 100;
        long valid = ROWS - malformed - missing - invalid;
        assertThat(counts).as("output: %s", lines).containsEntry("rows", ROWS)
                .containsEntry("MALFORMED_ROW", malformed)
                .containsEntry("MISSING_NUMBER", missing)
                .containsEntry("INVALID_NUMBER", invalid)
                .containsEntry("BAD_TIMEZONE", 0L)
                .containsEntry("valid", valid)
                .containsEntry("duplicate", duplicates)
                .containsEntry("suppressed", listed)
                .containsEntry("passed", valid - duplicates - listed)
                .containsEntry("dedupeSize", valid - duplicates)
                .containsEntry("dncAdded", listed)
                .containsEntry("dncBadLines", 1L)
                .containsEntry("firstMalformedLine", 100_001L);

        assertThat(heap.keySet()).as("samples every 100,000 rows")
                .containsExactly(100_000L, 200_000L, 300_000L, 400_000L, 500_000L, 600_000L, 700_000L, 800_000L,
                        900_000L, 1_000_000L);
        // The only structure allowed to grow with the list is the dedupe table; its final size is exact.
        assertThat(dedupeBytes).isEqualTo(16L + 8L * (1 << 21));
        assertThat(heapEnd).as("heap after GC at the end vs at 200k rows %s", heap)
                .isLessThanOrEqualTo(heap.get(200_000L) + dedupeBytes + MARGIN);
        for (long sample : heap.values()) {
            assertThat(sample).as("every sample %s", heap).isLessThanOrEqualTo(heap.get(200_000L) + dedupeBytes + MARGIN);
        }
    }

    private static List<String> readLines(Process child) {
        List<String> lines = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines.add(line);
            }
        } catch (IOException e) {
            lines.add("reading output failed: " + e);
        }
        return lines;
    }
}
