package io.chimedialer.core.calls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.calls.CallEvent.CallEnded;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.core.webhook.WebhookSignature;
import io.chimedialer.testkit.ManualClock;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.test.scheduler.VirtualTimeScheduler;

class CallRegistryTest {

    private final Harness h = new Harness();

    @AfterEach
    void close() {
        h.close();
    }

    /**
     * Calls of a previous run restored from the ledger by an invocation before the resume took them over: one that
     * ended is handed to the resume by takeOver or by takeRestoredEnded, not both; one still live is kept
     * as restored (not registered twice) and its end reaches the run.
     */
    @Test
    void takeOver_callsRestoredBeforeTheResume_endedOnesHandedOverOnce_liveOneKept() {
        Map<String, Attempt> ledger = new java.util.HashMap<>();
        for (String id : List.of("r1", "r2", "r3")) {
            Contact contact = new Contact(1, "k-" + id, Bodies.CALLEE, "", null, Map.of());
            ledger.put("tx-" + id, new Attempt(id, Harness.CAMPAIGN, contact, 1, "us-east-1", Bodies.FROM));
        }
        try (Harness restored = new Harness(b -> b.ledgerLookup(tx -> reactor.core.publisher.Mono.justOrEmpty(
                java.util.Optional.ofNullable(ledger.get(tx)).map(a -> java.util.Optional.of(new ExpectedCall(a,
                        CallContext.of(a, FlowConfig.DEFAULT, Duration.ofMinutes(30))))))))) {
            restored.sendOk(Bodies.hangup(5, "tx-r1", 486, Map.of()));
            restored.sendOk(Bodies.hangup(5, "tx-r2", 480, Map.of()));
            restored.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-r3", "Connected"));
            CallRegistry registry = restored.registry;
            assertThat(registry.liveCalls()).isEqualTo(1);
            CallContext context = CallContext.of(ledger.get("tx-r1"), FlowConfig.DEFAULT, Duration.ofMinutes(30));

            // r1: the resume meets it (its open attempt was read before the HANGUP's result landed)
            CallResult r1 = registry.takeOver(ledger.get("tx-r1"), context, "tx-r1");
            assertThat(r1).isNotNull();
            assertThat(r1.disposition()).isEqualTo(Disposition.BUSY);
            // r3: live, kept as restored; not registered again
            assertThat(registry.takeOver(ledger.get("tx-r3"), context, "tx-r3")).isNull();
            assertThat(registry.liveCalls()).isEqualTo(1);
            // r2: not among the open attempts any more; handed over by takeRestoredEnded, once, and r1 not again
            assertThat(registry.takeRestoredEnded(Harness.CAMPAIGN)).singleElement().satisfies(e -> {
                assertThat(e.attempt().attemptId()).isEqualTo("r2");
                assertThat(e.result().disposition()).isEqualTo(Disposition.NO_ANSWER);
            });
            assertThat(registry.takeRestoredEnded(Harness.CAMPAIGN)).isEmpty();

            // r3's HANGUP reaches the run on the bus, and is not kept for a later resume
            restored.sendOk(Bodies.hangup(6, "tx-r3", 0, Map.of()));
            assertThat(restored.eventsOf(CallEnded.class)).extracting(e -> e.result().attemptId()).contains("r3");
            assertThat(registry.takeRestoredEnded(Harness.CAMPAIGN)).isEmpty();
        }
    }

    @Test
    void lifetimeExpiry_closesAsUnknownOnce_laterHangupAddsNothing_thenDroppedAfterRetention() {
        h.expect("att-1", FlowConfig.DEFAULT);
        h.registry.placed("att-1", "tx-1");
        h.clock.advance(Duration.ofMinutes(29));
        assertThat(h.registry.sweep()).isZero();
        h.clock.advance(Duration.ofMinutes(1));
        assertThat(h.registry.sweep()).isEqualTo(1);
        assertThat(h.registry.sweep()).isZero();
        assertThat(h.registry.liveCalls()).isZero();

        // The HANGUP arrives late: answered, no second CallEnded.
        h.sendOk(Bodies.hangup(4, "tx-1", 486, Map.of()));
        List<CallEnded> ended = h.eventsOf(CallEnded.class);
        assertThat(ended).singleElement().satisfies(e -> {
            assertThat(e.result().disposition()).isEqualTo(Disposition.UNKNOWN);
            assertThat(e.result().transactionId()).isEqualTo("tx-1");
        });
        assertThat(h.registry.expiredCalls()).isEqualTo(1);

        assertThat(h.registry.trackedCalls()).isEqualTo(1);
        h.clock.advance(CallRegistry.DEFAULT_RETENTION);
        h.registry.sweep();
        assertThat(h.registry.trackedCalls()).isZero();
    }

