package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Measurement 4: a large contact list streamed under a small heap, in a child JVM ({@link MemoryMain}). */
final class MemoryBench {
    private static final double MB = 1024.0 * 1024.0;

    private MemoryBench() {
    }

    static ObjectNode run(BenchSettings s, Path work, ObjectMapper json, PrintStream log) throws Exception {
        Path csv = work.resolve("memory-contacts.csv");
        Path dnc = work.resolve("memory-dnc.txt");
        long t = System.nanoTime();
        Synthetic.write(csv, s.memoryRows(), true, dnc);
        log.printf("  memory: wrote %,d rows (%,d MB) in %.1f s%n", s.memoryRows(), Files.size(csv) / (1 << 20),
                (System.nanoTime() - t) / 1e9);
        JsonNode result;
        try (Children.Child child = Children.Child.start(List.of(Children.java(), "-Xmx" + s.memoryHeap(),
                "-XX:+UseG1GC", "-cp", Children.classPath(), MemoryMain.class.getName(), csv.toString(),
                dnc.toString()))) {
            int exit = child.await(30 * 60_000L);
            String line = child.output().lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b)
                    .orElseThrow(() -> new IllegalStateException("memory child (exit " + exit + ") printed no result: "
                            + child.output()));
            result = json.readTree(line.substring("RESULT ".length()));
        } finally {
            Files.deleteIfExists(csv);
            Files.deleteIfExists(dnc);
        }
        ObjectNode o = json.createObjectNode();
        double rps = result.get("rowsPerSecond").asDouble();
        double bare = result.get("bareRowsPerSecond").asDouble();
        o.put("rows", result.get("rows").asLong());
        o.put("rowsInList", s.memoryRows());
        // true when the stream died of OutOfMemoryError after "rows" rows (the figures cover those rows)
        o.put("outOfMemory", result.get("outOfMemory").asBoolean());
        o.put("rowsPerSecond", rps);
        o.put("xmx", s.memoryHeap());
        o.put("peakHeapAfterGcMb", result.get("peakHeapAfterGcBytes").asLong() / MB);
        o.put("heapBeforeMb", result.get("heapBeforeBytes").asLong() / MB);
        o.put("dedupeMb", result.get("dedupeBytes").asLong() / MB);
        o.put("gcCount", result.get("gcCount").asLong());
        o.put("rejected", result.get("rejected").asLong());
        o.put("duplicates", result.get("duplicates").asLong());
        o.put("suppressed", result.get("suppressed").asLong());
        o.put("passed", result.get("passed").asLong());
        var series = o.putArray("heapAfterGcMbByRows");
        for (JsonNode p : result.get("heapSeries")) {
            ObjectNode point = series.addObject();
            point.put("rows", p.get("rows").asLong());
            point.put("mb", p.get("heapAfterGcBytes").asLong() / MB);
            // The set of numbers seen grows with the list by nature; the rest of the heap is what must stay flat.
            point.put("dedupeMb", p.get("dedupeBytes").asLong() / MB);
        }
        o.put("ceiling", bare);
        o.put("ceilingIs", "bare line read of the same file, rows/s");
        o.put("ratio", bare > 0 ? rps / bare : 0);
        return o;
    }
}
