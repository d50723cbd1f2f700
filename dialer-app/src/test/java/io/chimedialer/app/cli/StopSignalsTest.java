package io.chimedialer.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StopSignalsTest {

    @Test
    void exitCode_sigtermAfterACompleteDrain_isZero_afterCallsCutOff_isOne() {
        assertThat(StopSignals.Stop.TERM.exitCode(0)).isZero();
        assertThat(StopSignals.Stop.TERM.exitCode(3)).isEqualTo(1);
    }

    @Test
    void exitCode_sigint_is130DrainedOrNot() {
        assertThat(StopSignals.Stop.INT.exitCode(0)).isEqualTo(130);
        assertThat(StopSignals.Stop.INT.exitCode(3)).isEqualTo(130);
    }

    @Test
    void jvmDefaultExitCode_is128PlusTheSignalNumber() {
        assertThat(StopSignals.Stop.TERM.jvmDefaultExitCode()).isEqualTo(143);
        assertThat(StopSignals.Stop.INT.jvmDefaultExitCode()).isEqualTo(130);
    }
}
