package io.chimedialer.app.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.chimedialer.app.DialerMain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * deploy/systemd: the unit passes {@code systemd-analyze verify}, every variable it uses is in the environment file
 * template, the JVM accepts the template's JAVA_OPTS, and its ExecStart is a {@code dialer serve} command line that
 * parses; docs/deploy-dialer.md points at these files and is linked from README and docs/deploy-aws.md.
 */
class SystemdUnitTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path UNIT = ROOT.resolve("deploy/systemd/chime-dialer.service");
    private static final Path ENV = ROOT.resolve("deploy/systemd/dialer.env");
    private static final Path DOC = ROOT.resolve("docs/deploy-dialer.md");
    private static final Path SYSTEMD_ANALYZE = Path.of("/usr/bin/systemd-analyze");

    @TempDir
    Path dir;

    @Test
    void unit_systemdAnalyzeVerify_passesWithoutAWarning() throws Exception {
        assumeTrue(Files.isExecutable(SYSTEMD_ANALYZE), "systemd-analyze is not installed (/usr/bin/systemd-analyze):"
                + " the unit file's check is skipped; .ci/run installs the systemd package");
        // verify checks the unit's executables: ExecStart's /usr/bin/java must exist, as on the host.
        assertThat(Path.of("/usr/bin/java")).as("the unit's ExecStart binary").isExecutable();
        Path copy = dir.resolve(UNIT.getFileName());
        Files.copy(UNIT, copy);
        Process p = new ProcessBuilder(SYSTEMD_ANALYZE.toString(), "verify", copy.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output.strip()).as("systemd-analyze verify output").isEmpty();
    }

    @Test
    void unit_verifyCatchesABrokenUnit_soThePassAboveMeansSomething() throws Exception {
        assumeTrue(Files.isExecutable(SYSTEMD_ANALYZE), "systemd-analyze is not installed");
        Path broken = dir.resolve("broken.service");
        Files.writeString(broken, Files.readString(UNIT).replace("/usr/bin/java ", "/usr/bin/no-such-java ")
                .replace("KillMode=mixed", "KillMode=sometimes"));
        Process p = new ProcessBuilder(SYSTEMD_ANALYZE.toString(), "verify", broken.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        assertThat(output).contains("no-such-java").contains("sometimes");
    }

    @Test
    void unit_variables_eachDefinedInTheEnvironmentTemplate_andSecretsNotInTheUnit() throws IOException {
        String unit = Files.readString(UNIT);
        Map<String, String> env = environment();
        Matcher m = Pattern.compile("\\$\\{?([A-Z_][A-Z0-9_]*)\\}?").matcher(execStart(unit));
        List<String> used = new ArrayList<>();
        while (m.find()) {
            used.add(m.group(1));
        }
        assertThat(used).containsExactlyInAnyOrder("JAVA_OPTS", "DRAIN_TIMEOUT", "DIALER_ARGS");
        assertThat(env).containsKeys(used.toArray(String[]::new))
                .containsKeys("DIALER_WEBHOOK_SECRET", "DIALER_CONTROL_TOKEN");
        assertThat(unit).contains("EnvironmentFile=/etc/chime-dialer/dialer.env")
                .doesNotContain("DIALER_WEBHOOK_SECRET").doesNotContain("DIALER_CONTROL_TOKEN")
                .contains("RestartPreventExitStatus=2").contains("LimitNOFILE=");
        String javaOpts = env.get("JAVA_OPTS");
        assertThat(javaOpts).contains("-XX:+ExitOnOutOfMemoryError").contains("-Xmx").contains("-Xms");
        // The drain fits in the stop timeout, with time left to flush the ledger.
        long stop = Long.parseLong(value(unit, "TimeoutStopSec"));
        long drain = Long.parseLong(env.get("DRAIN_TIMEOUT").replace("s", ""));
        assertThat(drain + 30).isLessThanOrEqualTo(stop);
    }

    @Test
    void javaOpts_ofTheTemplate_acceptedByTheJvm() throws Exception {
        // The heap and the GC log's directory as on the host, scaled down to this machine.
        String opts = environment().get("JAVA_OPTS").replace("/var/lib/chime-dialer", dir.toString())
                .replace("-Xms2g", "-Xms64m").replace("-Xmx2g", "-Xmx64m");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(opts.split("\\s+")));
        command.add("-version");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(dir.resolve("gc.log")).exists();
    }

    @Test
    void execStart_isADialerServeCommandLineThatParses() throws IOException {
        Map<String, String> env = environment();
        String[] words = execStart(Files.readString(UNIT)).replace("${DRAIN_TIMEOUT}", env.get("DRAIN_TIMEOUT"))
                .replace("$JAVA_OPTS", "").replace("$DIALER_ARGS", "--node-id dialer-1").trim().split("\\s+");
        int jar = Arrays.asList(words).indexOf("-jar");
        assertThat(words[0]).isEqualTo("/usr/bin/java");
        assertThat(words[jar + 1]).endsWith("/dialer-app-all.jar");
        String[] args = Arrays.copyOfRange(words, jar + 2, words.length);
        assertThat(args[0]).isEqualTo("serve");

        CommandLine.ParseResult parsed = DialerMain.commandLine().parseArgs(args);

        CommandLine.ParseResult serve = parsed.subcommand();
        assertThat(serve.matchedOptionValue("--config", "")).isEqualTo("/etc/chime-dialer/dialer.yaml");
        assertThat(serve.matchedOptionValue("--drain-timeout", "")).isEqualTo(env.get("DRAIN_TIMEOUT"));
    }

    @Test
    void doc_pointsAtTheFiles_andIsLinkedFromReadmeAndDeployAws() throws IOException {
        String doc = Files.readString(DOC);
        assertThat(doc).contains("deploy/systemd/chime-dialer.service").contains("deploy/systemd/dialer.env")
                .contains("deploy/smoke-test.sh").contains("systemd-analyze verify")
                .contains("aws chime-sdk-voice search-available-phone-numbers")
                .contains("aws chime-sdk-voice create-phone-number-order").contains("from-numbers")
                .contains("-XX:+ExitOnOutOfMemoryError").contains("LimitNOFILE");
        assertThat(Files.readString(ROOT.resolve("README.md"))).contains("docs/deploy-dialer.md");
        assertThat(Files.readString(ROOT.resolve("docs/deploy-aws.md"))).contains("deploy-dialer.md");
        // The environment file's values are in the doc as they are in the template.
        assertThat(doc).contains(environment().get("JAVA_OPTS"));
    }

    private static String execStart(String unit) {
        return value(unit, "ExecStart");
    }

    private static String value(String unit, String key) {
        return unit.lines().filter(l -> l.startsWith(key + "=")).findFirst()
                .orElseThrow(() -> new AssertionError("no " + key + "= in " + UNIT)).substring(key.length() + 1);
    }

    /** The template's KEY=value lines (quotes removed), as systemd reads them. */
    private static Map<String, String> environment() throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : Files.readAllLines(ENV)) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int eq = l.indexOf('=');
            assertThat(eq).as("%s: not KEY=value: %s", ENV, line).isPositive();
            String v = l.substring(eq + 1);
            if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                v = v.substring(1, v.length() - 1);
            }
            env.put(l.substring(0, eq), v);
        }
        return env;
    }
}
