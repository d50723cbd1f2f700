package io.chimedialer.app.it;

import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.ledger.LedgerExport;
import io.chimedialer.core.pacing.PacingSettings;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.Faults;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.testkit.Await;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The real pieces wired as {@code dialer demo} wires them, for integration tests: the embedded
 * {@link ChimeEmulator} on 127.0.0.1 port 0, then a {@link DialerRuntime} on 127.0.0.1 port 0 whose Regions
 * point at the emulator (same SMA ids, from-numbers and quotas), then the emulator's webhook pointed at the
 * runtime. Both talk real HTTP both ways. {@link #close()} closes the runtime, then the emulator.
 */
final class EmulatedDialer implements AutoCloseable {

    /**
     * One Region on both sides: the dialer's rate and cap equal the emulator's quotas. The dialer dials from
     * {@code dialerFromNumbers}, the emulator's inventory is {@code fromNumbers} (the same unless a test configures
     * the dialer wrongly on purpose).
     */
    record RegionSpec(String name, String smaId, List<String> fromNumbers, double callsPerSecond, int maxActive,
                      List<String> dialerFromNumbers) {
        RegionSpec(String name, String smaId, List<String> fromNumbers, double callsPerSecond, int maxActive) {
            this(name, smaId, fromNumbers, callsPerSecond, maxActive, fromNumbers);
        }

        /** The same Region with the dialer configured to dial from other numbers. */
        RegionSpec dialingFrom(List<String> numbers) {
            return new RegionSpec(name, smaId, fromNumbers, callsPerSecond, maxActive, numbers);
        }

        EmulatorRegion emulated() {
            return new EmulatorRegion(name, smaId, fromNumbers, callsPerSecond, 50, maxActive);
        }

        RegionConfig dialer(URI endpoint) {
            return new RegionConfig(name, smaId, callsPerSecond, Math.max(1, (int) Math.ceil(callsPerSecond / 10)),
                    maxActive, 50, dialerFromNumbers, endpoint);
        }
    }

    /** The usual two Regions with the given rates and caps. */
    static List<RegionSpec> twoRegions(double eastCps, int eastCap, double westCps, int westCap) {
        return List.of(
                new RegionSpec("us-east-1", "11111111-1111-4111-8111-111111111111",
                        List.of("+17035550100", "+17035550101", "+17035550102"), eastCps, eastCap),
                new RegionSpec("us-west-2", "22222222-2222-4222-8222-222222222222",
                        List.of("+12065550100", "+12065550101", "+12065550102"), westCps, westCap));
    }

    static final String SECRET = "it-webhook-secret-0123456789abcdef";

    private final ChimeEmulator emulator;
    private DialerRuntime runtime;
    private List<RegionSpec> regions;
    private final Path dir;
    private final PacingSettings pacing;

    private EmulatedDialer(ChimeEmulator emulator, DialerRuntime runtime, List<RegionSpec> regions, Path dir,
                           PacingSettings pacing) {
        this.emulator = emulator;
        this.runtime = runtime;
        this.regions = regions;
        this.dir = dir;
        this.pacing = pacing;
    }

    /**
     * Starts both.
     *
     * @param dir       where the SQLite ledger goes
     * @param regions   the Regions
     * @param scenario  callee behaviour
     * @param faults    injected faults
     * @param timeScale the emulator's time scale
     * @param seed      the emulator's seed
     * @param pacing    the dialer's pacing settings, or null for the defaults
     */
    static EmulatedDialer start(Path dir, List<RegionSpec> regions, Scenario scenario, Faults faults, double timeScale,
                                long seed, PacingSettings pacing) {
        List<EmulatorRegion> emulated = regions.stream().map(RegionSpec::emulated).toList();
        ChimeEmulator emulator = ChimeEmulator.builder().host("127.0.0.1").port(0).regions(emulated)
                .scenario(scenario).faults(faults).timeScale(timeScale).seed(seed).start();
        try {
            DialerRuntime runtime = startRuntime(emulator, dir, regions, pacing);
            return new EmulatedDialer(emulator, runtime, regions, dir, pacing);
        } catch (RuntimeException e) {
            emulator.close();
            throw e;
        }
    }

    private static DialerRuntime startRuntime(ChimeEmulator emulator, Path dir, List<RegionSpec> regions,
                                              PacingSettings pacing) {
        List<RegionConfig> configs = new ArrayList<>();
        for (RegionSpec r : regions) {
            configs.add(r.dialer(emulator.url()));
        }
        DialerRuntime.Options options = new DialerRuntime.Options(configs,
                StaticCredentialsProvider.create(AwsBasicCredentials.create("ITACCESSKEY", "it-secret-key")),
                "jdbc:sqlite:" + dir.resolve("ledger.db"), SECRET, "127.0.0.1", 0, null, false, pacing, null);
        DialerRuntime runtime = DialerRuntime.start(options);
        try {
            emulator.webhook(URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations"), SECRET);
            return runtime;
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
    }

    /**
     * Stops the dialer (as an operator stops {@code dialer run}) and starts it again on the same ledger with these
     * Regions (e.g. the configuration fixed); the emulator, its calls and its ground truth stay.
     */
    void restartDialer(List<RegionSpec> fixed) {
        runtime.close();
        runtime = startRuntime(emulator, dir, fixed, pacing);
        regions = fixed;
    }

    ChimeEmulator emulator() {
        return emulator;
    }

    DialerRuntime runtime() {
        return runtime;
    }

    List<RegionSpec> regions() {
        return regions;
    }

    /** A campaign over every Region, weighted by rate, with the given list and flow settings. */
    static CampaignConfig campaign(String name, Path contacts, Map<String, Integer> weights,
                                   io.chimedialer.core.flow.FlowConfig flow, List<String> dncLists,
                                   Duration maxCallLifetime) {
        return new CampaignConfig(name, contacts.toString(), new LinkedHashMap<>(weights), "US", null, null, flow,
                dncLists, maxCallLifetime, false);
    }

    /** Launches a campaign and waits (bounded) for its report. */
    RunReport run(CampaignConfig campaign, Path contacts, Duration timeout) throws IOException {
        CampaignManager.Started started = runtime.campaigns().launch(campaign, contacts, false);
        RunReport report = started.report().block(timeout);
        return Objects.requireNonNull(report, "no report");
    }

    /**
     * The campaign's export (one row per attempt) once the ledger's write-behind queue has drained, as
     * maps by column; waits until {@code expectedRows} rows all carry a disposition or the timeout passes.
     */
    List<Map<String, String>> export(String campaign, long expectedRows, Duration timeout) {
        List<List<Map<String, String>>> last = new ArrayList<>(List.of(List.of()));
        try {
            Await.upTo(timeout, expectedRows + " export rows of " + campaign + " with a disposition, ledger queue empty")
                    .pollEvery(Duration.ofMillis(200))
                    .until(() -> {
                        List<Map<String, String>> rows = exportNow(campaign);
                        last.set(0, rows);
                        return rows.size() >= expectedRows && rows.stream().allMatch(r -> !r.get("disposition").isEmpty())
                                && runtime.ledger().queueDepth() == 0;
                    });
        } catch (AssertionError notComplete) {
            // The rows there are: the caller's assertions on them say what is missing.
        }
        return last.get(0);
    }

    private List<Map<String, String>> exportNow(String campaign) {
        StringWriter out = new StringWriter();
        LedgerExport.writeCsv(runtime.ledger().attempts(campaign), out).block(Duration.ofSeconds(60));
        String[] lines = out.toString().split("\r\n");
        List<String> header = List.of(lines[0].split(",", -1));
        List<Map<String, String>> rows = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                continue;
            }
            if (lines[i].indexOf('"') >= 0) {
                throw new IllegalStateException("unexpected quoted field in export line " + lines[i]);
            }
            String[] fields = lines[i].split(",", -1);
            Map<String, String> row = new LinkedHashMap<>();
            for (int c = 0; c < header.size(); c++) {
                row.put(header.get(c), c < fields.length ? fields[c] : "");
            }
            rows.add(row);
        }
        return rows;
    }

    /**
     * Create requests that got no answer from the service in the dialer's metrics: client-side timeouts (metered
     * as {@code server_error}, like a 5xx: the outcome is unknown) and local failures such as no pooled
     * connection in time ({@code failed}). On a starved machine these happen without any injected fault.
     */
    long createsUnanswered() {
        return runtime.meterRegistry().find("dialer.api.request.duration")
                .tag("operation", "CreateSipMediaApplicationCall").timers().stream()
                .filter(t -> List.of("timeout", "server_error", "failed").contains(t.getId().getTag("outcome")))
                .mapToLong(t -> t.count()).sum();
    }

    /** Waits (bounded) until every Region's permits are back and the emulator is idle. */
    boolean awaitQuiet(Duration timeout) {
        try {
            Await.upTo(timeout, "permits back, no live call, no active call at the emulator")
                    .pollEvery(Duration.ofMillis(100))
                    .until(() -> runtime.regions().values().stream().allMatch(p -> p.permits().inUse() == 0)
                            && emulator.stats().active() == 0 && runtime.calls().liveCalls() == 0);
        } catch (AssertionError notQuiet) {
            return false;
        }
        return emulator.awaitIdle(Duration.ofSeconds(5));
    }

    @Override
    public void close() {
        try {
            runtime.close();
        } finally {
            emulator.close();
        }
    }
}
