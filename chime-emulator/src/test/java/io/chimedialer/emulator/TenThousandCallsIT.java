package io.chimedialer.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * 10,000 calls of the default scenario at time scale 0.001, with some faults: every call ends exactly once.
 * {@code -Dscale.emulator.calls=N} (at least 1,000): 2,000 by default, the 10,000 in the {@code scale} Maven profile.
 */
class TenThousandCallsIT {
    private static final int CALLS = Integer.getInteger("scale.emulator.calls", 2_000);
    /** The last calls redial numbers already dialed: 1% of them. */
    private static final int REPEATED = CALLS / 100;
    private static final String AUTH_TEMPLATE = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/%s/chime/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=" + "ab".repeat(32);

    private record Seen(String tx, String type, int sequence) {
    }

    @Test
    void tenThousandCalls_allEndExactlyOnceAndTheStatsAddUp() {
        ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
        List<EmulatorRegion> regions = EmulatorRegion.defaults().stream()
                .map(r -> r.withQuotas(1_000_000, 1_000_000, 100_000)).toList();
        ConnectionProvider pool = ConnectionProvider.builder("it-creates").maxConnections(64).build();
        try (TestWebhook webhook = new TestWebhook(e -> {
                 String type = e.path("InvocationEventType").asText();
                 seen.add(new Seen(e.path("CallDetails").path("TransactionId").asText(), type, e.path("Sequence").asInt()));
                 String callId = e.path("CallDetails").path("Participants").get(0).path("CallId").asText();
                 return Mono.just(switch (type) {
                     case "CALL_ANSWERED" -> TestWebhook.reply("[{\"Type\":\"Speak\",\"Parameters\":{\"CallId\":\"" + callId
                             + "\",\"Text\":\"Hello\"}},{\"Type\":\"SpeakAndGetDigits\",\"Parameters\":{\"CallId\":\"" + callId
                             + "\",\"SpeechParameters\":{\"Text\":\"Press one\"},\"RepeatDurationInMilliseconds\":3000}}]");
                     case "ACTION_SUCCESSFUL", "ACTION_FAILED" -> TestWebhook.reply("[{\"Type\":\"Hangup\",\"Parameters\":{}}]");
                     default -> TestWebhook.NO_ACTIONS;
                 });
             }, false);
             ChimeEmulator emu = ChimeEmulator.builder().regions(regions).timeScale(0.001).seed(42)
                     .faults(Faults.builder().duplicateInvocation(0.02).dropHangup(0.01).build())
                     // Generous: on a loaded machine the webhook may lag, and a timeout here would be a test artefact.
                     .webhookTimeout(Duration.ofSeconds(60))
                     .webhook(webhook.url(), TestWebhook.SECRET).start()) {
            HttpClient http = HttpClient.create(pool).baseUrl(emu.url().toString());

            Map<Integer, Integer> statuses = Flux.range(0, CALLS)
                    .flatMap(i -> {
                        EmulatorRegion r = regions.get(i % 2);
                        // The last REPEATED calls redial numbers already dialed.
                        String to = String.format("+1415%07d", i < CALLS - REPEATED ? i : i - (CALLS - REPEATED));
                        String body = "{\"FromPhoneNumber\":\"" + r.fromNumbers().get(i % 3) + "\",\"ToPhoneNumber\":\""
                                + to + "\",\"ArgumentsMap\":{\"n\":\"" + i + "\"}}";
                        return http.headers(h -> h.set(HttpHeaderNames.AUTHORIZATION, String.format(AUTH_TEMPLATE, r.name()))
                                        .set(HttpHeaderNames.CONTENT_TYPE, "application/json"))
                                .post().uri("/sip-media-applications/" + r.sipMediaApplicationId() + "/calls")
                                .send((req, out) -> out.sendString(Mono.just(body)))
                                .responseSingle((res, b) -> b.asString().thenReturn(res.status().code()));
                    }, 64)
                    .collect(Collectors.toMap(c -> c, c -> 1, Integer::sum))
                    .block(Duration.ofMinutes(5));
            assertThat(statuses).containsExactly(Map.entry(201, CALLS));

            assertThat(emu.awaitIdle(Duration.ofMinutes(8))).isTrue();

            EmulatorStats s = emu.stats();
            assertThat(s.created()).isEqualTo(CALLS);
            assertThat(s.ended()).isEqualTo(CALLS);
            assertThat(s.endedTwice()).isZero();
            assertThat(s.active()).isZero();
            assertThat(s.peakActive()).isPositive();
            assertThat(s.duplicateNumbers()).isEqualTo(REPEATED);
            assertThat(s.webhookFailures()).isZero();
            assertThat(s.invalidResponses()).isZero();
            assertThat(s.dispositions().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(CALLS);
            assertThat(s.dispositions().get("answered")).isBetween((long) (CALLS * 0.65), (long) (CALLS * 0.75));
            assertThat(s.dispositions().keySet()).containsExactlyInAnyOrder("answered", "busy", "noAnswer", "invalidNumber", "rejected", "failed");
            assertThat(s.regions().get("us-east-1").created() + s.regions().get("us-west-2").created()).isEqualTo(CALLS);
            assertThat(s.regions().get("us-east-1").active()).isZero();
            assertThat(s.hangupsDropped()).isPositive();
            assertThat(s.redeliveries()).isPositive();
            // Every delivery reached the webhook: the invocations plus the injected duplicates.
            assertThat((long) seen.size()).isEqualTo(s.invocations() + s.redeliveries());

            List<CallRecord> calls = emu.calls();
            assertThat(calls).hasSize(CALLS);
            assertThat(calls.stream().map(CallRecord::transactionId).collect(Collectors.toSet())).hasSize(CALLS);
            for (CallRecord c : calls) {
                assertThat(c.ended()).as(c.transactionId()).isNotNull();
                assertThat(c.disposition()).isNotNull();
                assertThat(c.sipCode()).isNotNull();
                assertThat(c.invocations()).filteredOn(i -> i.eventType().equals("HANGUP")).hasSize(1);
                assertThat(c.invocations().get(c.invocations().size() - 1).eventType()).isEqualTo("HANGUP");
                assertThat(c.invocations()).extracting(CallRecord.Invocation::result).doesNotContain("pending", "failed");
            }

            // Per transaction, the webhook saw Sequence 1..n in order (duplicates repeat a Sequence).
            Map<String, List<Seen>> byTx = new HashMap<>();
            for (Seen e : seen) {
                byTx.computeIfAbsent(e.tx(), k -> new java.util.ArrayList<>()).add(e);
            }
            assertThat(byTx).hasSize(CALLS);
            Set<String> hungUp = ConcurrentHashMap.newKeySet();
            byTx.forEach((tx, events) -> {
                List<Integer> distinct = events.stream().map(Seen::sequence).distinct().toList();
                for (int k = 0; k < distinct.size(); k++) {
                    assertThat(distinct.get(k)).as(tx).isEqualTo(k + 1);
                }
                if (events.stream().anyMatch(e -> e.type().equals("HANGUP"))) {
                    hungUp.add(tx);
                }
            });
            assertThat((long) hungUp.size()).isEqualTo(CALLS - s.hangupsDropped());
        } finally {
            pool.disposeLater().block(Duration.ofSeconds(10));
        }
    }
}
