package io.chimedialer.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.emulator.Scenario.Callee;
import io.chimedialer.emulator.Scenario.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScenarioTest {

    @Test
    void load_yamlWithScriptedNumbers_readsEveryField(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("s.yaml");
        Files.writeString(file, """
                mix: {answered: 1, busy: 1}
                ringMs: {min: 100, max: 200}
                talkMs: 5000
                noAnswerMs: 9000
                dtmf: {probability: 1.0, digits: ["7"]}
                hangupDuringPlaybackProbability: 0
                hangupWithoutSipCodeProbability: 0.25
                numbers:
                  "+14155550123": {outcome: busy}
                  "+14155550124": {outcome: answered, ringMs: 1, talkMs: 2, dtmf: "42", hangupDuringPlayback: true,
                                   hangupWithoutSipCode: true}
                """);

        Scenario s = Scenario.load(file);

        assertThat(s.mix()).isEqualTo(new Scenario.Mix(1, 1, 0, 0, 0, 0));
        assertThat(s.ringMs()).isEqualTo(new Scenario.Range(100, 200));
        assertThat(s.talkMs()).isEqualTo(new Scenario.Range(5000, 5000));
        assertThat(s.noAnswerMs()).isEqualTo(9000);
        assertThat(s.dtmfDigits()).containsExactly("7");
        assertThat(s.numbers()).containsEntry("+14155550123", Callee.of(Outcome.BUSY));
        assertThat(s.hangupWithoutSipCodeProbability()).isEqualTo(0.25);
        assertThat(s.resolve("+14155550124", 1, 0)).isEqualTo(new Callee(Outcome.ANSWERED, 1L, 2L, "42", true, true));
        Callee busy = s.resolve("+14155550123", 1, 0);
        assertThat(busy.outcome()).isEqualTo(Outcome.BUSY);
        assertThat(busy.ringMs()).isBetween(100L, 200L);
    }

    @Test
    void load_json_isReadToo(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("s.json");
        Files.writeString(file, "{\"mix\":{\"failed\":1},\"numbers\":{\"+14155550123\":{\"outcome\":\"noAnswer\"}}}");

        Scenario s = Scenario.load(file);

        assertThat(s.resolve("+14155550999", 3, 0).outcome()).isEqualTo(Outcome.FAILED);
        Callee na = s.resolve("+14155550123", 3, 0);
        assertThat(na.outcome()).isEqualTo(Outcome.NO_ANSWER);
        assertThat(na.ringMs()).isEqualTo(Scenario.defaults().noAnswerMs());
    }

    @Test
    void parse_manyErrors_reportsThemAllWithFieldNames() {
        assertThatThrownBy(() -> Scenario.parse("""
                mix: {answered: "x", sometimes: 1}
                ringMs: {min: 10, max: 5}
                colour: blue
                numbers:
                  "+14155550123": {outcome: maybe}
                """, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("mix.answered: must be a number")
                .hasMessageContaining("mix.sometimes: unknown field")
                .hasMessageContaining("ringMs: needs 0 <= min <= max")
                .hasMessageContaining("colour: unknown field")
                .hasMessageContaining("numbers.+14155550123.outcome: unknown outcome 'maybe'");
    }

    @Test
    void parse_emptyDocument_givesTheDefaults() {
        assertThat(Scenario.parse("", true)).isEqualTo(Scenario.defaults());
    }

    @Test
    void resolve_sameSeedNumberAndOccurrence_isDeterministic() {
        Scenario s = Scenario.defaults();
        for (int i = 0; i < 100; i++) {
            String n = "+1415555" + String.format("%04d", i);
            assertThat(s.resolve(n, 9, 0)).isEqualTo(s.resolve(n, 9, 0));
        }
        long differ = java.util.stream.IntStream.range(0, 100)
                .filter(i -> !s.resolve("+14155550000", 9, i).equals(s.resolve("+14155550000", 10, i))).count();
        assertThat(differ).isPositive();
    }

    @Test
    void resolve_defaultMix_followsTheWeights() {
        Scenario s = Scenario.defaults();
        Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
        for (int i = 0; i < 20_000; i++) {
            counts.merge(s.resolve("+1" + (2_000_000_000L + i), 5, 0).outcome(), 1, Integer::sum);
        }
        assertThat(counts.get(Outcome.ANSWERED)).isBetween(13_600, 14_400);
        assertThat(counts.get(Outcome.BUSY)).isBetween(1_800, 2_200);
        assertThat(counts.get(Outcome.NO_ANSWER)).isBetween(1_800, 2_200);
        assertThat(counts.keySet()).containsExactlyInAnyOrder(Outcome.values());
    }

    @Test
    void resolve_hangupWithoutSipCodeProbability_picksThatShareAndLeavesTheOtherDrawsAlone() {
        Scenario plain = Scenario.defaults();
        Scenario some = plain.toBuilder().hangupWithoutSipCodeProbability(0.2).build();
        int omitted = 0;
        for (int i = 0; i < 5_000; i++) {
            String n = "+1" + (3_000_000_000L + i);
            Callee a = plain.resolve(n, 4, 0);
            Callee b = some.resolve(n, 4, 0);
            assertThat(a.hangupWithoutSipCode()).isFalse();
            // Drawn last: every other field is what it was without the option.
            assertThat(new Callee(b.outcome(), b.ringMs(), b.talkMs(), b.dtmf(), b.hangupDuringPlayback(), false))
                    .isEqualTo(a);
            omitted += b.hangupWithoutSipCode() ? 1 : 0;
        }
        assertThat(omitted).isBetween(850, 1_150);
        assertThat(Scenario.defaults().hangupWithoutSipCodeProbability()).isZero();
    }

    @Test
    void faults_invalidValues_areRejectedWithTheFieldName() {
        assertThatThrownBy(() -> Faults.builder().actionFailure(-0.1).build()).hasMessageContaining("actionFailure");
        assertThatThrownBy(() -> Faults.builder().actionErrorTypes("Boom").build()).hasMessageContaining("Boom");
        assertThatThrownBy(() -> Faults.builder().actionErrorTypes(Map.of("AccessDenied", 0.0)).build())
                .hasMessageContaining("actionErrorTypes");
        assertThatThrownBy(() -> Faults.builder().authDenied(" ").build()).hasMessageContaining("authDeniedRegions");
        assertThatThrownBy(() -> ChimeEmulator.builder().faults(Faults.builder().authDenied("eu-west-9").build()).start())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("eu-west-9");
        assertThatThrownBy(() -> Scenario.builder().hangupWithoutSipCodeProbability(1.5).build())
                .hasMessageContaining("hangupWithoutSipCodeProbability");
        assertThatThrownBy(() -> ActiveCallLimitError.ofKey("teapot")).hasMessageContaining("teapot");
        assertThatThrownBy(() -> RetrySequence.ofKey("twice")).hasMessageContaining("twice");
    }

    @Test
    void faults_authDenied_wildcardAndNamedRegions() {
        Faults all = Faults.builder().authDenied(Faults.ALL_REGIONS).build();
        Faults west = Faults.builder().authDenied("us-west-2").build();

        assertThat(all.authDenied("us-east-1")).isTrue();
        assertThat(west.authDenied("us-west-2")).isTrue();
        assertThat(west.authDenied("us-east-1")).isFalse();
        assertThat(Faults.none().authDenied("us-east-1")).isFalse();
        assertThat(west.any()).isTrue();
        assertThat(Faults.none().any()).isFalse();
        assertThat(ActiveCallLimitError.ofKey("ThrottledClientException")).isEqualTo(ActiveCallLimitError.THROTTLED);
        assertThat(ActiveCallLimitError.ofKey("serviceunavailable")).isEqualTo(ActiveCallLimitError.SERVICE_UNAVAILABLE);
    }

    @Test
    void builder_invalidValues_areRejectedWithTheFieldName() {
        assertThatThrownBy(() -> Scenario.builder().dtmf(2, List.of("1")).build()).hasMessageContaining("dtmf.probability");
        assertThatThrownBy(() -> Scenario.builder().number("4155550123", Callee.of(Outcome.BUSY)).build()).hasMessageContaining("numbers");
        assertThatThrownBy(() -> new Callee(Outcome.BUSY, null, null, "12x", null)).hasMessageContaining("dtmf");
        assertThatThrownBy(() -> Faults.builder().create429(1.5).build()).hasMessageContaining("create429");
        assertThatThrownBy(() -> EmulatorRegion.of("r", "sma", List.of("123"))).hasMessageContaining("fromNumbers");
        assertThatThrownBy(() -> ChimeEmulator.builder().timeScale(-1)).hasMessageContaining("timeScale");
        assertThatThrownBy(() -> ChimeEmulator.builder().createStatus(200)).hasMessageContaining("createStatus");
    }

    @Test
    void toDocument_parsedBack_givesAnEqualScenario() throws Exception {
        Scenario s = Scenario.builder().ringMs(5, 50).dtmf(0.25, List.of("12", "#"))
                .number("+14155550123", new Callee(Outcome.REJECTED, 7L, null, "", null, true))
                .hangupWithoutSipCodeProbability(0.05)
                .number("+14155550124", Callee.of(Outcome.ANSWERED)).build();

        String json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(s.toDocument());

        assertThat(Scenario.parse(json, false)).isEqualTo(s);
    }
}
