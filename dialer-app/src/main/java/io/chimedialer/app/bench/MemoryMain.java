package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.GarbageCollectionNotificationInfo;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.ContactSource;
import io.chimedialer.core.contacts.CsvOptions;
import io.chimedialer.core.contacts.Deduplicator;
import io.chimedialer.core.contacts.DncList;
import io.chimedialer.core.contacts.PhoneNumbers;
import java.io.BufferedReader;
import java.io.Reader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * The memory measurement's child JVM (run under a small -Xmx by {@link MemoryBench}): reads a contact list
 * once bare (lines counted: the ceiling), then streams it through ContactSource (CSV parsing, phone
 * validation), the Deduplicator and the DncList, and prints one JSON line with rows per second and the heap
 * after every GC (from the JVM's GC notifications, so no forced GC slows the stream; twenty forced GCs at
 * 5% steps give the flatness series, their time excluded).
 *
 * <p>Arguments: {@code <csv> <dnc> [expectedNumbers]}. The last sizes the Deduplicator up front, as a campaign run
 * does from the rows it counted; without it the set grows as it fills, as the cluster importer's and
 * {@code validate}'s do: the harder case, which the bench measures. Prints
 * {@code PROGRESS <rows> <heapAfterGcBytes> <dedupeBytes>} at every 5%, then
 * {@code RESULT <json>}; an OutOfMemoryError ends the stream and is reported in the result.
 */
public final class MemoryMain {
    private MemoryMain() {
    }

    public static void main(String[] args) throws Exception {
        Path csv = Path.of(args[0]);
        Path dncFile = Path.of(args[1]);
        AtomicLong peakAfterGc = new AtomicLong();
        AtomicLong gcCount = new AtomicLong();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener((n, handback) -> {
                    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
                        return;
                    }
                    GarbageCollectionNotificationInfo info =
                            GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
                    long used = 0;
                    for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                        if (isHeap(e.getKey())) {
                            used += e.getValue().getUsed();
                        }
                    }
                    gcCount.incrementAndGet();
                    peakAfterGc.accumulateAndGet(used, Math::max);
                }, null, null);
            }
        }

        // Ceiling: the same file read bare, line by line (this also warms the page cache for both).
        long bareStart = System.nanoTime();
        long bareRows = 0;
        try (BufferedReader r = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
            String line = r.readLine(); // header
            while ((line = r.readLine()) != null) {
                if (line.indexOf(',') >= 0) {
                    bareRows++;
                }
            }
        }
        long bareNanos = System.nanoTime() - bareStart;
        System.gc();
        peakAfterGc.set(0);
        long heapBefore = heapUsed();

        PhoneNumbers numbers = PhoneNumbers.forRegion("US");
        DncList dnc = new DncList(numbers);
        try (Reader reader = Files.newBufferedReader(dncFile, StandardCharsets.UTF_8)) {
            dnc.load(dncFile.toString(), reader);
        }
        // Unsized (growing shard by shard, as the importer's and validate's) unless a third argument sizes it.
        Deduplicator dedupe = args.length > 2 ? new Deduplicator(Integer.parseInt(args[2])) : new Deduplicator();
        long[] counts = new long[5]; // rows, rejected, duplicate, suppressed, passed
        long step = Math.max(1, bareRows / 20);
        ObjectMapper json = new ObjectMapper();
        ArrayNode series = json.createArrayNode();
        long[] gcNanos = {0};
        long start = System.nanoTime();
        boolean outOfMemory = false;
        try {
            ContactSource.csv(() -> Files.newBufferedReader(csv, StandardCharsets.UTF_8), csv.toString(),
                        CsvOptions.defaults())
                .doOnNext(row -> {
                    if (row instanceof ContactRow.Valid valid) {
                        String number = valid.contact().number();
                        if (!dedupe.firstSeen(number)) {
                            counts[2]++;
                        } else if (dnc.contains(number)) {
                            counts[3]++;
                        } else {
                            counts[4]++;
                        }
                    } else {
                        counts[1]++;
                    }
                    if (++counts[0] % step == 0) {
                        long t = System.nanoTime();
                        System.gc();
                        ObjectNode point = series.addObject();
                        point.put("rows", counts[0]);
                        point.put("heapAfterGcBytes", heapUsed());
                        point.put("dedupeBytes", dedupe.memoryBytes());
                        gcNanos[0] += System.nanoTime() - t;
                        System.out.println("PROGRESS " + counts[0] + " " + heapUsed() + " " + dedupe.memoryBytes());
                    }
                })
                .then()
                .block(Duration.ofHours(1));
        } catch (OutOfMemoryError e) {
            // Reported as a figure: how far the stream got under this heap.
            outOfMemory = true;
        } catch (RuntimeException e) {
            if (!(e.getCause() instanceof OutOfMemoryError)) {
                throw e;
            }
            outOfMemory = true;
        }
        long nanos = System.nanoTime() - start - gcNanos[0];

        ObjectNode out = json.createObjectNode();
        out.put("rows", counts[0]);
        out.put("outOfMemory", outOfMemory);
        out.put("rejected", counts[1]);
        out.put("duplicates", counts[2]);
        out.put("suppressed", counts[3]);
        out.put("passed", counts[4]);
        out.put("seconds", nanos / 1e9);
        out.put("rowsPerSecond", counts[0] / (nanos / 1e9));
        out.put("bareRows", bareRows);
        out.put("bareRowsPerSecond", bareRows / (bareNanos / 1e9));
        out.put("heapBeforeBytes", heapBefore);
        out.put("peakHeapAfterGcBytes", Math.max(peakAfterGc.get(), maxOf(series)));
        out.put("gcCount", gcCount.get());
        out.put("dedupeBytes", dedupe.memoryBytes());
        out.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
        out.set("heapSeries", series);
        System.out.println("RESULT " + json.writeValueAsString(out));
    }

    private static long maxOf(ArrayNode series) {
        long max = 0;
        for (var p : series) {
            max = Math.max(max, p.get("heapAfterGcBytes").asLong());
        }
        return max;
    }

    private static boolean isHeap(String pool) {
        for (var bean : ManagementFactory.getMemoryPoolMXBeans()) {
            if (bean.getName().equals(pool)) {
                return bean.getType() == MemoryType.HEAP;
            }
        }
        return false;
    }

    private static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
