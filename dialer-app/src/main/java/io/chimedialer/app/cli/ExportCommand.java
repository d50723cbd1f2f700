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
import io.chimedialer.core.ledger.LedgerException;
import io.chimedialer.core.ledger.LedgerExport;
import io.chimedialer.core.ledger.LedgerOptions;
import java.io.Writer;
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
 * {@code dialer export}: a campaign's attempts from the ledger as CSV, and optionally a summary JSON and each
 * contact's final status; with {@code --dnc}, the opt-outs the campaign honours as a DNC list file.
 *
 * <p>Only reads: the ledger is opened read-only ({@link JdbcLedger#openReadOnly}), so a missing file is an error
 * rather than a new empty ledger, and a file that is not the dialer's ledger is left byte for byte as it was. The
 * server's secrets are not needed ({@link ConfigLoader#loadForReading}). A campaign the ledger does not know is an
 * error that lists the campaigns it knows. Problems are one line on stderr, exit 2.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export a campaign's attempts and outcomes from the ledger as CSV (read-only), its contacts' "
                + "final status with --contacts, or with --dnc its opt-outs.")
public final class ExportCommand implements Callable<Integer> {

    @Option(names = "--config", defaultValue = "config/dialer.yaml", description = "Configuration file (default: ${DEFAULT-VALUE}).")
    String configFile;

    @Option(names = "--ledger", description = "Ledger JDBC URL (default: ledger.url of the config).")
    String ledgerUrl;

    @Option(names = "--campaign", required = true, description = "The campaign.")
    String campaign;

    @Option(names = "--out", description = "The CSV file of attempts to write (one row per attempt).")
    Path out;

    @Option(names = "--contacts", paramLabel = "FILE", description = "Also (or, without --out, only) write each "
            + "contact's final status as CSV: one row per contact, invalid, duplicate and suppressed rows included.")
    Path contactsOut;

    @Option(names = "--report", description = "Also write a summary JSON (attempts and outcomes by disposition).")
    Path report;

    @Option(names = "--dnc", description = "Instead, write the opt-outs the ledger holds for the DNC lists the campaign"
            + " honours (its dnc-lists, its own, inbound callers'), one number per line: a file for dnc-lists.")
    boolean dnc;

    private final Map<String, String> env;

    /** Uses the process environment for the configuration's {@code ${...}}. */
    public ExportCommand() {
        this(System.getenv());
    }

    /** Uses {@code env} for the configuration's {@code ${...}} (tests). */
    ExportCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public Integer call() throws Exception {
        if (out == null && (dnc || contactsOut == null)) {
            System.err.println("dialer export: --out FILE is required" + (dnc ? " with --dnc" : " (or --contacts FILE)"));
            return StartFailures.EXIT;
        }
        String url = ledgerUrl;
        DialerConfig config = null;
        if (url == null || dnc) {
            try {
                config = ConfigLoader.loadForReading(Home.resolve(configFile), env);
            } catch (ConfigException e) {
                System.err.println("dialer export: " + e.getMessage());
                return StartFailures.EXIT;
            }
            url = url == null ? config.ledger().jdbcUrl() : url;
        }
        JdbcLedger ledger;
        try {
            ledger = JdbcLedger.openReadOnly(LedgerOptions.of(url, Clock.systemUTC()));
        } catch (LedgerException e) {
            return StartFailures.report("export", e);
        }
        try (ledger) {
            boolean known = ledger.campaign(campaign).blockOptional(Duration.ofMinutes(1)).isPresent();
            if (!known && !(dnc && config != null && config.campaign(campaign).isPresent())) {
                List<String> campaigns = ledger.campaigns().map(Ledger.CampaignRecord::campaignId)
                        .collectList().block(Duration.ofMinutes(1));
                System.err.println("dialer export: no campaign '" + campaign + "' in the ledger " + ledger.describe()
                        + (campaigns == null || campaigns.isEmpty() ? " (it holds no campaign)"
                        : " (campaigns: " + String.join(", ", campaigns) + ")"));
                return StartFailures.EXIT;
            }
            if (dnc) {
                return exportOptOuts(config, ledger);
            }
            return exportResults(ledger);
        }
    }

    private int exportResults(Ledger ledger) throws java.io.IOException {
        long rows = 0;
        if (out != null) {
            rows = Reports.writeResults(ledger, campaign, out);
            System.out.println("dialer export: " + rows + " attempts of campaign " + campaign + " written to "
                    + out.toAbsolutePath());
        }
        if (contactsOut != null) {
            Path target = contactsOut.toAbsolutePath();
            if (target.getParent() != null) {
                Files.createDirectories(target.getParent());
            }
            Long contacts;
            try (Writer writer = Files.newBufferedWriter(target, StandardCharsets.UTF_8)) {
                contacts = LedgerExport.writeContactsCsv(ledger.contacts(campaign), writer).block(Duration.ofMinutes(10));
            }
            System.out.println("dialer export: " + (contacts == null ? 0 : contacts) + " contacts of campaign "
                    + campaign + " written to " + target);
            rows += contacts == null ? 0 : contacts;
        }
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

    /** {@code --dnc}: the numbers of every list the campaign honours, sorted, one per line after a comment. */
    private int exportOptOuts(DialerConfig config, Ledger ledger) throws java.io.IOException {
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
        for (String list : lists) {
            List<String> listed = ledger.dncNumbers(list).collectList().block(Duration.ofMinutes(10));
            if (listed != null) {
                numbers.addAll(listed);
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
