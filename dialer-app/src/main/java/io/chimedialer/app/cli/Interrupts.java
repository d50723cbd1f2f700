package io.chimedialer.app.cli;

import io.chimedialer.core.campaign.CampaignRun;
import io.chimedialer.core.campaign.RunReport;
import java.io.PrintStream;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * SIGINT (Ctrl-C) and SIGTERM during {@code run} and {@code demo}: the run is paused (no new Create; calls admitted
 * but not sent are withdrawn, so the ledger holds no open intent for them), the calls in progress get up to
 * {@link #DRAIN} to end, and the command then prints the summary so far, writes its report and results, and exits
 * 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once ({@link StopSignals}).
 */
final class Interrupts {
    /** How long live calls may still end after an interrupt before the summary is taken. */
    static final Duration DRAIN = Duration.ofSeconds(10);
    /** How long a stop waits at least, so that Creates sent just before the pause are answered and counted. */
    private static final Duration SETTLE = Duration.ofSeconds(2);

    private Interrupts() {
    }

    /** How a run's wait ended: its report, and the signal that interrupted it (null when it ended by itself). */
    record Outcome(RunReport report, StopSignals.Stop stop) {
        /** The exit code of an interrupted command: 130 after SIGINT, 143 after SIGTERM. */
        int exitCode() {
            return stop.jvmDefaultExitCode();
        }
    }

    /**
     * Waits for {@code report} or a stop signal, whichever comes first. After a signal: pauses the run, lets its
     * live calls end for up to {@link #DRAIN}, and answers the run's report as of then.
     */
    static Outcome await(Mono<RunReport> report, CampaignRun run, StopSignals signals, Duration timeout,
                         String command, PrintStream err) {
        Outcome outcome = Mono.firstWithSignal(report.map(r -> new Outcome(r, null)),
                        Mono.fromFuture(signals.requested(), true).map(stop -> new Outcome(null, stop)))
                .block(timeout);
        if (outcome == null || outcome.stop() == null) {
            return outcome;
        }
        StopSignals.Stop stop = outcome.stop();
        err.printf("%n%s: interrupted (%s): no new calls; waiting up to %ds for the %d calls in progress "
                + "(%s again exits now)%n", command, stop.signalName(), DRAIN.toSeconds(), run.placedCalls(),
                stop == StopSignals.Stop.INT ? "Ctrl-C" : "SIGTERM");
        err.flush();
        run.pause();
        long start = System.nanoTime();
        while (System.nanoTime() - start < DRAIN.toNanos()
                && (System.nanoTime() - start < SETTLE.toNanos() || run.placedCalls() > 0)) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new Outcome(run.report(), stop);
    }
}
