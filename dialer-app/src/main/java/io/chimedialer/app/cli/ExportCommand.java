package io.chimedialer.app.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.app.config.ConfigException;
import io.chimedialer.app.config.ConfigLoader;
import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.app.runtime.CampaignManager;
import io.chimedialer.app.runtime.DialerRuntime;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.Ledger;
import io.chimedialer.core.ledger.LedgerOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dialer export}: a campaign's attempts from the ledger as CSV, and optionally a summary JSON; with
 * {@code --dnc}, the opt-outs the campaign honours as a DNC list file.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export a campaign's attempts and outcomes from the ledger as CSV, or with --dnc its opt-outs.")
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

    @Option(names = "--dnc", description = "Instead, write the opt-outs the ledger holds for the DNC lists the campaign"
            + " honours (its dnc-lists, its own, inbound callers'), one number per line: a file for dnc-lists.")
    boolean dnc;

    @Override
    public Integer call() throws Exception {
        String url = ledgerUrl;
        DialerConfig config = null;
        if (url == null || dnc) {
            try {
                config = ConfigLoader.load(Home.resolve(configFile));
            } catch (ConfigException e) {
                System.err.println("dialer export: " + e.getMessage());
                return 2;
            }
            url = url == null ? config.ledger().url() : url;
        }
        if (dnc) {
            return exportOptOuts(config, url);
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

    /** {@code --dnc}: the numbers of every list the campaign honours, sorted, one per line after a comment. */
    private int exportOptOuts(DialerConfig config, String url) throws java.io.IOException {
        CampaignConfig configured = config.campaign(campaign).orElse(null);
        Set<String> lists;
        if (configured != null) {
            lists = CampaignManager.honouredLists(configured);
        } else {
            // A campaign started with an ad-hoc definition: its own list and the inbound callers'.
            lists = new LinkedHashSet<>(List.of("campaign:" + campaign, DialerRuntime.INBOUND_DNC_LIST));
            System.err.println("dialer export: campaign " + campaign + " is not in " + config.source()
                    + "; exporting the lists campaign:" + campaign + " and " + DialerRuntime.INBOUND_DNC_LIST);
        }
        Set<String> numbers = new TreeSet<>();
        try (Ledger ledger = JdbcLedger.open(LedgerOptions.of(url, Clock.systemUTC()))) {
            for (String list : lists) {
                List<String> listed = ledger.dncNumbers(list).collectList().block(Duration.ofMinutes(10));
                if (listed != null) {
                    numbers.addAll(listed);
                }
            }
        }
        StringBuilder text = new StringBuilder()
                .append("# Opt-outs the ledger holds for campaign ").append(campaign).append(" (lists: ")
                .append(String.join(", ", lists)).append("), exported ").append(Instant.now()).append('\n')
                .append("# One number per line; add this file to a campaign's dnc-lists.\n");
        numbers.forEach(n -> text.append(n).append('\n'));
        Path target = out.toAbsolutePath();
        if (target.getParent() != null) {
            Files.createDirectories(target.getParent());
        }
        Files.writeString(target, text, StandardCharsets.UTF_8);
        System.out.println("dialer export: " + numbers.size() + " opted-out numbers of campaign " + campaign
                + " written to " + target);
        return 0;
    }
}
