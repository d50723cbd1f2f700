package io.chimedialer.app.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.testkit.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Session expiry and ids, on a manual clock. */
class ConsoleSessionsTest {
    private final ManualClock clock = ManualClock.at("2026-01-05T15:00:00Z");
    private final ConsoleSessions sessions = new ConsoleSessions(clock);

    @Test
    void find_usedWithinTheIdleTime_staysUntilItsLifetimeEnds() {
        ConsoleSessions.Session s = sessions.create(true);
        for (int i = 0; i < 23; i++) {
            clock.advance(Duration.ofMinutes(29));
            assertThat(sessions.find(s.id())).as("after %d min", (i + 1) * 29).isPresent();
        }
        clock.advance(ConsoleSessions.LIFETIME.minus(Duration.ofMinutes(29 * 23)));
        assertThat(sessions.find(s.id())).isEmpty();
        assertThat(sessions.size()).isZero();
    }

    @Test
    void find_idleForThirtyMinutes_gone() {
        ConsoleSessions.Session s = sessions.create(true);
        clock.advance(ConsoleSessions.IDLE.minusSeconds(1));
        assertThat(sessions.find(s.id())).isPresent();
        clock.advance(ConsoleSessions.IDLE);
        assertThat(sessions.find(s.id())).isEmpty();
    }

    @Test
    void create_anonymous_shorterLifetimeAndCookieMaxAge() {
        ConsoleSessions.Session s = sessions.create(false);
        assertThat(s.maxAge(clock.instant())).isEqualTo(ConsoleSessions.ANONYMOUS_LIFETIME);
        clock.advance(ConsoleSessions.ANONYMOUS_LIFETIME);
        assertThat(sessions.find(s.id())).isEmpty();
    }

    @Test
    void create_idsAndCsrfTokensRandomAndDistinct() {
        ConsoleSessions.Session a = sessions.create(true);
        ConsoleSessions.Session b = sessions.create(true);
        assertThat(a.id()).hasSize(43).isNotEqualTo(b.id()).isNotEqualTo(a.csrf());
        assertThat(a.csrf()).hasSize(43).isNotEqualTo(b.csrf());
        assertThat(sessions.find(null)).isEmpty();
        assertThat(sessions.find("unknown")).isEmpty();
        sessions.remove(a.id());
        assertThat(sessions.find(a.id())).isEmpty();
    }
}
