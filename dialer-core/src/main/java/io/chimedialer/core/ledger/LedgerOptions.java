package io.chimedialer.core.ledger;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * How to open a {@link JdbcLedger}. Immutable; the {@code with*} methods return copies.
 *
 * @param url            the JDBC URL: {@code jdbc:sqlite:<file>} (default {@value #DEFAULT_URL}) or
 *                       {@code jdbc:postgresql://...}
 * @param clock          the clock for the times the ledger stamps itself (intents, skips) and for latencies
 * @param maxBatch       at most this many write operations per transaction (default 512)
 * @param lockTimeout    SQLite: how long to wait for another process's lock before failing (default 5 s)
 * @param connectTimeout PostgreSQL: how long to wait for a connection before a write fails as unavailable
 *                       (default 3 s)
 * @param poolSize       PostgreSQL: connections in the pool, one of them for the writer (default 4)
 * @param listener       writer events, for metrics (default none)
 */
public record LedgerOptions(String url, Clock clock, int maxBatch, Duration lockTimeout, Duration connectTimeout,
                            int poolSize, LedgerListener listener) {
    /** The default: an SQLite file under {@code ./data}, created with its directory when absent. */
    public static final String DEFAULT_URL = "jdbc:sqlite:./data/dialer.db";

    public LedgerOptions {
        url = url == null || url.isBlank() ? DEFAULT_URL : url;
        Objects.requireNonNull(clock, "clock");
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, was " + maxBatch);
        }
        lockTimeout = lockTimeout == null ? Duration.ofSeconds(5) : lockTimeout;
        if (lockTimeout.isNegative()) {
            throw new IllegalArgumentException("lockTimeout must not be negative, was " + lockTimeout);
        }
        connectTimeout = connectTimeout == null ? Duration.ofSeconds(3) : connectTimeout;
        if (connectTimeout.toMillis() < 250) {
            throw new IllegalArgumentException("connectTimeout must be >= 250ms, was " + connectTimeout);
        }
        if (poolSize < 2) {
            throw new IllegalArgumentException("poolSize must be >= 2 (a writer and a reader), was " + poolSize);
        }
        listener = listener == null ? LedgerListener.NONE : listener;
    }

    /**
     * The defaults for this URL.
     *
     * @param url   the JDBC URL, or null for {@value #DEFAULT_URL}
     * @param clock the clock
     * @return the options
     */
    public static LedgerOptions of(String url, Clock clock) {
        return new LedgerOptions(url, clock, 512, null, null, 4, null);
    }

    /** @return a copy with this batch limit */
    public LedgerOptions withMaxBatch(int value) {
        return new LedgerOptions(url, clock, value, lockTimeout, connectTimeout, poolSize, listener);
    }

    /** @return a copy with this SQLite lock timeout */
    public LedgerOptions withLockTimeout(Duration value) {
        return new LedgerOptions(url, clock, maxBatch, value, connectTimeout, poolSize, listener);
    }

    /** @return a copy with this PostgreSQL connection timeout */
    public LedgerOptions withConnectTimeout(Duration value) {
        return new LedgerOptions(url, clock, maxBatch, lockTimeout, value, poolSize, listener);
    }

    /** @return a copy with this PostgreSQL pool size */
    public LedgerOptions withPoolSize(int value) {
        return new LedgerOptions(url, clock, maxBatch, lockTimeout, connectTimeout, value, listener);
    }

    /** @return a copy with this listener */
    public LedgerOptions withListener(LedgerListener value) {
        return new LedgerOptions(url, clock, maxBatch, lockTimeout, connectTimeout, poolSize, value);
    }
}
