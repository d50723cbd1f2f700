package io.chimedialer.app.config;

import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.contacts.DncList;
import io.chimedialer.core.ledger.JdbcLedger;
import io.chimedialer.core.ledger.LedgerException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dialer validate}: checks a configuration (every key of it and its campaign files, that each Region is
 * one with Chime SDK PSTN audio, and that an SQLite ledger's location can be written, without creating anything)
 * and, optionally, a contact list, printing every problem. Errors are what stops a run: a configuration problem, a contact or DNC list
 * that cannot be read, a list without a phone column. Rows a run skips by design (invalid numbers, and lines of a
 * DNC list that are not numbers) are warnings, counted; duplicate and DNC rows are notes. Exit codes: {@value #OK}
 * without errors (warnings or not), {@value #INVALID} with errors (also picocli's code for bad usage), 1 for an
 * unexpected failure. Errors and warnings go to standard error as {@code file:line: reason} and
 * {@code file:line: warning: reason}; notes and the summary to standard output.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Checks a configuration and, optionally, a contact list; prints every problem.",
                "Without --campaign or --contacts only the configuration is checked (and that each contact list exists)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:valid (warnings about rows a run skips do not count)", "1:unexpected failure",
                "2:errors found (or invalid usage)"})
public final class ValidateCommand implements Callable<Integer> {
    /** Exit code: nothing wrong. */
    public static final int OK = 0;
    /** Exit code: the configuration or the contact list has errors. */
    public static final int INVALID = 2;

    @Spec
    private CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", defaultValue = "config/dialer.yaml",
            description = "Configuration file (default: ${DEFAULT-VALUE}).")
    private Path config;

    @Option(names = "--contacts", paramLabel = "FILE",
            description = "A contact list CSV to check (default: the --campaign's list, if given).")
    private Path contacts;

    @Option(names = "--campaign", paramLabel = "NAME",
            description = "Also check this campaign's contact list, with its default region and DNC lists.")
    private String campaign;

    private final Map<String, String> env;

    /** Uses the process environment for {@code ${...}}. */
    public ValidateCommand() {
        this(System.getenv());
    }

    /** Uses {@code env} for {@code ${...}} (tests, embedding). */
    public ValidateCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int errors = 0;
        long warnings = 0;
        DialerConfig loaded = null;
        boolean configGiven = spec.commandLine().getParseResult() != null
                && spec.commandLine().getParseResult().hasMatchedOption("--config");
        boolean skipConfig = contacts != null && campaign == null && !configGiven && !Files.exists(config);
        if (!skipConfig) {
            try {
                loaded = ConfigLoader.load(config, env);
            } catch (ConfigException e) {
                for (ConfigProblem p : e.problems()) {
                    err.println(p);
                }
                errors += e.problems().size();
            }
        }
        if (loaded != null) {
            // What a run or serve would find when it opens the ledger; nothing is created or changed here. Checked
            // before the file is called OK, so that "OK" is never followed by a problem of the same file.
            boolean ledgerOk = true;
            try {
                JdbcLedger.checkWritable(loaded.ledger().jdbcUrl());
            } catch (LedgerException e) {
                err.println(config + ": ledger.url: " + e.getMessage());
                errors++;
                ledgerOk = false;
            }
            if (ledgerOk) {
                out.println(config + ": OK (" + loaded.regions().size() + " Regions, " + loaded.campaigns().size()
                        + " campaigns: " + String.join(", ", loaded.campaigns().keySet()) + ")");
            }
        }

        String defaultRegion = "US";
        Path list = contacts;
        ContactListValidator validator = null;
        if (campaign != null) {
            CampaignConfig c = loaded == null ? null : loaded.campaign(campaign).orElse(null);
            if (loaded != null && c == null) {
                err.println(config + ": campaigns." + campaign + ": no such campaign (configured: "
                        + String.join(", ", loaded.campaigns().keySet()) + ")");
                errors++;
            }
            if (c != null) {
                defaultRegion = c.defaultRegion();
                if (list == null && c.contacts() != null) {
                    list = Path.of(c.contacts());
                }
                validator = new ContactListValidator(defaultRegion);
                // One list for all files, as a run loads them.
                DncList dnc = validator.newDncList();
                for (String dncFile : c.dncLists()) {
                    ContactListValidator.DncFile d = validator.readDnc(Path.of(dncFile), dnc);
                    // A DNC list that cannot be read stops a run (line 0); lines that are not numbers it skips.
                    boolean unreadable = d.listed().stream().anyMatch(p -> p.line() == 0);
                    for (ContactListValidator.RowProblem p : d.listed()) {
                        err.println(d.file() + (p.line() > 0 ? ":" + p.line() + ": warning: " : ": ") + p.message());
                    }
                    if (d.problems() > d.listed().size()) {
                        err.println(d.file() + ": warning: ... and " + (d.problems() - d.listed().size())
                                + " more lines that are not numbers");
                    }
                    if (unreadable) {
                        errors++;
                    } else {
                        warnings += d.problems();
                    }
                }
                validator = validator.withDnc(dnc, String.join(", ", c.dncLists().stream()
                        .map(f -> Path.of(f).getFileName().toString()).toList()));
            }
        }
        if (list != null) {
            if (validator == null) {
                validator = new ContactListValidator(defaultRegion);
            }
            ContactListValidator.Report r = validator.validate(list);
            for (ContactListValidator.RowProblem p : r.errors()) {
                err.println(r.file() + (p.line() > 0 ? ":" + p.line() : "") + ": " + p.message());
            }
            for (ContactListValidator.RowProblem p : r.warnings()) {
                err.println(r.file() + ":" + p.line() + ": warning: " + p.message());
            }
            for (ContactListValidator.RowProblem p : r.notes()) {
                out.println(r.file() + ":" + p.line() + ": note: " + p.message());
            }
            long unlisted = r.invalidRows() - r.warnings().size();
            if (unlisted > 0) {
                err.println(r.file() + ": warning: ... and " + unlisted + " more invalid rows");
            }
            out.println(r.file() + ": " + r.rows() + " rows: " + r.dialable() + " to dial, " + r.invalidRows()
                    + " invalid, " + r.duplicateRows() + " duplicate, " + r.suppressedRows() + " on a DNC list");
            errors += r.errors().size();
            warnings += r.invalidRows();
        }
        String warned = warnings == 0 ? "" : warnings + (warnings == 1 ? " warning" : " warnings")
                + " (rows a run skips)";
        if (errors > 0) {
            err.println(errors + (errors == 1 ? " problem" : " problems") + " found"
                    + (warned.isEmpty() ? "" : ", and " + warned));
            return INVALID;
        }
        if (!warned.isEmpty()) {
            out.println("No errors; " + warned);
        }
        return OK;
    }
}
