package io.chimedialer.app;

import io.chimedialer.app.cli.BenchCommand;
import io.chimedialer.app.cli.DemoCommand;
import io.chimedialer.app.cli.EmulatorCommand;
import io.chimedialer.app.cli.ExportCommand;
import io.chimedialer.app.cli.RunCommand;
import io.chimedialer.app.cli.ServeCommand;
import io.chimedialer.app.config.ValidateCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the runnable {@code dialer}. Exit codes: 0 success, 1 runtime failure, 2 usage or
 * configuration error, 3 a run's campaign paused on an account or configuration error, 130 interrupted.
 */
@Command(name = "dialer", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Reactive outbound dialer for Amazon Chime SDK PSTN audio.",
        subcommands = {DemoCommand.class, RunCommand.class, ServeCommand.class, EmulatorCommand.class,
                ExportCommand.class, ValidateCommand.class, BenchCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:runtime failure", "2:usage or configuration error",
                "3:run: the campaign paused on an account or configuration error (it resumes on the next run)",
                "130:interrupted"})
public final class DialerMain {
    private DialerMain() {
    }

    /** Builds the command line; tests call it to run commands in-process. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new DialerMain());
        cli.setExitCodeExceptionMapper(t -> 1);
        cli.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("dialer: " + ex.getMessage());
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return 2;
        });
        return cli;
    }

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        System.exit(code);
    }
}
