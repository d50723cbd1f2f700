package io.chimedialer.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.app.DialerMain;
import io.chimedialer.app.config.ConfigLoader;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.core.calls.CallEvent;
import io.chimedialer.core.calls.EventBus;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerOptions;
import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.testkit.Await;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Opt-outs are kept in the ledger, never written to the DNC files, and every campaign that names a list honours
 * what was recorded under it: at launch, live while it runs, after the run that heard it ended, and the inbound
 * callers' for every campaign; {@code dialer export --dnc} writes them out. Against the embedded emulator, whose
 * calls are the ground truth of what was dialed.
 */
class CampaignOptOutsTest {
    private static final String SECRET = "opt-outs-test-secret-0123456789";
    /** Opted out through campaign alpha (recorded under shared.txt) before this process started. */
    private static final String EARLIER = "+13122000001";
    /** Opted out by an inbound caller before this process started. */
    private static final String INBOUND_EARLIER = "+13122000002";
    /** Written in shared.txt itself. */
    private static final String IN_FILE = "+13122000003";
    private static final List<String> DIALABLE = List.of("+13122000011", "+13122000012", "+13122000013");

    @TempDir
    Path dir;

    private ChimeEmulator emulator;
    private DialerRuntime runtime;

    @AfterEach
    void tearDown() {
        if (runtime != null) {
            runtime.close();
        }
        if (emulator != null) {
            emulator.close();
        }
    }

    @Test
    void optOuts_recordedUnderAList_honouredByEveryCampaignNamingIt_andExported() throws Exception {
        List<EmulatorRegion> regions = new ArrayList<>();
        for (EmulatorRegion r : EmulatorRegion.defaults()) {
            regions.add(new EmulatorRegion(r.name(), r.sipMediaApplicationId(), r.fromNumbers(), 50, 100, 200));
        }
        emulator = ChimeEmulator.builder().regions(regions).timeScale(0.02).seed(5).start();
        Path config = writeConfig(regions.get(0));
        DialerConfig loaded = ConfigLoader.load(config, Map.of());
        String shared = loaded.campaign("alpha").orElseThrow().dncLists().get(0);
        String other = loaded.campaign("bravo").orElseThrow().dncLists().get(0);
        String ledgerUrl = loaded.ledger().url();
        try (Ledger before = JdbcLedger.open(LedgerOptions.of(ledgerUrl, Clock.systemUTC()))) {
            before.addDnc(shared, EARLIER, Instant.now()).block(Duration.ofSeconds(10));
            before.addDnc(DialerRuntime.INBOUND_DNC_LIST, INBOUND_EARLIER, Instant.now()).block(Duration.ofSeconds(10));
        }
        runtime = DialerRuntime.start(new DialerRuntime.Options(new ArrayList<>(loaded.regions().values()),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("KEY", "secret")), ledgerUrl, SECRET,
                "127.0.0.1", 0, null, false, null, null));
        emulator.webhook(URI.create("http://127.0.0.1:" + runtime.port() + "/v1/sma/invocations"), SECRET);

        // At launch: bravo names shared.txt second, yet refuses what alpha recorded under it, and inbound opt-outs.
        CampaignConfig bravo = loaded.campaign("bravo").orElseThrow();
        RunReport bravoReport = runtime.campaigns().launch(bravo, Path.of(bravo.contacts()), false).report()
                .block(Duration.ofSeconds(60));
        assertThat(bravoReport).isNotNull();
        assertThat(bravoReport.state()).isEqualTo("COMPLETED");
        assertThat(bravoReport.contacts().suppressed()).isEqualTo(3);
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        assertThat(emulator.calls()).extracting(CallRecord::to).containsExactlyInAnyOrderElementsOf(DIALABLE);

        // Live: alpha and charlie wait for a closed calling window; an opt-out heard on an alpha call reaches
        // charlie (it names shared.txt second) at once, and an inbound caller's reaches both.
        runtime.campaigns().launch(loaded.campaign("alpha").orElseThrow(), dir.resolve("waiting.csv"), false);
        runtime.campaigns().launch(loaded.campaign("charlie").orElseThrow(), dir.resolve("waiting.csv"), false);
        assertThat(runtime.campaigns().refuses("charlie", EARLIER)).isTrue();
        assertThat(runtime.campaigns().refuses("alpha", INBOUND_EARLIER)).isTrue();
        String heardOnAlpha = "+13122000021";
        String inboundCaller = "+13122000022";
        runtime.calls().bus().publish(new CallEvent.OptedOut("alpha", heardOnAlpha, "att-alpha"));
        runtime.calls().bus().publish(new CallEvent.OptedOut(EventBus.INBOUND, inboundCaller, null));
        await("charlie refuses the number heard on alpha", () -> runtime.campaigns().refuses("charlie", heardOnAlpha));
        await("both refuse the inbound caller", () -> runtime.campaigns().refuses("alpha", inboundCaller)
                && runtime.campaigns().refuses("charlie", inboundCaller));
        assertThat(runtime.campaigns().refuses("alpha", heardOnAlpha)).isTrue();

