package io.chimedialer.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.app.DialerMain;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dialer validate} streams a large list: a child JVM with a small heap (32 MB up to 200,000 rows, 64 MB
 * above) validates a generated list of {@code -Dscale.validate.rows} rows (100,000 by default, 1,000,000 in the
 * {@code scale} profile) and prints its exact counts. Holding the rows took 3.4 GB for 5,000,000 (about 700 bytes
 * a row): a validator that kept them would need some 70 MB for the default size and die with OutOfMemoryError.
 */
class ValidateMemoryIT {
    private static final int ROWS = Integer.getInteger("scale.validate.rows", 100_000);

    @TempDir
    Path dir;

    @Test
    void largeList_underASmallHeap_streamsWithExactCounts() throws Exception {
        Path csv = dir.resolve("large.csv");
        // Every 50th row invalid, every 100th (not invalid) a repeat of the row before it: the ground truth.
        long invalid = 0;
        long duplicate = 0;
        try (BufferedWriter out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
            out.write("id,phone\n");
            int distinct = 0;
            for (int i = 1; i <= ROWS; i++) {
                String phone;
                if (i % 50 == 0) {
                    phone = "12345";
                    invalid++;
                } else if (i % 100 == 1 && distinct > 0) {
                    phone = ContactLists.number(distinct - 1);
                    duplicate++;
                } else {
                    phone = ContactLists.number(distinct++);
                }
                out.write("c" + i + "," + phone + "\n");
            }
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), ROWS <= 200_000 ? "-Xmx32m" : "-Xmx64m", "-XX:+ExitOnOutOfMemoryError",
                "-cp", System.getProperty("java.class.path"), DialerMain.class.getName(),
                "validate", "--contacts", csv.toString())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        CompletableFuture<List<String>> output = CompletableFuture.supplyAsync(() -> readLines(child));
        boolean exited = child.waitFor(4, TimeUnit.MINUTES);
        if (!exited) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        List<String> lines = output.get(30, TimeUnit.SECONDS);
        List<String> tail = lines.subList(Math.max(0, lines.size() - 10), lines.size());
        assertThat(exited).as("validate finished in time; output ends %s", tail).isTrue();
        assertThat(child.exitValue()).as("exit code (0: no errors, invalid rows are warnings); output ends %s", tail)
                .isZero();
        long dialable = ROWS - invalid - duplicate;
        assertThat(lines).as("output ends %s", tail).contains(csv + ": " + ROWS + " rows: " + dialable + " to dial, "
                + invalid + " invalid, " + duplicate + " duplicate, 0 on a DNC list");
        assertThat(lines).contains("No errors; " + invalid + " warnings (rows a run skips)");
    }

    private static List<String> readLines(Process child) {
        List<String> lines = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines.add(line);
            }
        } catch (IOException e) {
            lines.add("reading output failed: " + e);
        }
        return lines;
    }
}
