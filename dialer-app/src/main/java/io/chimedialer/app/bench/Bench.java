package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.text.ParseException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;

/**
 * The benchmark harness of {@code dialer bench}: five measurements, each beside a ceiling measured in the same
 * run, printed as a table and returned as one JSON object with the members {@code originations},
 * {@code webhook}, {@code pacing}, {@code memory} and {@code endToEnd} (each with its figures, {@code ceiling}
 * and {@code ratio}) plus {@code machine}. A measurement that fails holds {@code error} instead. Not
 * thread-safe; one run at a time per process (it binds ports on 127.0.0.1 and starts child JVMs).
 */
public final class Bench {
    /** The measurement names, in run order. */
    public static final String[] MEASUREMENTS = {"originations", "webhook", "pacing", "memory", "endToEnd"};

    private final BenchSettings settings;
    private final PrintStream log;
    private final Path jfrDir;
    private Set<String> only = Set.of(MEASUREMENTS);
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * @param settings the sizes of the run
     * @param log      where progress lines go
     */
    public Bench(BenchSettings settings, PrintStream log) {
        this(settings, log, null);
    }

    /**
     * @param settings the sizes of the run
     * @param log      where progress lines go
     * @param jfrDir   when not null, each measurement is recorded with JDK Flight Recorder's "profile" settings
     *                 into {@code <jfrDir>/<measurement>.jfr} (this JVM only, not the child JVMs)
     */
    public Bench(BenchSettings settings, PrintStream log, Path jfrDir) {
        this.settings = settings;
        this.log = log;
        this.jfrDir = jfrDir;
    }

    /** Restricts the run to these measurements (names of {@link #MEASUREMENTS}). */
    public Bench only(Collection<String> names) {
        for (String n : names) {
            if (!List.of(MEASUREMENTS).contains(n)) {
                throw new IllegalArgumentException("unknown measurement " + n + "; known: "
                        + String.join(", ", MEASUREMENTS));
            }
        }
        this.only = Set.copyOf(names);
        return this;
    }

    /** The JSON mapper used for the result (indenting). */
    public ObjectMapper json() {
        return json;
    }

