package io.chimedialer.app.console;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The console's sessions, held in memory on this node: a random id (the cookie's value, 32 bytes from
 * {@link SecureRandom}) maps to whether the session has logged in, its CSRF token (another 32 random bytes) and its
 * times. A session ends after {@link #IDLE} without a request or {@link #LIFETIME} after it began, whichever comes
 * first, or on logout. Logging in replaces the session (a new id), so an id seen before the login is worth nothing
 * after it. At most {@link #MAX_SESSIONS} are held: past that, the ones that expired are dropped, then the oldest
 * that never logged in. Thread-safe; time comes from the clock given.
 */
final class ConsoleSessions {
    /** A session unused this long ends. */
    static final Duration IDLE = Duration.ofMinutes(30);
    /** A session ends this long after it began, however busy. */
    static final Duration LIFETIME = Duration.ofHours(12);
    /** A session that has not logged in (it only carries the login form's CSRF token) ends after this. */
    static final Duration ANONYMOUS_LIFETIME = Duration.ofMinutes(15);
    /** Sessions held at most. */
    static final int MAX_SESSIONS = 10_000;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Clock clock;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    ConsoleSessions(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * One session.
     *
     * @param id            the cookie's value
     * @param csrf          the token every form of this session carries
     * @param authenticated whether it has logged in (or the console needs no login)
     * @param created       when it began
     * @param lastSeen      its last request
     */
    record Session(String id, String csrf, boolean authenticated, Instant created, Instant lastSeen) {
        /** How long the cookie lives, from now. */
        Duration maxAge(Instant now) {
            Duration left = Duration.between(now, created.plus(authenticated ? LIFETIME : ANONYMOUS_LIFETIME));
            return left.isNegative() ? Duration.ZERO : left;
        }
    }

    /** A new session. */
    Session create(boolean authenticated) {
        Instant now = clock.instant();
        if (sessions.size() >= MAX_SESSIONS) {
            evict(now);
        }
        Session s = new Session(randomToken(), randomToken(), authenticated, now, now);
        sessions.put(s.id(), s);
        return s;
    }

    /** The live session of this id, its last use moved to now; empty when unknown or expired (then it is dropped). */
    Optional<Session> find(String id) {
        if (id == null || id.isEmpty()) {
            return Optional.empty();
        }
        Session s = sessions.get(id);
        if (s == null) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        if (expired(s, now)) {
            sessions.remove(id, s);
            return Optional.empty();
        }
        Session touched = new Session(s.id(), s.csrf(), s.authenticated(), s.created(), now);
        sessions.replace(id, s, touched);
        return Optional.of(touched);
    }

    /** Ends a session (logout, or the anonymous one a login replaces). */
    void remove(String id) {
        if (id != null) {
            sessions.remove(id);
        }
    }

    /** Sessions held now (expired ones not yet dropped included). */
    int size() {
        return sessions.size();
    }

    private static boolean expired(Session s, Instant now) {
        Duration lifetime = s.authenticated() ? LIFETIME : ANONYMOUS_LIFETIME;
        return !now.isBefore(s.lastSeen().plus(IDLE)) || !now.isBefore(s.created().plus(lifetime));
    }

    private void evict(Instant now) {
        sessions.values().removeIf(s -> expired(s, now));
        while (sessions.size() >= MAX_SESSIONS) {
            // A flood of login pages must not push out the operators' sessions: the oldest anonymous one goes first.
            Optional<Session> oldest = sessions.values().stream()
                    .min(Comparator.comparing(Session::authenticated).thenComparing(Session::created));
            if (oldest.isEmpty()) {
                return;
            }
            sessions.remove(oldest.get().id());
        }
    }

    private static String randomToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
