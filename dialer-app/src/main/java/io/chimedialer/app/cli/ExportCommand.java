package io.chimedialer.app.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.config.ConfigException;
import io.chimedialer.app.config.ConfigLoader;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dialer export}: a campaign's attempts from the ledger as CSV, and optionally a summary JSON. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export a campaign's attempts and outcomes from the ledger as CSV.")
public final class ExportCommand implements Callable<Integer> {

    @Option(names = "--config", defaultValue = "config/dialer.yaml", description = "Configuration file (default: ${DEFAULT-VALUE}).")
    String configFile;

    @Option(names = "--ledger", description = "Ledger JDBC URL (default: ledger.url of the config).")
    String ledgerUrl;

    @Option(names = "--campaign", required = true, description = "The campaign.")
    String campaign;

    @Option(names = "--out", required = true, description = "The CSV file to write.")
    Path out;

    @Option(names = "--report", description = "Also write a summary JSON (attempts and outcomes by disposition).")
    Path report;

    @Override
    public Integer call() throws Exception {
        String url = ledgerUrl;
        if (url == null) {
            try {
                DialerConfig config = ConfigLoader.load(Home.resolve(configFile));
                url = config.ledger().url();
            } catch (ConfigException e) {
                System.err.println("dialer export: " + e.getMessage());
                return 2;
            }
        }
        try (Ledger ledger = JdbcLedger.open(LedgerOptions.of(url, Clock.systemUTC()))) {
            long rows = Reports.writeResults(ledger, campaign, out);
            System.out.println("dialer export: " + rows + " attempts of campaign " + campaign + " written to "
                    + out.toAbsolutePath());
            if (report != null) {
                List<Ledger.AttemptRecord> attempts = ledger.attempts(campaign).collectList().block(Duration.ofMinutes(10));
                Map<Disposition, Long> outcomes = new EnumMap<>(Disposition.class);
                long open = 0;
                long withdrawn = 0;
                for (Ledger.AttemptRecord a : attempts == null ? List.<Ledger.AttemptRecord>of() : attempts) {
                    if (a.withdrawn()) {
                        withdrawn++;
                    } else if (a.result() == null) {
                        open++;
                    } else {
                        outcomes.merge(a.result().disposition(), 1L, Long::sum);
                    }
                }
                ObjectNode json = Reports.JSON.createObjectNode();
                json.put("campaign", campaign);
                json.put("attempts", attempts == null ? 0 : attempts.size());
                json.put("withoutOutcome", open);
                json.put("withdrawn", withdrawn);
                json.set("outcomes", Reports.JSON.valueToTree(outcomes));
                Reports.writeJson(report, json);
                System.out.println("dialer export: summary written to " + report.toAbsolutePath());
            }
            return rows == 0 ? 1 : 0;
        }
    }
}
