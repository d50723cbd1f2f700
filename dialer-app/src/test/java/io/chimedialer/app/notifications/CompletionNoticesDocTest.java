package io.chimedialer.app.notifications;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The receiver examples of docs/operations.md ("Completion notices") verify what {@link NoticeSignature} signs:
 * the Python function and the shell line are run as written (each skipped when python3 or openssl is missing).
 */
class CompletionNoticesDocTest {
    private static final Path DOC = Path.of("..", "docs", "operations.md");
    private static final String SECRET = "doc-notify-secret-0123";

    @TempDir
    Path dir;

    private static String block(String language) throws IOException {
        String doc = Files.readString(DOC, StandardCharsets.UTF_8);
        int section = doc.indexOf("## Completion notices");
        assertThat(section).as("section Completion notices").isNotNegative();
        int start = doc.indexOf("```" + language + "\n", section);
        assertThat(start).as(language + " example").isPositive();
        start += language.length() + 4;
        return doc.substring(start, doc.indexOf("```", start));
    }

    private static boolean onPath(String tool) {
        return Files.isExecutable(Path.of("/usr/bin", tool)) || Files.isExecutable(Path.of("/bin", tool));
    }

    private record Result(int code, String out) {
    }

    private Result exec(Map<String, String> env, String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process process = builder.start();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("finished").isTrue();
        return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(),
                StandardCharsets.UTF_8).strip());
    }

    @Test
    void pythonExample_acceptsASignedNotice_refusesAnAlteredOneAndAnOldOne() throws Exception {
        assumeTrue(onPath("python3"), "python3 not installed");
        byte[] body = CompletionNotifierTest.notice(NoticeEvent.COMPLETED).body();
        Files.write(dir.resolve("body.json"), body);
        long now = Instant.now().getEpochSecond();
        long old = now - 3600;
        List<String> script = new ArrayList<>(List.of(block("python"),
                "import os",
                "body = open('body.json', 'rb').read()",
                "key = os.environ['KEY'].encode()",
                "h = lambda ts, sig: {'X-Dialer-Timestamp': ts, 'X-Dialer-Signature': sig}",
                "print(verify(key, h(os.environ['TS'], os.environ['SIG']), body),"
                        + " verify(key, h(os.environ['TS'], os.environ['SIG']), body + b' '),"
                        + " verify(key, h(os.environ['OLD_TS'], os.environ['OLD_SIG']), body))"));
        Files.writeString(dir.resolve("check.py"), String.join("\n", script));

        Result result = exec(Map.of("KEY", SECRET, "TS", Long.toString(now),
                        "SIG", NoticeSignature.sign(SECRET.getBytes(StandardCharsets.UTF_8), now, body),
                        "OLD_TS", Long.toString(old),
                        "OLD_SIG", NoticeSignature.sign(SECRET.getBytes(StandardCharsets.UTF_8), old, body)),
                "python3", "check.py");

        assertThat(result).isEqualTo(new Result(0, "True False False"));
    }

    @Test
    void shellExample_acceptsASignedNotice_andRefusesAnotherSignature() throws Exception {
        assumeTrue(onPath("openssl") && onPath("sh"), "openssl or sh not installed");
        byte[] body = CompletionNotifierTest.notice(NoticeEvent.CANCELLED).body();
        Files.write(dir.resolve("body.json"), body);
        long now = Instant.now().getEpochSecond();
        String line = block("sh");
        String signature = NoticeSignature.sign(SECRET.getBytes(StandardCharsets.UTF_8), now, body);

        Result valid = exec(Map.of("DIALER_NOTIFY_SECRET", SECRET, "TS", Long.toString(now), "SIG", signature),
                "sh", "-c", line);
        Result invalid = exec(Map.of("DIALER_NOTIFY_SECRET", "another-secret", "TS", Long.toString(now),
                "SIG", signature), "sh", "-c", line);

        assertThat(valid.out()).isEqualTo("valid");
        assertThat(invalid.out()).isEmpty();
    }
}
