package io.chimedialer.core.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.testkit.ManualClock;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {

    private final ManualClock clock = new ManualClock(Instant.ofEpochSecond(1_700_000_000L));
    private final WebhookSignature signature = new WebhookSignature("s3cret", clock);
    private final byte[] body = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

    @Test
    void sign_knownInput_matchesIndependentHmacOfTimestampDotBody() throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("s3cret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String expected = "v1=" + HexFormat.of().formatHex(
                mac.doFinal("1700000000.{\"a\":1}".getBytes(StandardCharsets.UTF_8)));

        assertThat(signature.sign(1_700_000_000L, body)).isEqualTo(expected);
        assertThat(signature.signNow(body)).isEqualTo(new WebhookSignature.Signed("1700000000", expected));
    }

    @Test
    void signNow_clockTicksOnEveryReading_headersNameTheSecondThatWasSigned() {
        // A clock that moves one second each time it is read: a second reading for the timestamp header would
        // name another second than the signature's, and verify would refuse the pair (the spill drainer's 401).
        Clock ticking = new Clock() {
            private long seconds = 1_700_000_000L;

            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public synchronized Instant instant() {
                return Instant.ofEpochSecond(seconds++);
            }
        };
        WebhookSignature signer = new WebhookSignature("s3cret", ticking);

        WebhookSignature.Signed signed = signer.signNow(body);

        assertThat(signed.timestamp()).isEqualTo("1700000000");
        assertThat(signed.signature()).isEqualTo(signer.sign(1_700_000_000L, body));
        assertThat(signer.verify(signed.timestamp(), signed.signature(), body)).isTrue();
    }

    @Test
    void verify_validSignature_accepted() {
        assertThat(signature.verify("1700000000", signature.sign(1_700_000_000L, body), body)).isTrue();
    }

    @Test
    void verify_uppercaseHexAndSurroundingSpaces_accepted() {
        String sig = signature.sign(1_700_000_000L, body);
        assertThat(signature.verify(" 1700000000 ", " v1=" + sig.substring(3).toUpperCase() + " ", body)).isTrue();
    }

    @Test
    void verify_wrongSecret_rejected() {
        WebhookSignature other = new WebhookSignature("other", clock);
        assertThat(signature.verify("1700000000", other.sign(1_700_000_000L, body), body)).isFalse();
    }

    @Test
    void verify_tamperedBody_rejected() {
        String sig = signature.sign(1_700_000_000L, body);
        byte[] tampered = "{\"a\":2}".getBytes(StandardCharsets.UTF_8);
        assertThat(signature.verify("1700000000", sig, tampered)).isFalse();
    }

    @Test
    void verify_tamperedTimestamp_rejected() {
        String sig = signature.sign(1_700_000_000L, body);
        assertThat(signature.verify("1700000001", sig, body)).isFalse();
    }

    @Test
    void verify_timestampSkewedBy300Seconds_accepted_by301_rejected() {
        long past = 1_700_000_000L - 300;
        long future = 1_700_000_000L + 300;
        assertThat(signature.verify(Long.toString(past), signature.sign(past, body), body)).isTrue();
        assertThat(signature.verify(Long.toString(future), signature.sign(future, body), body)).isTrue();
        assertThat(signature.verify(Long.toString(past - 1), signature.sign(past - 1, body), body)).isFalse();
        assertThat(signature.verify(Long.toString(future + 1), signature.sign(future + 1, body), body)).isFalse();
    }

    @Test
    void verify_signatureAgedBeyondSkewByClock_rejected() {
        String sig = signature.sign(1_700_000_000L, body);
        clock.advance(Duration.ofSeconds(301));
        assertThat(signature.verify("1700000000", sig, body)).isFalse();
    }

    @Test
    void verify_missingOrMalformedHeaders_rejected() {
        String sig = signature.sign(1_700_000_000L, body);
        assertThat(signature.verify(null, sig, body)).isFalse();
        assertThat(signature.verify("1700000000", null, body)).isFalse();
        assertThat(signature.verify("", sig, body)).isFalse();
        assertThat(signature.verify("17e8", sig, body)).isFalse();
        assertThat(signature.verify("-1700000000", sig, body)).isFalse();
        assertThat(signature.verify("99999999999999999999", sig, body)).isFalse();
        assertThat(signature.verify("1700000000", sig.substring(3), body)).isFalse();
        assertThat(signature.verify("1700000000", "v2=" + sig.substring(3), body)).isFalse();
        assertThat(signature.verify("1700000000", "v1=" + "zz".repeat(32), body)).isFalse();
        assertThat(signature.verify("1700000000", sig.substring(0, sig.length() - 2), body)).isFalse();
        assertThat(signature.verify("1700000000", sig, null)).isFalse();
    }

    @Test
    void constructor_emptySecret_rejected() {
        assertThatThrownBy(() -> new WebhookSignature("", clock)).isInstanceOf(IllegalArgumentException.class);
        assertThat(signature.toString()).doesNotContain("s3cret");
    }
}
