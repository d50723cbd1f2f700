package io.chimedialer.app.cli;

import io.chimedialer.core.campaign.CampaignCounters;
import io.chimedialer.core.campaign.CampaignRun;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.campaign.RunReport;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A live progress line of one run: dialed, answered, remaining, achieved calls per second per Region,
 * answer rate and ETA. On a terminal it redraws one line; otherwise it prints a line every few seconds.
 */
final class Progress implements AutoCloseable {
    private final CampaignRun run;
    private final PrintStream out;
    private final boolean tty;
    private final ScheduledExecutorService timer;
    private final long startNanos = System.nanoTime();

    Progress(CampaignRun run, PrintStream out) {
        this.run = run;
        this.out = out;
        this.tty = System.console() != null && System.getenv("CI") == null;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "progress");
            t.setDaemon(true);
            return t;
        });
        long period = tty ? 250 : 2000;
        timer.scheduleAtFixedRate(this::print, period, period, TimeUnit.MILLISECONDS);
    }

    private void print() {
        String line = line();
        if (tty) {
            out.print("\r" + line + "\u001b[K");
        } else {
            out.println(line);
        }
        out.flush();
    }

    String line() {
        CampaignCounters c = run.counters();
        RunReport report = run.report();
        long ended = c.ended();
        long answered = c.outcomes().getOrDefault(Disposition.ANSWERED, 0L);
        long remaining = run.remaining();
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        long done = report.contacts().total() - Math.max(0, remaining);
        String eta = "--";
        if (remaining >= 0 && done > 0 && elapsed > 1) {
            double perSecond = done / elapsed;
            eta = perSecond > 0 ? formatSeconds(remaining / perSecond) : "--";
        }
        StringBuilder regions = new StringBuilder();
        report.regions().forEach((name, r) -> regions.append(r.failure() != null ? " " + name + " FAILED"
                : String.format(Locale.ROOT, " %s %.1f/s", name, r.achievedCps())));
        if (report.pauseReason() != null) {
            return String.format(Locale.ROOT, "%s PAUSED: %s", bar(remaining, report.contacts().total()),
                    report.pauseReason());
        }
        String bar = bar(remaining, report.contacts().total());
        return String.format(Locale.ROOT, "%s dialed %d | answered %d (%.0f%%) | live %d | waiting %d | remaining %s |%s | ETA %s",
                bar, c.dialed.sum(), answered, ended == 0 ? 0.0 : 100.0 * answered / ended, c.live.sum(),
                run.waiting(), remaining < 0 ? "?" : Long.toString(remaining), regions, eta);
    }

    private static String bar(long remaining, long total) {
        int width = 20;
        if (remaining < 0 || total <= 0) {
            return "[" + " ".repeat(width) + "]";
        }
        int filled = (int) Math.round(width * (double) (total - remaining) / total);
        filled = Math.max(0, Math.min(width, filled));
        return "[" + "#".repeat(filled) + " ".repeat(width - filled) + "]";
    }

    static String formatSeconds(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        print();
        if (tty) {
            out.println();
        }
    }
}
