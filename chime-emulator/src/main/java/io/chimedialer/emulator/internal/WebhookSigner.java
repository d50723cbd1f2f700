package io.chimedialer.emulator.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs webhook bodies as DESIGN.md §7a says: {@code X-Dialer-Signature: v1=<hex HMAC-SHA256(secret,
 * timestamp + "." + body)>} next to {@code X-Dialer-Timestamp: <unix seconds>}. The static methods are
 * thread-safe; a {@link Mac} from {@link #newMac} is not, so keep one per thread.
 */
public final class WebhookSigner {
    public static final String TIMESTAMP_HEADER = "X-Dialer-Timestamp";
    public static final String SIGNATURE_HEADER = "X-Dialer-Signature";
    /** When the request was sent, epoch milliseconds (not signed; the dialer believes it within the signed second). */
    public static final String SENT_AT_HEADER = "X-Dialer-Sent-At";

    private WebhookSigner() {
    }

    /** The value of the signature header for this timestamp and raw body. */
    public static String signature(String secret, long unixSeconds, byte[] body) {
        return signature(newMac(secret), unixSeconds, body);
    }

    /** Same, with a Mac from {@link #newMac} (reset and reusable afterwards). */
    public static String signature(Mac mac, long unixSeconds, byte[] body) {
        mac.update((unixSeconds + ".").getBytes(StandardCharsets.UTF_8));
        mac.update(body);
        return "v1=" + HexFormat.of().formatHex(mac.doFinal());
    }

    /** An HMAC-SHA256 keyed with the secret's UTF-8 bytes. */
    public static Mac newMac(String secret) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
