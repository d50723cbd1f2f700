package io.chimedialer.app.notifications;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.app.config.Secret;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.testkit.VirtualTimeClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The delivery of one notice on virtual time: its attempts, waits, signature, and when it gives up. */
class CompletionNotifierTest {
    private static final Instant EPOCH = Instant.parse("2026-03-02T15:00:00Z");
    private static final Secret SECRET = Secret.of("notify-secret-0123456789");

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    /** Reads the virtual clock, which starts at {@link #EPOCH}. */
    private final VirtualTimeClock clock = new VirtualTimeClock(time);

    {
        time.advanceTimeTo(EPOCH);
    }

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final DialerMetrics metrics = new DialerMetrics(registry);
    private final ScriptedTransport transport = new ScriptedTransport();

    /** One request as the receiver saw it, with the virtual time it arrived (ms since {@link #EPOCH}). */
    record Request(long atMillis, Map<String, String> headers, byte[] body) {
    }

    /** Answers each POST with the next scripted answer (the last one repeats) and records it. */
    final class ScriptedTransport implements NoticeTransport {
        final Deque<Supplier<Mono<Integer>>> answers = new ArrayDeque<>();
        final List<Request> requests = new ArrayList<>();

        ScriptedTransport answer(Supplier<Mono<Integer>> answer) {
            answers.add(answer);
            return this;
        }

        ScriptedTransport status(int... statuses) {
            for (int s : statuses) {
                answer(() -> Mono.just(s));
            }
            return this;
        }

        @Override
        public Mono<Integer> post(URI url, Map<String, String> headers, byte[] body) {
            return Mono.defer(() -> {
                requests.add(new Request(clock.millis() - EPOCH.toEpochMilli(), Map.copyOf(headers), body));
                Supplier<Mono<Integer>> next = answers.size() > 1 ? answers.poll() : answers.peek();
                return next.get();
            });
        }
    }

    private CompletionNotifier notifier(int maxAttempts, double random) {
        DialerConfig.Notifications settings = new DialerConfig.Notifications(
                URI.create("https://hooks.example.com/dialer?token=abc"), SECRET, maxAttempts, Duration.ofSeconds(1),
                Duration.ofSeconds(10), Duration.ofSeconds(5));
        return new CompletionNotifier(settings, transport, metrics, time, clock, () -> random);
    }

    static CompletionNotice notice(NoticeEvent event) {
        Map<Disposition, Long> outcomes = new EnumMap<>(Disposition.class);
        outcomes.put(Disposition.ANSWERED, 3L);
        outcomes.put(Disposition.NO_ANSWER, 1L);
        RunReport report = new RunReport("reminders", "COMPLETED",
                new RunReport.Contacts(5, 1, 0, 0, 0, 4, 0, 0, 0), 4, outcomes, Map.of(), 12.5, 0, null,
                RunReport.NO_FOLLOW_UPS);
        return new CompletionNotice("notice-1", event, "reminders", "run-1", null, EPOCH, EPOCH.minusSeconds(12),
                report, Map.of("ANSWERED", 3L, "NO_ANSWER", 1L));
    }

    private double count(String event, String result) {
        return registry.get("dialer.notifications").tag(DialerMetrics.TAG_EVENT, event)
                .tag(DialerMetrics.TAG_RESULT, result).counter().count();
    }

    private List<Long> attemptTimes() {
        return transport.requests.stream().map(Request::atMillis).toList();
    }

    @Test
    void backoff_doublesFromInitial_cappedAtMax_andJitterTakesOffAtMostHalf() {
        Duration initial = Duration.ofSeconds(1);
        Duration max = Duration.ofMinutes(5);

        assertThat(List.of(1, 2, 3, 4, 8, 9, 10, 60).stream()
                .map(n -> CompletionNotifier.backoff(initial, max, n, 0).toSeconds()).toList())
                .containsExactly(1L, 2L, 4L, 8L, 128L, 256L, 300L, 300L);
        assertThat(CompletionNotifier.backoff(initial, max, 3, 0.5)).isEqualTo(Duration.ofSeconds(3));
        assertThat(CompletionNotifier.backoff(initial, max, 3, 0.999_999).toMillis()).isEqualTo(2000);
        assertThat(CompletionNotifier.backoff(initial, max, 20, 1)).isEqualTo(Duration.ofSeconds(150));
    }

