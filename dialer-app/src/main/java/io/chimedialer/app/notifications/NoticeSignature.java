package io.chimedialer.app.notifications;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@code X-Dialer-Signature} of a completion notice: {@code v1=} and the lowercase hex HMAC-SHA256, keyed with
 * {@code notifications.secret}, of the {@code X-Dialer-Timestamp} value (Unix seconds), a {@code .} and the raw
 * body. A receiver recomputes it over the bytes it received and compares in constant time
 * ({@link #verify}); docs/operations.md shows the same in shell and Python. Stateless and thread-safe.
 */
public final class NoticeSignature {
    /** The header carrying the signature. */
    public static final String SIGNATURE_HEADER = "X-Dialer-Signature";
    /** The header carrying the signing time, Unix seconds. */
    public static final String TIMESTAMP_HEADER = "X-Dialer-Timestamp";
    /** The header carrying the notice's id (the same on every attempt). */
    public static final String NOTICE_ID_HEADER = "X-Dialer-Notice-Id";
    /** The scheme prefix; a later scheme would be {@code v2=}. */
    public static final String VERSION = "v1=";

    private NoticeSignature() {
    }

    /**
     * The header value for a body signed at {@code timestamp}.
     *
     * @param key       the HMAC key (UTF-8 bytes of {@code notifications.secret})
     * @param timestamp Unix seconds, as sent in {@link #TIMESTAMP_HEADER}
     * @param body      the exact bytes sent
     * @return {@code v1=<64 hex digits>}
     */
    public static String sign(byte[] key, long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(Long.toString(timestamp).getBytes(StandardCharsets.US_ASCII));
            mac.update((byte) '.');
            return VERSION + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /**
     * Whether {@code signature} signs {@code body} at {@code timestamp} with {@code key}, compared in constant time.
     * The caller checks the timestamp's age separately (a replay window).
     */
    public static boolean verify(byte[] key, String timestamp, byte[] body, String signature) {
        if (timestamp == null || signature == null || !timestamp.matches("[0-9]{1,18}")) {
            return false;
        }
        byte[] expected = sign(key, Long.parseLong(timestamp), body).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, signature.trim().getBytes(StandardCharsets.US_ASCII));
    }
}
