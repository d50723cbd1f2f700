package io.chimedialer.app.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerExport;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/** Writes run reports (JSON) and results (CSV), and prints the summary table. */
final class Reports {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Reports() {
    }

    /** The report as JSON, with the emulator's own stats under {@code emulator} when given. */
    static ObjectNode json(RunReport report, JsonNode emulatorStats) {
        ObjectNode node = JSON.valueToTree(report);
        if (emulatorStats != null) {
            node.set("emulator", emulatorStats);
        }
        return node;
    }

    static void writeJson(Path file, JsonNode json) throws IOException {
        createParent(file);
        JSON.writeValue(file.toFile(), json);
    }

    /** Writes one row per attempt of the campaign; returns the number of rows. */
    static long writeResults(Ledger ledger, String campaign, Path file) throws IOException {
        createParent(file);
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            Long rows = LedgerExport.writeCsv(ledger.attempts(campaign), out).block(Duration.ofMinutes(10));
            return rows == null ? 0 : rows;
        }
    }

    private static void createParent(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
    }

    /** Prints the summary table of a run. */
    static void printSummary(RunReport r, PrintStream out) {
        RunReport.Contacts c = r.contacts();
        out.println();
        out.printf(Locale.ROOT, "Campaign %s: %s in %.1f s%n", r.campaign(), r.state(), r.durationSeconds());
        if (r.pauseReason() != null) {
            out.println("  Paused: " + r.pauseReason());
        }
        out.println("  Contacts");
        row(out, "total", c.total());
        row(out, "dialed", c.dialed());
        row(out, "invalid", c.invalid());
        row(out, "duplicate", c.duplicate());
        row(out, "suppressed (DNC)", c.suppressed());
        if (c.windowExpired() > 0) {
            row(out, "window expired", c.windowExpired());
        }
        if (c.alreadyDone() > 0) {
            row(out, "done in an earlier run", c.alreadyDone());
        }
        if (c.waiting() > 0) {
            row(out, "still waiting", c.waiting());
        }
        if (c.notReached() > 0) {
            row(out, "not reached", c.notReached());
        }
        RunReport.FollowUps f = r.followUps();
        if (f != null && f.pending() > 0) {
            out.printf(Locale.ROOT, "  Follow-ups pending %d (next due %s, last due %s)%n", f.pending(),
                    f.nextDue() == null ? "?" : f.nextDue(), f.lastDue() == null ? "?" : f.lastDue());
        }
        out.printf(Locale.ROOT, "  Attempts %d%n", r.attempts());
        if (r.withdrawn() > 0) {
            out.printf(Locale.ROOT, "  Withdrawn %d (not sent or refused for a reason not the contact's; dialed again)%n",
                    r.withdrawn());
        }
        long ended = r.outcomes().values().stream().mapToLong(Long::longValue).sum();
        for (Map.Entry<Disposition, Long> e : r.outcomes().entrySet()) {
            if (e.getValue() > 0) {
                out.printf(Locale.ROOT, "    %-22s %8d  %5.1f%%%n", e.getKey(), e.getValue(),
                        ended == 0 ? 0.0 : 100.0 * e.getValue() / ended);
            }
        }
        out.println("  Regions                 attempts throttled  cps (cfg / achieved)  peak active / cap");
        // achieved: Creates / seconds from the first Create to the last, counted as at least 10 s (docs/operations.md)
        r.regions().forEach((name, g) -> out.printf(Locale.ROOT, "    %-20s %8d %9d  %7.1f / %-8.1f    %6d / %d%n",
                name, g.attempts(), g.throttled(), g.configuredCps(), g.achievedCps(), g.peakActive(), g.maxActive()));
        r.regions().forEach((name, g) -> {
            if (g.failure() != null) {
                out.println("    " + name + " FAILED: " + g.failure());
            }
        });
    }

    private static void row(PrintStream out, String label, long value) {
        out.printf(Locale.ROOT, "    %-22s %8d%n", label, value);
    }
}
