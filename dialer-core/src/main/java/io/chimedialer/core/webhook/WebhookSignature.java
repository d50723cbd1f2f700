package io.chimedialer.core.webhook;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and verifies webhook requests (DESIGN.md section 7a): header {@code X-Dialer-Timestamp: <unix seconds>}
 * and {@code X-Dialer-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>}. Verification
 * compares in constant time and rejects timestamps more than {@link #MAX_SKEW_SECONDS} from the injected clock.
 * Thread-safe. The secret is never printed.
 */
public final class WebhookSignature {

    /** Header carrying the unix timestamp in seconds. */
    public static final String TIMESTAMP_HEADER = "X-Dialer-Timestamp";
    /** Header carrying {@code v1=<hex>}. */
    public static final String SIGNATURE_HEADER = "X-Dialer-Signature";
    /** The largest accepted distance between the timestamp and the clock. */
    public static final long MAX_SKEW_SECONDS = 300;

    private static final String ALGORITHM = "HmacSHA256";
    private static final String PREFIX = "v1=";

    private final SecretKeySpec key;
    private final Clock clock;
    /** One HMAC per thread (a {@link Mac} is not thread-safe); built on a thread's first use. */
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

    /**
     * @param secret the shared secret (UTF-8), not empty
     * @param clock  the clock the timestamp is checked against
     */
    public WebhookSignature(String secret, Clock clock) {
        Objects.requireNonNull(secret, "secret");
        if (secret.isEmpty()) {
            throw new IllegalArgumentException("webhook secret must not be empty");
        }
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), ALGORITHM);
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The signature header value for this timestamp and body: {@code v1=<hex>}. */
    public String sign(long unixSeconds, byte[] body) {
        return PREFIX + HexFormat.of().formatHex(mac(Long.toString(unixSeconds), body));
    }

    /**
     * Both headers for this body, signed now: the timestamp and the signature of that same second (one clock
     * reading; reading the clock again for the header could name the next second, and the receiver would refuse).
     */
    public Signed signNow(byte[] body) {
        long now = nowSeconds();
        return new Signed(Long.toString(now), sign(now, body));
    }

    /**
     * The two header values of a signed request.
     *
     * @param timestamp the {@link #TIMESTAMP_HEADER} value (unix seconds)
     * @param signature the {@link #SIGNATURE_HEADER} value ({@code v1=<hex>})
     */
    public record Signed(String timestamp, String signature) {
    }

    /** The clock's current unix second (the value to send in {@link #TIMESTAMP_HEADER}). */
    public long nowSeconds() {
        return clock.instant().getEpochSecond();
    }

    /**
     * Whether the headers authenticate the body.
     *
     * @param timestampHeader the raw {@code X-Dialer-Timestamp} value, may be null
     * @param signatureHeader the raw {@code X-Dialer-Signature} value, may be null
     * @param body            the raw body
     * @return true only for a well-formed, fresh timestamp and a matching signature
     */
    public boolean verify(String timestampHeader, String signatureHeader, byte[] body) {
        if (timestampHeader == null || signatureHeader == null || body == null) {
            return false;
        }
        String ts = timestampHeader.trim();
        if (ts.isEmpty() || ts.length() > 19 || !ts.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return false;
        }
        long seconds;
        try {
            seconds = Long.parseLong(ts);
        } catch (NumberFormatException e) {
            return false;
        }
        if (Math.abs(nowSeconds() - seconds) > MAX_SKEW_SECONDS) {
            return false;
        }
        String sig = signatureHeader.trim();
        if (!sig.startsWith(PREFIX) || sig.length() != PREFIX.length() + 64) {
            return false;
        }
        byte[] given;
        try {
            given = HexFormat.of().parseHex(sig.substring(PREFIX.length()).toLowerCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return false;
        }
        return MessageDigest.isEqual(mac(ts, body), given);
    }

    private byte[] mac(String timestamp, byte[] body) {
        Mac mac = macs.get();
        mac.update(timestamp.getBytes(StandardCharsets.US_ASCII));
        mac.update((byte) '.');
        return mac.doFinal(body); // doFinal resets it for the next use on this thread
    }

    /** A new HMAC keyed with the secret: looked up once per thread, not per request (the lookup costs more). */
    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac;
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            // HmacSHA256 is mandatory in every JRE; this cannot happen with a non-empty key.
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    @Override
    public String toString() {
        return "WebhookSignature[secret=***]";
    }
}
