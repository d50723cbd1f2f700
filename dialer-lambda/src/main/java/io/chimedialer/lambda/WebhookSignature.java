package io.chimedialer.lambda;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * DESIGN.md §7a: {@code X-Dialer-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>}
 * next to {@code X-Dialer-Timestamp: <unix seconds>}. Thread-safe (a new {@link Mac} per call).
 */
final class WebhookSignature {

    static final String TIMESTAMP_HEADER = "X-Dialer-Timestamp";
    static final String SIGNATURE_HEADER = "X-Dialer-Signature";
    /** When the bridge signed the request, epoch milliseconds (not signed; the dialer believes it within the signed second). */
    static final String SENT_AT_HEADER = "X-Dialer-Sent-At";

    private final SecretKeySpec key;

    WebhookSignature(String secret) {
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    }

    /** The header value for a body sent at {@code timestamp} (unix seconds). */
    String sign(long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            mac.update(body);
            return "v1=" + HexFormat.of().formatHex(mac.doFinal());
        } catch (GeneralSecurityException e) {
            // HmacSHA256 is mandatory in every JDK; a failure here is a broken runtime.
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
