package io.chimedialer.app.config;

import static java.time.DayOfWeek.FRIDAY;
import static java.time.DayOfWeek.MONDAY;
import static java.time.DayOfWeek.SATURDAY;
import static java.time.DayOfWeek.SUNDAY;
import static java.time.DayOfWeek.WEDNESDAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalTime;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class ValuesTest {
    @Test
    void duration_unitsAndCombinations_parse() {
        assertThat(Values.duration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Values.duration("10s")).isEqualTo(Duration.ofSeconds(10));
        assertThat(Values.duration("10m")).isEqualTo(Duration.ofMinutes(10));
        assertThat(Values.duration("2h")).isEqualTo(Duration.ofHours(2));
        assertThat(Values.duration("1d")).isEqualTo(Duration.ofDays(1));
        assertThat(Values.duration("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Values.duration(" PT10M ")).isEqualTo(Duration.ofMinutes(10));
        assertThat(Values.duration("0")).isEqualTo(Duration.ZERO);
    }

    @Test
    void duration_withoutUnitOrWithWords_isRejectedWithTheFormat() {
        for (String bad : List.of("10", "10 minutes", "m", "", "-5m", "1.5h", "PT")) {
            assertThatIllegalArgumentException().as(bad).isThrownBy(() -> Values.duration(bad))
                    .withMessageStartingWith("not a duration");
        }
    }

    @Test
    void hours_rangesIncludingOvernightAndAllDay_parse() {
        assertThat(Values.hours("09:00-20:00")).containsExactly(LocalTime.of(9, 0), LocalTime.of(20, 0));
        assertThat(Values.hours("22:30 - 06:00")).containsExactly(LocalTime.of(22, 30), LocalTime.of(6, 0));
        assertThat(Values.hours("00:00-24:00")).containsExactly(LocalTime.MIDNIGHT, LocalTime.MIDNIGHT);
        assertThat(Values.hours("9:00-17:00")).containsExactly(LocalTime.of(9, 0), LocalTime.of(17, 0));
    }

    @Test
    void hours_malformedOrOutOfRange_isRejected() {
        for (String bad : List.of("9-17", "25:00-26:00", "09:00-24:30", "09:60-10:00", "09:00", "24:00-09:00")) {
            assertThatIllegalArgumentException().as(bad).isThrownBy(() -> Values.hours(bad));
        }
    }

    @Test
    void days_rangesListsAndWrapping_parse() {
        assertThat(Values.days("MON-SAT")).isEqualTo(EnumSet.range(MONDAY, SATURDAY));
        assertThat(Values.days("MON,WED,FRI")).containsExactly(MONDAY, WEDNESDAY, FRIDAY);
        assertThat(Values.days("fri-mon")).containsExactly(MONDAY, FRIDAY, SATURDAY, SUNDAY);
        assertThat(Values.days("Sunday")).containsExactly(SUNDAY);
        assertThat(Values.days(List.of("MON-TUE", "SUN"))).containsExactly(MONDAY, DayOfWeek.TUESDAY, SUNDAY);
    }

    @Test
    void days_unknownNames_areRejectedNamingTheDay() {
        assertThatIllegalArgumentException().isThrownBy(() -> Values.days("MON-FUNDAY"))
                .withMessageStartingWith("not a day: 'FUNDAY' in 'MON-FUNDAY'");
        assertThatIllegalArgumentException().isThrownBy(() -> Values.days("MO"));
        assertThatIllegalArgumentException().isThrownBy(() -> Values.days("MONDY"));
    }

    @Test
    void e164_requiresPlusAndAValidNumber() {
        assertThat(Values.e164(" +17035552601 ")).isEqualTo("+17035552601");
        assertThatIllegalArgumentException().isThrownBy(() -> Values.e164("7035552601"))
                .withMessageStartingWith("not an E.164 number");
        assertThatIllegalArgumentException().isThrownBy(() -> Values.e164("+1 703 555 2601"))
                .withMessageStartingWith("not an E.164 number");
        assertThatIllegalArgumentException().isThrownBy(() -> Values.e164("+11235552601"))
                .withMessage("not a valid number: '+11235552601'");
    }

    @Test
    void timezone_calleeOrZoneId() {
        assertThat(Values.timezone("Callee")).isEqualTo("callee");
        assertThat(Values.timezone("America/Chicago")).isEqualTo("America/Chicago");
        assertThatIllegalArgumentException().isThrownBy(() -> Values.timezone("Mars/Base"));
    }

    @Test
    void didYouMean_findsTyposAndOtherSpellings() {
        List<String> keys = List.of("calls-per-second", "burst", "max-active-calls");
        assertThat(Values.didYouMean("calls-per-secnd", keys)).containsExactly("calls-per-second");
        assertThat(Values.didYouMean("callsPerSecond", keys)).containsExactly("calls-per-second");
        assertThat(Values.didYouMean("max_active_calls", keys)).containsExactly("max-active-calls");
        assertThat(Values.didYouMean("endpoint", keys)).isEmpty();
    }

    @Test
    void regionName_matchesAwsRegionNames() {
        assertThat(Values.regionName("us-east-1")).isTrue();
        assertThat(Values.regionName("us-gov-west-1")).isTrue();
        assertThat(Values.regionName("ap-southeast-2")).isTrue();
        assertThat(Values.regionName("local")).isFalse();
        assertThat(Values.regionName("US-EAST-1")).isFalse();
    }
}
