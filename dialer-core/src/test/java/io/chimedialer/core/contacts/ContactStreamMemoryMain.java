package io.chimedialer.core.contacts;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * Streams a synthesized list through validation and suppression and prints counts and heap samples; run by
 * {@link ContactStreamMemoryIT} in a JVM with a small heap.
 *
 * <p>Output lines: {@code heap <rows> <usedBytesAfterGc>} every {@code args[1]} rows (default 100,000), then {@code count <name> <n>} lines,
 * {@code dedupeBytes <n>} and {@code heapEnd <usedBytesAfterGc>}.
 */
public final class ContactStreamMemoryMain {
    private ContactStreamMemoryMain() {
    }

    public static void main(String[] args) throws Exception {
        long rows = Long.parseLong(args[0]);
        long sampleEvery = args.length > 1 ? Long.parseLong(args[1]) : 100_000;
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        PhoneNumbers numbers = PhoneNumbers.forRegion("US");
        DncList dnc = new DncList(numbers);
        DncList.LoadReport loaded = dnc.load("synthetic-dnc.csv", SyntheticCsv.dncList(rows));
        Deduplicator dedupe = new Deduplicator();
        Map<RejectKind, Long> rejected = new EnumMap<>(RejectKind.class);
        long[] counts = new long[5]; // seen, valid, duplicate, suppressed, passed
        long[] firstMalformedLine = {-1};

        ContactSource.csv(() -> SyntheticCsv.withDefects(rows), "synthetic.csv", CsvOptions.defaults())
                .doOnNext(row -> {
                    if (row instanceof ContactRow.Rejected bad) {
                        rejected.merge(bad.kind(), 1L, Long::sum);
                        if (bad.kind() == RejectKind.MALFORMED_ROW && firstMalformedLine[0] < 0) {
                            firstMalformedLine[0] = bad.line();
                        }
                    } else {
                        String number = ((ContactRow.Valid) row).contact().number();
                        counts[1]++;
                        if (!dedupe.firstSeen(number)) {
                            counts[2]++;
                        } else if (dnc.contains(number)) {
                            counts[3]++;
                        } else {
                            counts[4]++;
                        }
                    }
                    if (++counts[0] % sampleEvery == 0) {
                        System.out.println("heap " + counts[0] + " " + usedAfterGc(memory));
                    }
                })
                .then()
                .block(Duration.ofMinutes(5));

        System.out.println("count rows " + counts[0]);
        System.out.println("count valid " + counts[1]);
        System.out.println("count duplicate " + counts[2]);
        System.out.println("count suppressed " + counts[3]);
        System.out.println("count passed " + counts[4]);
        for (RejectKind kind : RejectKind.values()) {
            System.out.println("count " + kind + " " + rejected.getOrDefault(kind, 0L));
        }
        System.out.println("count dncAdded " + loaded.added());
        System.out.println("count dncBadLines " + loaded.badLineCount());
        System.out.println("count dedupeSize " + dedupe.size());
        System.out.println("count firstMalformedLine " + firstMalformedLine[0]);
        System.out.println("dedupeBytes " + dedupe.memoryBytes());
        System.out.println("heapEnd " + usedAfterGc(memory));
    }

    private static long usedAfterGc(MemoryMXBean memory) {
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }
}
