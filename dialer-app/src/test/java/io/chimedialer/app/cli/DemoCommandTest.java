package io.chimedialer.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.emulator.EmulatorRegion;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code dialer demo} with a small configuration of its own. */
class DemoCommandTest {

    @TempDir
    Path dir;

    @Test
    void demo_generatedContacts_dialsThemAndLeavesNoTemporaryDirectory() throws Exception {
        DemoCommand demo = new DemoCommand();

        int code = new CommandLine(demo).execute(args("--contacts", "20", "--time-scale", "0.001"));

        assertThat(code).isZero();
        JsonNode contacts = Reports.JSON.readTree(dir.resolve("report.json").toFile()).get("contacts");
        assertThat(contacts.get("total").asLong()).isEqualTo(20);
        assertThat(demo.workDir).isNotNull().doesNotExist();
    }

    @Test
    void demo_negativeContacts_exit2NamingTheOption() throws Exception {
        Outcome outcome = execute(new DemoCommand(), args("--contacts", "-5"));

        assertThat(outcome.code).isEqualTo(2);
        assertThat(outcome.err.strip()).isEqualTo("dialer demo: --contacts must be at least 1, was -5");
        assertThat(dir.resolve("report.json")).doesNotExist();
    }

    @Test
    void demo_negativeCps_exit2NamingTheOption() throws Exception {
        Outcome outcome = execute(new DemoCommand(), args("--cps", "-1"));

        assertThat(outcome.code).isEqualTo(2);
        assertThat(outcome.err.strip()).startsWith("dialer demo: --cps must be").endsWith("was -1.0");
    }

    private record Outcome(int code, String err) {
    }

    private static Outcome execute(DemoCommand command, String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            return new Outcome(new CommandLine(command).execute(args), buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(old);
        }
    }

    /** The demo's arguments with this test's configuration, report and results files, then {@code more}. */
    String[] args(String... more) throws Exception {
        EmulatorRegion region = EmulatorRegion.defaults().get(0);
        Path config = dir.resolve("dialer.yaml");
        Files.writeString(config, """
                regions:
                  %s:
                    sip-media-application-id: "%s"
                    calls-per-second: 20
                    burst: 2
                    max-active-calls: 10
                    update-calls-per-second: 5
                    from-numbers: ["%s"]
                campaigns:
                  demo:
                    regions: { %s: 1 }
                """.formatted(region.name(), region.sipMediaApplicationId(), region.fromNumbers().get(0), region.name()),
                StandardCharsets.UTF_8);
        String[] base = {"--config", config.toString(), "--report", dir.resolve("report.json").toString(),
                "--results", dir.resolve("results.csv").toString()};
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }
}
