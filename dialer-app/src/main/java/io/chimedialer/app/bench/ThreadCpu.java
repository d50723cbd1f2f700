package io.chimedialer.app.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time of this process by group of threads, read from {@code /proc/self/task} (Linux): every thread, the JVM's
 * own too (GC, JIT compiler), which {@code ThreadMXBean} does not see. A group is a thread's name (as the kernel
 * keeps it: 15 characters) with its digits and trailing separators taken off ({@code sdk-async-response-3-1} and
 * {@code sdk-async-response-4-2} are one group; so are {@code GC Thread#0} and {@code GC Thread#1}). Threads that
 * end between two snapshots are not counted. Elsewhere than on Linux every snapshot is empty. Tick resolution
 * (usually 10 ms per thread).
 */
final class ThreadCpu {
    private static final Path TASKS = Path.of("/proc/self/task");
    /** Clock ticks per second of {@code /proc/.../stat}; 100 on every Linux this runs on. */
    private static final double TICKS_PER_SECOND = 100;

    private ThreadCpu() {
    }

    /** By thread (its id and name, separated by a NUL): {CPU ticks, of which in the kernel, context switches}. */
    static Map<String, long[]> snapshot() {
        Map<String, long[]> byTid = new HashMap<>();
        if (!Files.isDirectory(TASKS)) {
            return byTid;
        }
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    int close = stat.lastIndexOf(')');
                    String name = stat.substring(stat.indexOf('(') + 1, close);
                    String[] f = stat.substring(close + 2).split(" ");
                    // After the name: state(0) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(11) stime(12)
                    long system = Long.parseLong(f[12]);
                    long ticks = Long.parseLong(f[11]) + system;
                    long switches = 0;
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            switches += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                    // Keyed by id and name: a thread id reused by a new thread is another thread.
                    byTid.put(task.getFileName().toString() + "\u0000" + name, new long[] {ticks, system, switches});
                } catch (IOException | RuntimeException e) {
                    // The thread ended meanwhile.
                }
            }
        } catch (IOException e) {
            return byTid;
        }
        return byTid;
    }

    /**
     * Microseconds of CPU per unit of work by group between two snapshots, the largest first (groups under 1% of the
     * total are summed into "other").
     */
    static Map<String, Double> microsPer(Map<String, long[]> before, Map<String, long[]> after, double units) {
        Map<String, Long> byGroup = new TreeMap<>();
        long total = 0;
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            long[] b = before.get(e.getKey());
            long delta = e.getValue()[0] - (b == null ? 0 : b[0]);
            if (delta <= 0) {
                continue;
            }
            String name = e.getKey().substring(e.getKey().indexOf('\u0000') + 1);
            byGroup.merge(group(name), delta, Long::sum);
            total += delta;
        }
        Map<String, Double> out = new LinkedHashMap<>();
        if (units <= 0 || total == 0) {
            return out;
        }
        long other = 0;
        for (Map.Entry<String, Long> e : byGroup.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).toList()) {
            if (e.getValue() * 100 < total) {
                other += e.getValue();
            } else {
                out.put(e.getKey(), micros(e.getValue(), units));
            }
        }
        if (other > 0) {
            out.put("other", micros(other, units));
        }
        return out;
    }

    /** The share of the CPU time between two snapshots that was spent in the kernel, 0 to 1. */
    static double systemShare(Map<String, long[]> before, Map<String, long[]> after) {
        long[] d = totals(before, after);
        return d[0] > 0 ? (double) d[1] / d[0] : 0;
    }

    /** Context switches (voluntary and not) of all threads between two snapshots, per unit of work. */
    static double switchesPer(Map<String, long[]> before, Map<String, long[]> after, double units) {
        return units > 0 ? totals(before, after)[2] / units : 0;
    }

    private static long[] totals(Map<String, long[]> before, Map<String, long[]> after) {
        long[] sum = new long[3];
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            long[] b = before.get(e.getKey());
            for (int i = 0; i < 3; i++) {
                sum[i] += e.getValue()[i] - (b == null ? 0 : b[i]);
            }
        }
        return sum;
    }

    private static double micros(long ticks, double units) {
        return Math.round(ticks / TICKS_PER_SECOND * 1e6 / units * 10) / 10.0;
    }

    /** The group of a thread name: without digits, and without separators left at its end. */
    static String group(String name) {
        String g = name.replaceAll("[0-9]+", "");
        return g.replaceAll("[-#_ ]+$", "").replaceAll("--+", "-");
    }

    /** One line, e.g. {@code sdk-async-respo 120.0, chime-us-east 80.5}. */
    static String describe(Map<String, Double> micros) {
        StringBuilder b = new StringBuilder();
        micros.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(' ')
                .append(String.format(java.util.Locale.ROOT, "%.0f", v)));
        return b.toString();
    }
}
