package io.chimedialer.core.calls;

import io.chimedialer.core.webhook.InvocationParser;
import io.chimedialer.core.webhook.WebhookSignature;
import io.chimedialer.core.webhook.Invocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.core.domain.ActionFailure;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.flow.Action;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.core.flow.FlowDecision;
import io.chimedialer.core.flow.FlowEngine;
import io.chimedialer.core.flow.FlowRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The webhook of {@code POST /v1/sma/invocations}, independent of any HTTP server: the server passes the two
 * signature headers and the raw body and writes back the {@link WebhookReply} (status and JSON body).
 *
 * <p>Order of checks: a body over the limit (256 KiB) gets 413; a missing or wrong signature or a stale
 * timestamp gets 401 and changes nothing; a body that is not a JSON object or lacks
 * {@code CallDetails.TransactionId} gets 400; everything else gets 200 with
 * {@code {"SchemaVersion":..,"Actions":[..],"TransactionAttributes":{..}}}. No input yields a 5xx or an error
 * signal: unexpected failures are counted in {@link WebhookStats#internalErrors()} and answered safely.
 *
 * <p>Non-blocking and answers from memory; only an invocation that matches no call in memory consults the
 * ledger lookup (bounded by a timeout). A repeated (TransactionId, Sequence) gets the identical bytes and has no
 * second side effect. Thread-safe.
 */
public final class WebhookHandler {

    /**
     * The UpdateSipMediaApplicationCall argument that asks for a hang-up ({@code "action": "hangup"}); a
     * cancelled campaign's calls are hung up on CALL_UPDATE_REQUESTED without it.
     */
    public static final String UPDATE_ACTION_ARGUMENT = "action";

    /** The default body limit: 256 KiB. */
    public static final int DEFAULT_MAX_BODY_BYTES = 256 * 1024;

    private static final Logger log = LoggerFactory.getLogger(WebhookHandler.class);

    private final CallRegistry registry;
    private final WebhookSignature signature;
    private final InvocationParser parser;
    private final ObjectMapper mapper;
    private final FlowEngine engine = new FlowEngine();
    private final java.util.function.BiFunction<String, String, Mono<Optional<ExpectedCall>>> ledgerLookup;
    private final boolean hasLedgerLookup;
    private final Duration ledgerTimeout;
    private final Scheduler scheduler;
    private final FlowConfig inboundFlow;
    private final int maxBodyBytes;
    private final WebhookStats stats = new WebhookStats();
    private final WebhookObserver observer;
    private final Function<CallResult, Mono<Void>> endDurable;
    private final Duration endDurableWait;
    private final Executor events;

    private WebhookHandler(Builder b) {
        this.registry = b.registry;
        this.signature = b.signature;
        this.mapper = new ObjectMapper();
        this.parser = new InvocationParser(mapper);
        this.ledgerLookup = b.ledgerLookup;
        this.hasLedgerLookup = b.ledgerLookup != null;
        this.ledgerTimeout = b.ledgerTimeout;
        this.scheduler = b.scheduler;
        this.inboundFlow = b.inboundFlow;
        this.maxBodyBytes = b.maxBodyBytes;
        this.observer = b.observer;
        this.endDurable = b.endDurable;
        this.endDurableWait = b.endDurableWait;
        this.events = b.events;
    }

    /**
     * A builder; defaults: no ledger lookup, inbound flow {@link FlowConfig#DEFAULT}, 256 KiB body limit, ledger
     * timeout 2 s on {@link Schedulers#parallel()}.
     */
    public static Builder builder(CallRegistry registry, WebhookSignature signature) {
        return new Builder(registry, signature);
    }

    /** The counters of this handler. */
    public WebhookStats stats() {
        return stats;
    }

    /** The registry this handler correlates against. */
    public CallRegistry registry() {
        return registry;
    }

    /**
     * Handles one request.
     *
     * @param timestampHeader the {@code X-Dialer-Timestamp} header, or null
     * @param signatureHeader the {@code X-Dialer-Signature} header, or null
     * @param body            the raw body (null is treated as empty)
     * @return the reply; never an error signal, never a status other than 200, 400, 401 or 413
     */
    public Mono<WebhookReply> handle(String timestampHeader, String signatureHeader, byte[] body) {
        return Mono.defer(() -> {
            Instant start = registry.now();
            String[] eventType = new String[1];
            return handleNow(timestampHeader, signatureHeader, body == null ? new byte[0] : body, eventType)
                    .onErrorResume(e -> {
                        stats.internalErrors.increment();
                        log.error("webhook failed unexpectedly", e);
                        return Mono.just(WebhookReply.error(400, "unprocessable"));
                    })
                    .doOnNext(reply -> observe(o -> o.invocation(eventType[0], reply.status(),
                            Duration.between(start, registry.now()))));
        });
    }

    /** Calls the observer; its failures are counted, never propagated. */
    private void observe(Consumer<WebhookObserver> call) {
        try {
            call.accept(observer);
        } catch (RuntimeException e) {
            stats.internalErrors.increment();
            log.warn("webhook observer failed", e);
        }
    }

    private Mono<WebhookReply> handleNow(String timestampHeader, String signatureHeader, byte[] body,
                                         String[] eventType) {
        stats.requests.increment();
        if (body.length > maxBodyBytes) {
            stats.tooLarge.increment();
            return Mono.just(WebhookReply.error(413, "body too large"));
        }
        if (!signature.verify(timestampHeader, signatureHeader, body)) {
            stats.unauthorized.increment();
            observe(WebhookObserver::signatureFailure);
            return Mono.just(WebhookReply.error(401, "bad signature"));
        }
        Invocation inv;
        try {
            inv = parser.parse(body);
        } catch (InvocationParser.MalformedInvocationException e) {
            stats.malformed.increment();
            return Mono.just(WebhookReply.error(400, e.getMessage()));
        }
        eventType[0] = inv.rawEventType();
        try {
            stats.countEvent(inv.eventType());
            if (inv.eventType() == Invocation.EventType.UNKNOWN) {
                stats.unknownEventTypes.increment();
            }
            if (inv.eventType() == Invocation.EventType.INVALID_LAMBDA_RESPONSE) {
                stats.invalidLambdaResponses.increment();
                log.warn("Chime rejected a response of call {}: {} {}", loggable(inv.transactionId()),
                        loggable(inv.errorType()), loggable(inv.errorMessage()));
            }
            List<CallEvent> started = new ArrayList<>(1);
            LiveCall call = registry.correlate(inv, started::add);
            if (call != null) {
                return durable(call, inv, started);
            }
            if (inv.eventType() == Invocation.EventType.NEW_INBOUND_CALL) {
                return Mono.just(answer(registry.inbound(inv.transactionId(), Duration.ofMinutes(30)), inv));
            }
            if (!hasLedgerLookup) {
                return Mono.just(unknownCall(inv));
            }
            stats.ledgerLookups.increment();
            return Mono.defer(() -> ledgerLookup.apply(inv.transactionId(), attemptIdOf(inv)))
                    .timeout(ledgerTimeout, scheduler)
                    .onErrorResume(e -> {
                        stats.ledgerFailures.increment();
                        return Mono.just(Optional.empty());
                    })
                    .defaultIfEmpty(Optional.empty())
                    .flatMap(found -> found.map(expected -> durable(registry.restore(expected, inv), inv, List.of()))
                            .orElseGet(() -> Mono.just(unknownCall(inv))))
                    .onErrorResume(e -> Mono.just(safeReply(inv, e)));
        } catch (RuntimeException e) {
            return Mono.just(safeReply(inv, e));
        }
    }

    /**
     * The attempt id an invocation names: NEW_OUTBOUND_CALL's ArgumentsMap, else the attempt the flow keeps in
     * TransactionAttributes; null when neither has it.
     */
    private static String attemptIdOf(Invocation inv) {
        String attemptId = inv.arguments().get(CallRegistry.ARGUMENT_ATTEMPT_ID);
        return attemptId != null ? attemptId : inv.transactionAttributes().get(FlowEngine.ATTR_ATTEMPT);
    }

    private WebhookReply safeReply(Invocation inv, Throwable e) {
        stats.internalErrors.increment();
        log.error("webhook failed on call {} ({})", loggable(inv.transactionId()), loggable(inv.rawEventType()), e);
        List<Action> actions = inv.eventType() == Invocation.EventType.CALL_ANSWERED
                || inv.eventType() == Invocation.EventType.NEW_INBOUND_CALL ? List.of(Action.hangup()) : List.of();
        return ok(inv, actions, limited(inv.transactionAttributes()));
    }

    /** The unknown-call policy: Hangup on CALL_ANSWERED, nothing on the others; counted and published. */
    private WebhookReply unknownCall(Invocation inv) {
        stats.unknownCalls.increment();
        observe(o -> o.unknownCall(inv.rawEventType()));
        registry.publish(new CallEvent.UnknownCall(EventBus.UNCORRELATED, inv.transactionId(), inv.rawEventType()));
        List<Action> actions = inv.eventType() == Invocation.EventType.CALL_ANSWERED
                ? List.of(Action.hangup()) : List.of();
        return ok(inv, actions, limited(inv.transactionAttributes()));
    }

    /** Answers an invocation of a known call; side effects happen once per (TransactionId, Sequence). */
    /**
     * Answers an invocation of a known call. The invocation that ends the call (its HANGUP) is answered only once
     * its outcome is durable ({@link Builder#endDurable}), so that a crash cannot lose an outcome Chime was told
     * we have; its answer changes nothing for the call, so it can wait. Every other invocation is answered from
     * memory at once.
     */
    private Mono<WebhookReply> durable(LiveCall call, Invocation inv, List<CallEvent> started) {
        Answer answer = answer(call, inv, true, started);
        WebhookReply reply = answer.reply();
        if (answer.written() == null) {
            return Mono.just(reply);
        }
        return answer.written()
                .timeout(endDurableWait, scheduler)
                .onErrorResume(e -> {
                    stats.ledgerFailures.increment();
                    log.warn("call {}: its outcome was not durable within {} ({}); answered all the same",
                            loggable(inv.transactionId()), endDurableWait, e.toString());
                    return Mono.empty();
                })
                .thenReturn(reply);
    }

    private WebhookReply answer(LiveCall call, Invocation inv) {
        return answer(call, inv, false, List.of()).reply();
    }

    /** A reply, and the write of the outcome of the call it ended (null when it ended none or nobody writes it). */
    private record Answer(WebhookReply reply, Mono<Void> written) {
    }

    /**
     * Answers from memory; when the invocation ended the call and there is an {@link Builder#endDurable}, its
     * outcome's write is started here, once, before the end is published: the {@link CallEvent.CallEnded} carries
     * that write (the campaign waits on it rather than writing the outcome again), and so does the answer.
     */
    private Answer answer(LiveCall call, Invocation inv, boolean durable, List<CallEvent> started) {
        // The call's start (when this invocation bound its TransactionId) goes first, with the invocation's events.
        List<CallEvent> events = new ArrayList<>(started.size() + 2);
        events.addAll(started);
        byte[] bytes;
        byte[] earlier;
        synchronized (call) {
            earlier = call.response(inv.sequence());
            if (earlier == null) {
                call.invocations++;
                bytes = call.inbound() ? inbound(call, inv, events) : outbound(call, inv, events);
                call.remember(inv.sequence(), bytes);
            } else {
                bytes = earlier;
            }
        }
        if (earlier != null) {
            stats.duplicates.increment();
            stats.answered.increment();
            publish(events);
            return new Answer(new WebhookReply(200, earlier), null);
        }
        Mono<Void> written = null;
        if (durable && endDurable != null) {
            for (int i = 0; i < events.size(); i++) {
                if (events.get(i) instanceof CallEvent.CallEnded end) {
                    written = write(end.result());
                    events.set(i, new CallEvent.CallEnded(end.result(), written));
                } else if (events.get(i) instanceof CallEvent.UnknownResolved resolved) {
                    // the real outcome of a call the dialer had closed UNKNOWN: answered once it replaced the UNKNOWN
                    // (a rare end; the campaign's step writes it again, idempotently)
                    written = write(resolved.result());
                }
            }
        }
        publish(events);
        stats.answered.increment();
        return new Answer(new WebhookReply(200, bytes), written);
    }

    /** Starts the one write of an ended call's outcome; the returned Mono replays its completion or error. */
    private Mono<Void> write(CallResult result) {
        Mono<Void> write = Mono.defer(() -> endDurable.apply(result)).cache();
        write.subscribe(v -> { }, e -> { }); // its failure is handled by each subscriber that waits on it
        return write;
    }

    /**
     * Publishes an invocation's events, in order, on the events executor ({@link Builder#events}): what the
     * campaign does with them (a permit released, the next contact admitted, ledger writes) does not run on the
     * thread that answers Chime.
     */
    private void publish(List<CallEvent> list) {
        if (list.isEmpty()) {
            return;
        }
        try {
            events.execute(() -> list.forEach(registry::publish));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Shutting down: published here, as without an executor.
            list.forEach(registry::publish);
        }
    }

    private byte[] outbound(LiveCall call, Invocation inv, List<CallEvent> events) {
        ExpectedCall expected = call.expected;
        CallContext ctx = expected.context();
        String attemptId = expected.attempt().attemptId();
        // TransactionAttributes carry the flow's state; fall back to memory if an invocation lost them.
        Map<String, String> attrs = new LinkedHashMap<>(inv.transactionAttributes().isEmpty()
                ? call.lastAttributes : inv.transactionAttributes());
        attrs.put(FlowEngine.ATTR_ATTEMPT, attemptId);
        if (call.answeredAt == null && !call.ended) {
            // A call registered again after a restart learns from its attributes that it was answered before.
            String answered = inv.transactionAttributes().get(FlowEngine.ATTR_ANSWERED_AT);
            if (answered != null) {
                try {
                    call.answeredAt = Instant.ofEpochMilli(Long.parseLong(answered));
                    call.answeredPublished = true;
                } catch (NumberFormatException | java.time.DateTimeException e) {
                    // a mangled attribute only costs the disposition's accuracy
                }
            }
        }
        if (inv.eventType() == Invocation.EventType.NEW_OUTBOUND_CALL) {
            // The node that placed the call rides along, so the Lambda bridge sends the call's later invocations there.
            String dialerUrl = inv.arguments().get(FlowEngine.ATTR_DIALER_URL);
            if (dialerUrl != null && !dialerUrl.isBlank() && dialerUrl.length() <= FlowEngine.MAX_ATTRIBUTE_CHARS) {
                attrs.putIfAbsent(FlowEngine.ATTR_DIALER_URL, dialerUrl);
            }
        }
        if (call.answeredAt != null) {
            attrs.putIfAbsent(FlowEngine.ATTR_ANSWERED_AT, Long.toString(call.answeredAt.toEpochMilli()));
        }
        boolean cancelled = registry.isCancelled(call.campaignId);
        FlowRequest.Kind kind = null;
        String legToHangUp = null;
        switch (inv.eventType()) {
            case NEW_OUTBOUND_CALL, RINGING -> {
                if (call.startedAt == null) {
                    call.startedAt = registry.now();
                }
                if (inv.eventType() == Invocation.EventType.RINGING) {
                    call.rang = true;
                } else {
                    call.sawStart = true;
                }
            }
            case CALL_ANSWERED -> {
                if (call.answeredAt == null && (!call.ended || call.closedUnknown())) {
                    call.answeredAt = registry.now();
                    attrs.put(FlowEngine.ATTR_ANSWERED_AT, Long.toString(call.answeredAt.toEpochMilli()));
                }
                if (!call.answeredPublished && !call.ended) {
                    call.answeredPublished = true;
                    events.add(new CallEvent.CallAnswered(call.campaignId, attemptId, inv.transactionId()));
                }
                kind = cancelled || call.ended ? FlowRequest.Kind.CANCEL : FlowRequest.Kind.ANSWERED;
            }
            case ACTION_SUCCESSFUL -> kind = cancelled || call.ended ? FlowRequest.Kind.CANCEL
                    : FlowRequest.Kind.ACTION_SUCCESSFUL;
            case ACTION_FAILED -> {
                kind = cancelled || call.ended ? FlowRequest.Kind.CANCEL : FlowRequest.Kind.ACTION_FAILED;
                ActionFailure failure = actionFailure(inv);
                if (failure != null) {
                    if (call.actionFailure == null) {
                        call.actionFailure = failure;
                    }
                    events.add(new CallEvent.ActionFailed(call.campaignId, attemptId, inv.transactionId(),
                            inv.sequence(), failure, registry.now()));
                    observe(o -> o.actionFailed(call.campaignId, failure.action(), failure.errorType()));
                }
            }
            case DIGITS_RECEIVED -> kind = cancelled || call.ended ? FlowRequest.Kind.CANCEL
                    : FlowRequest.Kind.DIGITS_RECEIVED;
            case INVALID_LAMBDA_RESPONSE -> kind = cancelled || call.ended ? FlowRequest.Kind.CANCEL
                    : FlowRequest.Kind.INVALID_RESPONSE;
            case CALL_UPDATE_REQUESTED -> {
                String requested = inv.arguments().getOrDefault(UPDATE_ACTION_ARGUMENT, inv.arguments().get("Action"));
                if (cancelled || call.ended || "hangup".equalsIgnoreCase(requested)
                        || "cancel".equalsIgnoreCase(requested)) {
                    kind = FlowRequest.Kind.CANCEL;
                }
            }
            case HANGUP -> {
                String leg = hungUpLeg(inv);
                if ("LEG-B".equals(leg)) {
                    Invocation.Participant a = inv.participant("LEG-A");
                    if (a == null || !"Disconnected".equalsIgnoreCase(a.status())) {
                        kind = FlowRequest.Kind.LEG_HANGUP;
                        legToHangUp = "LEG-A";
                    }
                } else {
                    Integer sip = inv.actionData() == null ? null : inv.actionData().sipResponseCode();
                    // Without a SIP code: rang -> NO_ANSWER, never rang -> FAILED; not knowable when the call's
                    // start went to a previous process and no RINGING came here -> UNKNOWN. A normal clearing (0)
                    // of a call from before this process (resumed, or restored by an invocation) that this process
                    // did not see answered: its CALL_ANSWERED went to the previous process, or waits in the spill
                    // queue behind this live HANGUP -> ANSWERED (Chime clears an unanswered call with 480, 486, ...).
                    boolean fromBefore = call.restored || call.takenOver;
                    Disposition disposition = call.answeredAt != null ? Disposition.ANSWERED
                            : sip == null && !call.rang && !call.sawStart ? Disposition.UNKNOWN
                            : sip != null && sip == 0 && fromBefore && !cancelled ? Disposition.ANSWERED
                            : Disposition.ofUnansweredHangup(sip, call.rang);
                    CallResult result = call.end(disposition, sip, registry.now());
                    if (result != null) {
                        events.add(new CallEvent.CallEnded(result));
                    } else if ((result = call.resolveUnknown(disposition, sip, registry.now())) != null) {
                        // the dialer had closed it UNKNOWN before this HANGUP came: its outcome replaces the UNKNOWN
                        events.add(new CallEvent.UnknownResolved(result));
                    }
                    Invocation.Participant b = inv.participant("LEG-B");
                    if (b != null && b.connected()) {
                        kind = FlowRequest.Kind.LEG_HANGUP;
                        legToHangUp = "LEG-B";
                    }
                }
            }
            case NEW_INBOUND_CALL -> kind = FlowRequest.Kind.INBOUND;
            case ACTION_INTERRUPTED, UNKNOWN -> {
                // informational (ignored by Chime) or unknown: answer with no actions
            }
        }
        if (kind == null) {
            Map<String, String> kept = limited(attrs);
            call.lastAttributes = kept;
            return json(inv, List.of(), kept);
        }
        long used = Math.max(call.invocations, inv.sequence());
        FlowRequest request = new FlowRequest(ctx.flow(), kind, attrs, ctx.variables(), callId(inv),
                inv.actionData() == null ? null : inv.actionData().type(),
                inv.actionData() == null ? null : inv.actionData().receivedDigits(), inv.errorType(), legToHangUp,
                used, ctx.callerId());
        FlowDecision decision = engine.decide(request);
        if (isBudgetHangup(ctx.flow(), kind, attrs, used, decision)) {
            stats.budgetHangups.increment();
            observe(o -> o.budgetHangup(call.campaignId));
        }
        for (FlowDecision.Effect effect : decision.effects()) {
            if (effect instanceof FlowDecision.DigitsCollected d) {
                call.addDigits(d.digits());
                events.add(new CallEvent.DigitsCollected(call.campaignId, attemptId, d.digits()));
            } else if (effect instanceof FlowDecision.OptOut) {
                events.add(new CallEvent.OptedOut(call.campaignId, expected.attempt().contact().number(), attemptId));
                observe(o -> o.flowResult(call.campaignId, false));
            } else if (effect instanceof FlowDecision.Confirmed) {
                observe(o -> o.flowResult(call.campaignId, true));
            }
        }
        call.lastAttributes = decision.attributes();
        return json(inv, decision.actions(), decision.attributes());
    }

    private byte[] inbound(LiveCall call, Invocation inv, List<CallEvent> events) {
        Map<String, String> attrs = new LinkedHashMap<>(inv.transactionAttributes());
        Invocation.Participant a = inv.legA();
        String from = a == null ? null : a.from();
        FlowRequest.Kind kind = switch (inv.eventType()) {
            case NEW_INBOUND_CALL -> FlowRequest.Kind.INBOUND;
            case ACTION_SUCCESSFUL -> FlowRequest.Kind.ACTION_SUCCESSFUL;
            case ACTION_FAILED -> FlowRequest.Kind.ACTION_FAILED;
            case DIGITS_RECEIVED -> FlowRequest.Kind.DIGITS_RECEIVED;
            case INVALID_LAMBDA_RESPONSE -> FlowRequest.Kind.INVALID_RESPONSE;
            case CALL_UPDATE_REQUESTED -> FlowRequest.Kind.CANCEL;
            default -> null;
        };
        if (inv.eventType() == Invocation.EventType.HANGUP) {
            call.end(Disposition.ANSWERED, null, registry.now());
        }
        if (inv.eventType() == Invocation.EventType.ACTION_FAILED) {
            ActionFailure failure = actionFailure(inv);
            if (failure != null) {
                observe(o -> o.actionFailed(EventBus.INBOUND, failure.action(), failure.errorType()));
            }
        }
        if (kind == null) {
            return json(inv, List.of(), limited(attrs));
        }
        Map<String, String> vars = new LinkedHashMap<>();
        vars.put("from", from == null ? "" : from);
        vars.put("to", a == null || a.to() == null ? "" : a.to());
        long used = Math.max(call.invocations, inv.sequence());
        FlowDecision decision = engine.decide(new FlowRequest(inboundFlow, kind, attrs, vars, callId(inv),
                inv.actionData() == null ? null : inv.actionData().type(),
                inv.actionData() == null ? null : inv.actionData().receivedDigits(), inv.errorType(), null, used,
                a == null ? null : a.to()));
        for (FlowDecision.Effect effect : decision.effects()) {
            if (effect instanceof FlowDecision.DigitsCollected d) {
                events.add(new CallEvent.DigitsCollected(EventBus.INBOUND, null, d.digits()));
            } else if (effect instanceof FlowDecision.OptOut && from != null) {
                events.add(new CallEvent.OptedOut(EventBus.INBOUND, from, null));
            }
        }
        List<Action> actions = decision.actions();
        if (kind == FlowRequest.Kind.INBOUND && actions.isEmpty()) {
            actions = List.of(Action.hangup()); // an empty list is an error for NEW_INBOUND_CALL
        }
        return json(inv, actions, decision.attributes());
    }

    /** The failure an ACTION_FAILED reports, or null when it is an outcome of the call (the callee's input). */
    private static ActionFailure actionFailure(Invocation inv) {
        String action = inv.actionData() == null ? null : inv.actionData().type();
        if (ActionFailure.isCallOutcome(action, inv.errorType())) {
            return null;
        }
        return new ActionFailure(action, inv.errorType(), inv.errorMessage());
    }

    private static boolean isBudgetHangup(FlowConfig flow, FlowRequest.Kind kind, Map<String, String> before,
                                          long used, FlowDecision decision) {
        return kind != FlowRequest.Kind.CANCEL && kind != FlowRequest.Kind.LEG_HANGUP
                && used >= (long) flow.invocationBudget() - flow.invocationReserve()
                && !"1".equals(before.get(FlowEngine.ATTR_HUNG_UP))
                && decision.actions().stream().anyMatch(x -> "Hangup".equals(x.type()));
    }

    /** Input quoted in logs: short, printable ASCII only (no log injection, no megabyte lines). */
    static String loggable(String s) {
        if (s == null) {
            return "-";
        }
        int n = Math.min(s.length(), 80);
        StringBuilder sb = new StringBuilder(n + 3);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return s.length() > n ? sb.append("...").toString() : sb.toString();
    }

    /** The leg a HANGUP is about: ActionData's tag, else the one Disconnected participant, else LEG-A. */
    private static String hungUpLeg(Invocation inv) {
        if (inv.actionData() != null && inv.actionData().participantTag() != null) {
            return inv.actionData().participantTag();
        }
        if (inv.actionData() != null && inv.actionData().callId() != null) {
            for (Invocation.Participant p : inv.participants()) {
                if (inv.actionData().callId().equals(p.callId()) && p.participantTag() != null) {
                    return p.participantTag();
                }
            }
        }
        String disconnected = null;
        int count = 0;
        for (Invocation.Participant p : inv.participants()) {
            if ("Disconnected".equalsIgnoreCase(p.status())) {
                disconnected = p.participantTag();
                count++;
            }
        }
        return count == 1 && disconnected != null ? disconnected.toUpperCase(Locale.ROOT) : "LEG-A";
    }

    private static String callId(Invocation inv) {
        Invocation.Participant a = inv.legA();
        return a == null ? null : a.callId();
    }

    /** At most 10 attributes of at most 1,024 characters, as Chime accepts. */
    private static Map<String, String> limited(Map<String, String> attrs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : attrs.entrySet()) {
            if (out.size() == FlowEngine.MAX_ATTRIBUTES) {
                break;
            }
            if (e.getKey().length() <= FlowEngine.MAX_ATTRIBUTE_CHARS) {
                String v = e.getValue();
                out.put(e.getKey(), v.length() > FlowEngine.MAX_ATTRIBUTE_CHARS
                        ? v.substring(0, FlowEngine.MAX_ATTRIBUTE_CHARS) : v);
            }
        }
        return out;
    }

    private WebhookReply ok(Invocation inv, List<Action> actions, Map<String, String> attributes) {
        return new WebhookReply(200, json(inv, actions, attributes));
    }

    private byte[] json(Invocation inv, List<Action> actions, Map<String, String> attributes) {
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("SchemaVersion", inv.schemaVersion());
        response.put("Actions", actions.size() > FlowEngine.MAX_ACTIONS
                ? actions.subList(0, FlowEngine.MAX_ACTIONS) : actions);
        response.put("TransactionAttributes", new java.util.TreeMap<>(attributes));
        try {
            return mapper.writeValueAsBytes(response);
        } catch (JsonProcessingException e) {
            stats.internalErrors.increment();
            return ("{\"SchemaVersion\":\"1.0\",\"Actions\":[]}").getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Builder of {@link WebhookHandler}; not thread-safe. */
    public static final class Builder {
        private final CallRegistry registry;
        private final WebhookSignature signature;
        private java.util.function.BiFunction<String, String, Mono<Optional<ExpectedCall>>> ledgerLookup;
        private Duration ledgerTimeout = Duration.ofSeconds(2);
        private Scheduler scheduler = Schedulers.parallel();
        private FlowConfig inboundFlow = FlowConfig.DEFAULT;
        private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
        private WebhookObserver observer = WebhookObserver.NOOP;
        private Function<CallResult, Mono<Void>> endDurable;
        private Duration endDurableWait = Duration.ofSeconds(3);
        private Executor events = Runnable::run;

        private Builder(CallRegistry registry, WebhookSignature signature) {
            this.registry = Objects.requireNonNull(registry, "registry");
            this.signature = Objects.requireNonNull(signature, "signature");
        }

        /**
         * How to find a call that is not in memory (after a restart): TransactionId to the attempt and its
         * context, or empty. Runs only for invocations no live call matches; should not return attempts that
         * already have a result. Default: none (unknown-call policy).
         */
        public Builder ledgerLookup(Function<String, Mono<Optional<ExpectedCall>>> lookup) {
            Objects.requireNonNull(lookup, "lookup");
            this.ledgerLookup = (transactionId, attemptId) -> lookup.apply(transactionId);
            return this;
        }

        /**
         * Like {@link #ledgerLookup(Function)}, also given the attempt id the invocation names (NEW_OUTBOUND_CALL's
         * ArgumentsMap, else the flow's TransactionAttributes; null when neither has it): a call whose
         * TransactionId is not yet in the ledger (its node has not written it yet) is found by its attempt, whose
         * intent is written before its Create.
         */
        public Builder ledgerLookup(java.util.function.BiFunction<String, String, Mono<Optional<ExpectedCall>>> lookup) {
            this.ledgerLookup = Objects.requireNonNull(lookup, "lookup");
            return this;
        }

        /**
         * Makes the outcome of a call that an invocation ended durable (e.g. the ledger's idempotent
         * {@code recordResult}); that invocation is answered once it completes, or after {@code wait} (default 3 s,
         * within Chime's 5 s), whichever comes first. Default: none (answered at once).
         */
        public Builder endDurable(Function<CallResult, Mono<Void>> durable, Duration wait) {
            this.endDurable = Objects.requireNonNull(durable, "durable");
            if (wait.isNegative() || wait.isZero()) {
                throw new IllegalArgumentException("wait must be > 0, was " + wait);
            }
            this.endDurableWait = wait;
            return this;
        }

        /** Bound of a ledger lookup (default 2 s) and the scheduler of that timeout (default parallel). */
        public Builder ledgerTimeout(Duration timeout, Scheduler timerScheduler) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("ledgerTimeout must be > 0, was " + timeout);
            }
            this.ledgerTimeout = timeout;
            this.scheduler = Objects.requireNonNull(timerScheduler, "timerScheduler");
            return this;
        }

        /**
         * Where the events of an answered invocation are published (default: at once, on the answering thread).
         * A single-threaded executor keeps them in order and keeps what the campaign does with them off the
         * thread that answers Chime. The answer never waits for it.
         */
        public Builder events(Executor executor) {
            this.events = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** The flow of NEW_INBOUND_CALL (its {@code inbound} part and voice); default {@link FlowConfig#DEFAULT}. */
        public Builder inboundFlow(FlowConfig flow) {
            this.inboundFlow = Objects.requireNonNull(flow, "flow");
            return this;
        }

        /** Largest accepted body (default 256 KiB); larger bodies get 413. */
        public Builder maxBodyBytes(int bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("maxBodyBytes must be >= 1024, was " + bytes);
            }
            this.maxBodyBytes = bytes;
            return this;
        }

        /** Metrics hooks (default {@link WebhookObserver#NOOP}). */
        public Builder observer(WebhookObserver webhookObserver) {
            this.observer = Objects.requireNonNull(webhookObserver, "webhookObserver");
            return this;
        }

        /** Builds the handler. */
        public WebhookHandler build() {
            return new WebhookHandler(this);
        }
    }
}