    @Test
    void lifetime_createAnswersLate_countsFromPlacementNotFromExpect() {
        h.expect("att-slow", FlowConfig.DEFAULT);
        // Create is delayed (pacing, a slow service) past the whole lifetime: the call is not closed meanwhile.
        h.clock.advance(Duration.ofMinutes(31));
        assertThat(h.registry.sweep()).isZero();
        assertThat(h.registry.placed("att-slow", "tx-slow")).isTrue();
        h.clock.advance(Duration.ofMinutes(29));
        assertThat(h.registry.sweep()).isZero();
        assertThat(h.eventsOf(CallEnded.class)).isEmpty();
        h.clock.advance(Duration.ofMinutes(1));
        assertThat(h.registry.sweep()).isEqualTo(1);
        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().transactionId()).isEqualTo("tx-slow"));
    }

    @Test
    void lifetime_createNeverSettled_closedOnceTheAwaitLimitPasses() {
        h.expect("att-lost", FlowConfig.DEFAULT);
        h.clock.advance(Duration.ofMinutes(30).plus(CallRegistry.AWAIT_CREATE_LIMIT).minusSeconds(1));
        assertThat(h.registry.sweep()).isZero();
        h.clock.advance(Duration.ofSeconds(1));
        assertThat(h.registry.sweep()).isEqualTo(1);
        assertThat(h.registry.liveCalls()).isZero();
    }

    @Test
    void endedCallStillInvoked_answeredWithHangupSoTheRealCallDoesNotRunOn() {
        h.expect("att-z", FlowConfig.DEFAULT);
        h.registry.placed("att-z", "tx-z");
        assertThat(h.registry.markUnknown("att-z")).isTrue();
        assertThat(h.registry.markUnknown("att-z")).isFalse();
        assertThat(Harness.actionTypes(h.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-z", "Connected"))))
                .containsExactly("Hangup");
        assertThat(h.eventsOf(CallEvent.CallAnswered.class)).isEmpty();
        assertThat(h.eventsOf(CallEnded.class)).hasSize(1);
    }

    @Test
    void placedAfterMarkUnknown_noCallStartedAfterCallEnded_lateAnswerHungUp() {
        h.expect("att-late", FlowConfig.DEFAULT);
        h.registry.awaitReconciliation("att-late", Duration.ofSeconds(30));
        h.clock.advance(Duration.ofSeconds(30));
        assertThat(h.registry.sweep()).isEqualTo(1);
        assertThat(h.registry.placed("att-late", "tx-late")).isTrue();
        assertThat(h.eventsOf(CallEvent.CallStarted.class)).isEmpty();
        assertThat(Harness.actionTypes(h.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-late", "Connected"))))
                .containsExactly("Hangup");
        assertThat(h.events).hasSize(1).allMatch(e -> e instanceof CallEnded);
    }

    @Test
    void sweeper_onVirtualTime_closesExpiredCalls() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        Disposable sweeper = h.registry.startSweeper(vts, Duration.ofSeconds(10));
        try {
            h.expect("att-s", FlowConfig.DEFAULT);
            // Never placed: closed once its lifetime and the wait for Create's answer are over.
            h.clock.advance(Duration.ofMinutes(31).plus(CallRegistry.AWAIT_CREATE_LIMIT));
            assertThat(h.eventsOf(CallEnded.class)).isEmpty();
            vts.advanceTimeBy(Duration.ofSeconds(10));
            assertThat(h.eventsOf(CallEnded.class)).singleElement()
                    .satisfies(e -> assertThat(e.result().transactionId()).isNull());
        } finally {
            sweeper.dispose();
            vts.dispose();
        }
    }

    @Test
    void awaitReconciliation_noInvocationWithinGrace_closedUnknownEarly() {
        h.expect("att-q", FlowConfig.DEFAULT);
        assertThat(h.registry.awaitReconciliation("att-q", Duration.ofSeconds(60))).isTrue();
        h.clock.advance(Duration.ofSeconds(59));
        assertThat(h.registry.sweep()).isZero();
        h.clock.advance(Duration.ofSeconds(1));
        assertThat(h.registry.sweep()).isEqualTo(1);
        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().disposition()).isEqualTo(Disposition.UNKNOWN));
    }

    @Test
    void awaitReconciliation_newOutboundCallArrives_callReconciledWithFullLifetime() {
        h.expect("att-q", FlowConfig.DEFAULT);
        h.registry.awaitReconciliation("att-q", Duration.ofSeconds(60));
        h.clock.advance(Duration.ofSeconds(5));
        h.sendOk(Bodies.newOutbound(1, "tx-q", "att-q"));
        assertThat(h.registry.awaitReconciliation("att-q", Duration.ofSeconds(60))).isFalse();
        h.clock.advance(Duration.ofMinutes(10));
        assertThat(h.registry.sweep()).isZero();
        assertThat(h.registry.liveCalls()).isEqualTo(1);
        h.sendOk(Bodies.hangup(2, "tx-q", 486, Map.of()));
        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().disposition()).isEqualTo(Disposition.BUSY));
        assertThat(h.eventsOf(CallEvent.CallStarted.class)).hasSize(1);
    }

    @Test
    void withdraw_notCreated_removedWithoutCallEnded_andCanBeExpectedAgain() {
        h.expect("att-w", FlowConfig.DEFAULT);
        assertThat(h.registry.withdraw("att-w")).isTrue();
        assertThat(h.registry.withdraw("att-w")).isFalse();
        assertThat(h.registry.liveCalls()).isZero();
        assertThat(h.events).isEmpty();
        h.expect("att-w", FlowConfig.DEFAULT);
        h.registry.placed("att-w", "tx-w");
        assertThat(h.registry.withdraw("att-w")).isFalse();
        assertThat(h.registry.liveCalls()).isEqualTo(1);
    }

    @Test
    void close_createRejected_oneCallEndedWithGivenDisposition() {
        h.expect("att-r", FlowConfig.DEFAULT);
        assertThat(h.registry.close("att-r", Disposition.INVALID_NUMBER, null)).isTrue();
        assertThat(h.registry.markUnknown("att-r")).isFalse();
        assertThat(h.registry.close("nope", Disposition.FAILED, null)).isFalse();
        assertThat(h.eventsOf(CallEnded.class)).singleElement().satisfies(e -> {
            assertThat(e.result().disposition()).isEqualTo(Disposition.INVALID_NUMBER);
            assertThat(e.result().invocations()).isZero();
        });
    }

    @Test
    void expect_sameAttemptTwiceWhileLive_rejected_afterEnd_allowed() {
        h.expect("att-e", FlowConfig.DEFAULT);
        assertThatThrownBy(() -> h.expect("att-e", FlowConfig.DEFAULT)).isInstanceOf(IllegalStateException.class);
        h.registry.markUnknown("att-e");
        h.expect("att-e", FlowConfig.DEFAULT);
        assertThat(h.registry.liveCalls()).isEqualTo(1);
    }

    @Test
    void placed_secondDifferentTransactionId_countedNotBound() {
        h.expect("att-p", FlowConfig.DEFAULT);
        assertThat(h.registry.placed("att-p", "tx-p1")).isTrue();
        assertThat(h.registry.placed("att-p", "tx-p2")).isTrue();
        assertThat(h.registry.conflictingTransactions()).isEqualTo(1);
        assertThat(h.registry.placed("unknown", "tx")).isFalse();
        assertThat(h.eventsOf(CallEvent.CallStarted.class)).containsExactly(
                new CallEvent.CallStarted("c1", "att-p", "tx-p1"));
    }

    @Test
    void cancelCampaign_returnsOnlyLivePlacedCallsOfThatCampaign() {
        h.expect("a1", FlowConfig.DEFAULT);
        h.registry.placed("a1", "t1");
        h.expect("a2", FlowConfig.DEFAULT);
        h.expect("a3", FlowConfig.DEFAULT);
        h.registry.placed("a3", "t3");
        h.registry.markUnknown("a3");
        assertThat(h.registry.cancelCampaign("c1")).containsExactly("t1");
        assertThat(h.registry.isCancelled("c1")).isTrue();
        assertThat(h.registry.isCancelled("c2")).isFalse();
    }

    /**
     * For each of 400 calls, two HANGUPs (different Sequences), a repeat of the first, markUnknown and a lifetime
     * sweep race on 8 threads: each call must end exactly once.
     */
    @Test
    void racingHangupsMarkUnknownAndSweep_exactlyOneCallEndedPerCall() throws Exception {
        int calls = 400;
        for (int i = 0; i < calls; i++) {
            h.expect("att-" + i, FlowConfig.DEFAULT);
            h.registry.placed("att-" + i, "tx-" + i);
        }
        h.clock.advance(Duration.ofMinutes(31)); // every call is past its lifetime, so the sweep races too
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                String tx = "tx-" + i;
                String att = "att-" + i;
                byte[] first = Bodies.bytes(Bodies.hangup(5, tx, 486, Map.of()));
                byte[] second = Bodies.bytes(Bodies.hangup(6, tx, 480, Map.of()));
                futures.add(pool.submit(() -> await(go) && h.send(first).status() == 200));
                futures.add(pool.submit(() -> await(go) && h.send(second).status() == 200));
                futures.add(pool.submit(() -> await(go) && h.send(first).status() == 200));
                futures.add(pool.submit(() -> await(go) && h.registry.markUnknown(att)));
                if (i % 20 == 0) {
                    futures.add(pool.submit(() -> await(go) && h.registry.sweep() >= 0));
                }
            }
            go.countDown();
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
        List<CallEnded> ended = h.eventsOf(CallEnded.class);
        Map<String, Long> perAttempt = ended.stream().map(CallEnded::result).map(CallResult::attemptId)
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        assertThat(perAttempt).hasSize(calls);
        assertThat(perAttempt.values()).containsOnly(1L);
        assertThat(ended).allMatch(e -> e.result().disposition() == Disposition.BUSY
                || e.result().disposition() == Disposition.NO_ANSWER
                || e.result().disposition() == Disposition.UNKNOWN);
        assertThat(h.registry.liveCalls()).isZero();
        assertThat(h.bus.dropped()).isZero();
    }

    private static boolean await(CountDownLatch latch) {
        try {
            return latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void lifetimeExpiry_optOutKeyPressedAfterwards_optOutStillPublishedWithTheHangup() {
        Map<String, FlowConfig.MenuOption> options = new java.util.LinkedHashMap<>();
        options.put("1", FlowConfig.MenuOption.of(FlowConfig.MenuOption.Action.CONFIRM));
        options.put("9", FlowConfig.MenuOption.of(FlowConfig.MenuOption.Action.OPT_OUT));
        FlowConfig menu = FlowConfig.menu(null, FlowConfig.Menu.of(FlowConfig.Prompt.text("Press 1."), options));
        h.expect("att-o", menu);
        h.registry.placed("att-o", "tx-o");
        JsonNode answered = h.sendOk(Bodies.invocation("CALL_ANSWERED", 2, "tx-o", "Connected"));
        h.clock.advance(Duration.ofMinutes(30));
        assertThat(h.registry.sweep()).as("closed by the lifetime guard").isEqualTo(1);

        JsonNode r = h.sendOk(Bodies.actionSuccessful(3, "tx-o", "SpeakAndGetDigits", "9",
                Harness.attributes(answered)));

        assertThat(Harness.actionTypes(r)).containsExactly("Hangup");
        assertThat(h.eventsOf(CallEvent.OptedOut.class))
                .containsExactly(new CallEvent.OptedOut(Harness.CAMPAIGN, Bodies.CALLEE, "att-o"));
        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().disposition()).isEqualTo(Disposition.UNKNOWN));
    }

    // ---- the cap on inbound calls ----

    /** A handler over a registry that holds at most {@code cap} inbound calls. */
    private static final class InboundHarness {
        final ManualClock clock = new ManualClock(Instant.parse("2026-01-05T10:00:00Z"));
        final CallRegistry registry;
        final WebhookSignature signature = new WebhookSignature("inbound-cap", clock);
        final WebhookHandler handler;

        InboundHarness(int cap) {
            registry = new CallRegistry(new EventBus(1024), clock, CallRegistry.DEFAULT_RETENTION, cap);
            handler = WebhookHandler.builder(registry, signature).build();
        }

        JsonNode send(ObjectNode body) {
            byte[] bytes = Bodies.bytes(body);
            long ts = signature.nowSeconds();
            WebhookReply reply = handler.handle(Long.toString(ts), signature.sign(ts, bytes), bytes)
                    .block(Duration.ofSeconds(5));
            assertThat(reply).isNotNull();
            assertThat(reply.status()).isEqualTo(200);
            return Harness.json(reply);
        }

        JsonNode newInbound(String tx) {
            ObjectNode call = Bodies.invocation("NEW_INBOUND_CALL", 1, tx, null);
            ((ObjectNode) call.at("/CallDetails/Participants/0")).put("From", "+15551230000").put("To", Bodies.FROM)
                    .put("Direction", "Inbound");
            return send(call);
        }
    }

    @Test
    void inbound_moreCallsThanTheCap_oldestForgottenAndCounted_itsLaterInvocationsUnknown() {
        InboundHarness h = new InboundHarness(3);
        Map<String, JsonNode> first = new java.util.LinkedHashMap<>();
        for (int i = 1; i <= 5; i++) {
            JsonNode r = h.newInbound("tx-in-" + i);
            assertThat(Harness.actionTypes(r)).containsExactly("SpeakAndGetDigits");
            first.put("tx-in-" + i, r);
        }

        assertThat(h.registry.inboundCalls()).isEqualTo(3);
        assertThat(h.registry.trackedCalls()).isEqualTo(3);
        assertThat(h.registry.inboundCallsEvicted()).isEqualTo(2);
        // tx-in-1 was forgotten: its digits match no call. tx-in-5 is still held and its flow goes on.
        JsonNode forgotten = h.send(Bodies.actionSuccessful(2, "tx-in-1", "SpeakAndGetDigits", "9",
                Harness.attributes(first.get("tx-in-1"))));
        JsonNode held = h.send(Bodies.actionSuccessful(2, "tx-in-5", "SpeakAndGetDigits", "9",
                Harness.attributes(first.get("tx-in-5"))));
        assertThat(forgotten.get("Actions")).isEmpty();
        assertThat(h.handler.stats().unknownCalls()).isEqualTo(1);
        assertThat(Harness.actionTypes(held)).containsExactly("Speak", "Hangup");
        assertThat(h.registry.inboundCalls()).isEqualTo(3);
    }

    @Test
    void inbound_endedCallsDroppedAfterRetention_makeRoomWithoutEviction() {
        InboundHarness h = new InboundHarness(2);
        h.newInbound("tx-a");
        h.newInbound("tx-b");
        h.send(Bodies.hangup(2, "tx-a", 0, Map.of()));
        h.send(Bodies.hangup(2, "tx-b", 0, Map.of()));

        h.clock.advance(CallRegistry.DEFAULT_RETENTION);
        h.registry.sweep();
        assertThat(h.registry.inboundCalls()).isZero();
        h.newInbound("tx-c");
        h.newInbound("tx-d");

        assertThat(h.registry.inboundCalls()).isEqualTo(2);
        assertThat(h.registry.inboundCallsEvicted()).isZero();
    }

    @Test
    void constructor_capBelowOne_refused() {
        assertThatThrownBy(() -> new CallRegistry(new EventBus(), new ManualClock(Instant.EPOCH),
                CallRegistry.DEFAULT_RETENTION, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxInboundCalls must be >= 1, was 0");
    }
}
