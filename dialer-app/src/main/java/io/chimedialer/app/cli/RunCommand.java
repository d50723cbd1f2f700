package io.chimedialer.app.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.app.config.ConfigException;
import io.chimedialer.app.config.ConfigLoader;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * {@code dialer run}: one campaign from the configuration, to the end, against AWS or (with
 * {@code --sandbox}) the embedded emulator. A campaign the ledger already holds is resumed (and the run says so),
 * unless {@code --fresh}. The sandbox never writes the configured ledger: it uses a temporary SQLite file, deleted
 * at exit, or the one {@code --ledger} names, so that what it dialed is never skipped by a real run.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run one configured campaign to the end (against AWS, or --sandbox against the embedded emulator).")
public final class RunCommand implements Callable<Integer> {
    /** Exit code when the campaign paused by itself on an account or configuration error (see the message). */
    static final int EXIT_PAUSED = 3;

    @Option(names = "--config", defaultValue = "config/dialer.yaml", description = "Configuration file (default: ${DEFAULT-VALUE}).")
    String configFile;

    @Option(names = "--campaign", required = true, description = "The campaign to run.")
    String campaignName;

    @Option(names = "--sandbox", description = "Dial the embedded Chime emulator instead of AWS.")
    boolean sandbox;

    @Option(names = "--time-scale", defaultValue = "0.01",
            description = "With --sandbox: multiplier of emulated durations and of retry delays (default: ${DEFAULT-VALUE}).")
    double timeScale;

    @Option(names = "--dry-run", description = "Validate the configuration and the contact list; dial nothing.")
    boolean dryRun;

    @Option(names = "--report", description = "Write the run report (JSON) here.")
    Path reportFile;

    @Option(names = "--results", description = "Write the results (CSV, one row per attempt) here.")
    Path resultsFile;

    @Option(names = "--port", description = "HTTP port of the webhook and /metrics (default: server.port of the config).")
    Integer port;

    @Option(names = "--ledger", paramLabel = "URL", description = "Ledger JDBC URL instead of ledger.url of the config "
            + "(with --sandbox: instead of a temporary SQLite file, deleted at exit).")
    String ledgerUrl;

    @Option(names = "--fresh", description = "Start the campaign afresh: dial again the contacts the ledger already "
            + "holds for it (by default a campaign the ledger knows is resumed).")
    boolean fresh;

