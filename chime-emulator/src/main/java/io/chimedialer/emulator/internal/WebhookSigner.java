package io.chimedialer.emulator.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs webhook bodies as DESIGN.md §7a says: {@code X-Dialer-Signature: v1=<hex HMAC-SHA256(secret,
 * timestamp + "." + body)>} next to {@code X-Dialer-Timestamp: <unix seconds>}. Stateless, thread-safe.
 */
public final class WebhookSigner {
    public static final String TIMESTAMP_HEADER = "X-Dialer-Timestamp";
    public static final String SIGNATURE_HEADER = "X-Dialer-Signature";

    private WebhookSigner() {
    }

    /** The value of the signature header for this timestamp and raw body. */
    public static String signature(String secret, long unixSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((unixSeconds + ".").getBytes(StandardCharsets.UTF_8));
            mac.update(body);
            return "v1=" + HexFormat.of().formatHex(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
