package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.chimedialer.app.cli.ServeCommand;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.calls.CallRegistry;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerOptions;
import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.EmulatorStats;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.testkit.Await;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@code dialer serve} in-process, as ServeCommand builds it (DialerRuntime with the control API, the loaded
 * configuration, a bearer token), against the embedded emulator: every control operation is checked against
 * the emulator's ground truth (issue 6's acceptance).
 */
class ServeControlIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "it-control-token";
    private static final String SECRET = "it-webhook-secret-0123456789abcdef";
    private static final String EAST = "us-east-1";
    private static final String WEST = "us-west-2";
    private static final double CPS = 5;

    @TempDir
    Path dir;

    private ChimeEmulator emulator;
    private DialerRuntime runtime;
    private DialerConfig loaded;
    private HttpClient http;
    private URI base;
    private final List<Runnable> detach = new ArrayList<>();
    /** The runtime was stopped by the test (ServeCommand.stop closes it). */
    private boolean stopped;

    @BeforeEach
    void start() throws Exception {
        List<EmulatorRegion> regions = new ArrayList<>();
        for (EmulatorRegion r : EmulatorRegion.defaults()) {
            // Quotas above the dialer's rates: no throttling, so every attempt is exactly one created call.
            regions.add(new EmulatorRegion(r.name(), r.sipMediaApplicationId(), r.fromNumbers(), 50, 100, 200));
        }
        // Calls last 1-3 s (after the time scale), so some are live when the campaign is cancelled.
        Scenario scenario = Scenario.builder().ringMs(1000, 3000).talkMs(5000, 15000).noAnswerMs(10_000).build();
        emulator = ChimeEmulator.builder().regions(regions).scenario(scenario).timeScale(0.2).seed(11).start();

        Path contacts = dir.resolve("alpha.csv");
        writeContacts(contacts, 600, 0);
        loaded = ServedDialer.load(dir, config(regions), emulator, SECRET, TOKEN);
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        startServe();
    }

    /** What ServeCommand does, on port 0, on the test's ledger. */
    private void startServe() {
        runtime = ServedDialer.start(loaded, emulator);
        base = URI.create("http://127.0.0.1:" + runtime.port());
    }

    @AfterEach
    void stop() {
        detach.forEach(Runnable::run);
        if (runtime != null && !stopped) {
            runtime.close();
        }
        if (emulator != null) {
            emulator.close();
        }
    }

    private String config(List<EmulatorRegion> regions) {
        StringBuilder yaml = ServedDialer.header(dir);
        for (EmulatorRegion r : regions) {
            ServedDialer.region(yaml, r, "calls-per-second: " + CPS
                    + "\nburst: 1\nmax-active-calls: 60\nupdate-calls-per-second: 50\n");
        }
        return yaml.append("campaigns:\n")
                .append("  alpha:\n    contacts: alpha.csv\n    regions: { us-east-1: 1, us-west-2: 1 }\n")
                .append("  beta:\n    regions: [us-west-2]\n")
                .toString();
    }

    /** Distinct valid US numbers, one per row. */
    private static String contacts(int n, int offset) {
        StringBuilder csv = new StringBuilder("id,phone,name\n");
        for (int i = offset; i < offset + n; i++) {
            csv.append('c').append(i).append(",+1312").append(200 + i / 10_000).append(String.format("%04d", i % 10_000))
                    .append(",Person ").append(i).append('\n');
        }
        return csv.toString();
    }

    private static void writeContacts(Path file, int n, int offset) throws IOException {
        Files.writeString(file, contacts(n, offset), StandardCharsets.UTF_8);
    }

    @Test
    void controlApi_withoutOrWithWrongToken_401AndNothingStarts() throws Exception {
        HttpResponse<String> list = send("GET", "/v1/campaigns", null, null);
        HttpResponse<String> start = send("POST", "/v1/campaigns", null, "{\"campaign\":\"alpha\"}");
        HttpResponse<String> wrong = send("POST", "/v1/campaigns", "not-the-token", "{\"campaign\":\"alpha\"}");
        HttpResponse<String> rate = send("POST", "/v1/regions/us-east-1/rate", null, "{\"calls-per-second\":1}");

        assertThat(list.statusCode()).isEqualTo(401);
        assertThat(list.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(start.statusCode()).isEqualTo(401);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(rate.statusCode()).isEqualTo(401);
        assertThat(runtime.campaigns().ids()).isEmpty();
        assertThat(runtime.regions().get(EAST).rate().configuredRate()).isEqualTo(CPS);
        // No campaign exists (above), so nothing can dial: the emulator's count is the ground truth of that.
        assertThat(emulator.stats().created()).isZero();
        // /metrics and the health endpoints stay open.
        assertThat(send("GET", "/healthz", null, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/readyz", null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void campaignFromConfig_pauseResumeRateCancel_followsEmulatorGroundTruth() throws Exception {
        // Start by name from the configuration.
        JsonNode started = ok(send("POST", "/v1/campaigns", TOKEN, "{\"campaign\":\"alpha\"}"));
        assertThat(started.path("id").asText()).isEqualTo("alpha");
        assertThat(started.path("state").asText()).isIn("RUNNING", "STARTING");
        await(() -> emulator.stats().created() >= 15, Duration.ofSeconds(20), "15 calls created");

        // Pause: once the Creates already sent have settled, not one more Create reaches the emulator.
        JsonNode paused = ok(send("POST", "/v1/campaigns/alpha/pause", TOKEN, null));
        assertThat(paused.path("state").asText()).isEqualTo("PAUSED");
        long createdWhilePaused = awaitCreatesSettled(runtime, "alpha");
        Await.holdsFor(Duration.ofSeconds(2), "no Create while paused (" + createdWhilePaused + " before)",
                () -> emulator.stats().created() == createdWhilePaused);
        assertThat(ok(send("GET", "/v1/campaigns/alpha", TOKEN, null)).path("state").asText()).isEqualTo("PAUSED");

        // Resume: dialing goes on.
        assertThat(ok(send("POST", "/v1/campaigns/alpha/resume", TOKEN, null)).path("state").asText())
                .isEqualTo("RUNNING");
        await(() -> emulator.stats().created() >= createdWhilePaused + 10, Duration.ofSeconds(20),
                "10 more calls created after resume");

        // A live rate change: us-east-1 from 5 to 2 calls per second.
        JsonNode rate = ok(send("POST", "/v1/regions/us-east-1/rate", TOKEN, "{\"calls-per-second\":2}"));
        Instant changed = Instant.now();
        assertThat(rate.path("configuredCallsPerSecond").asDouble()).isEqualTo(2.0);
        assertThat(runtime.regions().get(EAST).rate().configuredRate()).isEqualTo(2.0);
        // Ceiling: no 1-second window after the change (the first 0.5 s lets the limiter's current period end)
        // holds more than the new rate + 1 Creates in us-east-1; us-west-2 keeps its own rate. Judged over the
        // first 6 us-east-1 Creates after it (about 3 s at the new rate).
        Instant from = changed.plusMillis(500);
        List<Instant> east = Await.upTo(Duration.ofSeconds(30), "6 us-east-1 Creates after the rate change")
                .untilValue(() -> createTimes(EAST, from, Instant.MAX), times -> times.size() >= 6);
        Instant to = east.get(east.size() - 1).plusNanos(1);
        assertThat(maxInOneSecond(east)).as("us-east-1 Creates in any one second after the change: %s", east)
                .isLessThanOrEqualTo(3);
        assertThat(createTimes(WEST, from, to)).isNotEmpty();

        // Cancel with calls in progress: they are hung up through UpdateSipMediaApplicationCall.
        long live = ok(send("GET", "/v1/campaigns/alpha", TOKEN, null)).path("live").asLong();
        assertThat(live).as("live calls before cancel").isPositive();
        JsonNode cancelled = ok(send("POST", "/v1/campaigns/alpha/cancel", TOKEN, null));
        assertThat(cancelled.path("state").asText()).isIn("CANCELLING", "CANCELLED");
        await(() -> state("alpha").equals("CANCELLED"), Duration.ofSeconds(30), "campaign CANCELLED");
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();

        EmulatorStats stats = emulator.stats();
        assertThat(stats.updates()).as("UpdateSipMediaApplicationCall hang-ups").isPositive();
        assertThat(stats.active()).isZero();
        assertThat(stats.ended()).isEqualTo(stats.created());
        assertThat(stats.throttled()).isZero();
        assertThat(stats.duplicateNumbers()).isZero();
        assertThat(emulator.calls()).filteredOn(c -> "applicationHangup".equals(c.endReason())).isNotEmpty();

        // The status counters against the ground truth.
        JsonNode status = ok(send("GET", "/v1/campaigns/alpha", TOKEN, null));
        long attempts = status.path("attempts").asLong();
        assertThat(attempts).isEqualTo(stats.created()).isEqualTo(callsOf("alpha").size());
        assertThat(sum(status.path("outcomes"))).isEqualTo(attempts);
        assertThat(status.path("contacts").path("dialed").asLong()).isEqualTo(attempts);
        assertThat(status.path("live").asLong()).isZero();
        JsonNode regions = status.path("regions");
        assertThat(regions.path(EAST).path("attempts").asLong() + regions.path(WEST).path("attempts").asLong())
                .isEqualTo(attempts);
        assertThat(regions.path(EAST).path("attempts").asLong()).isEqualTo(stats.regions().get(EAST).created());
        assertThat(regions.path(WEST).path("attempts").asLong()).isEqualTo(stats.regions().get(WEST).created());
        long answered = emulator.calls().stream().filter(c -> c.answered() != null).count();
        assertThat(status.path("outcomes").path("ANSWERED").asLong()).isEqualTo(answered);
        assertThat(status.path("ledger").path("state").asText()).isEqualTo("CANCELLED");

        // Started again after the cancel, it resumes: every contact the cancel left (never sent, or never read) is
        // dialed now, and none twice. Nothing the cancel withheld was left open (UNKNOWN) in the ledger.
        fullSpeed();
        ok(send("POST", "/v1/campaigns", TOKEN, "{\"campaign\":\"alpha\"}"));
        await(() -> state("alpha").equals("COMPLETED"), Duration.ofSeconds(180), "relaunched campaign COMPLETED");
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        assertThat(emulator.stats().duplicateNumbers()).isZero();
        assertThat(callsOf("alpha")).extracting(CallRecord::to).doesNotHaveDuplicates().hasSize(600);
        JsonNode after = ok(send("GET", "/v1/campaigns/alpha", TOKEN, null));
        assertThat(after.path("outcomes").path("UNKNOWN").asLong()).isZero();
        assertThat(sum(after.path("ledger").path("contactsByStatus"))).isEqualTo(600);
    }

    @Test
    void campaignWithUploadedContacts_runsToCompletion_countersMatchEmulator() throws Exception {
        runtime.campaigns().progressLogInterval(Duration.ofMillis(300));
        ListAppender<ILoggingEvent> logs = capture(CampaignManager.class);
        ObjectNode request = JSON.createObjectNode().put("campaign", "beta").put("contacts-csv", contacts(12, 5_000)
                + "bad,12345,Invalid Row\n");

        JsonNode started = ok(send("POST", "/v1/campaigns", TOKEN, JSON.writeValueAsString(request)));

        assertThat(started.path("id").asText()).isEqualTo("beta");
        await(() -> state("beta").equals("COMPLETED"), Duration.ofSeconds(60), "campaign beta COMPLETED");
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        JsonNode status = ok(send("GET", "/v1/campaigns/beta", TOKEN, null));
        List<CallRecord> calls = callsOf("beta");
        assertThat(status.path("contacts").path("total").asLong()).isEqualTo(13);
        assertThat(status.path("contacts").path("invalid").asLong()).isEqualTo(1);
        assertThat(status.path("contacts").path("dialed").asLong()).isEqualTo(12);
        assertThat(status.path("attempts").asLong()).isEqualTo(calls.size()).isEqualTo(emulator.stats().created());
        assertThat(sum(status.path("outcomes"))).isEqualTo(calls.size());
        assertThat(calls).allMatch(c -> c.region().equals(WEST));
        assertThat(calls).extracting(CallRecord::to).doesNotHaveDuplicates().hasSize(12);
        // The list endpoint knows it too.
        assertThat(ok(send("GET", "/v1/campaigns", TOKEN, null)).path("campaigns").findValuesAsText("id"))
                .containsExactly("beta");
        // Progress lines at INFO, by interval, never naming a number.
        List<String> progress = messages(logs).stream().filter(m -> m.startsWith("campaign beta progress: ")).toList();
        assertThat(progress).isNotEmpty();
        assertThat(progress.size()).as("progress lines, not per call").isLessThan(calls.size() * 3);
        assertThat(messages(logs)).noneMatch(m -> m.matches(".*\\+?1312\\d{7}.*"));
    }

    @Test
    void stop_likeSigterm_noMoreCreatesLiveCallsEndAndLedgerHoldsEveryOutcome() throws Exception {
        ok(send("POST", "/v1/campaigns", TOKEN, "{\"campaign\":\"alpha\"}"));
        await(() -> emulator.stats().created() >= 10, Duration.ofSeconds(20), "10 calls created");

        long left = ServeCommand.stop(runtime, Duration.ofSeconds(30));
        stopped = true;

        assertThat(left).as("live calls left after the drain").isZero();
        long created = emulator.stats().created();
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        Await.holdsFor(Duration.ofMillis(500), "no Create after stop (" + created + " before)",
                () -> emulator.stats().created() == created);
        // The runtime is closed: the ledger was flushed. Reopen it and read what it holds.
        try (Ledger ledger = JdbcLedger.open(LedgerOptions.of("jdbc:sqlite:" + dir.resolve("ledger.db"),
                Clock.systemUTC()))) {
            List<Ledger.AttemptRecord> all = ledger.attempts("alpha").collectList().block(Duration.ofSeconds(30));
            // Every placed call is in the ledger with its outcome; admitted calls the pause kept from their Create
            // are withdrawn (never sent: no TransactionId, no outcome), so a restart dials their contacts.
            List<Ledger.AttemptRecord> placed = all.stream().filter(a -> a.transactionId() != null).toList();
            assertThat(placed).hasSize((int) created);
            assertThat(placed).allMatch(a -> a.result() != null, "has an outcome");
            assertThat(placed).extracting(Ledger.AttemptRecord::transactionId)
                    .containsExactlyInAnyOrderElementsOf(callsOf("alpha").stream().map(CallRecord::transactionId)
                            .toList());
            assertThat(all).filteredOn(a -> a.transactionId() == null).allMatch(a -> a.result() == null
                    && a.withdrawn(), "withdrawn: never sent");
            assertThat(ledger.campaign("alpha").block(Duration.ofSeconds(10)).state())
                    .as("a shutdown's pause is not the operator's").isEqualTo(Ledger.CampaignState.RUNNING);
        }
    }

    @Test
    void restart_runningCampaignResumes_pausedOneListedFromTheLedgerAndResumedByItsAction_noContactLost()
            throws Exception {
        ok(send("POST", "/v1/campaigns", TOKEN, "{\"campaign\":\"alpha\"}"));
        await(() -> emulator.stats().created() >= 40, Duration.ofSeconds(30), "40 calls created");
        ok(send("POST", "/v1/campaigns/alpha/pause", TOKEN, null));
        ServeCommand.stop(runtime, Duration.ofSeconds(30));

        // Restarted: the campaign was paused by its operator, so it is listed (from the ledger), not running.
        startServe();
        assertThat(runtime.campaigns().restore(true)).isEmpty();
        JsonNode list = ok(send("GET", "/v1/campaigns", TOKEN, null)).path("campaigns");
        assertThat(list).hasSize(1);
        assertThat(list.get(0).path("id").asText()).isEqualTo("alpha");
        assertThat(list.get(0).path("state").asText()).isEqualTo("PAUSED");
        assertThat(list.get(0).path("running").asBoolean()).isFalse();
        long placedBefore = emulator.stats().created();
        assertThat(sum(list.get(0).path("ledger").path("contactsByStatus"))).as("contacts the ledger holds")
                .isGreaterThanOrEqualTo(placedBefore);

        // Its resume starts it again from the ledger; then a stop like SIGTERM while it runs, and a restart.
        ok(send("POST", "/v1/campaigns/alpha/resume", TOKEN, null));
        await(() -> emulator.stats().created() >= placedBefore + 40, Duration.ofSeconds(30), "40 more calls");
        ServeCommand.stop(runtime, Duration.ofSeconds(30));
        startServe();
        fullSpeed();
        assertThat(runtime.campaigns().restore(true)).containsExactly("alpha");

        await(() -> state("alpha").equals("COMPLETED"), Duration.ofSeconds(180), "campaign alpha COMPLETED");
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        // Every contact dialed exactly once over the three processes; none left behind.
        assertThat(emulator.stats().duplicateNumbers()).isZero();
        assertThat(callsOf("alpha")).extracting(CallRecord::to).doesNotHaveDuplicates().hasSize(600);
        JsonNode status = ok(send("GET", "/v1/campaigns/alpha", TOKEN, null));
        JsonNode byStatus = status.path("ledger").path("contactsByStatus");
        assertThat(sum(byStatus)).as("contacts in the ledger over the campaign's life").isEqualTo(600);
        assertThat(byStatus.has("IN_PROGRESS") || byStatus.has("WITHDRAWN")).as(byStatus.toString()).isFalse();
        assertThat(status.path("ledger").path("state").asText()).isEqualTo("COMPLETED");

        // The results over the campaign's three processes, from the control API: every call, with its outcome.
        HttpResponse<String> results = send("GET", "/v1/campaigns/alpha/results", TOKEN, null);
        assertThat(results.statusCode()).isEqualTo(200);
        assertThat(results.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("text/csv"));
        List<String> lines = results.body().lines().toList();
        assertThat(lines.get(0)).isEqualTo(io.chimedialer.core.ledger.LedgerExport.HEADER_LINE);
        int tx = io.chimedialer.core.ledger.LedgerExport.COLUMNS.indexOf("transaction_id");
        int disposition = io.chimedialer.core.ledger.LedgerExport.COLUMNS.indexOf("disposition");
        List<String[]> calls = lines.stream().skip(1).map(l -> l.split(",", -1))
                .filter(f -> !f[tx].isEmpty()).toList();
        assertThat(calls).extracting(f -> f[tx]).containsExactlyInAnyOrderElementsOf(
                callsOf("alpha").stream().map(CallRecord::transactionId).toList());
        assertThat(calls).allMatch(f -> !f[disposition].isEmpty() && !f[disposition].equals("WITHDRAWN"));
        assertThat(send("GET", "/v1/campaigns/nope/results", TOKEN, null).statusCode()).isEqualTo(404);
        assertThat(send("GET", "/v1/campaigns/alpha/results", null, null).statusCode()).isEqualTo(401);
    }

    /**
     * Issue 16 section 1: a campaign paused and resumed, cancelled and launched again, and stopped like SIGTERM and
     * resumed by a restarted serve, each once at a seeded random point of its run, in a seeded random order. The
     * emulator's ground truth afterwards: every contact was dialed exactly once (none lost to an intent the process
     * knew it never sent, none dialed twice), and the ledger holds each contact final, none UNKNOWN or withdrawn
     * (there are no faults: every Create reached the emulator and was answered).
     */
    @Test
    void interruptions_pauseCancelStopAtRandomPoints_everyContactNotCalledIsDialedLaterAndNoneTwice()
            throws Exception {
        int contacts = 120;
        writeContacts(dir.resolve("alpha.csv"), contacts, 0);
        java.util.Random random = new java.util.Random(16);
        fullSpeed();
        ok(send("POST", "/v1/campaigns", TOKEN, "{\"campaign\":\"alpha\"}"));
        // each of the three once, in a seeded random order, at seeded random points
        List<String> actions = new ArrayList<>(List.of("pause", "cancel", "stop"));
        java.util.Collections.shuffle(actions, random);
        List<String> done = new ArrayList<>();
        for (String action : actions) {
            long target = emulator.stats().created() + 5 + random.nextInt(15);
            await(() -> emulator.stats().created() >= target || state("alpha").equals("COMPLETED"),
                    Duration.ofSeconds(60), target + " calls created");
            if (state("alpha").equals("COMPLETED")) {
                break;
            }
            Thread.sleep(random.nextInt(300)); // between two Creates, or while one is on the wire
            done.add(action);
            switch (action) {
                case "pause" -> {
                    ok(send("POST", "/v1/campaigns/alpha/pause", TOKEN, null));
                    Thread.sleep(random.nextInt(1000));
                    ok(send("POST", "/v1/campaigns/alpha/resume", TOKEN, null));
                }
                case "cancel" -> {
                    ok(send("POST", "/v1/campaigns/alpha/cancel", TOKEN, null));
                    await(() -> state("alpha").equals("CANCELLED"), Duration.ofSeconds(60), "alpha CANCELLED");
                    ok(send("POST", "/v1/campaigns", TOKEN, "{\"campaign\":\"alpha\"}"));
                }
                default -> {
                    ServeCommand.stop(runtime, Duration.ofSeconds(30));
                    startServe();
                    fullSpeed();
                    assertThat(runtime.campaigns().restore(true)).containsExactly("alpha");
                }
            }
        }
        System.out.println("interruptions at random points: " + done);
        await(() -> state("alpha").equals("COMPLETED"), Duration.ofSeconds(180), "campaign alpha COMPLETED");
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        assertThat(emulator.stats().duplicateNumbers()).as("numbers dialed twice").isZero();
        assertThat(callsOf("alpha")).extracting(CallRecord::to).as("every contact dialed once, after " + done)
                .doesNotHaveDuplicates().hasSize(contacts);
        JsonNode byStatus = ok(send("GET", "/v1/campaigns/alpha", TOKEN, null)).path("ledger")
                .path("contactsByStatus");
        assertThat(sum(byStatus)).as(byStatus.toString()).isEqualTo(contacts);
        assertThat(byStatus.has("IN_PROGRESS") || byStatus.has("WITHDRAWN") || byStatus.has("UNKNOWN"))
                .as(byStatus.toString()).isFalse();
    }

    /** Both Regions at 4 times their configured rate (the most a live change allows), to finish sooner. */
    private void fullSpeed() throws IOException, InterruptedException {
        for (String region : List.of(EAST, WEST)) {
            ok(send("POST", "/v1/regions/" + region + "/rate", TOKEN, "{\"calls-per-second\": " + 4 * CPS + "}"));
        }
    }

    private ListAppender<ILoggingEvent> capture(Class<?> type) {
        Logger logger = (Logger) LoggerFactory.getLogger(type);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        detach.add(() -> logger.detachAppender(appender));
        return appender;
    }

    private static List<String> messages(ListAppender<ILoggingEvent> appender) {
        synchronized (appender) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Test
    void controlApi_badRequests_clearStatuses() throws Exception {
        HttpResponse<String> unknown = send("POST", "/v1/campaigns", TOKEN, "{\"campaign\":\"nope\"}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        // The campaign is named, the configuration file is not.
        assertThat(error(unknown)).isEqualTo("no campaign named 'nope' is configured (configured: alpha, beta)");
        assertThat(send("POST", "/v1/campaigns", TOKEN, "{not json").statusCode()).isEqualTo(400);
        // Strict JSON: trailing garbage is refused, and the rate stays.
        HttpResponse<String> trailing = send("POST", "/v1/regions/us-east-1/rate", TOKEN,
                "{\"calls-per-second\": 0.5} }{");
        assertThat(trailing.statusCode()).isEqualTo(400);
        assertThat(error(trailing)).startsWith("the body is not valid JSON at line 1, column 27");
        assertThat(send("GET", "/v1/campaigns/nope", TOKEN, null).statusCode()).isEqualTo(404);
        assertThat(send("POST", "/v1/regions/eu-west-9/rate", TOKEN, "{\"calls-per-second\":1}").statusCode())
                .isEqualTo(404);
        assertThat(send("POST", "/v1/regions/us-east-1/rate", TOKEN, "{\"calls-per-second\":0}").statusCode())
                .isEqualTo(400);
        assertThat(runtime.regions().get(EAST).rate().configuredRate()).isEqualTo(CPS);
        assertThat(emulator.stats().created()).isZero();
    }

    @Test
    void resumeOrPauseAfterCancel_409WithTheReason_nothingDialedAgain() throws Exception {
        ok(send("POST", "/v1/campaigns", TOKEN, "{\"campaign\":\"alpha\"}"));
        await(() -> emulator.stats().created() >= 5, Duration.ofSeconds(20), "5 calls created");
        ok(send("POST", "/v1/campaigns/alpha/cancel", TOKEN, null));
        await(() -> state("alpha").equals("CANCELLED"), Duration.ofSeconds(30), "campaign CANCELLED");
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        long created = emulator.stats().created();

        HttpResponse<String> resume = send("POST", "/v1/campaigns/alpha/resume", TOKEN, null);
        HttpResponse<String> pause = send("POST", "/v1/campaigns/alpha/pause", TOKEN, null);
        HttpResponse<String> cancelAgain = send("POST", "/v1/campaigns/alpha/cancel", TOKEN, null);

        assertThat(resume.statusCode()).isEqualTo(409);
        assertThat(error(resume)).isEqualTo("campaign alpha cannot resume: it was cancelled; start it again with"
                + " POST /v1/campaigns");
        assertThat(pause.statusCode()).isEqualTo(409);
        assertThat(cancelAgain.statusCode()).as("cancelling twice is harmless").isEqualTo(200);
        assertThat(state("alpha")).isEqualTo("CANCELLED");
        Await.holdsFor(Duration.ofSeconds(1), "no Create after the refused resume (" + created + " before)",
                () -> emulator.stats().created() == created);
    }

    @Test
    void stoppedWhileCancelling_restartDoesNotResumeTheCancelledCampaign() throws Exception {
        // An emulator that never delivers a call's HANGUP: the cancel hangs the live calls up, and the run stays
        // CANCELLING (waiting for their ends) when the node is stopped, as a SIGTERM right after a cancel does.
        runtime.close();
        emulator.close();
        List<EmulatorRegion> regions = new ArrayList<>();
        for (EmulatorRegion r : EmulatorRegion.defaults()) {
            regions.add(new EmulatorRegion(r.name(), r.sipMediaApplicationId(), r.fromNumbers(), 50, 100, 200));
        }
        emulator = ChimeEmulator.builder().regions(regions).timeScale(0.2).seed(13)
                .faults(new io.chimedialer.emulator.Faults(0, 0, 0, 0, Duration.ZERO, 0, 0, 1.0)).start();
        loaded = ServedDialer.load(dir, config(regions), emulator, SECRET, TOKEN);
        startServe();

        ok(send("POST", "/v1/campaigns", TOKEN, "{\"campaign\":\"alpha\"}"));
        await(() -> emulator.stats().created() >= 20, Duration.ofSeconds(30), "20 calls created");
        JsonNode cancelled = ok(send("POST", "/v1/campaigns/alpha/cancel", TOKEN, null));
        assertThat(cancelled.path("state").asText()).as("the cancel's answer").isEqualTo("CANCELLING");
        ServeCommand.stop(runtime, Duration.ofSeconds(2));
        stopped = true;
        assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();
        long created = emulator.stats().created();

        startServe();
        stopped = false;
        assertThat(runtime.campaigns().restore(true)).as("campaigns resumed at start").isEmpty();
        JsonNode list = ok(send("GET", "/v1/campaigns", TOKEN, null)).path("campaigns");
        assertThat(list).hasSize(1);
        assertThat(list.get(0).path("state").asText()).isEqualTo("CANCELLED");
        Await.holdsFor(Duration.ofSeconds(1), "no Create after the restart (" + created + " before)",
                () -> emulator.stats().created() == created);
    }

    // ---- helpers ----

    private static String error(HttpResponse<String> response) throws IOException {
        return JSON.readTree(response.body()).path("error").asText();
    }

    private List<CallRecord> callsOf(String campaign) {
        return emulator.calls().stream()
                .filter(c -> campaign.equals(c.arguments().get(CallRegistry.ARGUMENT_CAMPAIGN_ID)))
                .toList();
    }

    private List<Instant> createTimes(String region, Instant from, Instant to) {
        return emulator.calls().stream()
                .filter(c -> c.region().equals(region))
                .map(CallRecord::created)
                .filter(t -> !t.isBefore(from) && t.isBefore(to))
                .sorted()
                .toList();
    }

    /** The most timestamps (sorted) within any half-open one-second window. */
    static int maxInOneSecond(List<Instant> sorted) {
        int max = 0;
        int start = 0;
        for (int end = 0; end < sorted.size(); end++) {
            while (!sorted.get(start).plusSeconds(1).isAfter(sorted.get(end))) {
                start++;
            }
            max = Math.max(max, end - start + 1);
        }
        return max;
    }

    private static long sum(JsonNode outcomes) {
        long sum = 0;
        for (JsonNode v : outcomes) {
            sum += v.asLong();
        }
        return sum;
    }

    private String state(String campaign) {
        try {
            return ok(send("GET", "/v1/campaigns/" + campaign, TOKEN, null)).path("state").asText();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void await(BooleanSupplier condition, Duration timeout, String what) {
        Await.upTo(timeout, what).pollEvery(Duration.ofMillis(50)).until(condition::getAsBoolean);
    }

    /**
     * Waits until every Create the dialer has sent is answered (its request metric counts as many as the emulator
     * created: there are no faults here), and returns that count: after a pause, the Creates on the wire settle.
     */
    /**
     * The emulator's Create count once the pause has settled: every intent of the campaign is either withdrawn (the
     * pause kept it from its Create), or has its answer (a TransactionId or an outcome) in the ledger, and the client
     * saw as many Create answers as the emulator counts. A Create that passed its send-time check just before the
     * pause may still be on the wire: its intent is then open without a TransactionId, and this waits for it.
     */
    private long awaitCreatesSettled(DialerRuntime dialer, String campaign) {
        return Await.upTo(Duration.ofSeconds(30), "the Creates sent before the pause answered")
                .untilValue(() -> {
                    List<Ledger.AttemptRecord> attempts = dialer.ledger().attempts(campaign).collectList()
                            .block(Duration.ofSeconds(10));
                    boolean onTheWire = attempts == null || attempts.stream().anyMatch(a -> !a.withdrawn()
                            && a.transactionId() == null && a.result() == null);
                    long answered = dialer.meterRegistry().find("dialer.api.request.duration")
                            .tag("operation", "CreateSipMediaApplicationCall").timers().stream()
                            .mapToLong(Timer::count).sum();
                    long created = emulator.stats().created();
                    return !onTheWire && answered == created ? created : -1;
                }, created -> created >= 0);
    }

    private static JsonNode ok(HttpResponse<String> response) throws IOException {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private HttpResponse<String> send(String method, String path, String token, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (java.net.http.HttpTimeoutException e) {
            // The server runs in this JVM: what its threads were doing says why it did not answer.
            System.out.println(method + " " + path + " timed out; " + io.chimedialer.testkit.ThreadDump.all());
            throw e;
        }
    }
}
