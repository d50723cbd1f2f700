package io.chimedialer.lambda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs cfn-lint, which knows the resource types, properties and runtimes CloudFormation accepts per
 * Region, on deploy/template.yaml. Needs {@code cfn-lint} on the PATH. cfn-lint 1.51 does not know
 * AWS::Chime::SipMediaApplication yet: the template waives only that check (E3006) on that resource,
 * and {@link DeployTemplateTest} checks its properties.
 */
class DeployTemplateLintTest {

    @Test
    void cfnLint_template_reportsNothing() throws Exception {
        assumeTrue(available(), "cfn-lint is not on the PATH");
        Process lint = new ProcessBuilder("cfn-lint", "--regions", "us-east-1", "us-west-2", "--",
                DeployTemplateTest.TEMPLATE.toString()).redirectErrorStream(true).start();
        try {
            assertThat(lint.waitFor(180, TimeUnit.SECONDS)).as("cfn-lint finished").isTrue();
            String report = new String(lint.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(report).isEmpty();
            assertThat(lint.exitValue()).isZero();
        } finally {
            lint.destroyForcibly();
        }
    }

    private static boolean available() {
        try {
            Process p = new ProcessBuilder("cfn-lint", "--version").redirectErrorStream(true).start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
