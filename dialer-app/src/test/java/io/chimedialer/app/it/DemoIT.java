package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.app.DialerMain;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@code ./dialer demo} in-process with its default campaign (config/campaigns/demo.yaml): it exits 0, prints the
 * summary, and its report adds up and agrees with the embedded emulator's own counters (issue 6's acceptance).
 */
class DemoIT {
    private static final Path REPO = Path.of("").toAbsolutePath().getParent();

    @TempDir
    Path dir;

    private String previousHome;
    private PrintStream previousOut;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    @BeforeEach
    void redirect() {
        previousHome = System.getProperty("dialer.home");
        System.setProperty("dialer.home", REPO.toString());
        previousOut = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(previousOut);
        if (previousHome == null) {
            System.clearProperty("dialer.home");
        } else {
            System.setProperty("dialer.home", previousHome);
        }
    }

    @Test
    void demo_defaults_exitsZeroPrintsSummaryAndReportAddsUp() throws Exception {
        Path report = dir.resolve("report.json");
        Path results = dir.resolve("results.csv");

        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        root.addAppender(logs);
        int code;
        try {
            code = DialerMain.commandLine().execute("demo", "--report", report.toString(),
                    "--results", results.toString());
        } finally {
            root.detachAppender(logs);
        }

        String out = captured.toString(StandardCharsets.UTF_8);
        previousOut.println(out);
        assertThat(code).as(out).isZero();
        assertThat(out).contains("Campaign demo: COMPLETED in ").contains("  Contacts").contains("  Attempts ")
                .contains("  Regions ").contains("  Report:  " + report.toAbsolutePath())
                .contains("  Results: " + results.toAbsolutePath());

        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertThat(json.path("campaign").asText()).isEqualTo("demo");
        assertThat(json.path("state").asText()).isEqualTo("COMPLETED");
        JsonNode c = json.path("contacts");
        long total = c.path("total").asLong();
        // The sample list: 200 rows, some invalid, some duplicated, some on the DNC list.
        assertThat(total).isEqualTo(200);
        assertThat(c.path("invalid").asLong()).isPositive();
        assertThat(c.path("duplicate").asLong()).isPositive();
        assertThat(c.path("suppressed").asLong()).isPositive();
        assertThat(c.path("windowExpired").asLong()).isZero();
        assertThat(c.path("notReached").asLong()).isZero();
        assertThat(total).isEqualTo(c.path("dialed").asLong() + c.path("invalid").asLong()
                + c.path("duplicate").asLong() + c.path("suppressed").asLong() + c.path("waiting").asLong());

        long attempts = json.path("attempts").asLong();
        JsonNode emulator = json.path("emulator");
        assertThat(emulator.isObject()).as("the report's emulator section").isTrue();
        assertThat(attempts).isGreaterThanOrEqualTo(c.path("dialed").asLong());
        // Every call the emulator created is an attempt of the report. An attempt whose Create timed out in the
        // client before it reached the emulator (a loaded machine) has no call there, and its outcome is UNKNOWN.
        long created = emulator.path("created").asLong();
        assertThat(created).isLessThanOrEqualTo(attempts);
        assertThat(attempts - created).as("attempts the emulator never saw, each UNKNOWN")
                .isLessThanOrEqualTo(json.path("outcomes").path("UNKNOWN").asLong());
        assertThat(emulator.path("active").asLong()).isZero();
        assertThat(emulator.path("endedTwice").asLong()).isZero();
        long outcomes = 0;
        for (JsonNode n : json.path("outcomes")) {
            outcomes += n.asLong();
        }
        assertThat(outcomes).isEqualTo(attempts);
        assertThat(json.path("outcomes").path("ANSWERED").asLong())
                .isEqualTo(emulator.path("dispositions").path("answered").asLong());
        long regionAttempts = 0;
        for (JsonNode r : json.path("regions")) {
            regionAttempts += r.path("attempts").asLong();
        }
        assertThat(regionAttempts).isEqualTo(attempts);

        List<String> rows = Files.readAllLines(results, StandardCharsets.UTF_8);
        assertThat(rows).hasSize((int) attempts + 1);

        // Logs: state changes, not a line per call at INFO, and never a whole number.
        List<ILoggingEvent> events;
        synchronized (logs) {
            events = List.copyOf(logs.list);
        }
        List<String> campaignInfo = events.stream()
                .filter(e -> e.getLevel() == Level.INFO && e.getLoggerName().endsWith(".CampaignRun"))
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(campaignInfo).as("CampaignRun's INFO lines").hasSizeLessThanOrEqualTo(5)
                .anyMatch(m -> m.startsWith("campaign demo started"))
                .anyMatch(m -> m.startsWith("campaign demo completed"));
        assertThat(events).extracting(ILoggingEvent::getFormattedMessage)
                .noneMatch(m -> m.matches("(?s).*\\+1\\d{10}.*"));
    }
}
