package io.chimedialer.app.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.emulator.CallRecord;
import io.chimedialer.emulator.ChimeEmulator;
import io.chimedialer.emulator.EmulatorStats;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/**
 * The end-to-end measurement's bare dialer completes the same whole calls as the dialer, against an emulator of
 * the measurement's configuration, with answers the emulator accepts. Counts only, no timing.
 */
class BareDialerTest {
    private static final String SECRET = "bare-test-secret";

    @Test
    @Timeout(120)
    void calls_completeTheDialersFlow_eachCallTheSameInvocationsAndActions_withinTheLiveCap() throws Exception {
        int calls = 40;
        int maxActive = 8;
        try (ChimeEmulator emulator = EndToEndBench.emulator(EndToEndBench.emulatedRegion(), EndToEndBench.scenario());
             BareDialer bare = new BareDialer(emulator.url(), SECRET, EndToEndBench.flow(), maxActive)) {
            emulator.webhook(bare.webhookUrl(), SECRET);

            CompletableFuture<Void> loop = bare.start(new AtomicBoolean(true), calls, 1_000);
            BareDialer.await(loop, Duration.ofSeconds(90));
            assertThat(emulator.awaitIdle(Duration.ofSeconds(30))).isTrue();

            EmulatorStats stats = emulator.stats();
            assertThat(bare.ended()).isEqualTo(calls);
            assertThat(bare.createErrors()).isZero();
            assertThat(bare.unauthorized()).isZero();
            assertThat(bare.badRequests()).isZero();
            assertThat(bare.unknownHangups()).isZero();
            assertThat(stats.invalidResponses()).as("every answer valid").isZero();
            assertThat(stats.webhookFailures()).isZero();
            assertThat(stats.created()).isEqualTo(calls);
            assertThat(stats.peakActive()).as("never more live calls than the cap").isBetween(1L, (long) maxActive);
            List<CallRecord> records = emulator.calls();
            assertThat(records).hasSize(calls);
            for (CallRecord c : records) {
                assertThat(c.endReason()).isEqualTo("applicationHangup");
                assertThat(c.invocations()).extracting(CallRecord.Invocation::eventType).containsExactly(
                        "NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_SUCCESSFUL", "HANGUP");
                // The dialer's flow: the message, the menu (the callee presses 1), the confirmation, the Hangup.
                assertThat(c.actions()).extracting(CallRecord.Action::type)
                        .containsExactly("Speak", "SpeakAndGetDigits", "Speak", "Hangup");
                assertThat(c.actions()).extracting(CallRecord.Action::result).containsOnly("ACTION_SUCCESSFUL");
                assertThat(c.actions().get(1).receivedDigits()).isEqualTo("1");
            }
        }
    }

    @Test
    @Timeout(60)
    void invocation_withoutAValidSignature_isRefusedWith401_andCounted() throws Exception {
        try (ChimeEmulator emulator = EndToEndBench.emulator(EndToEndBench.emulatedRegion(), EndToEndBench.scenario());
             BareDialer bare = new BareDialer(emulator.url(), SECRET, EndToEndBench.flow(), 4)) {
            byte[] body = "{\"SchemaVersion\":\"1.0\",\"InvocationEventType\":\"RINGING\",\"CallDetails\":{\"TransactionId\":\"t\"}}"
                    .getBytes(StandardCharsets.UTF_8);
            Integer status = HttpClient.create()
                    .headers(h -> h.set("X-Dialer-Timestamp", Long.toString(System.currentTimeMillis() / 1000))
                            .set("X-Dialer-Signature", "v1=" + "0".repeat(64)))
                    .post().uri(bare.webhookUrl())
                    .send((req, out) -> out.sendByteArray(Mono.just(body)))
                    .responseSingle((res, content) -> content.then(Mono.just(res.status().code())))
                    .block(Duration.ofSeconds(30));

            assertThat(status).isEqualTo(401);
            assertThat(bare.unauthorized()).isEqualTo(1);
        }
    }

    @Test
    void permits_aWaiterGetsAPermitOnlyOnceOneIsReleased() {
        BareDialer.Permits permits = new BareDialer.Permits(2);
        AtomicBoolean third = new AtomicBoolean();
        permits.acquire().subscribe();
        permits.acquire().subscribe();
        permits.acquire().subscribe(null, null, () -> third.set(true));
        assertThat(third).isFalse();
        assertThat(permits.available()).isZero();

        permits.release();

        assertThat(third).isTrue();
        assertThat(permits.available()).isZero();
        permits.release();
        permits.release();
        assertThat(permits.available()).isEqualTo(2);
    }
}
