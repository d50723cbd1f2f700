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
import io.chimedialer.core.campaign.RetryConfig;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.Faults;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * {@code dialer demo}: a whole campaign against the embedded Chime emulator, with no AWS account and no
 * set-up: config/dialer.yaml's Regions and config/campaigns/demo.yaml's campaign, time compressed.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the demo campaign against the embedded Chime emulator (no AWS account needed).")
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--config", defaultValue = "config/dialer.yaml",
            description = "Configuration whose Regions and 'demo' campaign are used (default: ${DEFAULT-VALUE}).")
    String configFile;

    @Option(names = "--campaign", defaultValue = "demo", description = "Campaign to run (default: ${DEFAULT-VALUE}).")
    String campaignName;

    @Option(names = "--contacts", description = "Dial N generated contacts instead of the campaign's list "
            + "(2%% invalid rows, 1%% duplicates, 1%% on the DNC list).")
    Integer contacts;

    @Option(names = "--cps", defaultValue = "20",
            description = "Calls per second of each Region (default: ${DEFAULT-VALUE}).")
    double cps;

    @Option(names = "--max-active", defaultValue = "100",
            description = "Active-call cap of each Region (default: ${DEFAULT-VALUE}).")
    int maxActive;

    @Option(names = "--time-scale", defaultValue = "0.002",
            description = "Multiplier of every emulated duration and of retry delays (default: ${DEFAULT-VALUE}).")
    double timeScale;

    @Option(names = "--seed", defaultValue = "7", description = "Seed of the emulated callees (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--port", defaultValue = "0",
            description = "Port of the HTTP server (webhook, /metrics); 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--hold", description = "Keep the HTTP server up after the summary until SIGTERM or Ctrl-C.")
    boolean hold;

    @Option(names = "--fault-create-429", paramLabel = "P", defaultValue = "0",
            description = "Probability that the emulator answers a Create with 429, to see throttling and retries "
                    + "(default: ${DEFAULT-VALUE}).")
    double create429;

    @Option(names = "--report", defaultValue = "out/demo-report.json",
            description = "Run report JSON (default: ${DEFAULT-VALUE}).")
    Path reportFile;

    @Option(names = "--results", defaultValue = "out/demo-results.csv",
            description = "Results CSV, one row per attempt (default: ${DEFAULT-VALUE}).")
    Path resultsFile;

    private final CountDownLatch holding = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile int holdPort = -1;
    /** The temporary directory of the last run (its ledger and generated lists), deleted when the run ends. */
    volatile Path workDir;

    /**
     * Blocks until the demo holds its HTTP server ({@code --hold}, after the summary) or the timeout passes.
     *
     * @return the server's port, or -1 on timeout
     */
    public int awaitHolding(Duration timeout) throws InterruptedException {
        return holding.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS) ? holdPort : -1;
    }

    /** Ends {@code --hold} as SIGTERM does (for embedding and tests); harmless without it. */
    public void release() {
        release.countDown();
    }

    @Override
    public Integer call() throws Exception {
        String bad = badOption();
        if (bad != null) {
            System.err.println("dialer demo: " + bad);
            return 2;
        }
        PrintStream out = System.out;
        String secret = HexFormat.of().formatHex(random(32));
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("DIALER_WEBHOOK_SECRET", secret);
        DialerConfig config;
        try {
            config = ConfigLoader.load(Home.resolve(configFile), env);
        } catch (ConfigException e) {
            System.err.println("dialer demo: " + e.getMessage());
            return 2;
        }
        CampaignConfig campaign = config.campaign(campaignName).orElse(null);
        if (campaign == null) {
            System.err.println("dialer demo: no campaign '" + campaignName + "' in " + config.source());
            return 2;
        }
        // The demo's ledger and generated lists are its own: nothing of them outlives the run.
        try (TemporaryDirectory work = TemporaryDirectory.create("dialer-demo-")) {
            workDir = work.path();
            return demo(config, campaign, secret, out, work.path());
        }
    }

    private int demo(DialerConfig config, CampaignConfig campaign, String secret, PrintStream out, Path workDir)
            throws Exception {
        Path contactList = campaign.contacts() == null ? null : Path.of(campaign.contacts());
        List<String> dncLists = campaign.dncLists();
        if (contacts != null) {
            Path dnc = workDir.resolve("dnc.txt");
            contactList = workDir.resolve("contacts.csv");
            SyntheticContacts.write(contacts, seed, contactList, dnc);
            dncLists = new ArrayList<>(dncLists);
            dncLists.add(dnc.toString());
        }
        if (contactList == null) {
            System.err.println("dialer demo: campaign '" + campaignName + "' has no contact list");
            return 2;
        }

        List<EmulatorRegion> emulated = new ArrayList<>();
        for (String name : campaign.regions().keySet()) {
            RegionConfig r = config.region(name).orElseThrow();
            emulated.add(new EmulatorRegion(name, r.sipMediaApplicationId(), r.fromNumbers(), cps,
                    r.updateCallsPerSecond(), maxActive));
        }
        try (ChimeEmulator emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(emulated)
                .timeScale(timeScale).seed(seed).faults(Faults.builder().create429(create429).build()).start()) {
            List<RegionConfig> regions = new ArrayList<>();
            for (EmulatorRegion e : emulated) {
                RegionConfig r = config.region(e.name()).orElseThrow();
                regions.add(new RegionConfig(r.name(), r.sipMediaApplicationId(), cps, Math.max(1, (int) Math.ceil(cps / 10)),
                        maxActive, r.updateCallsPerSecond(), r.fromNumbers(), emulator.url()));
            }
            Path ledger = workDir.resolve("demo.db");
            DialerRuntime.Options options = new DialerRuntime.Options(regions,
                    StaticCredentialsProvider.create(AwsBasicCredentials.create("DEMOACCESSKEY", "demo-secret-key")),
                    "jdbc:sqlite:" + ledger, secret, "127.0.0.1", port, null, false, null, null);
            try (DialerRuntime runtime = StartFailures.start("demo", options)) {
                if (runtime == null) {
                    return StartFailures.EXIT; // the reason is printed
                }
                emulator.webhook(URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations"), secret);
                out.printf("Demo: emulator %s, dialer webhook and /metrics on http://127.0.0.1:%d%n", emulator.url(),
                        runtime.port());
                CampaignConfig demo = compress(campaign, contactList, dncLists);
                Interrupts.Outcome outcome;
                // SIGINT and SIGTERM interrupt the demo: the summary so far and the report, then 130 or 143.
                try (StopSignals signals = StopSignals.install()) {
                    CampaignManager.Started started;
                    try {
                        started = runtime.campaigns().launch(demo, contactList, false);
                    } catch (IOException | RuntimeException e) {
                        return StartFailures.report("demo", e);
                    }
                    Progress progress = new Progress(started.run(), out);
                    try {
                        outcome = Interrupts.await(started.report(), started.run(), signals, Duration.ofHours(1),
                                "dialer demo", System.err);
                    } catch (io.chimedialer.core.contacts.ContactSourceException e) {
                        progress.close();
                        System.err.println("dialer demo: " + e.getMessage());
                        return 2;
                    } finally {
                        progress.close();
                    }
                    RunReport report = outcome.report();
                    if (outcome.stop() == null) {
                        emulator.awaitIdle(Duration.ofSeconds(10));
                    }
                    JsonNode emulatorStats = fetch(emulator.url().resolve("/emulator/v1/stats"));
                    Reports.printSummary(report, out);
                    Reports.writeJson(reportFile.toAbsolutePath(), Reports.json(report, emulatorStats));
                    long rows = Reports.writeResults(runtime.ledger(), demo.name(), resultsFile.toAbsolutePath());
                    out.printf("%n  Report:  %s%n  Results: %s (%d attempts)%n", reportFile.toAbsolutePath(),
                            resultsFile.toAbsolutePath(), rows);
                    if (outcome.stop() != null) {
                        out.flush();
                        System.err.println("dialer demo: interrupted (" + outcome.stop().signalName()
                                + "): the summary, report and results above are of the calls made so far");
                        return outcome.exitCode();
                    }
                }
                RunReport report = outcome.report();
                if (hold) {
                    out.printf("Holding the HTTP server on http://127.0.0.1:%d (metrics at /metrics); Ctrl-C to stop.%n",
                            runtime.port());
                    out.flush();
                    Thread hook = new Thread(release::countDown, "demo-hold");
                    Runtime.getRuntime().addShutdownHook(hook);
                    holdPort = runtime.port();
                    holding.countDown();
                    release.await();
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException shuttingDown) {
                        // SIGTERM released the hold: the JVM is exiting anyway.
                    }
                }
                return "COMPLETED".equals(report.state()) ? 0 : 1;
            }
        }
    }

    /** The first option out of its range, as a message naming it, or null when all are usable. */
    private String badOption() {
        if (contacts != null && contacts < 1) {
            return "--contacts must be at least 1, was " + contacts;
        }
        if (!(cps > 0) || Double.isInfinite(cps)) {
            return "--cps must be a number of calls per second > 0, was " + cps;
        }
        if (maxActive < 1) {
            return "--max-active must be at least 1, was " + maxActive;
        }
        if (!(timeScale > 0) || Double.isInfinite(timeScale)) {
            return "--time-scale must be > 0, was " + timeScale;
        }
        if (!(create429 >= 0 && create429 <= 1)) {
            return "--fault-create-429 must be a probability in [0, 1], was " + create429;
        }
        return null;
    }

    /** The campaign with its contacts and DNC lists resolved and its retry delays scaled like the emulator's time. */
    private CampaignConfig compress(CampaignConfig c, Path contactList, List<String> dncLists) {
        return compress(c, contactList.toString(), dncLists, timeScale);
    }

    /**
     * A campaign whose retry delays (each rule's {@code after} and the per-number window) are scaled by
     * {@code timeScale}, as the emulator scales its durations: {@code demo} and {@code run --sandbox}.
     */
    static CampaignConfig compress(CampaignConfig c, String contactList, List<String> dncLists, double timeScale) {
        Map<io.chimedialer.core.domain.Disposition, RetryConfig.Rule> rules =
                new EnumMap<>(io.chimedialer.core.domain.Disposition.class);
        c.retry().rules().forEach((d, rule) -> rules.put(d, new RetryConfig.Rule(scale(rule.after(), timeScale),
                rule.maxAttempts())));
        RetryConfig retry = new RetryConfig(rules, c.retry().maxAttemptsPerNumber(),
                scale(c.retry().perNumberWindow(), timeScale));
        return new CampaignConfig(c.name(), contactList, new LinkedHashMap<>(c.regions()), c.defaultRegion(),
                c.callingWindow(), retry, c.flow(), dncLists, c.maxCallLifetime(), c.redialUnknown(),
                c.pauseAfterActionFailures(), c.reconcileGrace());
    }

    private static Duration scale(Duration d, double timeScale) {
        return Duration.ofNanos((long) (d.toNanos() * timeScale));
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    private static JsonNode fetch(URI uri) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET()
                .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return Reports.JSON.readTree(response.body());
    }

    /** Generated contact lists for {@code --contacts N}. */
    static final class SyntheticContacts {
        private static final String[][] AREAS = {
                {"212", "America/New_York"}, {"312", "America/Chicago"}, {"303", "America/Denver"},
                {"415", "America/Los_Angeles"}, {"907", "America/Anchorage"}, {"808", "Pacific/Honolulu"}};

        private SyntheticContacts() {
        }

        static void write(int n, long seed, Path csv, Path dnc) throws IOException {
            Random random = new Random(seed);
            List<String> dncNumbers = new ArrayList<>();
            try (Writer out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
                out.write("id,phone,name,clinic,appointment_date,appointment_time\n");
                String previous = null;
                for (int i = 0; i < n; i++) {
                    String number;
                    int roll = random.nextInt(100);
                    if (roll < 2) {
                        number = "12345"; // invalid
                    } else if (roll < 3 && previous != null) {
                        number = previous; // duplicate
                    } else {
                        String[] area = AREAS[i % AREAS.length];
                        int exchange = 200 + (i / AREAS.length / 10_000) % 800;
                        number = String.format("+1%s%03d%04d", area[0], exchange == 555 ? 556 : exchange,
                                (i / AREAS.length) % 10_000);
                        previous = number;
                        if (roll == 3) {
                            dncNumbers.add(number);
                        }
                    }
                    out.write("c" + i + "," + number + ",Patient " + i + ",Harbor Clinic,December 3,10:30 AM\n");
                }
            }
            Files.write(dnc, dncNumbers, StandardCharsets.UTF_8);
        }
    }
}
