package io.chimedialer.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DialerMainTest {

    @Test
    void exitCodeMapper_ofEveryCommand_interrupted130_otherFailure1() {
        CommandLine cli = DialerMain.commandLine();

        for (String name : List.of("run", "demo", "serve", "status", "export", "validate", "emulator", "bench")) {
            CommandLine.IExitCodeExceptionMapper mapper = cli.getSubcommands().get(name).getExitCodeExceptionMapper();
            assertThat(mapper.getExitCode(new InterruptedException())).as(name).isEqualTo(130);
            assertThat(mapper.getExitCode(new ExecutionException(new InterruptedException()))).as(name)
                    .isEqualTo(130);
            assertThat(mapper.getExitCode(new IllegalStateException("boom"))).as(name).isEqualTo(1);
        }
    }

    @Test
    void help_listsTheExitCodesTheCommandsUse() {
        String help = DialerMain.commandLine().getUsageMessage();

        assertThat(help).contains("0", "success").contains("1", "runtime failure")
                .contains("2", "usage or configuration error").contains("130", "interrupted");
    }
}
