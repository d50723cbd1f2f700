package io.chimedialer.app.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvSubstitutionTest {
    @Test
    void apply_plainReferences_areReplacedAndRecordedWithLineAndColumn() {
        EnvSubstitution.Result r = EnvSubstitution.apply("a: ${A}\nb: x-${B:-dflt}-y\n", Map.of("A", "1"));

        assertThat(r.text()).isEqualTo("a: 1\nb: x-dflt-y\n");
        assertThat(r.refs()).containsExactly(
                new EnvSubstitution.Ref(1, 4, "A", EnvSubstitution.Source.ENV, false, null),
                new EnvSubstitution.Ref(2, 6, "B", EnvSubstitution.Source.DEFAULT, false, null));
    }

    @Test
    void apply_commentsAndEscapes_areLeftAlone() {
        EnvSubstitution.Result r = EnvSubstitution.apply("a: $${X} # ${MISSING}\n# ${ALSO_MISSING}\nb: 'it''s ${A}'\n",
                Map.of("A", "v"));

        assertThat(r.text()).isEqualTo("a: ${X} # ${MISSING}\n# ${ALSO_MISSING}\nb: 'it''s v'\n");
        assertThat(r.refs()).extracting(EnvSubstitution.Ref::name).containsExactly("A");
    }

    @Test
    void apply_valuesYamlWouldMisread_areQuotedOrEscaped() {
        Map<String, String> env = Map.of("S", "a: b #c \"d\"", "Q", "x\"y\\z", "SQ", "it's");

        EnvSubstitution.Result r = EnvSubstitution.apply("s: ${S}\nq: \"<${Q}>\"\nl: [${S}, 2]\nsq: '${SQ}'\n", env);

        assertThat(r.text()).isEqualTo("s: \"a: b #c \\\"d\\\"\"\nq: \"<x\\\"y\\\\z>\"\nl: [\"a: b #c \\\"d\\\"\", 2]\nsq: 'it''s'\n");
    }

    @Test
    void apply_missingAndMalformedReferences_areProblems() {
        EnvSubstitution.Result r = EnvSubstitution.apply("a: ${NOPE}\nb: ${1X}\nc: ${OPEN\n", Map.of());

        assertThat(r.text()).isEqualTo("a: \nb: \nc: ${OPEN\n");
        assertThat(r.refs()).extracting(EnvSubstitution.Ref::problem).containsExactly(
                "environment variable NOPE is not set (and ${NOPE} has no :-default)",
                "'${1X}' is not a variable reference (use ${NAME} or ${NAME:-default})",
                "unclosed '${' (write $${ for a literal ${)");
    }
}
