package io.chimedialer.app.cli;

import io.chimedialer.core.campaign.CampaignRun;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.domain.Disposition;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A live progress line of one run. On a terminal it redraws one line; otherwise it prints a line every few
 * seconds. Each figure is defined in docs/operations.md ("The progress line"):
 *
 * <pre>
 * [########            ] done 41/100 | calls 73, live 12 | answered 30 of 61 ended (49%) | follow-ups 5, next in 1h59m | waiting for window 0 | us-east-1 4.9/s of 5 | ETA 2h00m
 * </pre>
 *
 * The bar and {@code done} count contacts in a final state; the bar is full only when the run has completed.
 */
final class Progress implements AutoCloseable {
    private static final int WIDTH = 20;

    private final CampaignRun run;
    private final PrintStream out;
    private final boolean tty;
    private final ScheduledExecutorService timer;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

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
        return line(run.report(), run.remaining(), run.placedCalls(), Instant.now());
    }

    /**
     * The progress line of a run.
     *
     * @param report    the run's report now
     * @param remaining contacts not in a final state, or -1 when the list's size is unknown
     * @param live      calls Chime accepted that have not ended
     * @param now       the time the report's due times are compared with
     */
    static String line(RunReport report, long remaining, long live, Instant now) {
        RunReport.Contacts contacts = report.contacts();
        boolean over = switch (report.state()) {
            case "COMPLETED", "CANCELLED", "ENDED", "FAILED" -> true;
            default -> false;
        };
        long total = contacts.total();
        long done = remaining < 0 ? -1 : Math.max(0, total - remaining);
        String bar = bar(done, total, "COMPLETED".equals(report.state()));
        if (report.pauseReason() != null) {
            return String.format(Locale.ROOT, "%s PAUSED: %s", bar, report.pauseReason());
        }
        if ("SCHEDULED".equals(report.state()) && report.schedule() != null) {
            return String.format(Locale.ROOT, "%s SCHEDULED: waits for its start %s", bar, report.schedule().start());
        }
        long ended = report.outcomes().values().stream().mapToLong(Long::longValue).sum();
        long answered = report.outcomes().getOrDefault(Disposition.ANSWERED, 0L);
        RunReport.FollowUps followUps = report.followUps();
        StringBuilder line = new StringBuilder(bar);
        line.append(" done ").append(done < 0 ? "?" : Long.toString(done)).append('/')
                .append(remaining < 0 ? "?" : Long.toString(total));
        line.append(" | calls ").append(report.attempts()).append(", live ").append(live);
        line.append(String.format(Locale.ROOT, " | answered %d of %d ended (%.0f%%)", answered, ended,
                ended == 0 ? 0.0 : 100.0 * answered / ended));
        if (followUps.pending() > 0) {
            line.append(" | follow-ups ").append(followUps.pending());
            Duration next = until(followUps.nextDue(), now);
            if (next != null) {
                line.append(", next in ").append(formatSeconds(next.toMillis() / 1000.0));
            }
        }
        line.append(" | waiting for window ").append(contacts.waiting());
        report.regions().forEach((name, r) -> line.append(" | ").append(r.failure() != null ? name + " FAILED"
                : String.format(Locale.ROOT, "%s %.1f/s of %s", name, r.recentCps(), number(r.configuredCps()))));
        line.append(" | ETA ").append(over ? "0m00s" : eta(report, remaining, now));
        if (report.schedule() != null && report.schedule().endReason() != null) {
            line.append(" | ").append(report.schedule().endReason());
        }
        return line.toString();
    }

    /**
     * The time left: the contacts not done and not waiting for a follow-up, at the pace contacts were done so far
     * in this run; and at least until the last follow-up is due. "--" when neither can be told yet.
     */
    static String eta(RunReport report, long remaining, Instant now) {
        if (remaining < 0) {
            return "--";
        }
        RunReport.FollowUps followUps = report.followUps();
        Duration last = until(followUps.lastDue(), now);
        double seconds = last == null ? 0 : last.toMillis() / 1000.0;
        long notScheduled = Math.max(0, remaining - followUps.pending());
        long doneHere = report.contacts().total() - remaining - report.contacts().alreadyDone();
        double elapsed = report.durationSeconds();
        if (notScheduled > 0) {
            if (doneHere <= 0 || elapsed < 1) {
                return "--";
            }
            seconds = Math.max(seconds, notScheduled / (doneHere / elapsed));
        }
        return formatSeconds(seconds);
    }

    private static Duration until(String instant, Instant now) {
        if (instant == null) {
            return null;
        }
        Duration d = Duration.between(now, Instant.parse(instant));
        return d.isNegative() ? Duration.ZERO : d;
    }

    private static String number(double cps) {
        return cps == Math.rint(cps) ? Long.toString((long) cps) : String.format(Locale.ROOT, "%.1f", cps);
    }

    /** The bar of contacts done; full only when the run has completed (follow-ups or calls may remain at total). */
    static String bar(long done, long total, boolean completed) {
        if (completed) {
            return "[" + "#".repeat(WIDTH) + "]";
        }
        if (done < 0 || total <= 0) {
            return "[" + " ".repeat(WIDTH) + "]";
        }
        int filled = (int) Math.round(WIDTH * (double) done / total);
        filled = Math.max(0, Math.min(WIDTH - 1, filled));
        return "[" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "]";
    }

    static String formatSeconds(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        timer.shutdownNow();
        print();
        if (tty) {
            out.println();
        }
    }
}