    @Override
    public Integer call() throws Exception {
        if (dryRun) {
            return new picocli.CommandLine(new io.chimedialer.app.config.ValidateCommand())
                    .execute("--config", Home.resolve(configFile).toString(), "--campaign", campaignName);
        }
        DialerConfig config;
        try {
            config = ConfigLoader.load(Home.resolve(configFile));
        } catch (ConfigException e) {
            System.err.println("dialer run: " + e.getMessage());
            return 2;
        }
        CampaignConfig campaign = config.campaign(campaignName).orElse(null);
        if (campaign == null || campaign.contacts() == null) {
            System.err.println("dialer run: no campaign '" + campaignName + "' with a contact list in " + config.source());
            return 2;
        }
        String secret = config.server().webhookSecret() == null ? null : config.server().webhookSecret().reveal();
        ChimeEmulator emulator = null;
        List<RegionConfig> regions = new ArrayList<>(config.regions().values());
        AwsCredentialsProvider credentials = DefaultCredentialsProvider.builder().build();
        if (sandbox) {
            if (secret == null) {
                secret = HexFormat.of().formatHex(new SecureRandom().generateSeed(32));
            }
            List<EmulatorRegion> emulated = new ArrayList<>();
            for (RegionConfig r : regions) {
                emulated.add(new EmulatorRegion(r.name(), r.sipMediaApplicationId(), r.fromNumbers(), r.callsPerSecond(),
                        r.updateCallsPerSecond(), r.maxActiveCalls()));
            }
            emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(emulated).timeScale(timeScale).start();
            List<RegionConfig> local = new ArrayList<>();
            for (RegionConfig r : regions) {
                local.add(new RegionConfig(r.name(), r.sipMediaApplicationId(), r.callsPerSecond(), r.burst(),
                        r.maxActiveCalls(), r.updateCallsPerSecond(), r.fromNumbers(), emulator.url()));
            }
            regions = local;
            // As in demo: retry delays pass at the emulator's pace (NO_ANSWER after 2h is 72 s at 0.01).
            campaign = DemoCommand.compress(campaign, campaign.contacts(), campaign.dncLists(), timeScale);
            System.out.println("Sandbox: emulated call durations and retry delays scaled by " + timeScale
                    + " (--time-scale)");
            credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create("SANDBOXKEY", "sandbox-secret"));
        } else if (secret == null) {
            System.err.println("dialer run: server.webhook-secret is required: set it in the configuration (config/dialer.yaml reads it from DIALER_WEBHOOK_SECRET, or give file:PATH)");
            return 2;
        }
        int httpPort = port != null ? port : sandbox ? 0 : config.server().port();
        String host = sandbox ? "127.0.0.1" : config.server().host();
        // The sandbox's calls are not real: they must never reach the ledger a real run resumes from.
        TemporaryDirectory sandboxDir = null;
        String ledger = ledgerUrl != null ? ledgerUrl : config.ledger().jdbcUrl();
        if (sandbox && ledgerUrl == null) {
            sandboxDir = TemporaryDirectory.create("dialer-sandbox-");
            ledger = "jdbc:sqlite:" + sandboxDir.resolve("sandbox.db");
        }
        // The sandbox's calls are emulated in this process: nothing of them is in a real spill queue.
        try (DialerRuntime runtime = StartFailures.start("run", new DialerRuntime.Options(regions, credentials,
                ledger, secret, host, httpPort, null, false, config.pacing().settings(), null)
                .withSpillQueue(sandbox ? null : config.server().spillQueue()))) {
            if (runtime == null) {
                return StartFailures.EXIT; // the reason is printed
            }
            if (!sandbox) {
                // The sandbox's calls are not real: no receiver hears of its campaigns.
                runtime.campaigns().notifications(config.notifications());
            }
            if (emulator != null) {
                emulator.webhook(URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations"), secret);
            } else if (config.server().publicUrl() != null) {
                // As in serve: the Lambda bridge sends each call's invocations to the node that placed it.
                runtime.campaigns().callArguments(Map.of("dialerUrl", config.server().publicUrl().toString()));
            }
            // From here SIGINT and SIGTERM interrupt the run: the summary so far and the report, then 130 or 143.
            try (StopSignals signals = StopSignals.install()) {
                return dial(runtime, campaign, emulator, sandboxDir != null, signals);
            }
        } finally {
            if (emulator != null) {
                emulator.close();
            }
            if (sandboxDir != null) {
                sandboxDir.close();
            }
        }
    }

