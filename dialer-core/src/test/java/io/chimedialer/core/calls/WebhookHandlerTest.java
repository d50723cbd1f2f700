package io.chimedialer.core.calls;

import io.chimedialer.core.webhook.WebhookSignature;
import io.chimedialer.core.webhook.Invocation;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.core.domain.ActionFailure;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.calls.CallEvent.CallAnswered;
import io.chimedialer.core.calls.CallEvent.CallEnded;
import io.chimedialer.core.calls.CallEvent.CallStarted;
import io.chimedialer.core.calls.CallEvent.DigitsCollected;
import io.chimedialer.core.calls.CallEvent.OptedOut;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.core.flow.FlowConfig.Menu;
import io.chimedialer.core.flow.FlowConfig.MenuOption;
import io.chimedialer.core.flow.FlowConfig.Prompt;
import io.chimedialer.core.flow.FlowEngine;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Sinks;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class WebhookHandlerTest {

    private final Harness h = new Harness();

    @AfterEach
    void close() {
        h.close();
    }

    private static FlowConfig menuFlow() {
        Map<String, MenuOption> options = new LinkedHashMap<>();
        options.put("1", MenuOption.of(MenuOption.Action.CONFIRM));
        options.put("0", MenuOption.transfer("+12065550199", null));
        options.put("9", MenuOption.of(MenuOption.Action.OPT_OUT));
        return FlowConfig.menu(null, Menu.of(Prompt.text("Press 1 to confirm, {name}."), options));
    }

    @Test
    void fullAnsweredCall_everyEventAnsweredAndOneCallEndedWithDurations() {
        h.expect("att-1", FlowConfig.message(Prompt.text("Hello {name}, see you {date}.")));

        JsonNode r1 = h.sendOk(Bodies.newOutbound(1, "tx-1", "att-1"));
        assertThat(r1.get("SchemaVersion").asText()).isEqualTo("1.0");
        assertThat(r1.get("Actions")).isEmpty();
        assertThat(Harness.attributes(r1)).containsEntry(FlowEngine.ATTR_ATTEMPT, "att-1");
        assertThat(h.eventsOf(CallStarted.class)).containsExactly(new CallStarted("c1", "att-1", "tx-1"));

        // Create's response arrives after NEW_OUTBOUND_CALL: no second CallStarted.
        assertThat(h.registry.placed("att-1", "tx-1")).isTrue();
        assertThat(h.eventsOf(CallStarted.class)).hasSize(1);

        h.clock.advance(Duration.ofSeconds(1));
        JsonNode r2 = h.sendOk(Bodies.withAttributes(Bodies.invocation("RINGING", 2, "tx-1", null),
                Harness.attributes(r1)));
        assertThat(r2.get("Actions")).isEmpty();

        h.clock.advance(Duration.ofSeconds(7));
        JsonNode r3 = h.sendOk(Bodies.withAttributes(Bodies.invocation("CALL_ANSWERED", 3, "tx-1", "Connected"),
                Harness.attributes(r2)));
        assertThat(Harness.actionTypes(r3)).containsExactly("Speak", "Hangup");
        assertThat(r3.at("/Actions/0/Parameters/Text").asText()).isEqualTo("Hello Ada, see you Monday.");
        assertThat(r3.at("/Actions/0/Parameters/CallId").asText()).isEqualTo("call-a-tx-1");
        assertThat(r3.at("/Actions/1/Parameters/SipResponseCode").asText()).isEqualTo("0");
        Map<String, String> attrs3 = Harness.attributes(r3);
        assertThat(attrs3).containsEntry("a", "att-1").containsEntry(FlowEngine.ATTR_HUNG_UP, "1")
                .containsKey(FlowEngine.ATTR_ANSWERED_AT).hasSizeLessThanOrEqualTo(10);
        assertThat(h.eventsOf(CallAnswered.class)).containsExactly(new CallAnswered("c1", "att-1", "tx-1"));

        h.clock.advance(Duration.ofSeconds(12));
        JsonNode r4 = h.sendOk(Bodies.actionSuccessful(4, "tx-1", "Hangup", null, attrs3));
        assertThat(r4.get("Actions")).isEmpty();
        JsonNode r5 = h.sendOk(Bodies.hangup(5, "tx-1", 0, attrs3));
        assertThat(r5.get("Actions")).isEmpty();

        List<CallEnded> ended = h.eventsOf(CallEnded.class);
        assertThat(ended).hasSize(1);
        CallResult result = ended.get(0).result();
        assertThat(result.attemptId()).isEqualTo("att-1");
        assertThat(result.campaignId()).isEqualTo("c1");
        assertThat(result.transactionId()).isEqualTo("tx-1");
        assertThat(result.disposition()).isEqualTo(Disposition.ANSWERED);
        assertThat(result.sipCode()).isZero();
        assertThat(result.ring()).isEqualTo(Duration.ofSeconds(8));
        assertThat(result.talk()).isEqualTo(Duration.ofSeconds(12));
        assertThat(result.invocations()).isEqualTo(5);
        assertThat(result.digits()).isEmpty();
        assertThat(h.registry.liveCalls()).isZero();
        assertThat(h.handler.stats().answered()).isEqualTo(5);
        assertThat(h.handler.stats().invocations(Invocation.EventType.HANGUP)).isEqualTo(1);
        assertThat(h.handler.stats().invocations(Invocation.EventType.CALL_ANSWERED)).isEqualTo(1);
        assertThat(h.handler.stats().invocations(Invocation.EventType.UNKNOWN)).isZero();
    }

    @Test
    void hangup_answeredOnlyOnceItsOutcomeIsDurable_otherInvocationsAtOnce() {
        Sinks.Empty<Void> commit = Sinks.empty();
        List<CallResult> made = new java.util.concurrent.CopyOnWriteArrayList<>();
        Harness durable = new Harness(b -> b.endDurable(result -> {
            made.add(result);
            return commit.asMono();
        }, Duration.ofSeconds(3)));
        durable.expect("att-d", FlowConfig.DEFAULT);
        durable.registry.placed("att-d", "tx-d");
        assertThat(durable.sendOk(Bodies.newOutbound(1, "tx-d", "att-d"))).isNotNull();
        assertThat(made).as("nothing to make durable before the call ends").isEmpty();

        byte[] body = Bodies.bytes(Bodies.hangup(2, "tx-d", 486, Map.of()));
        long ts = durable.signature.nowSeconds();
        AtomicReference<WebhookReply> reply = new AtomicReference<>();
        durable.handler.handle(Long.toString(ts), durable.signature.sign(ts, body), body).subscribe(reply::set);

        assertThat(made).singleElement().satisfies(r -> {
            assertThat(r.attemptId()).isEqualTo("att-d");
            assertThat(r.disposition()).isEqualTo(Disposition.BUSY);
        });
        assertThat(reply.get()).as("not answered before the outcome is durable").isNull();
        commit.tryEmitEmpty();
        assertThat(reply.get()).isNotNull();
        assertThat(reply.get().status()).isEqualTo(200);
    }

    @Test
    void hangupAfterTheLifetimeGuardClosedTheCallUnknown_itsOutcomeReplacesTheUnknownDurably_once() {
        List<CallResult> made = new java.util.concurrent.CopyOnWriteArrayList<>();
        Harness durable = new Harness(b -> b.endDurable(result -> {
            made.add(result);
            return Mono.empty();
        }, Duration.ofSeconds(3)));
        try {
            Contact contact = new Contact(1, "k", Bodies.CALLEE, "Ada", null, Map.of());
            Attempt attempt = new Attempt("att-g", "c1", contact, 1, "us-east-1", Bodies.FROM);
            durable.registry.expect(attempt, CallContext.of(attempt, FlowConfig.DEFAULT, Duration.ofSeconds(10)));
            durable.registry.placed("att-g", "tx-g");
            JsonNode r1 = durable.sendOk(Bodies.newOutbound(1, "tx-g", "att-g"));
            durable.clock.advance(Duration.ofSeconds(2));
            durable.sendOk(Bodies.withAttributes(Bodies.invocation("RINGING", 2, "tx-g", null), Harness.attributes(r1)));
            // the invocations are late (a loaded machine, Chime's retries): the lifetime guard closes it UNKNOWN
            durable.clock.advance(Duration.ofSeconds(9));
            assertThat(durable.registry.sweep()).isEqualTo(1);
            assertThat(durable.eventsOf(CallEnded.class)).singleElement()
                    .satisfies(e -> assertThat(e.result().disposition()).isEqualTo(Disposition.UNKNOWN));
            assertThat(made).as("the guard's UNKNOWN is the campaign's write, not the webhook's").isEmpty();

            durable.clock.advance(Duration.ofSeconds(3));
            durable.sendOk(Bodies.hangup(3, "tx-g", 480, Harness.attributes(r1)));

            assertThat(made).as("made durable before the HANGUP was answered").singleElement().satisfies(r -> {
                assertThat(r.attemptId()).isEqualTo("att-g");
                assertThat(r.transactionId()).isEqualTo("tx-g");
                assertThat(r.disposition()).isEqualTo(Disposition.NO_ANSWER);
                assertThat(r.sipCode()).isEqualTo(480);
            });
            assertThat(durable.eventsOf(CallEvent.UnknownResolved.class)).singleElement()
                    .satisfies(e -> assertThat(e.result()).isEqualTo(made.get(0)));
            assertThat(durable.eventsOf(CallEnded.class)).as("still one CallEnded").hasSize(1);

            // a retried HANGUP (new Sequence) changes nothing more
            durable.sendOk(Bodies.hangup(4, "tx-g", 486, Harness.attributes(r1)));
            assertThat(made).hasSize(1);
            assertThat(durable.eventsOf(CallEvent.UnknownResolved.class)).hasSize(1);
            assertThat(durable.registry.liveCalls()).isZero();
        } finally {
            durable.close();
        }
    }

    @Test
    void createOutcomeUnknown_closedAfterTheGrace_thenTheCallShowsUpAnswered_hungUpAndResolvedAnswered() {
        h.expect("att-u", FlowConfig.message(Prompt.text("Hello.")));
        assertThat(h.registry.awaitReconciliation("att-u", Duration.ofSeconds(30))).isTrue();
        h.clock.advance(Duration.ofSeconds(31));
        assertThat(h.registry.sweep()).isEqualTo(1);
        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().disposition()).isEqualTo(Disposition.UNKNOWN));

        // Chime did place it, late: its invocations name the attempt
        JsonNode r1 = h.sendOk(Bodies.newOutbound(1, "tx-u", "att-u"));
        assertThat(h.eventsOf(CallStarted.class)).as("no start after its end").isEmpty();
        h.clock.advance(Duration.ofSeconds(2));
        JsonNode r2 = h.sendOk(Bodies.withAttributes(Bodies.invocation("CALL_ANSWERED", 2, "tx-u", "Connected"),
                Harness.attributes(r1)));
        assertThat(Harness.actionTypes(r2)).as("a closed call is hung up, as before").containsExactly("Hangup");
        assertThat(h.eventsOf(CallAnswered.class)).isEmpty();
        h.clock.advance(Duration.ofSeconds(1));
        h.sendOk(Bodies.hangup(3, "tx-u", 0, Harness.attributes(r2)));

        assertThat(h.eventsOf(CallEvent.UnknownResolved.class)).singleElement().satisfies(e -> {
            assertThat(e.result().disposition()).isEqualTo(Disposition.ANSWERED);
            assertThat(e.result().transactionId()).isEqualTo("tx-u");
            assertThat(e.result().talk()).isEqualTo(Duration.ofSeconds(1));
        });
    }

    @Test
    void ledgerLookup_attemptClosedUnknownInTheLedger_restoredClosed_itsHangupReplacesTheUnknown() {
        CallResult unknown = new CallResult("att-k", "c1", null, Disposition.UNKNOWN, null, null, null, null, 0,
                null);
        ExpectedCall closed = new ExpectedCall(expected("att-k").attempt(), expected("att-k").context(), unknown);
        List<CallResult> made = new java.util.concurrent.CopyOnWriteArrayList<>();
        Harness restarted = new Harness(b -> b.ledgerLookup((tx, attemptId) -> Mono.just("att-k".equals(attemptId)
                ? Optional.of(closed) : Optional.empty())).endDurable(result -> {
                    made.add(result);
                    return Mono.empty();
                }, Duration.ofSeconds(3)));
        try {
            restarted.sendOk(Bodies.hangup(3, "tx-k", 486, Map.of(FlowEngine.ATTR_ATTEMPT, "att-k")));

            assertThat(made).singleElement().satisfies(r -> {
                assertThat(r.disposition()).isEqualTo(Disposition.BUSY);
                assertThat(r.transactionId()).isEqualTo("tx-k");
            });
            assertThat(restarted.eventsOf(CallEvent.UnknownResolved.class)).hasSize(1);
            assertThat(restarted.eventsOf(CallEnded.class)).as("it had ended: no second end").isEmpty();
            assertThat(restarted.registry.liveCalls()).as("a closed call holds no permit").isZero();
            assertThat(restarted.handler.stats().unknownCalls()).isZero();
        } finally {
            restarted.close();
        }
    }

    @Test
    void hangup_outcomeWrittenOnce_endCarriesTheWebhooksWriteForTheCampaignToWaitOn() {
        Sinks.Empty<Void> commit = Sinks.empty();
        java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
        Harness durable = new Harness(b -> b.endDurable(result -> commit.asMono()
                .doOnSubscribe(s -> writes.incrementAndGet()), Duration.ofSeconds(3)));
        durable.expect("att-w", FlowConfig.DEFAULT);
        durable.registry.placed("att-w", "tx-w");
        byte[] body = Bodies.bytes(Bodies.hangup(1, "tx-w", 486, Map.of()));
        long ts = durable.signature.nowSeconds();
        AtomicReference<WebhookReply> reply = new AtomicReference<>();
        durable.handler.handle(Long.toString(ts), durable.signature.sign(ts, body), body).subscribe(reply::set);

        CallEvent.CallEnded end = durable.eventsOf(CallEvent.CallEnded.class).get(0);
        assertThat(end.recorded()).as("the end carries the webhook's write").isNotNull();
        AtomicReference<Boolean> campaignSawItDurable = new AtomicReference<>();
        end.recorded().subscribe(v -> { }, e -> { }, () -> campaignSawItDurable.set(true));
        assertThat(writes.get()).as("one write, however many wait on it").isEqualTo(1);
        assertThat(campaignSawItDurable.get()).isNull();
        assertThat(reply.get()).isNull();
        commit.tryEmitEmpty();
        assertThat(campaignSawItDurable.get()).isTrue();
        assertThat(reply.get().status()).isEqualTo(200);
        assertThat(writes.get()).isEqualTo(1);
    }

    @Test
    void hangup_withoutEndDurable_endCarriesNoWrite() {
        h.expect("att-n", FlowConfig.DEFAULT);
        h.registry.placed("att-n", "tx-n");
        assertThat(h.sendOk(Bodies.hangup(1, "tx-n", 486, Map.of()))).isNotNull();
        assertThat(h.eventsOf(CallEvent.CallEnded.class)).singleElement()
                .satisfies(end -> assertThat(end.recorded()).as("the campaign writes it").isNull());
    }

    @Test
    void eventsExecutor_answerDoesNotWaitForTheCampaign_eventsPublishedInOrderOnTheExecutor() {
        // An executor that holds every task until the test runs it: the answer must come while the events wait.
        java.util.Queue<Runnable> held = new java.util.concurrent.ConcurrentLinkedQueue<>();
        Harness queued = new Harness(b -> b.events(held::add));
        try {
            queued.expect("att-e", FlowConfig.DEFAULT);
            queued.registry.placed("att-e", "tx-e");
            int before = queued.events.size();

            assertThat(queued.sendOk(Bodies.newOutbound(1, "tx-e", "att-e"))).isNotNull();
            JsonNode hangup = queued.sendOk(Bodies.hangup(2, "tx-e", 486, Map.of()));

            assertThat(hangup.get("Actions")).isEmpty();
            assertThat(queued.events).as("nothing published on the answering thread").hasSize(before);
            assertThat(held).as("one task per invocation that had events").hasSize(1);
            held.forEach(Runnable::run);
            assertThat(queued.events.subList(before, queued.events.size()))
                    .singleElement().isInstanceOfSatisfying(CallEnded.class,
                            e -> assertThat(e.result().disposition()).isEqualTo(Disposition.BUSY));
        } finally {
            queued.close();
        }
    }

    @Test
    void eventsExecutor_newOutboundBeforeCreatesAnswer_callStartedPublishedOnTheExecutorToo() {
        // NEW_OUTBOUND_CALL binds the TransactionId (Create has not answered yet): the campaign's step for that start
        // (a ledger write) must not run on the thread that answers Chime either.
        java.util.Queue<Runnable> held = new java.util.concurrent.ConcurrentLinkedQueue<>();
        Harness queued = new Harness(b -> b.events(held::add));
        try {
            queued.expect("att-s", FlowConfig.DEFAULT);
            int before = queued.events.size();

            assertThat(queued.sendOk(Bodies.newOutbound(1, "tx-s", "att-s"))).isNotNull();
            queued.sendOk(Bodies.hangup(2, "tx-s", 486, Map.of()));

            assertThat(queued.events).as("nothing published on the answering thread").hasSize(before);
            held.forEach(Runnable::run);
            List<CallEvent> published = queued.events.subList(before, queued.events.size());
            assertThat(published).hasSize(2);
            assertThat(published.get(0)).isInstanceOfSatisfying(CallEvent.CallStarted.class,
                    e -> assertThat(e.transactionId()).isEqualTo("tx-s"));
            assertThat(published.get(1)).isInstanceOf(CallEnded.class);
            assertThat(queued.registry.placed("att-s", "tx-s")).isTrue();
            assertThat(queued.eventsOf(CallEvent.CallStarted.class)).as("one start").hasSize(1);
        } finally {
            queued.close();
        }
    }

    @Test
    void unansweredHangup_sipCodeAsNumberOrString_mappedToDisposition() {
        Object[][] cases = {{486, Disposition.BUSY}, {"480", Disposition.NO_ANSWER}, {"603", Disposition.REJECTED},
                {404, Disposition.INVALID_NUMBER}, {"503", Disposition.FAILED}};
        int i = 0;
        for (Object[] c : cases) {
            String att = "att-" + i;
            String tx = "tx-" + i;
            h.expect(att, FlowConfig.DEFAULT);
            h.registry.placed(att, tx);
            h.clock.advance(Duration.ofSeconds(3));
            JsonNode r = h.sendOk(Bodies.hangup(3, tx, c[0], Map.of()));
            assertThat(r.get("Actions")).isEmpty();
            i++;
        }
        List<CallEnded> ended = h.eventsOf(CallEnded.class);
        assertThat(ended).extracting(e -> e.result().disposition()).containsExactly(Disposition.BUSY,
                Disposition.NO_ANSWER, Disposition.REJECTED, Disposition.INVALID_NUMBER, Disposition.FAILED);
        assertThat(ended.get(0).result().sipCode()).isEqualTo(486);
        assertThat(ended.get(1).result().sipCode()).isEqualTo(480);
        assertThat(ended.get(0).result().ring()).isEqualTo(Duration.ofSeconds(3));
        assertThat(ended.get(0).result().talk()).isZero();
    }

    @Test
    void hangupWithoutSipCode_rangNotAnswered_noAnswer() {
        h.expect("att-r", FlowConfig.DEFAULT);
        h.sendOk(Bodies.newOutbound(1, "tx-r", "att-r"));
        h.sendOk(Bodies.invocation("RINGING", 2, "tx-r", null));
        h.clock.advance(Duration.ofSeconds(25));

        h.sendOk(Bodies.hangup(3, "tx-r", null, Map.of()));

        assertThat(h.eventsOf(CallEnded.class)).singleElement().satisfies(e -> {
            assertThat(e.result().disposition()).isEqualTo(Disposition.NO_ANSWER);
            assertThat(e.result().sipCode()).isNull();
            assertThat(e.result().ring()).isEqualTo(Duration.ofSeconds(25));
        });
    }

    @Test
    void hangupWithoutSipCode_neverRang_failed() {
        h.expect("att-f", FlowConfig.DEFAULT);
        h.sendOk(Bodies.newOutbound(1, "tx-f", "att-f"));

        h.sendOk(Bodies.hangup(2, "tx-f", null, Map.of()));

        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().disposition()).isEqualTo(Disposition.FAILED));
    }

    @Test
    void hangupWithoutSipCode_answered_answered() {
        h.expect("att-a", FlowConfig.DEFAULT);
        h.sendOk(Bodies.newOutbound(1, "tx-a", "att-a"));
        h.sendOk(Bodies.invocation("RINGING", 2, "tx-a", null));
        h.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-a", "Connected"));
        h.clock.advance(Duration.ofSeconds(12));

        h.sendOk(Bodies.hangup(4, "tx-a", null, Map.of()));

        assertThat(h.eventsOf(CallEnded.class)).singleElement().satisfies(e -> {
            assertThat(e.result().disposition()).isEqualTo(Disposition.ANSWERED);
            assertThat(e.result().talk()).isEqualTo(Duration.ofSeconds(12));
        });
    }

    @Test
    void hangupWithoutSipCode_startSeenByAnotherProcess_unknownUnlessRingingSeenHere() {
        // Taken over after a restart: NEW_OUTBOUND_CALL (and maybe RINGING) went to the previous process.
        h.expect("att-u", FlowConfig.DEFAULT);
        h.registry.placed("att-u", "tx-u");
        h.sendOk(Bodies.hangup(3, "tx-u", null, Map.of()));
        h.expect("att-n", FlowConfig.DEFAULT);
        h.registry.placed("att-n", "tx-n");
        h.sendOk(Bodies.invocation("RINGING", 2, "tx-n", null));
        h.sendOk(Bodies.hangup(3, "tx-n", null, Map.of()));

        assertThat(h.eventsOf(CallEnded.class)).extracting(e -> e.result().disposition())
                .containsExactly(Disposition.UNKNOWN, Disposition.NO_ANSWER);
    }

    @Test
    void menuCall_digitsRecordedOptOutPublishedOnce() {
        Attempt attempt = h.expect("att-m", menuFlow());
        h.registry.placed("att-m", "tx-m");
        JsonNode answered = h.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-m", "Connected"));
        assertThat(Harness.actionTypes(answered)).containsExactly("SpeakAndGetDigits");
        assertThat(answered.at("/Actions/0/Parameters/SpeechParameters/Text").asText())
                .isEqualTo("Press 1 to confirm, Ada.");

        ObjectNode digits = Bodies.actionSuccessful(4, "tx-m", "SpeakAndGetDigits", "9",
                Harness.attributes(answered));
        JsonNode r = h.sendOk(digits);
        assertThat(Harness.actionTypes(r)).containsExactly("Speak", "Hangup");
        // The same invocation again (Chime retried): identical bytes, no second side effect.
        WebhookReply again = h.send(Bodies.bytes(digits));
        assertThat(again.body()).isEqualTo(Bodies.bytes(Bodies.MAPPER.valueToTree(r)));
        assertThat(h.eventsOf(OptedOut.class)).containsExactly(new OptedOut("c1", attempt.contact().number(),
                "att-m"));
        assertThat(h.eventsOf(DigitsCollected.class)).containsExactly(new DigitsCollected("c1", "att-m", "9"));

        h.sendOk(Bodies.hangup(6, "tx-m", 0, Harness.attributes(r)));
        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().digits()).isEqualTo("9"));
        assertThat(h.handler.stats().duplicates()).isEqualTo(1);
    }

    @Test
    void duplicateInvocation_identicalBytesAndNoSecondEvent_forEveryEventOfTheCall() {
        h.expect("att-d", menuFlow());
        List<ObjectNode> bodies = List.of(Bodies.newOutbound(1, "tx-d", "att-d"),
                Bodies.invocation("RINGING", 2, "tx-d", null),
                Bodies.invocation("CALL_ANSWERED", 3, "tx-d", "Connected"),
                Bodies.actionSuccessful(4, "tx-d", "SpeakAndGetDigits", "1", Map.of("s", "U0", "l",
                        "SpeakAndGetDigits")),
                Bodies.hangup(5, "tx-d", 0, Map.of()));
        for (ObjectNode body : bodies) {
            WebhookReply first = h.send(Bodies.bytes(body));
            WebhookReply second = h.send(Bodies.bytes(body));
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.body()).isEqualTo(first.body());
        }
        assertThat(h.eventsOf(CallStarted.class)).hasSize(1);
        assertThat(h.eventsOf(CallAnswered.class)).hasSize(1);
        assertThat(h.eventsOf(DigitsCollected.class)).hasSize(1);
        assertThat(h.eventsOf(CallEnded.class)).hasSize(1);
        assertThat(h.handler.stats().duplicates()).isEqualTo(5);
    }

    @Test
    void invocationWithoutTransactionAttributes_flowContinuesFromMemory() {
        h.expect("att-mem", menuFlow());
        h.registry.placed("att-mem", "tx-mem");
        h.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-mem", "Connected"));
        JsonNode r = h.sendOk(Bodies.actionSuccessful(4, "tx-mem", "SpeakAndGetDigits", "1", null));
        assertThat(Harness.actionTypes(r)).containsExactly("Speak", "Hangup");
        assertThat(Harness.attributes(r)).containsEntry("a", "att-mem").containsEntry(FlowEngine.ATTR_DIGITS, "1");
    }

    @Test
    void newOutboundCallWithDialerUrlArgument_urlKeptInTransactionAttributesOfEveryResponse() {
        String node = "http://10.0.0.2:8080/v1/sma/invocations";
        h.expect("att-n", menuFlow());
        ObjectNode created = Bodies.newOutbound(1, "tx-n", "att-n");
        ((ObjectNode) created.at("/ActionData/Parameters/Arguments")).put(FlowEngine.ATTR_DIALER_URL, node);

        JsonNode r1 = h.sendOk(created);
        JsonNode r2 = h.sendOk(Bodies.withAttributes(Bodies.invocation("RINGING", 2, "tx-n", null),
                Harness.attributes(r1)));
        JsonNode r3 = h.sendOk(Bodies.withAttributes(Bodies.invocation("CALL_ANSWERED", 3, "tx-n", "Connected"),
                Harness.attributes(r2)));
        assertThat(Harness.actionTypes(r3)).containsExactly("SpeakAndGetDigits");
        // An invocation that lost its attributes: the webhook's memory still has the URL.
        JsonNode r4 = h.sendOk(Bodies.actionSuccessful(4, "tx-n", "SpeakAndGetDigits", "1", null));
        assertThat(Harness.actionTypes(r4)).containsExactly("Speak", "Hangup");
        JsonNode r5 = h.sendOk(Bodies.hangup(5, "tx-n", 0, Harness.attributes(r4)));

        for (JsonNode r : List.of(r1, r2, r3, r4, r5)) {
            assertThat(Harness.attributes(r)).containsEntry(FlowEngine.ATTR_DIALER_URL, node)
                    .containsEntry(FlowEngine.ATTR_ATTEMPT, "att-n")
                    .hasSizeLessThanOrEqualTo(FlowEngine.MAX_ATTRIBUTES);
        }
        assertThat(Harness.attributes(r4)).containsEntry(FlowEngine.ATTR_DIGITS, "1");
        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().digits()).isEqualTo("1"));
    }

    @Test
    void newOutboundCallWithoutDialerUrlArgument_noDialerUrlAttribute() {
        h.expect("att-n0", menuFlow());
        JsonNode r1 = h.sendOk(Bodies.newOutbound(1, "tx-n0", "att-n0"));
        JsonNode r3 = h.sendOk(Bodies.withAttributes(Bodies.invocation("CALL_ANSWERED", 3, "tx-n0", "Connected"),
                Harness.attributes(r1)));

        assertThat(Harness.attributes(r1)).doesNotContainKey(FlowEngine.ATTR_DIALER_URL);
        assertThat(Harness.attributes(r3)).doesNotContainKey(FlowEngine.ATTR_DIALER_URL);
    }

    @Test
    void duplicateHangupWithNewSequence_stillOneCallEnded() {
        h.expect("att-h", FlowConfig.DEFAULT);
        h.registry.placed("att-h", "tx-h");
        h.sendOk(Bodies.hangup(2, "tx-h", 486, Map.of()));
        h.sendOk(Bodies.hangup(3, "tx-h", 480, Map.of()));
        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().disposition()).isEqualTo(Disposition.BUSY));
    }

    @Test
    void transferCall_callAndBridgeThenLegBHangupHangsUpLegA() {
        h.expect("att-t", menuFlow());
        h.registry.placed("att-t", "tx-t");
        JsonNode answered = h.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-t", "Connected"));
        JsonNode bridge = h.sendOk(Bodies.actionSuccessful(4, "tx-t", "SpeakAndGetDigits", "0",
                Harness.attributes(answered)));
        assertThat(Harness.actionTypes(bridge)).containsExactly("Speak", "CallAndBridge");
        assertThat(bridge.at("/Actions/1/Parameters/CallerIdNumber").asText()).isEqualTo(Bodies.FROM);
        assertThat(bridge.at("/Actions/1/Parameters/Endpoints/0/Uri").asText()).isEqualTo("+12065550199");
        assertThat(bridge.at("/Actions/1/Parameters/Endpoints/0/BridgeEndpointType").asText()).isEqualTo("PSTN");

        JsonNode bridged = h.sendOk(Bodies.actionSuccessful(5, "tx-t", "CallAndBridge", null,
                Harness.attributes(bridge)));
        assertThat(bridged.get("Actions")).isEmpty();

        // The agent (LEG-B) hangs up while the callee is connected: hang up LEG-A, the call is not over yet.
        ObjectNode legB = Bodies.invocation("HANGUP", 6, "tx-t", "Connected");
        ObjectNode b = ((com.fasterxml.jackson.databind.node.ArrayNode) legB.at("/CallDetails/Participants"))
                .addObject();
        b.put("CallId", "call-b");
        b.put("ParticipantTag", "Leg-B");
        b.put("Status", "Disconnected");
        legB.putObject("ActionData").put("Type", "ReceiveDigits");
        Bodies.withAttributes(legB, Harness.attributes(bridged));
        JsonNode r = h.sendOk(legB);
        assertThat(Harness.actionTypes(r)).containsExactly("Hangup");
        assertThat(r.at("/Actions/0/Parameters/ParticipantTag").asText()).isEqualTo("LEG-A");
        assertThat(h.eventsOf(CallEnded.class)).isEmpty();

        h.sendOk(Bodies.hangup(7, "tx-t", 0, Harness.attributes(r)));
        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().disposition()).isEqualTo(Disposition.ANSWERED));
    }

    @Test
    void legAHangupWhileLegBConnected_endsCallAndHangsUpLegB() {
        h.expect("att-ab", menuFlow());
        h.registry.placed("att-ab", "tx-ab");
        h.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-ab", "Connected"));
        ObjectNode hangup = Bodies.hangup(9, "tx-ab", 0, Map.of());
        ObjectNode b = ((com.fasterxml.jackson.databind.node.ArrayNode) hangup.at("/CallDetails/Participants"))
                .addObject();
        b.put("CallId", "call-b");
        b.put("ParticipantTag", "LEG-B");
        b.put("Status", "Connected");
        JsonNode r = h.sendOk(hangup);
        assertThat(Harness.actionTypes(r)).containsExactly("Hangup");
        assertThat(r.at("/Actions/0/Parameters/ParticipantTag").asText()).isEqualTo("LEG-B");
        assertThat(h.eventsOf(CallEnded.class)).hasSize(1);
    }

    @Test
    void correlation_byTransactionAttributeWhenArgumentsMissing() {
        h.expect("att-x", FlowConfig.DEFAULT);
        JsonNode r = h.sendOk(Bodies.withAttributes(Bodies.invocation("CALL_ANSWERED", 3, "tx-x", "Connected"),
                Map.of("a", "att-x")));
        assertThat(Harness.actionTypes(r)).containsExactly("Speak", "Hangup");
        assertThat(h.eventsOf(CallStarted.class)).containsExactly(new CallStarted("c1", "att-x", "tx-x"));
    }

    @Test
    void unknownCall_answeredGetsHangup_othersEmpty_countedAndPublished() {
        JsonNode answered = h.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-unknown", "Connected"));
        assertThat(Harness.actionTypes(answered)).containsExactly("Hangup");
        for (String event : List.of("RINGING", "ACTION_SUCCESSFUL", "ACTION_FAILED", "HANGUP", "DIGITS_RECEIVED",
                "CALL_UPDATE_REQUESTED", "INVALID_LAMBDA_RESPONSE", "ACTION_INTERRUPTED", "NEW_OUTBOUND_CALL")) {
            JsonNode r = h.sendOk(Bodies.invocation(event, 4, "tx-unknown", "Connected"));
            assertThat(r.get("Actions")).as(event).isEmpty();
        }
        assertThat(h.handler.stats().unknownCalls()).isEqualTo(10);
        assertThat(h.uncorrelated).hasSize(10).allMatch(e -> e instanceof CallEvent.UnknownCall u
                && u.transactionId().equals("tx-unknown"));
        assertThat(h.events).isEmpty();
    }

    @Test
    void unknownEventType_answeredWithNoActionsAndCounted() {
        h.expect("att-u", FlowConfig.DEFAULT);
        h.registry.placed("att-u", "tx-u");
        JsonNode r = h.sendOk(Bodies.invocation("SOMETHING_NEW", 3, "tx-u", "Connected"));
        assertThat(r.get("Actions")).isEmpty();
        assertThat(Harness.attributes(r)).containsEntry("a", "att-u");
        assertThat(h.handler.stats().unknownEventTypes()).isEqualTo(1);
    }

    @Test
    void actionInterrupted_ignoredWithNoActions() {
        h.expect("att-i", FlowConfig.DEFAULT);
        h.registry.placed("att-i", "tx-i");
        JsonNode r = h.sendOk(Bodies.invocation("ACTION_INTERRUPTED", 5, "tx-i", "Connected"));
        assertThat(r.get("Actions")).isEmpty();
    }

    @Test
    void invalidLambdaResponse_errorAtTopLevelOrInActionData_apologyAndHangup() {
        h.expect("att-v", FlowConfig.DEFAULT);
        h.registry.placed("att-v", "tx-v");
        ObjectNode top = Bodies.invocation("INVALID_LAMBDA_RESPONSE", 5, "tx-v", null);
        top.put("ErrorType", "TransactionAttributesInvalidMapSize");
        top.put("ErrorMessage", "Maximum number of mappings is 10");
        JsonNode r = h.sendOk(top);
        assertThat(Harness.actionTypes(r)).containsExactly("Speak", "Hangup");

        h.expect("att-w", FlowConfig.DEFAULT);
        h.registry.placed("att-w", "tx-w");
        ObjectNode inside = Bodies.invocation("INVALID_LAMBDA_RESPONSE", 5, "tx-w", null);
        inside.putObject("ActionData").put("ErrorType", "InvalidResponse").put("ErrorMessage", "bad");
        assertThat(Harness.actionTypes(h.sendOk(inside))).containsExactly("Speak", "Hangup");
        assertThat(h.handler.stats().invalidLambdaResponses()).isEqualTo(2);
    }

    @Test
    void actionFailed_errorAsSingleString_hangsUp() {
        h.expect("att-f", FlowConfig.DEFAULT);
        h.registry.placed("att-f", "tx-f");
        ObjectNode failed = Bodies.invocation("ACTION_FAILED", 4, "tx-f", "Connected");
        failed.putObject("ActionData").put("Type", "Speak").put("Error", "SystemException: boom");
        Bodies.withAttributes(failed, Map.of("s", "M", "l", "Hangup", "a", "att-f"));
        JsonNode r = h.sendOk(failed);
        assertThat(Harness.actionTypes(r)).containsExactly("Hangup");
    }

    @Test
    void actionFailed_speakAccessDenied_publishedObservedAndOnTheCallsResult() {
        List<String> observed = new java.util.concurrent.CopyOnWriteArrayList<>();
        Harness watched = new Harness(b -> b.observer(new WebhookObserver() {
            @Override
            public void actionFailed(String campaignId, String action, String errorType) {
                observed.add(campaignId + "/" + action + "/" + errorType);
            }
        }));
        try {
            watched.expect("att-p", FlowConfig.DEFAULT);
            watched.sendOk(Bodies.newOutbound(1, "tx-p", "att-p"));
            JsonNode answered = watched.sendOk(Bodies.invocation("CALL_ANSWERED", 2, "tx-p", "Connected"));
            ObjectNode failed = Bodies.actionFailed(3, "tx-p", "Speak", "AccessDenied", Harness.attributes(answered));
            ((ObjectNode) failed.get("ActionData")).put("ErrorMessage", "Chime is not authorized to use Polly");

            JsonNode r = watched.sendOk(failed);
            watched.send(Bodies.bytes(failed)); // Chime retried it: counted once
            watched.sendOk(Bodies.hangup(4, "tx-p", 0, Harness.attributes(r)));

            assertThat(Harness.actionTypes(r)).containsExactly("Hangup");
            ActionFailure expected = new ActionFailure("Speak", "AccessDenied", "Chime is not authorized to use Polly");
            assertThat(watched.eventsOf(CallEvent.ActionFailed.class)).singleElement().satisfies(e -> {
                assertThat(e.failure()).isEqualTo(expected);
                assertThat(e.failure().detail())
                        .isEqualTo("Speak failed: AccessDenied: Chime is not authorized to use Polly");
                assertThat(e.failure().wasAudible()).isTrue();
                assertThat(e.attemptId()).isEqualTo("att-p");
                assertThat(e.transactionId()).isEqualTo("tx-p");
                assertThat(e.sequence()).isEqualTo(3);
            });
            assertThat(observed).containsExactly("c1/Speak/AccessDenied");
            assertThat(watched.eventsOf(CallEnded.class)).singleElement().satisfies(e -> {
                assertThat(e.result().disposition()).isEqualTo(Disposition.ANSWERED);
                assertThat(e.result().actionFailure()).isEqualTo(expected);
            });
        } finally {
            watched.close();
        }
    }

    @Test
    void actionFailed_calleesInputOrUnansweredTransfer_notAFailure() {
        h.expect("att-d", menuFlow());
        h.sendOk(Bodies.newOutbound(1, "tx-d", "att-d"));
        JsonNode answered = h.sendOk(Bodies.invocation("CALL_ANSWERED", 2, "tx-d", "Connected"));
        JsonNode r = h.sendOk(Bodies.actionFailed(3, "tx-d", "SpeakAndGetDigits", "InvalidDigitsReceived",
                Harness.attributes(answered)));
        assertThat(Harness.actionTypes(r)).containsExactly("SpeakAndGetDigits"); // asked again
        ObjectNode noInput = Bodies.actionFailed(4, "tx-d", "SpeakAndGetDigits", null, Harness.attributes(r));
        ((ObjectNode) noInput.get("ActionData")).remove("ErrorType");
        JsonNode r2 = h.sendOk(noInput);
        JsonNode r3 = h.sendOk(Bodies.actionFailed(5, "tx-d", "CallAndBridge", "CallNotAnswered",
                Harness.attributes(r2)));
        h.sendOk(Bodies.hangup(6, "tx-d", 0, Harness.attributes(r3)));

        assertThat(h.eventsOf(CallEvent.ActionFailed.class)).isEmpty();
        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().actionFailure()).isNull());
    }

    @Test
    void actionFailed_promptOfAMenuDenied_hangsUpInsteadOfAskingAgain() {
        h.expect("att-g", menuFlow());
        h.sendOk(Bodies.newOutbound(1, "tx-g", "att-g"));
        JsonNode answered = h.sendOk(Bodies.invocation("CALL_ANSWERED", 2, "tx-g", "Connected"));

        JsonNode r = h.sendOk(Bodies.actionFailed(3, "tx-g", "SpeakAndGetDigits", "AccessDenied",
                Harness.attributes(answered)));

        assertThat(Harness.actionTypes(r)).containsExactly("Hangup");
        assertThat(h.eventsOf(CallEvent.ActionFailed.class)).singleElement()
                .satisfies(e -> assertThat(e.failure().detail()).isEqualTo("SpeakAndGetDigits failed: AccessDenied: failed"));
    }

    @Test
    void cancelledCampaign_callUpdateRequestedAnsweredWithHangup_andNextAnswerHungUp() {
        h.expect("att-c1", menuFlow());
        h.registry.placed("att-c1", "tx-c1");
        h.expect("att-c2", menuFlow());
        h.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-c1", "Connected"));

        List<String> live = h.registry.cancelCampaign("c1");
        assertThat(live).containsExactly("tx-c1");

        ObjectNode update = Bodies.invocation("CALL_UPDATE_REQUESTED", 5, "tx-c1", "Connected");
        update.putObject("ActionData").put("Type", "CallUpdateRequest").putObject("Parameters")
                .putObject("Arguments").put("action", "hangup");
        assertThat(Harness.actionTypes(h.sendOk(update))).containsExactly("Hangup");

        // A call placed before the cancel that is answered afterwards is hung up at once.
        h.sendOk(Bodies.newOutbound(1, "tx-c2", "att-c2"));
        assertThat(Harness.actionTypes(h.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-c2", "Connected"))))
                .containsExactly("Hangup");
    }

    @Test
    void callUpdateRequested_notCancelled_noActions() {
        h.expect("att-n", FlowConfig.DEFAULT);
        h.registry.placed("att-n", "tx-n");
        ObjectNode update = Bodies.invocation("CALL_UPDATE_REQUESTED", 5, "tx-n", "Connected");
        update.putObject("ActionData").put("Type", "CallUpdateRequest");
        assertThat(h.sendOk(update).get("Actions")).isEmpty();
    }

    @Test
    void inboundCall_defaultFlowNeverEmpty_optOutPublishedForCaller() {
        ObjectNode call = Bodies.invocation("NEW_INBOUND_CALL", 1, "tx-in", null);
        ((ObjectNode) call.at("/CallDetails/Participants/0")).put("From", "+15551230000").put("To", Bodies.FROM)
                .put("Direction", "Inbound");
        JsonNode r = h.sendOk(call);
        assertThat(Harness.actionTypes(r)).containsExactly("SpeakAndGetDigits");
        assertThat(r.at("/Actions/0/Parameters/SpeechParameters/Text").asText()).contains("press 9");

        ObjectNode digits = Bodies.actionSuccessful(2, "tx-in", "SpeakAndGetDigits", "9", Harness.attributes(r));
        ((ObjectNode) digits.at("/CallDetails/Participants/0")).put("From", "+15551230000");
        JsonNode r2 = h.sendOk(digits);
        assertThat(Harness.actionTypes(r2)).containsExactly("Speak", "Hangup");
        assertThat(h.inbound).contains(new OptedOut(EventBus.INBOUND, "+15551230000", null));
        assertThat(h.events).isEmpty();
    }

    @Test
    void ledgerLookup_afterRestart_restoresCallAndContinuesFlowFromAttributes() {
        Harness restarted = new Harness(b -> b.ledgerLookup(tx -> Mono.just(tx.equals("tx-r")
                ? Optional.of(expected("att-r")) : Optional.empty())));
        try {
            Map<String, String> attrs = Map.of("a", "att-r", "s", "U0", "l", "SpeakAndGetDigits",
                    FlowEngine.ATTR_ANSWERED_AT, Long.toString(restarted.clock.instant().toEpochMilli() - 5000));
            JsonNode r = restarted.sendOk(Bodies.actionSuccessful(7, "tx-r", "SpeakAndGetDigits", "1", attrs));
            assertThat(Harness.actionTypes(r)).containsExactly("Speak", "Hangup");
            assertThat(restarted.registry.liveCalls()).isEqualTo(1);
            restarted.sendOk(Bodies.hangup(8, "tx-r", 0, Harness.attributes(r)));
            assertThat(restarted.registry.liveCalls()).isZero();
            assertThat(restarted.eventsOf(CallEnded.class)).singleElement().satisfies(e -> {
                assertThat(e.result().disposition()).isEqualTo(Disposition.ANSWERED);
                assertThat(e.result().talk()).isEqualTo(Duration.ofSeconds(5));
                assertThat(e.result().digits()).isEqualTo("1");
            });
            assertThat(restarted.eventsOf(CallStarted.class)).isEmpty();
            assertThat(restarted.handler.stats().ledgerLookups()).isEqualTo(1);

            JsonNode unknown = restarted.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-other", "Connected"));
            assertThat(Harness.actionTypes(unknown)).containsExactly("Hangup");
            assertThat(restarted.handler.stats().unknownCalls()).isEqualTo(1);
        } finally {
            restarted.close();
        }
    }

    @Test
    void hangupNormalClearing_ofACallFromBeforeThisProcess_notSeenAnswered_isAnswered_ofOneSeenWholeItIsNot() {
        // After a restart, a call's CALL_ANSWERED went to the previous process or waits in the spill queue behind
        // the live HANGUP; the HANGUP's SipResponseCode 0 (normal clearing) says it was answered.
        Harness restarted = new Harness(b -> b.ledgerLookup(tx -> Mono.just(tx.equals("tx-r")
                ? Optional.of(expected("att-r")) : Optional.empty())));
        try {
            restarted.sendOk(Bodies.hangup(9, "tx-r", 0, Map.of()));
            assertThat(restarted.eventsOf(CallEnded.class)).singleElement()
                    .satisfies(e -> assertThat(e.result().disposition()).isEqualTo(Disposition.ANSWERED));
        } finally {
            restarted.close();
        }
        // A call this process saw from its start, ringing, never answered: a 0 is not taken for an answer.
        h.expect("att-f", FlowConfig.DEFAULT);
        h.registry.placed("att-f", "tx-f");
        h.sendOk(Bodies.newOutbound(1, "tx-f", "att-f"));
        h.sendOk(Bodies.invocation("RINGING", 2, "tx-f", null));
        h.sendOk(Bodies.hangup(3, "tx-f", 0, Map.of()));
        assertThat(h.eventsOf(CallEnded.class)).singleElement()
                .satisfies(e -> assertThat(e.result().disposition()).isEqualTo(Disposition.FAILED));
    }

    @Test
    void ledgerLookup_withAttemptId_findsAnotherNodesCallByTheAttemptItsInvocationNames() {
        // Another node's call: its TransactionId is not in the ledger yet, its attempt (the intent) is.
        java.util.List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        Harness node = new Harness(b -> b.ledgerLookup((tx, attemptId) -> {
            asked.add(tx + "/" + attemptId);
            return Mono.just("att-x".equals(attemptId) ? Optional.of(expected("att-x")) : Optional.empty());
        }));
        try {
            node.sendOk(Bodies.newOutbound(1, "tx-x", "att-x"));
            assertThat(node.registry.liveCalls()).isEqualTo(1);
            node.sendOk(Bodies.invocation("CALL_ANSWERED", 2, "tx-x", "Connected"));
            assertThat(asked).containsExactly("tx-x/att-x");
            assertThat(node.handler.stats().unknownCalls()).isZero();

            // Without an attempt id in the invocation, the lookup is by TransactionId alone.
            node.sendOk(Bodies.invocation("RINGING", 1, "tx-y", "Connected"));
            assertThat(asked).contains("tx-y/null");
            assertThat(node.handler.stats().unknownCalls()).isEqualTo(1);
        } finally {
            node.close();
        }
    }

    @Test
    void ledgerLookup_failingOrHanging_treatedAsUnknownWithinTimeout() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        Harness failing = new Harness(b -> b.ledgerLookup(tx -> tx.equals("tx-hang") ? Mono.never()
                : Mono.error(new IllegalStateException("db down"))).ledgerTimeout(Duration.ofSeconds(2), vts));
        try {
            JsonNode r = failing.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-err", "Connected"));
            assertThat(Harness.actionTypes(r)).containsExactly("Hangup");

            byte[] body = Bodies.bytes(Bodies.invocation("CALL_ANSWERED", 3, "tx-hang", "Connected"));
            long ts = failing.signature.nowSeconds();
            StepVerifier.create(failing.handler.handle(Long.toString(ts), failing.signature.sign(ts, body), body))
                    .then(() -> vts.advanceTimeBy(Duration.ofSeconds(2)))
                    .assertNext(reply -> assertThat(Harness.actionTypes(Harness.json(reply)))
                            .containsExactly("Hangup"))
                    .expectComplete()
                    .verify(Duration.ofSeconds(5));
            assertThat(failing.handler.stats().ledgerFailures()).isEqualTo(2);
        } finally {
            failing.close();
            vts.dispose();
        }
    }

    private static ExpectedCall expected(String attemptId) {
        io.chimedialer.core.contacts.Contact contact = new io.chimedialer.core.contacts.Contact(1, "k",
                Bodies.CALLEE, "Ada", null, Map.of());
        Attempt attempt = new Attempt(attemptId, "c1", contact, 1, "us-east-1", Bodies.FROM);
        FlowConfig flow = FlowConfig.menu(null, Menu.of(Prompt.text("Press 1."),
                Map.of("1", MenuOption.of(MenuOption.Action.CONFIRM))));
        return new ExpectedCall(attempt, CallContext.of(attempt, flow, Duration.ofMinutes(30)));
    }

    @Test
    void statuses_unsignedTooLargeMalformed_401_413_400_andNoStateChange() {
        h.expect("att-s", FlowConfig.DEFAULT);
        byte[] valid = Bodies.bytes(Bodies.newOutbound(1, "tx-s", "att-s"));
        assertThat(h.handler.handle(null, null, valid).block(Duration.ofSeconds(5)).status()).isEqualTo(401);
        long ts = h.signature.nowSeconds();
        assertThat(h.handler.handle(Long.toString(ts), new WebhookSignature("wrong", h.clock).sign(ts, valid), valid)
                .block(Duration.ofSeconds(5)).status()).isEqualTo(401);
        long stale = ts - 301;
        assertThat(h.handler.handle(Long.toString(stale), h.signature.sign(stale, valid), valid)
                .block(Duration.ofSeconds(5)).status()).isEqualTo(401);
        assertThat(h.events).isEmpty();
        assertThat(h.registry.conflictingTransactions()).isZero();

        byte[] big = new byte[256 * 1024 + 1];
        assertThat(h.send(big).status()).isEqualTo(413);
        assertThat(h.send(Bodies.bytes("{\"CallDetails\":{}}")).status()).isEqualTo(400);
        assertThat(h.send(Bodies.bytes("{nope")).status()).isEqualTo(400);
        assertThat(h.handler.handle("1", "v1=00", null).block(Duration.ofSeconds(5)).status()).isEqualTo(401);

        // Exactly 256 KiB is accepted (padded with spaces after a valid object).
        byte[] padded = new byte[256 * 1024];
        java.util.Arrays.fill(padded, (byte) ' ');
        System.arraycopy(valid, 0, padded, 0, valid.length);
        assertThat(h.send(padded).status()).isEqualTo(200);
        assertThat(h.eventsOf(CallStarted.class)).hasSize(1);
        assertThat(h.handler.stats().unauthorized()).isEqualTo(4);
        assertThat(h.handler.stats().tooLarge()).isEqualTo(1);
        assertThat(h.handler.stats().malformed()).isEqualTo(2);
    }

    @Test
    void observer_seesEveryRequestSignatureFailuresUnknownCallsAndBudgetHangups() {
        List<String> seen = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        WebhookObserver observer = new WebhookObserver() {
            @Override
            public void invocation(String eventType, int status, Duration latency) {
                seen.add("invocation " + eventType + " " + status + " " + latency.toMillis());
            }

            @Override
            public void signatureFailure() {
                seen.add("signature");
            }

            @Override
            public void unknownCall(String eventType) {
                seen.add("unknown " + eventType);
            }

            @Override
            public void budgetHangup(String campaignId) {
                seen.add("budget " + campaignId);
            }
        };
        Harness o = new Harness(b -> b.observer(observer));
        try {
            o.expect("att-o", FlowConfig.message(Prompt.text("x")).withRepeat(30));
            o.registry.placed("att-o", "tx-o");
            JsonNode r = o.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-o", "Connected"));
            o.sendOk(Bodies.actionSuccessful(995, "tx-o", "Speak", null, Harness.attributes(r)));
            o.sendOk(Bodies.invocation("RINGING", 2, "tx-nobody", null));
            o.handler.handle(null, null, new byte[] {1}).block(Duration.ofSeconds(5));
            assertThat(seen).containsExactly("invocation CALL_ANSWERED 200 0", "budget c1",
                    "invocation ACTION_SUCCESSFUL 200 0", "unknown RINGING", "invocation RINGING 200 0",
                    "signature", "invocation null 401 0");
        } finally {
            o.close();
        }
    }

    @Test
    void observer_throwing_replyUnchangedAndCounted() {
        Harness o = new Harness(b -> b.observer(new WebhookObserver() {
            @Override
            public void invocation(String eventType, int status, Duration latency) {
                throw new IllegalStateException("metrics down");
            }
        }));
        try {
            JsonNode r = o.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-nobody", "Connected"));
            assertThat(Harness.actionTypes(r)).containsExactly("Hangup");
            assertThat(o.handler.stats().internalErrors()).isEqualTo(1);
        } finally {
            o.close();
        }
    }

    @Test
    void loggable_controlCharsAndLongInput_sanitizedAndCut() {
        assertThat(WebhookHandler.loggable("tx\n\u001b[31mFAKE LOG LINE")).isEqualTo("tx??[31mFAKE LOG LINE");
        assertThat(WebhookHandler.loggable("x".repeat(500))).hasSize(83).endsWith("...");
        assertThat(WebhookHandler.loggable(null)).isEqualTo("-");
    }

    @Test
    void schemaVersion_mirroredFromRequest() {
        ObjectNode body = Bodies.invocation("RINGING", 2, "tx-sv", null);
        body.put("SchemaVersion", "1.1");
        assertThat(h.sendOk(body).get("SchemaVersion").asText()).isEqualTo("1.1");
        body.remove("SchemaVersion");
        assertThat(h.sendOk(body).get("SchemaVersion").asText()).isEqualTo("1.0");
    }

    @Test
    void budget_invocationNearLimit_politeGoodbyeCounted() {
        FlowConfig flow = FlowConfig.message(Prompt.text("Long message.")).withRepeat(50);
        h.expect("att-b", flow);
        h.registry.placed("att-b", "tx-b");
        JsonNode r = h.sendOk(Bodies.invocation("CALL_ANSWERED", 3, "tx-b", "Connected"));
        assertThat(r.get("Actions")).hasSize(10);
        JsonNode bye = h.sendOk(Bodies.actionSuccessful(990, "tx-b", "Speak", null, Harness.attributes(r)));
        assertThat(Harness.actionTypes(bye)).containsExactly("Speak", "Hangup");
        assertThat(bye.at("/Actions/0/Parameters/Text").asText()).isEqualTo("Thank you. Goodbye.");
        assertThat(h.handler.stats().budgetHangups()).isEqualTo(1);
    }
}
