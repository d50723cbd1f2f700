package io.chimedialer.app;

import io.chimedialer.app.cli.BenchCommand;
import io.chimedialer.app.cli.DemoCommand;
import io.chimedialer.app.cli.EmulatorCommand;
import io.chimedialer.app.cli.ExportCommand;
import io.chimedialer.app.cli.RunCommand;
import io.chimedialer.app.cli.ServeCommand;
import io.chimedialer.app.cli.StatusCommand;
import io.chimedialer.app.config.ValidateCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the runnable {@code dialer}. Exit codes: 0 success, 1 runtime failure, 2 usage or
 * configuration error or a start that failed (one line says why), 3 a run's campaign paused on an account or
 * configuration error, 130 interrupted.
 */
@Command(name = "dialer", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Reactive outbound dialer for Amazon Chime SDK PSTN audio.",
        subcommands = {DemoCommand.class, RunCommand.class, ServeCommand.class, StatusCommand.class, EmulatorCommand.class,
                ExportCommand.class, ValidateCommand.class, BenchCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:runtime failure", "2:usage or configuration error, or the dialer cannot start (a port in use, a ledger that cannot be opened); status: the server cannot be reached, refuses the token or does not know the campaign",
                "3:run: the campaign paused on an account or configuration error (it resumes on the next run)",
                "130:interrupted (SIGINT, Ctrl-C; run and demo print the summary so far and write the report)",
                "143:run, demo: stopped by SIGTERM (the summary so far and the report, as after SIGINT)"})
public final class DialerMain {
    private DialerMain() {
    }

    /** Builds the command line; tests call it to run commands in-process. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new DialerMain());
        cli.setExitCodeExceptionMapper(DialerMain::exitCode);
        cli.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("dialer: " + ex.getMessage());
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return 2;
        });
        return cli;
    }

    /**
     * The exit code of a command that ended with an exception: 130 when it was interrupted (its thread, as
     * {@code --help} says of an interrupted command), else 1. {@code run} and {@code demo} handle SIGINT and
     * SIGTERM themselves while they dial (130 and 143, after the summary so far and the report), {@code serve}
     * too (0 or 1, and 130); elsewhere the JVM ends the process with 128 + the signal's number.
     */
    static int exitCode(Throwable failure) {
        // picocli may hand over its own wrapper: look at the causes too.
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof InterruptedException) {
                return 130;
            }
        }
        return 1;
    }

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        System.exit(code);
    }
}