        // After its run: bravo has completed, yet an opt-out on one of its calls (closed, still remembered by
        // the registry for its retention) is recorded under bravo's list.
        String afterBravo = "+13122000023";
        runtime.calls().bus().publish(new CallEvent.OptedOut("bravo", afterBravo, "att-bravo"));
        await("the late opt-out in the ledger", () -> runtime.ledger().dncNumbers(other).collectList()
                .block(Duration.ofSeconds(10)).contains(afterBravo));
        await("the inbound caller in the ledger", () -> runtime.ledger().dncNumbers(DialerRuntime.INBOUND_DNC_LIST)
                .collectList().block(Duration.ofSeconds(10)).contains(inboundCaller));
        assertThat(runtime.ledger().dncNumbers(shared).collectList().block(Duration.ofSeconds(10)))
                .containsExactlyInAnyOrder(EARLIER, heardOnAlpha);
        // The control API's opt-outs of charlie (GET /v1/campaigns/charlie/opt-outs): export --dnc's, below.
        List<String> served = runtime.campaigns().optOuts("charlie").flatMapMany(lines -> lines)
                .map(String::strip).collectList().block(Duration.ofSeconds(10));
        runtime.campaigns().run("alpha").cancel();
        runtime.campaigns().run("charlie").cancel();
        runtime.close();
        runtime = null;

        // The DNC files are never written; export --dnc writes what charlie honours.
        assertThat(Files.readAllLines(dir.resolve("shared.txt"))).containsExactly("# shared list", IN_FILE);
        Path exported = dir.resolve("out").resolve("charlie-dnc.txt");
        int code = DialerMain.commandLine().execute("export", "--config", config.toString(), "--campaign", "charlie",
                "--dnc", "--out", exported.toString());
        assertThat(code).isZero();
        List<String> lines = Files.readAllLines(exported, StandardCharsets.UTF_8);
        assertThat(lines.get(0)).startsWith("# Opt-outs the ledger holds for campaign charlie (lists: ");
        assertThat(lines.stream().filter(l -> !l.startsWith("#")))
                .containsExactly(EARLIER, INBOUND_EARLIER, heardOnAlpha, inboundCaller, afterBravo);
        assertThat(served).isNotNull();
        assertThat(served.get(0)).isEqualTo(lines.get(0).substring(0, lines.get(0).indexOf("), exported") + 1));
        assertThat(served.stream().filter(l -> !l.startsWith("#")))
                .containsExactlyElementsOf(lines.stream().filter(l -> !l.startsWith("#")).toList());
    }

    private Path writeConfig(EmulatorRegion region) throws Exception {
        Files.writeString(dir.resolve("shared.txt"), "# shared list\n" + IN_FILE + "\n", StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("other.txt"), "# other list\n", StandardCharsets.UTF_8);
        StringBuilder bravo = new StringBuilder("id,phone\n");
        List<String> numbers = new ArrayList<>(List.of(EARLIER, INBOUND_EARLIER, IN_FILE));
        numbers.addAll(DIALABLE);
        for (int i = 0; i < numbers.size(); i++) {
            bravo.append('b').append(i).append(',').append(numbers.get(i)).append('\n');
        }
        Files.writeString(dir.resolve("bravo.csv"), bravo, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("waiting.csv"), "id,phone\nw1,+13122000031\nw2,+13122000032\n",
                StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("secret.txt"), SECRET, StandardCharsets.UTF_8);
        // A one-minute window six hours from now: the waiting campaigns never dial during the test.
        LocalTime opens = LocalTime.now(ZoneOffset.UTC).plusHours(6).truncatedTo(ChronoUnit.MINUTES);
        String closed = "{ hours: \"" + opens + "-" + opens.plusMinutes(1) + "\", timezone: UTC }";
        String yaml = """
                server: { host: 127.0.0.1, port: 0, webhook-secret: "file:secret.txt" }
                ledger: { url: "jdbc:sqlite:%s" }
                regions:
                  %s:
                    sip-media-application-id: %s
                    calls-per-second: 10
                    burst: 2
                    max-active-calls: 20
                    from-numbers: ["%s"]
                    endpoint: %s
                campaigns:
                  alpha: { contacts: waiting.csv, regions: [%2$s], dnc-lists: [shared.txt], calling-window: %s }
                  bravo: { contacts: bravo.csv, regions: [%2$s], dnc-lists: [other.txt, shared.txt] }
                  charlie: { contacts: waiting.csv, regions: [%2$s], dnc-lists: [other.txt, shared.txt],
                             calling-window: %7$s }
                """.formatted(dir.resolve("ledger.db"), region.name(), region.sipMediaApplicationId(),
                region.fromNumbers().get(0), emulator.url(), closed, closed);
        Path config = dir.resolve("dialer.yaml");
        Files.writeString(config, yaml, StandardCharsets.UTF_8);
        return config;
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) {
        Await.upTo(Duration.ofSeconds(20), what).until(condition::getAsBoolean);
    }
}