    @Test
    void deliver_503TwiceThen200_deliveredOnTheThirdAttemptAfterOneAndTwoSeconds() {
        transport.status(503, 503, 200);
        CompletionNotifier notifier = notifier(8, 0);

        StepVerifier.withVirtualTime(() -> notifier.deliver(notice(NoticeEvent.COMPLETED)), () -> time, 1)
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(3).minusMillis(1))
                .thenAwait(Duration.ofMillis(1))
                .assertNext(r -> assertThat(r).isEqualTo(new CompletionNotifier.Result(
                        CompletionNotifier.Outcome.DELIVERED, 3, "HTTP 200")))
                .verifyComplete();

        assertThat(attemptTimes()).containsExactly(0L, 1000L, 3000L);
        assertThat(count("completed", "retried")).isEqualTo(2);
        assertThat(count("completed", "delivered")).isEqualTo(1);
        assertThat(count("completed", "failed")).isZero();
    }

    @Test
    void deliver_everyAttemptFails_givesUpAfterMaxAttempts_withWaitsCappedAtMaxBackoff() {
        transport.status(500);
        CompletionNotifier notifier = notifier(6, 0);

        StepVerifier.withVirtualTime(() -> notifier.deliver(notice(NoticeEvent.CANCELLED)), () -> time, 1)
                .expectSubscription()
                .thenAwait(Duration.ofMinutes(10))
                .assertNext(r -> {
                    assertThat(r.outcome()).isEqualTo(CompletionNotifier.Outcome.FAILED);
                    assertThat(r.attempts()).isEqualTo(6);
                    assertThat(r.detail()).isEqualTo("HTTP 500");
                })
                .verifyComplete();

        // 1 s, 2 s, 4 s, 8 s, then the 10 s cap.
        assertThat(attemptTimes()).containsExactly(0L, 1000L, 3000L, 7000L, 15000L, 25000L);
        assertThat(count("cancelled", "retried")).isEqualTo(5);
        assertThat(count("cancelled", "failed")).isEqualTo(1);
        assertThat(count("cancelled", "delivered")).isZero();
    }

    @Test
    void deliver_404_givenUpAtOnceWithoutRetry() {
        transport.status(404, 200);
        CompletionNotifier notifier = notifier(8, 0);

        StepVerifier.withVirtualTime(() -> notifier.deliver(notice(NoticeEvent.PAUSED_ON_ERROR)), () -> time, 1)
                .expectSubscription()
                .assertNext(r -> assertThat(r).isEqualTo(new CompletionNotifier.Result(
                        CompletionNotifier.Outcome.REJECTED, 1, "HTTP 404")))
                .verifyComplete();

        assertThat(attemptTimes()).containsExactly(0L);
        assertThat(count("paused-on-error", "rejected")).isEqualTo(1);
        assertThat(count("paused-on-error", "retried")).isZero();
    }

    @Test
    void deliver_408And429AndConnectionErrorsAndTimeouts_areRetried() {
        transport.status(408, 429)
                .answer(() -> Mono.error(new IOException("Connection refused")))
                .answer(Mono::never) // no answer: the 5 s timeout
                .status(204);
        CompletionNotifier notifier = notifier(8, 0);

        StepVerifier.withVirtualTime(() -> notifier.deliver(notice(NoticeEvent.COMPLETED)), () -> time, 1)
                .expectSubscription()
                .thenAwait(Duration.ofMinutes(1))
                .assertNext(r -> assertThat(r.outcome()).isEqualTo(CompletionNotifier.Outcome.DELIVERED))
                .verifyComplete();

        // Waits of 1, 2, 4 and 8 s; the fourth attempt waited 5 s for its answer first.
        assertThat(attemptTimes()).containsExactly(0L, 1000L, 3000L, 7000L, 20000L);
    }

    @Test
    void deliver_jitter_shortensEachWaitByUpToHalf() {
        transport.status(503, 503, 200);
        CompletionNotifier notifier = notifier(8, 0.5);

        StepVerifier.withVirtualTime(() -> notifier.deliver(notice(NoticeEvent.COMPLETED)), () -> time, 1)
                .expectSubscription()
                .thenAwait(Duration.ofSeconds(3))
                .expectNextCount(1)
                .verifyComplete();

        assertThat(attemptTimes()).containsExactly(0L, 750L, 2250L);
    }

    @Test
    void deliver_eachAttempt_signedOverItsTimestampAndTheSameBody_underTheNoticesId() {
        transport.status(503, 200);
        CompletionNotifier notifier = notifier(8, 0);
        CompletionNotice notice = notice(NoticeEvent.COMPLETED);

        StepVerifier.withVirtualTime(() -> notifier.deliver(notice), () -> time, 1)
                .expectSubscription()
                .thenAwait(Duration.ofSeconds(1))
                .expectNextCount(1)
                .verifyComplete();

        byte[] key = SECRET.bytes();
        assertThat(transport.requests).hasSize(2).allSatisfy(r -> {
            assertThat(r.body()).isEqualTo(notice.body());
            assertThat(r.headers()).containsEntry("X-Dialer-Notice-Id", "notice-1")
                    .containsEntry("Content-Type", "application/json");
            assertThat(NoticeSignature.verify(key, r.headers().get("X-Dialer-Timestamp"), r.body(),
                    r.headers().get("X-Dialer-Signature"))).isTrue();
            assertThat(NoticeSignature.verify("other".getBytes(StandardCharsets.UTF_8),
                    r.headers().get("X-Dialer-Timestamp"), r.body(), r.headers().get("X-Dialer-Signature"))).isFalse();
        });
        assertThat(transport.requests.get(0).headers().get("X-Dialer-Timestamp"))
                .isEqualTo(Long.toString(EPOCH.getEpochSecond()));
        assertThat(transport.requests.get(1).headers().get("X-Dialer-Timestamp"))
                .isEqualTo(Long.toString(EPOCH.getEpochSecond() + 1));
        // A body altered in transit, or the signature of another timestamp, does not verify.
        Request first = transport.requests.get(0);
        byte[] altered = new String(first.body(), StandardCharsets.UTF_8).replace("\"attempts\":4", "\"attempts\":5")
                .getBytes(StandardCharsets.UTF_8);
        assertThat(NoticeSignature.verify(key, first.headers().get("X-Dialer-Timestamp"), altered,
                first.headers().get("X-Dialer-Signature"))).isFalse();
        assertThat(NoticeSignature.verify(key, transport.requests.get(1).headers().get("X-Dialer-Timestamp"),
                first.body(), first.headers().get("X-Dialer-Signature"))).isFalse();
    }

    @Test
    void sign_matchesAnIndependentlyComputedHmac() {
        byte[] body = "{\"id\":\"n\"}".getBytes(StandardCharsets.UTF_8);

        // printf '%s' '1700000000.{"id":"n"}' | openssl dgst -sha256 -hmac key
        assertThat(NoticeSignature.sign("key".getBytes(StandardCharsets.UTF_8), 1_700_000_000L, body))
                .isEqualTo("v1=" + hmacHex("key", "1700000000.{\"id\":\"n\"}"));
    }

    private static String hmacHex(String key, String message) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return java.util.HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void body_carriesTheEventCampaignFiguresAndAnswerRate() throws Exception {
        com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(notice(NoticeEvent.PAUSED_ON_ERROR).body());

        assertThat(json.path("id").asText()).isEqualTo("notice-1");
        assertThat(json.path("event").asText()).isEqualTo("paused-on-error");
        assertThat(json.path("campaign").asText()).isEqualTo("reminders");
        assertThat(json.path("runId").asText()).isEqualTo("run-1");
        assertThat(json.has("nodeId")).isFalse();
        assertThat(json.path("occurredAt").asText()).isEqualTo("2026-03-02T15:00:00Z");
        assertThat(json.path("contacts").path("total").asLong()).isEqualTo(5);
        assertThat(json.path("attempts").asLong()).isEqualTo(4);
        assertThat(json.path("outcomes").path("ANSWERED").asLong()).isEqualTo(3);
        assertThat(json.path("answerRate").asDouble()).isEqualTo(0.75);
        assertThat(json.path("ledger").path("contactsByStatus").path("NO_ANSWER").asLong()).isEqualTo(1);
    }

    @Test
    void idle_waitsForAnExpectedNoticeUntilItsDeliveryEnds() {
        transport.status(503, 200);
        CompletionNotifier notifier = notifier(8, 0);
        notifier.start();
        CompletionNotifier.Pending pending = notifier.expect();

        StepVerifier.withVirtualTime(notifier::idle, () -> time, 1)
                .expectSubscription()
                .then(() -> pending.send(notice(NoticeEvent.COMPLETED)))
                .expectNoEvent(Duration.ofMillis(999))
                .thenAwait(Duration.ofMillis(1))
                .verifyComplete();

        assertThat(transport.requests).hasSize(2);
        assertThat(notifier.inFlight()).isZero();
        notifier.close();
    }

    @Test
    void close_duringABackoffWait_abandonsTheNoticeAsFailed() {
        transport.status(503);
        CompletionNotifier notifier = notifier(8, 0);
        notifier.start();
        notifier.expect().send(notice(NoticeEvent.COMPLETED));
        time.advanceTimeBy(Duration.ofMillis(500));

        notifier.close();
        time.advanceTimeBy(Duration.ofMinutes(5));

        assertThat(transport.requests).hasSize(1);
        assertThat(count("completed", "failed")).isEqualTo(1);
        assertThat(count("completed", "delivered")).isZero();
    }
}