    private int dial(DialerRuntime runtime, CampaignConfig campaign, ChimeEmulator emulator, boolean temporaryLedger,
                     StopSignals signals) throws Exception {
        CampaignManager.Started started;
        try {
            if (!fresh) {
                long known = knownContacts(runtime, campaign.name());
                if (known > 0) {
                    System.out.println("Resuming campaign " + campaign.name() + ": the ledger holds " + known
                            + " contacts already (--fresh dials them again)");
                }
            }
            started = runtime.campaigns().launch(campaign, Path.of(campaign.contacts()), !fresh);
        } catch (IOException | RuntimeException e) {
            return StartFailures.report("run", e);
        }
        Interrupts.Outcome outcome;
        Progress progress = new Progress(started.run(), System.out);
        try {
            // A campaign that pauses by itself (every Region failed on an account or configuration error) cannot
            // go on without the operator: the run stops there, its contacts kept for the next run.
            outcome = Interrupts.await(Mono.firstWithSignal(started.report(),
                            started.run().errorPauses().next().map(reason -> started.run().report())),
                    started.run(), signals, Duration.ofDays(30), "dialer run", System.err);
        } catch (io.chimedialer.core.contacts.ContactSourceException e) {
            // The list turned out unreadable mid-way (e.g. its encoding changes at a line): said in one line.
            progress.close();
            System.err.println("dialer run: " + e.getMessage());
            return 2;
        } finally {
            progress.close();
        }
        RunReport report = outcome.report();
        Reports.printSummary(report, System.out);
        awaitNotice(runtime, signals);
        JsonNode emulatorStats = null;
        if (emulator != null && outcome.stop() == null) {
            emulator.awaitIdle(Duration.ofSeconds(10));
        }
        if (reportFile != null) {
            Reports.writeJson(reportFile, Reports.json(report, emulatorStats));
            System.out.println("  Report:  " + reportFile.toAbsolutePath());
        }
        if (resultsFile != null) {
            long rows = Reports.writeResults(runtime.ledger(), campaign.name(), resultsFile);
            System.out.println("  Results: " + resultsFile.toAbsolutePath() + " (" + rows + " attempts)");
        }
        if (outcome.stop() != null) {
            long left = started.run().remaining();
            System.err.println("dialer run: interrupted (" + outcome.stop().signalName() + "): campaign "
                    + campaign.name() + " stopped" + (left >= 0 ? " with " + left + " contacts not done" : "") + "; "
                    + (temporaryLedger ? "the sandbox's temporary ledger is deleted (--ledger keeps one to resume)"
                    : "run the same command again to resume it"));
            return outcome.exitCode();
        }
        if (report.pauseReason() != null) {
            System.err.println("dialer run: campaign " + campaign.name() + " paused: " + report.pauseReason());
            System.err.println("dialer run: no contact was charged with it. Fix the configuration or the account, "
                    + "then run the same command again: it resumes the campaign.");
            return EXIT_PAUSED;
        }
        if (report.schedule() != null && report.schedule().endReason() != null) {
            long left = started.run().remaining();
            System.err.println("dialer run: campaign " + campaign.name() + " " + report.schedule().endReason()
                    + (left >= 0 ? "; " + left + " contacts not done stay dialable" : "")
                    + ": give it a later end and run the same command again to resume it");
        }
        return "COMPLETED".equals(report.state()) ? 0 : 1;
    }

    /**
     * Waits for the campaign's completion notice (if any is due) to be delivered or given up, for at most its whole
     * retry schedule; a stop signal ends the wait (the notice is then abandoned, and logged so).
     */
    private static void awaitNotice(DialerRuntime runtime, StopSignals signals) {
        DialerConfig.Notifications settings = runtime.campaigns().notificationSettings();
        if (settings == null) {
            return;
        }
        Duration bound = settings.timeout().multipliedBy(settings.maxAttempts());
        Duration wait = settings.initialBackoff();
        for (int i = 1; i < settings.maxAttempts(); i++) {
            bound = bound.plus(wait);
            wait = wait.multipliedBy(2).compareTo(settings.maxBackoff()) > 0 ? settings.maxBackoff()
                    : wait.multipliedBy(2);
        }
        if (runtime.campaigns().noticesDue() == 0) {
            return;
        }
        Mono<Void> idle = runtime.campaigns().noticesIdle();
        System.out.println("  Notice:  sending the completion notice to " + settings.describeUrl() + " (at most "
                + bound.toSeconds() + " s; Ctrl-C stops waiting)");
        try {
            Mono.firstWithSignal(idle, Mono.fromFuture(signals.requested()).then())
                    .block(bound.plusSeconds(5));
        } catch (IllegalStateException timedOut) {
            // given up: closing the runtime abandons it, with a warning
        }
    }

    /** How many contacts of the campaign the ledger holds already (0 for a campaign it does not know). */
    private static long knownContacts(DialerRuntime runtime, String campaign) {
        Map<String, Long> counts = runtime.ledger().contactCounts(campaign)
                .onErrorResume(UnsupportedOperationException.class, e -> Mono.empty())
                .block(Duration.ofSeconds(30));
        return counts == null ? 0 : counts.values().stream().mapToLong(Long::longValue).sum();
    }
}
