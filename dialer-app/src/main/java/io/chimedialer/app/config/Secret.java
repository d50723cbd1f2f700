package io.chimedialer.app.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * A secret value (webhook secret, control token, ledger password) that never prints itself.
 * {@link #toString()} always returns {@code "****"}; read the value with {@link #reveal()} only where it is used.
 * Immutable and thread-safe.
 */
public final class Secret {
    private final String value;

    private Secret(String value) {
        this.value = value;
    }

    /**
     * Wraps a secret value.
     *
     * @param value the secret, not empty
     * @return the wrapped secret
     * @throws IllegalArgumentException if the value is empty (an empty secret means "not configured": use null)
     */
    public static Secret of(String value) {
        Objects.requireNonNull(value, "value");
        if (value.isEmpty()) {
            throw new IllegalArgumentException("a secret must not be empty");
        }
        return new Secret(value);
    }

    /** The secret itself. Never log or print it. */
    public String reveal() {
        return value;
    }

    /** The secret as UTF-8 bytes (for HMAC keys and constant-time comparisons). */
    public byte[] bytes() {
        return value.getBytes(StandardCharsets.UTF_8);
    }

    /** Compares {@code candidate} with this secret in time independent of where they differ. */
    public boolean matches(String candidate) {
        return candidate != null
                && MessageDigest.isEqual(bytes(), candidate.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret other && MessageDigest.isEqual(bytes(), other.bytes());
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    /** Always {@code "****"}: a secret never appears in logs, reports or error messages. */
    @Override
    public String toString() {
        return "****";
    }
}
