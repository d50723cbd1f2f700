package io.chimedialer.app.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.bench.Bench;
import io.chimedialer.app.bench.BenchSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dialer bench}: the benchmark harness (docs/benchmarks.md). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure originations, webhook, pacing, memory and end-to-end throughput, each beside its "
                + "ceiling measured in the same run (see docs/benchmarks.md).")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--quick", description = "Run every measurement briefly (under two minutes in all).")
    boolean quick;

    @Option(names = "--tiny", hidden = true, description = "Tiny sizes: checks the harness, figures meaningless.")
    boolean tiny;

    @Option(names = "--json", description = "Also write the results to this JSON file.")
    Path jsonFile;

    @Option(names = "--jfr", description = "Record each measurement with JDK Flight Recorder into DIR/<name>.jfr.")
    Path jfrDir;

    @Option(names = "--only", split = ",", description = "Run only these measurements (originations, webhook, "
            + "pacing, memory, endToEnd); default: all.")
    List<String> only;

    @Override
    public Integer call() throws Exception {
        BenchSettings settings = tiny ? BenchSettings.tiny() : quick ? BenchSettings.quick() : BenchSettings.full();
        Bench bench = new Bench(settings, System.out, jfrDir);
        if (only != null && !only.isEmpty()) {
            bench.only(only);
        }
        String command = "./dialer bench" + (quick ? " --quick" : "") + (tiny ? " --tiny" : "")
                + (only != null && !only.isEmpty() ? " --only " + String.join(",", only) : "")
                + (jsonFile != null ? " --json " + jsonFile : "");
        ObjectNode result = bench.run(command);
        Bench.printTable(result, System.out);
        if (jsonFile != null) {
            Path target = jsonFile.toAbsolutePath();
            if (target.getParent() != null) {
                Files.createDirectories(target.getParent());
            }
            bench.json().writeValue(target.toFile(), result);
            System.out.printf("%nResults: %s%n", target);
        }
        return Bench.complete(result) ? 0 : 1;
    }
}
