package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorRegion;
import io.chimedialer.emulator.Scenario;
import io.chimedialer.testkit.Await;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's console in a real browser: Debian's headless Chromium driven through chromedriver against
 * {@code serve} in-process (as ServeControlIT builds it, behind a control token) and the embedded emulator. It logs
 * in (after a wrong token), uploads a list and watches the campaign reach 100 %, downloads the results and compares
 * them with the ledger, slows a Region from the page, starts a campaign from the configuration, pauses, resumes and
 * cancels it, and writes a PNG of each page under {@code target/console-screenshots/}. Without Chromium it fails
 * under CI ({@code CI=true}) and is skipped elsewhere.
 */
class ConsoleBrowserIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "console-it-token";
    private static final String SECRET = "console-it-webhook-secret-0123456789";
    private static final Path SHOTS = Path.of("target", "console-screenshots");
    private static final int CONTACTS = 300;

    @TempDir
    Path dir;

    private ChimeEmulator emulator;
    private DialerRuntime runtime;
    private Browser browser;
    private String base;
    private final Set<Path> uploadsBefore = uploads();

    @BeforeEach
    void start() throws Exception {
        if (!Browser.installed()) {
            String why = "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(why + ": .ci/run installs them");
            }
            Assumptions.abort(why);
        }
        // Chromium starts while the emulator and the dialer do.
        Path profile = Files.createDirectories(dir.resolve("profile"));
        Files.createDirectories(Path.of("target"));
        java.util.concurrent.CompletableFuture<Browser> starting = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return Browser.start(profile, Path.of("target", "console-chromedriver.log"));
                    } catch (Exception e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                });
        try {
            startDialer();
        } finally {
            browser = starting.get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private void startDialer() throws Exception {
        List<EmulatorRegion> regions = new ArrayList<>();
        for (EmulatorRegion r : EmulatorRegion.defaults()) {
            regions.add(new EmulatorRegion(r.name(), r.sipMediaApplicationId(), r.fromNumbers(), 100, 100, 200));
        }
        Scenario scenario = Scenario.builder().ringMs(1000, 3000).talkMs(2000, 6000).noAnswerMs(5000).build();
        emulator = ChimeEmulator.builder().regions(regions).scenario(scenario).timeScale(0.2).seed(19).start();
        Files.writeString(dir.resolve("slow.csv"), contacts(200, 5000), StandardCharsets.UTF_8);
        StringBuilder yaml = ServedDialer.header(dir);
        for (EmulatorRegion r : regions) {
            ServedDialer.region(yaml, r,
                    "calls-per-second: 50\nburst: 2\nmax-active-calls: 100\nupdate-calls-per-second: 50\n");
        }
        yaml.append("campaigns:\n")
                .append("  fast:\n    regions: { us-east-1: 1, us-west-2: 1 }\n")
                .append("  slow:\n    contacts: slow.csv\n    regions: [us-west-2]\n");
        runtime = ServedDialer.start(ServedDialer.load(dir, yaml.toString(), emulator, SECRET, TOKEN), emulator);
        base = "http://127.0.0.1:" + runtime.port();
    }

    @AfterEach
    void stop() throws IOException {
        if (browser != null) {
            browser.close();
        }
        if (runtime != null) {
            runtime.close();
        }
        if (emulator != null) {
            emulator.close();
        }
        for (Path upload : uploads()) {
            if (!uploadsBefore.contains(upload)) {
                Files.deleteIfExists(upload);
            }
        }
    }

    @Test
    void console_loginUploadProgressResultsPauseResume_inChromium() throws Exception {
        // Not logged in: the console sends the login page; a wrong token is refused there.
        browser.get(base + "/");
        assertThat(browser.url()).isEqualTo(base + "/console/login");
        browser.type("#token", "not-the-token");
        browser.keys("#token", "\uE007"); // Enter: the form is usable from the keyboard
        assertThat(browser.text("p.error")).isEqualTo("That is not the control token.");
        browser.screenshot(SHOTS.resolve("01-login.png"));
        browser.type("#token", TOKEN);
        submit("button[type=submit]", base + "/console/");
        JsonNode cookie = cookie();
        assertThat(cookie.path("httpOnly").asBoolean()).isTrue();
        assertThat(cookie.path("sameSite").asText()).isEqualTo("Strict");

        // Upload a list for the configured campaign "fast" and watch it reach 100 % on its page (refreshed by script).
        Path list = dir.resolve("fast-list.csv");
        Files.writeString(list, contacts(CONTACTS, 0), StandardCharsets.UTF_8);
        browser.get(base + "/console/start");
        browser.type("#upload-campaign", "fast");
        browser.type("#upload-file", list.toAbsolutePath().toString());
        browser.screenshot(SHOTS.resolve("02-start.png"));
        submit("#start-upload", base + "/console/campaigns/fast?done=started");
        assertThat(browser.text("p.notice")).isEqualTo("The campaign was started.");
        String loadedAt = browser.text("#updated");
        Await.upTo(Duration.ofSeconds(60), "campaign fast COMPLETED at 100% on its page").pollEvery(
                Duration.ofMillis(250)).until(() -> browser.text("#summary").contains("COMPLETED")
                && browser.text("#summary .percent").equals("100%") && browser.find("#chart svg") != null);
        assertThat(browser.text("#updated")).as("the figures were refreshed by the page's script")
                .isNotEqualTo(loadedAt);
        JsonNode status = api("fast");
        assertThat(browser.text("#summary")).contains("Contacts done\n" + CONTACTS + "/" + CONTACTS)
                .contains("Attempts\n" + status.path("attempts").asLong());
        browser.screenshot(SHOTS.resolve("03-campaign-completed.png"));

        // Download the results through the page's link (with the browser's session) and compare with the ledger.
        JsonNode download = fetch("results");
        assertThat(download.path("type").asText()).startsWith("text/csv");
        List<String> lines = download.path("body").asText().lines().toList();
        assertThat(lines.get(0)).isEqualTo(io.chimedialer.core.ledger.LedgerExport.HEADER_LINE);
        List<Ledger.AttemptRecord> ledger = runtime.ledger().attempts("fast").collectList()
                .block(Duration.ofSeconds(30));
        assertThat(ledger).isNotNull();
        assertThat(lines).hasSize(ledger.size() + 1);
        assertThat(ledger.stream().filter(a -> !a.withdrawn()).count()).isEqualTo(status.path("attempts").asLong())
                .isGreaterThanOrEqualTo(CONTACTS);
        int disposition = io.chimedialer.core.ledger.LedgerExport.COLUMNS.indexOf("disposition");
        Map<String, Long> fromCsv = lines.stream().skip(1)
                .map(l -> l.split(",", -1)[disposition])
                .collect(Collectors.groupingBy(d -> d, TreeMap::new, Collectors.counting()));
        Map<String, Long> fromLedger = ledger.stream()
                // A withdrawn attempt (its Create refused for a reason not the contact's, dialed again later) is a
                // row of its own in the results, disposition WITHDRAWN.
                .map(a -> a.withdrawn() ? "WITHDRAWN" : a.result() == null ? "" : a.result().disposition().name())
                .collect(Collectors.groupingBy(d -> d, TreeMap::new, Collectors.counting()));
        assertThat(fromCsv).isEqualTo(fromLedger);
        // Each contact's final status: one row per contact of the list, as the ledger holds them; and the opt-outs.
        List<String> contactLines = fetch("contacts").path("body").asText().lines().toList();
        assertThat(contactLines.get(0)).isEqualTo(io.chimedialer.core.ledger.LedgerExport.CONTACTS_HEADER_LINE);
        List<Ledger.ContactProgress> contacts = runtime.ledger().contacts("fast").collectList()
                .block(Duration.ofSeconds(30));
        assertThat(contacts).hasSize(CONTACTS);
        int statusColumn = 2;
        Map<String, Long> statusesFromCsv = contactLines.stream().skip(1).map(l -> l.split(",", -1)[statusColumn])
                .collect(Collectors.groupingBy(d -> d, TreeMap::new, Collectors.counting()));
        Map<String, Long> statusesInLedger = contacts.stream().collect(Collectors.groupingBy(
                Ledger.ContactProgress::status, TreeMap::new, Collectors.counting()));
        assertThat(statusesFromCsv).isEqualTo(statusesInLedger);
        java.net.http.HttpResponse<String> fromApi = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(URI.create(base + "/v1/campaigns/fast/contacts"))
                        .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(30)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(fromApi.statusCode()).isEqualTo(200);
        assertThat(fromApi.body().lines().toList()).isEqualTo(contactLines);
        assertThat(fetch("opt-outs").path("body").asText()).startsWith("# Opt-outs the ledger holds for campaign fast");
        // ... and the page's table by disposition says the same.
        for (Map.Entry<String, Long> e : fromLedger.entrySet()) {
            if (e.getKey().equals("WITHDRAWN")) {
                continue; // not a disposition: the page counts them under "Withdrawn (dialed again)"
            }
            assertThat(browser.text("#outcomes tr[data-disposition='" + e.getKey() + "'] td"))
                    .as(e.getKey()).isEqualTo(Long.toString(e.getValue()));
        }

        // Slow us-west-2 down from the page, so that the next campaign runs long enough to pause.
        browser.script("document.getElementById('rate-region').value = 'us-west-2';");
        browser.type("#rate-cps", "2");
        submit("#set-rate", base + "/console/campaigns/fast?done=rate");
        assertThat(browser.text("p.notice")).isEqualTo("The Region's rate was changed.");
        assertThat(runtime.regions().get("us-west-2").rate().configuredRate()).isEqualTo(2.0);

        // Start "slow" from the configuration, pause it, resume it.
        browser.get(base + "/console/start");
        browser.type("#config-campaign", "slow");
        submit("#start-config", base + "/console/campaigns/slow?done=started");
        Await.upTo(Duration.ofSeconds(20), "slow dialing").until(() -> api("slow").path("attempts").asLong() >= 3);
        submit("#pause", base + "/console/campaigns/slow?done=pause");
        assertThat(browser.text("p.notice")).isEqualTo("The campaign was paused.");
        assertThat(browser.text("#summary")).contains("State\nPAUSED");
        assertThat(api("slow").path("state").asText()).isEqualTo("PAUSED");
        browser.screenshot(SHOTS.resolve("04-campaign-paused.png"));

        browser.get(base + "/console/");
        Await.upTo(Duration.ofSeconds(10), "both campaigns listed").until(() ->
                browser.text("tr[data-campaign='slow'] td[data-field='state']").equals("PAUSED")
                        && browser.text("tr[data-campaign='fast'] td[data-field='progress']").equals("100%"));
        assertThat(browser.text("tr[data-campaign='fast'] td[data-field='state']")).isEqualTo("COMPLETED");
        assertThat(browser.text("tr[data-campaign='fast'] td[data-field='done']")).isEqualTo(CONTACTS + "/" + CONTACTS);
        browser.screenshot(SHOTS.resolve("05-campaigns.png"));

        submit("tr[data-campaign='slow'] th a", base + "/console/campaigns/slow");
        submit("#resume", base + "/console/campaigns/slow?done=resume");
        assertThat(browser.text("p.notice")).isEqualTo("The campaign was resumed.");
        assertThat(api("slow").path("state").asText()).isEqualTo("RUNNING");
        long before = api("slow").path("attempts").asLong();
        Await.upTo(Duration.ofSeconds(20), "slow dialing again after resume").until(() ->
                api("slow").path("attempts").asLong() > before);
        Await.upTo(Duration.ofSeconds(10), "the page shows RUNNING").until(() ->
                browser.text("#summary").contains("State\nRUNNING"));
        browser.screenshot(SHOTS.resolve("06-campaign-running.png"));

        // Cancel (the page asks first), and the list of campaigns shows it.
        browser.click("#cancel");
        Await.upTo(Duration.ofSeconds(10), "the page's question before a cancel").until(() -> {
            try {
                browser.acceptAlert();
                return true;
            } catch (IllegalStateException noAlertYet) {
                return false;
            }
        });
        Await.upTo(Duration.ofSeconds(20), "the page after the cancel").until(() ->
                browser.url().equals(base + "/console/campaigns/slow?done=cancel"));
        assertThat(browser.text("p.notice")).isEqualTo("The campaign is being cancelled.");
        Await.upTo(Duration.ofSeconds(30), "slow CANCELLED").until(() ->
                api("slow").path("state").asText().equals("CANCELLED"));
        // Logging out ends the session: the console sends the login page again.
        submit("header form.logout button", base + "/console/login");
        browser.get(base + "/console/campaigns/fast");
        assertThat(browser.url()).isEqualTo(base + "/console/login");
    }

    /** Clicks (a form's button or a link) and waits for the page it leads to. */
    private void submit(String css, String expectedUrl) throws Exception {
        browser.click(css);
        Await.upTo(Duration.ofSeconds(20), "the page " + expectedUrl + " after clicking " + css)
                .withContext(() -> {
                    try {
                        return browser.url() + ": " + browser.text("main");
                    } catch (Exception e) {
                        return e.toString();
                    }
                })
                .until(() -> browser.url().equals(expectedUrl) && "complete".equals(
                        browser.script("return document.readyState;").asText()));
    }

    /** The target of the campaign page's link of this id, fetched by the page (with the browser's session). */
    private JsonNode fetch(String linkId) throws Exception {
        String href = browser.script("return document.getElementById(arguments[0]).href;", linkId).asText();
        JsonNode download = browser.asyncScript("const done = arguments[arguments.length - 1];"
                + "fetch(arguments[0]).then(r => r.text().then(t => done({status: r.status, "
                + "type: r.headers.get('content-type'), body: t}))).catch(e => done({status: -1, body: String(e)}));",
                href);
        assertThat(download.path("status").asInt()).as(download.path("body").asText()).isEqualTo(200);
        return download;
    }

    private JsonNode cookie() throws Exception {
        for (JsonNode c : browser.cookies()) {
            if (c.path("name").asText().equals("dialer_console")) {
                return c;
            }
        }
        throw new AssertionError("no session cookie in " + browser.cookies());
    }

    /** The control API's status of a campaign, as the console reads it. */
    private JsonNode api(String campaign) {
        return runtime.campaigns().status(campaign).block(Duration.ofSeconds(30));
    }

    private static Set<Path> uploads() {
        try (Stream<Path> files = Files.list(CampaignManager.UPLOADS)) {
            return files.collect(Collectors.toSet());
        } catch (IOException e) {
            return Set.of();
        }
    }

    /** Distinct valid US numbers, one per row. */
    private static String contacts(int n, int offset) {
        StringBuilder csv = new StringBuilder("id,phone,name\n");
        for (int i = offset; i < offset + n; i++) {
            csv.append('c').append(i).append(",+1312").append(400 + i / 10_000)
                    .append(String.format("%04d", i % 10_000)).append(",Person ").append(i).append('\n');
        }
        return csv.toString();
    }
}
