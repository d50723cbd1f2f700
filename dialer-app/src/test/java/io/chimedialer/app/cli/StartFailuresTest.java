package io.chimedialer.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.emulator.EmulatorRegion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A dialer that cannot start (a port in use, a ledger that is not one) says why in one line and exits 2. */
class StartFailuresTest {

    @TempDir
    Path dir;

    private ServerSocket taken;
    private final ExecutorService executor = Executors.newSingleThreadExecutor();

    @BeforeEach
    void bindAPort() throws IOException {
        taken = new ServerSocket();
        taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void release() throws IOException {
        taken.close();
        executor.shutdownNow();
    }

    @Test
    void serve_portInUse_exit2WithOneLineNamingThePort() throws Exception {
        Path config = config();

        Outcome outcome = execute(new ServeCommand(), "--config", config.toString(), "--port",
                String.valueOf(taken.getLocalPort()));

        assertThat(outcome.code).isEqualTo(2);
        assertThat(outcome.commandLines()).singleElement().asString()
                .startsWith("dialer serve: cannot listen on ")
                .contains(":" + taken.getLocalPort() + ": ")
                .contains("--port");
        assertThat(outcome.err).doesNotContain("\tat ").doesNotContain("ChannelBindException");
    }

    @Test
    void runSandbox_portInUse_exit2WithOneLineNamingThePort() throws Exception {
        Path config = config();

        Outcome outcome = execute(new RunCommand(), "--config", config.toString(), "--campaign", "sb", "--sandbox",
                "--port", String.valueOf(taken.getLocalPort()));

        assertThat(outcome.code).isEqualTo(2);
        assertThat(outcome.commandLines()).singleElement().asString()
                .startsWith("dialer run: cannot listen on ").contains(":" + taken.getLocalPort() + ": ");
        assertThat(outcome.err).doesNotContain("\tat ");
    }

    @Test
    void runSandbox_ledgerFileNotADatabase_exit2WithOneLineNamingTheFile() throws Exception {
        Path config = config();
        Path garbage = dir.resolve("garbage.db");
        Files.writeString(garbage, "this is not a database, and it is long enough to have a header of its own.\n"
                .repeat(20), StandardCharsets.UTF_8);

        Outcome outcome = execute(new RunCommand(), "--config", config.toString(), "--campaign", "sb", "--sandbox",
                "--ledger", "jdbc:sqlite:" + garbage);

        assertThat(outcome.code).isEqualTo(2);
        assertThat(outcome.commandLines()).singleElement().asString()
                .startsWith("dialer run: Ledger database ").contains(garbage.toString()).contains("not an SQLite database");
        assertThat(outcome.err).doesNotContain("\tat ");
        assertThat(Files.readString(garbage, StandardCharsets.UTF_8)).startsWith("this is not a database");
    }

    @Test
    void runSandbox_ledgerInAReadOnlyDirectory_exit2WithOneLineNamingTheDirectory() throws Exception {
        Path config = config();
        Path readOnly = Files.createDirectory(dir.resolve("read-only"));
        readOnly.toFile().setWritable(false, false);
        try {
            Outcome outcome = execute(new RunCommand(), "--config", config.toString(), "--campaign", "sb",
                    "--sandbox", "--ledger", "jdbc:sqlite:" + readOnly.resolve("ledger.db"));

            assertThat(outcome.code).isEqualTo(2);
            assertThat(outcome.commandLines()).singleElement().asString()
                    .startsWith("dialer run: Ledger database " + readOnly.resolve("ledger.db"))
                    .contains("its directory " + readOnly + " is read-only");
            assertThat(outcome.err).doesNotContain("\tat ");
        } finally {
            readOnly.toFile().setWritable(true, false);
        }
    }

    @Test
    void describe_causeWithoutAPort_keepsBothMessagesOnOneLine() {
        RuntimeException failure = new IllegalStateException("cannot open the ledger\nat /x",
                new IOException("Permission denied"));

        assertThat(StartFailures.describe(failure)).isEqualTo("cannot open the ledger at /x (Permission denied)");
    }

    private record Outcome(int code, String err) {
        /** The lines the command printed itself (the log may write to stderr too). */
        List<String> commandLines() {
            return err.lines().filter(line -> line.startsWith("dialer ")).toList();
        }
    }

    /** Executes the command with stderr captured; bounded, so a server that did start fails the test, not hangs it. */
    private Outcome execute(Callable<Integer> command, String... args) throws Exception {
        PrintStream old = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            Future<Integer> code = executor.submit(() -> new CommandLine(command).execute(args));
            return new Outcome(code.get(60, TimeUnit.SECONDS), buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(old);
        }
    }

    private Path config() throws IOException {
        EmulatorRegion region = EmulatorRegion.defaults().get(0);
        Files.writeString(dir.resolve("contacts.csv"), "id,phone\nc1,+14152000001\n", StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("secret"), "start-failures-test-secret\n", StandardCharsets.UTF_8);
        Path config = dir.resolve("dialer.yaml");
        Files.writeString(config, """
                server:
                  host: 127.0.0.1
                  webhook-secret: "file:%s"
                ledger:
                  url: "jdbc:sqlite:%s"
                regions:
                  %s:
                    sip-media-application-id: "%s"
                    calls-per-second: 5
                    max-active-calls: 10
                    from-numbers: ["%s"]
                campaigns:
                  sb:
                    contacts: contacts.csv
                    regions: { %s: 1 }
                """.formatted(dir.resolve("secret"), dir.resolve("ledger.db"), region.name(),
                region.sipMediaApplicationId(), region.fromNumbers().get(0), region.name()), StandardCharsets.UTF_8);
        return config;
    }
}