    /** Runs every measurement; never throws for one failed measurement (it holds {@code error}). */
    public ObjectNode run(String command) throws IOException {
        ObjectNode root = json.createObjectNode();
        ObjectNode machine = root.putObject("machine");
        machine.put("nproc", Runtime.getRuntime().availableProcessors());
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            machine.put("memoryGb", Math.round(sun.getTotalMemorySize() / 1e8) / 10.0);
        }
        machine.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        machine.put("loadAverageAtStart", os.getSystemLoadAverage());
        machine.put("started", Instant.now().toString());
        machine.put("command", command);
        if (only.size() < MEASUREMENTS.length) {
            machine.put("only", String.join(",", only));
        }
        Path work = Files.createTempDirectory("dialer-bench-");
        machine.put("rounds", settings.rounds());
        SdkCeiling ceiling = new SdkCeiling(settings, jfrDir, log);
        try {
            for (String name : MEASUREMENTS) {
                if (!only.contains(name)) {
                    continue;
                }
                log.printf("%s...%n", name);
                long t = System.nanoTime();
                Recording recording = startRecording();
                try {
                    ObjectNode o = switch (name) {
                        case "originations" -> OriginationsBench.run(settings, work, json, log, ceiling).json();
                        case "webhook" -> WebhookBench.run(settings, work, json, log);
                        case "pacing" -> PacingBench.run(settings, json);
                        case "memory" -> MemoryBench.run(settings, work, json, log);
                        default -> EndToEndBench.run(settings, work, json, log, ceiling);
                    };
                    o.put("wallSeconds", (System.nanoTime() - t) / 1e9);
                    root.set(name, o);
                } catch (Exception | LinkageError e) {
                    log.printf("  %s failed: %s%n", name, e);
                    root.putObject(name).put("error", e.toString());
                } finally {
                    stopRecording(recording, name);
                }
            }
        } finally {
            ceiling.close();
            deleteTree(work);
        }
        machine.put("loadAverageAtEnd", os.getSystemLoadAverage());
        return root;
    }

    private Recording startRecording() throws IOException {
        if (jfrDir == null) {
            return null;
        }
        try {
            Recording recording = new Recording(Configuration.getConfiguration("profile"));
            recording.start();
            return recording;
        } catch (ParseException e) {
            throw new IOException("JFR profile settings unreadable", e);
        }
    }

    private void stopRecording(Recording recording, String name) throws IOException {
        if (recording == null) {
            return;
        }
        Files.createDirectories(jfrDir);
        Path file = jfrDir.resolve(name + ".jfr");
        recording.stop();
        recording.dump(file);
        recording.close();
        log.printf("  JFR recording: %s%n", file);
    }

    /** Whether every measurement produced its figures. */
    public static boolean complete(JsonNode root) {
        for (String name : MEASUREMENTS) {
            if (root.has(name) && root.get(name).has("error")) {
                return false;
            }
            if (!root.has(name) && !root.path("machine").has("only")) {
                return false;
            }
        }
        return true;
    }

    /** Prints the table of a result. */
    public static void printTable(JsonNode r, PrintStream out) {
        JsonNode m = r.path("machine");
        out.printf(Locale.ROOT, "%nchime-dialer bench: %d CPUs, %.1f GB, %s, load average %.2f -> %.2f%n",
                m.path("nproc").asInt(), m.path("memoryGb").asDouble(), m.path("java").asText(),
                m.path("loadAverageAtStart").asDouble(), m.path("loadAverageAtEnd").asDouble());
        String line = "%-13s %-34s %14s %14s %7s  %s%n";
        out.printf(Locale.ROOT, line, "measurement", "figure", "value", "ceiling", "ratio", "target (issues 9, 16, 17)");
        out.printf(Locale.ROOT, line, "-----------", "------", "-----", "-------", "-----", "----------------");
        JsonNode o = r.path("originations");
        row(out, line, "originations", "Creates/s (pipeline vs raw SDK)", o, "perSecond",
                ">= 5,000/s idle, ratio >= 0.8");
        JsonNode w = r.path("webhook");
        row(out, line, "webhook", "invocations/s at saturation", w, "perSecond", ">= 25,000/s, ratio >= 0.5");
        sub(out, line, "", "  p50 / p99 ms at saturation", fmt(w, "p50Ms", "%.2f") + " / " + fmt(w, "p99Ms", "%.2f"),
                fmt(w.path("bare"), "saturationP50Ms", "%.2f") + " / " + fmt(w.path("bare"), "saturationP99Ms", "%.2f"), "");
        sub(out, line, "", "  p99 ms at " + w.path("fixedOfferedPerSecond").asInt() + "/s offered",
                fmt(w, "fixedP99Ms", "%.2f"), fmt(w.path("bare"), "fixedP99Ms", "%.2f"), "<= 5 ms at 10,000/s");
        sub(out, line, "", "  p99.9 ms; answered after 1 s / 5 s", fmt(w, "fixedP999Ms", "%.2f") + "; "
                + fmt(w, "fixedOver1s", "%.0f") + " / " + fmt(w, "fixedOver5s", "%.0f"), "", "");
        JsonNode p = r.path("pacing");
        row(out, line, "pacing", "mean calls/s (configured " + p.path("configuredPerSecond").asInt() + ")", p,
                "meanPerSecond", "mean within 1%");
        sub(out, line, "", "  worst 1 s window", fmt(p, "worstWindowPerSecond", "%.0f"), "", "no window above rate");
        sub(out, line, "", "  jitter (stddev of gaps), ms", fmt(p, "jitterMs", "%.3f"), "", "");
        JsonNode mem = r.path("memory");
        row(out, line, "memory", "rows/s (" + mem.path("rows").asLong() + " rows, -Xmx" + mem.path("xmx").asText() + ")",
                mem, "rowsPerSecond", "heap flat");
        sub(out, line, "", "  peak heap after GC, MB", fmt(mem, "peakHeapAfterGcMb", "%.1f"), "",
                mem.path("outOfMemory").asBoolean() ? "OutOfMemoryError after " + mem.path("rows").asLong() + " of "
                        + mem.path("rowsInList").asLong() + " rows" : "");
        JsonNode e = r.path("endToEnd");
        row(out, line, "endToEnd", "completed calls/s vs bare dialer", e, "completedPerSecond", "ratio >= 0.5");
        sub(out, line, "", "  CPU us per call (dialer / bare)", fmt(e, "cpuMicrosPerCall", "%,.0f"),
                fmt(e, "bareCpuMicrosPerCall", "%,.0f"), "CPU ratio " + fmt(e, "cpuRatio", "%.2f"));
        sub(out, line, "", "  vs raw SDK Creates/s (earlier)", fmt(e, "completedPerSecond", "%,.0f"),
                fmt(e, "rawCreatesPerSecond", "%,.0f"), "ratioToRawCreates " + fmt(e, "ratioToRawCreates", "%.2f"));
        JsonNode wl = e.path("webhookLatency");
        sub(out, line, "", "  webhook p99.9 ms (emulator's view)", fmt(wl, "p999Ms", "%.2f"), "", "p99.9 < 1 s");
        sub(out, line, "", "  answered after 1 s / after 5 s", fmt(wl, "over1s", "%.0f") + " / "
                + fmt(wl, "over5s", "%.0f"), "", "0 after 5 s");
        JsonNode wh = e.path("webhookLatencyHangup");
        sub(out, line, "", "  of which HANGUP: p99.9 ms; > 1 s / > 5 s", fmt(wh, "p999Ms", "%.2f") + "; "
                + fmt(wh, "over1s", "%.0f") + " / " + fmt(wh, "over5s", "%.0f"), "", "");
        for (String name : new String[] {"originations", "webhook", "endToEnd"}) {
            JsonNode m2 = r.path(name);
            if (m2.has("rounds")) {
                out.printf(Locale.ROOT, "%-13s ratio median %.2f, min %.2f, max %.2f over %d interleaved rounds%n",
                        name, m2.path("ratio").asDouble(), m2.path("ratioMin").asDouble(),
                        m2.path("ratioMax").asDouble(), m2.path("roundsCount").asInt());
            }
        }
    }

    private static void row(PrintStream out, String line, String name, String figure, JsonNode o, String field,
                            String target) {
        if (o.has("error")) {
            out.printf(Locale.ROOT, line, name, figure, "error", "", "", o.get("error").asText());
            return;
        }
        out.printf(Locale.ROOT, line, name, figure, fmt(o, field, "%,.0f"), fmt(o, "ceiling", "%,.0f"),
                fmt(o, "ratio", "%.2f"), target);
    }

    private static void sub(PrintStream out, String line, String name, String figure, String value, String ceiling,
                            String target) {
        out.printf(Locale.ROOT, line, name, figure, value, ceiling, "", target);
    }

    private static String fmt(JsonNode o, String field, String format) {
        JsonNode v = o.get(field);
        return v == null || !v.isNumber() ? "-" : String.format(Locale.ROOT, format, v.asDouble());
    }

    private static void deleteTree(Path dir) {
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // a temp directory left behind is not worth failing the run for
        }
    }
}
