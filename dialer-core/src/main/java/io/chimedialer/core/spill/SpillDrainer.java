package io.chimedialer.core.spill;

import io.chimedialer.core.calls.WebhookReply;
import io.chimedialer.core.metrics.DialerMetrics;
import io.chimedialer.core.webhook.Invocation;
import io.chimedialer.core.webhook.InvocationParser;
import io.chimedialer.core.webhook.WebhookSignature;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;

/**
 * Drains the Lambda bridge's spill queue (issue 16 §3): invocations the bridge could not deliver while the dialer
 * was down or slow, kept in Amazon SQS. Runs from the dialer's start and for as long as it runs; each round takes
 * what the queue holds (up to {@link #ROUND_MAX} messages, long-polling when it is empty), orders it by call and
 * {@code Sequence}, and handles each call's events one after the other:
 * <ol>
 *   <li>the message must carry the bridge's signature of its body ({@code dialer-timestamp},
 *       {@code dialer-signature}; the age is not checked, the queue keeps messages for days) and be a readable
 *       invocation, else it is deleted ({@code rejected});</li>
 *   <li>its call is looked up ({@link CallStatus}): not in the ledger, deleted once older than the unknown grace
 *       ({@code unknown}; a NEW_OUTBOUND_CALL is handed to the webhook first, which may reconcile its call by the
 *       attempt id it carries); its outcome recorded already, deleted ({@code duplicate}: it was also delivered
 *       directly, or drained before); its campaign not running here (yet), left in the queue ({@code deferred}),
 *       and so are the call's later events of the round, so that they never overtake it;</li>
 *   <li>otherwise it goes through the webhook's own path ({@code deliver}, which answers a HANGUP only once its
 *       outcome is durable); a HANGUP's message is deleted only when the ledger then holds the call's outcome
 *       (else it comes back after the visibility timeout; after three receipts it is deleted all the same, e.g. a
 *       LEG-B HANGUP that ends nothing), any other event's once the webhook answered 200 ({@code recorded}).</li>
 * </ol>
 * Every message is counted once per receipt in {@code dialer_spill_events_total{result}}. Nothing in a message is
 * logged but its TransactionId, event type and sequence. Thread-safe; {@link #close()} stops it.
 */
public final class SpillDrainer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SpillDrainer.class);

    /** Most messages one round takes before it handles them. */
    public static final int ROUND_MAX = 500;
    /** Receipts after which a delivered HANGUP that left no outcome is deleted anyway. */
    static final int MAX_RECEIPTS = 3;
    /** Message attribute: the unix seconds of the bridge's signature. */
    public static final String TIMESTAMP = "dialer-timestamp";
    /** Message attribute: the bridge's signature of the body. */
    public static final String SIGNATURE = "dialer-signature";

    /** What the dialer knows of a call. */
    public enum Status {
        /** The ledger has no attempt with this TransactionId. */
        UNKNOWN,
        /** The attempt's outcome is in the ledger. */
        RECORDED,
        /** Open, and its campaign runs here with its previous run's calls taken over: an event can be delivered. */
        READY,
        /** Open, but its campaign does not run here (yet). */
        NOT_HERE
    }

    /** Looks a call up by TransactionId; may wait (bounded by the caller's timeout) for its campaign to be ready. */
    @FunctionalInterface
    public interface CallStatus {
        /**
         * @param transactionId the call's TransactionId
         * @return its status
         */
        Mono<Status> of(String transactionId);
    }

    private final SqsAsyncClient sqs;
    private final SpillSettings settings;
    private final WebhookSignature signature;
    private final Function<byte[], Mono<WebhookReply>> deliver;
    private final CallStatus calls;
    private final DialerMetrics metrics;
    private final Clock clock;
    private final InvocationParser parser = new InvocationParser();
    private final Map<String, AtomicLong> counts = new LinkedHashMap<>();
    private volatile Disposable loop;

    /**
     * A drainer; {@link #start()} starts it.
     *
     * @param sqs       the SQS client (the dialer's AWS credentials need sqs:ReceiveMessage and sqs:DeleteMessage)
     * @param settings  the queue
     * @param signature checks the bridge's signature (the webhook's secret)
     * @param deliver   hands an event to the webhook as a delivery would and gives its reply
     * @param calls     the call lookup
     * @param metrics   where the results are counted, or null
     * @param clock     for the unknown grace
     */
    public SpillDrainer(SqsAsyncClient sqs, SpillSettings settings, WebhookSignature signature,
                        Function<byte[], Mono<WebhookReply>> deliver, CallStatus calls, DialerMetrics metrics,
                        Clock clock) {
        this.sqs = Objects.requireNonNull(sqs, "sqs");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.signature = Objects.requireNonNull(signature, "signature");
        this.deliver = Objects.requireNonNull(deliver, "deliver");
        this.calls = Objects.requireNonNull(calls, "calls");
        this.metrics = metrics;
        this.clock = Objects.requireNonNull(clock, "clock");
        for (String result : List.of("recorded", "duplicate", "unknown", "deferred", "rejected")) {
            counts.put(result, new AtomicLong());
        }
    }

    /** Starts draining in the background, round after round, until {@link #close()}; failures back off and retry. */
    public SpillDrainer start() {
        log.info("draining the spill queue {}", settings.queueUrl());
        loop = Flux.defer(this::round)
                .repeat()
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofSeconds(1)).maxBackoff(Duration.ofSeconds(30))
                        .doBeforeRetry(s -> log.warn("spill queue {}: {}; trying again", settings.queueUrl(),
                                s.failure().toString())))
                .subscribe();
        return this;
    }

    /** How many messages had each result so far (recorded, duplicate, unknown, deferred, rejected). */
    public Map<String, Long> counts() {
        Map<String, Long> out = new LinkedHashMap<>();
        counts.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /**
     * One round: takes what the queue holds (waiting up to the poll wait when it is empty) and handles it.
     *
     * @return how many messages it took
     */
    public Mono<Integer> round() {
        return collect(new ArrayList<>(), settings.pollWait())
                .flatMap(messages -> Flux.fromIterable(byCall(messages))
                        .flatMap(this::handleCall, 32)
                        .then(Mono.fromSupplier(() -> {
                            if (!messages.isEmpty()) {
                                log.info("spill queue: took {} messages; so far {}", messages.size(), counts());
                            }
                            return messages.size();
                        })));
    }

    /** Receives until a receive comes back with fewer than 10 or the round is full; waits only when empty. */
    private Mono<List<Message>> collect(List<Message> taken, Duration wait) {
        ReceiveMessageRequest request = ReceiveMessageRequest.builder()
                .queueUrl(settings.queueUrl().toString())
                .maxNumberOfMessages(10)
                .waitTimeSeconds(taken.isEmpty() ? (int) wait.toSeconds() : 0)
                .visibilityTimeout((int) settings.visibilityTimeout().toSeconds())
                .messageAttributeNames("All")
                .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT,
                        MessageSystemAttributeName.SENT_TIMESTAMP)
                .build();
        return Mono.fromFuture(() -> sqs.receiveMessage(request)).flatMap(response -> {
            taken.addAll(response.messages());
            if (response.messages().size() < 10 || taken.size() >= ROUND_MAX) {
                return Mono.just(taken);
            }
            return collect(taken, wait);
        });
    }

    /** A parsed message. */
    private record Event(Message message, Invocation invocation) {
    }

    /** Groups the round's messages by TransactionId, each group in Sequence order (a HANGUP last among equals). */
    private List<List<Object>> byCall(List<Message> messages) {
        Map<String, List<Event>> groups = new LinkedHashMap<>();
        List<List<Object>> out = new ArrayList<>();
        for (Message m : messages) {
            Invocation inv = verifiedInvocation(m);
            if (inv == null) {
                out.add(List.of(m)); // rejected on its own
                continue;
            }
            groups.computeIfAbsent(inv.transactionId(), k -> new ArrayList<>()).add(new Event(m, inv));
        }
        for (List<Event> events : groups.values()) {
            events.sort(Comparator.comparingLong((Event e) -> e.invocation.sequence())
                    .thenComparing(e -> e.invocation.eventType() == Invocation.EventType.HANGUP));
            out.add(new ArrayList<>(events));
        }
        return out;
    }

    private Invocation verifiedInvocation(Message m) {
        MessageAttributeValue ts = m.messageAttributes().get(TIMESTAMP);
        MessageAttributeValue sig = m.messageAttributes().get(SIGNATURE);
        if (ts == null || sig == null || ts.stringValue() == null || sig.stringValue() == null) {
            return null;
        }
        byte[] body = m.body().getBytes(StandardCharsets.UTF_8);
        long seconds;
        try {
            seconds = Long.parseLong(ts.stringValue().trim());
        } catch (NumberFormatException e) {
            return null;
        }
        byte[] expected = signature.sign(seconds, body).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, sig.stringValue().trim().getBytes(StandardCharsets.US_ASCII))) {
            return null;
        }
        try {
            return parser.parse(body);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * One call's events in order; once one is kept for later, the rest of that call's are kept too, so that a
     * later event (a HANGUP) is never delivered before an earlier one (its CALL_ANSWERED).
     */
    private Mono<Void> handleCall(List<Object> events) {
        boolean[] held = new boolean[1];
        return Flux.fromIterable(events).concatMap(item -> {
            if (held[0] && item instanceof Event) {
                return keep("deferred");
            }
            return handle(item).doOnNext(kept -> held[0] |= kept).then();
        }).then();
    }

    /** Handles one message; emits true when it was kept in the queue for later. */
    private Mono<Boolean> handle(Object item) {
        if (item instanceof Message rejected) {
            log.warn("spill queue: message {} has no valid signature of the bridge or is no invocation; deleted",
                    rejected.messageId());
            return delete(rejected, "rejected").thenReturn(false);
        }
        Event e = (Event) item;
        Invocation inv = e.invocation;
        Duration bound = settings.visibilityTimeout().dividedBy(3);
        return calls.of(inv.transactionId())
                .timeout(bound, Mono.just(Status.NOT_HERE))
                .defaultIfEmpty(Status.UNKNOWN)
                .flatMap(status -> switch (status) {
                    case RECORDED -> delete(e.message, "duplicate").thenReturn(false);
                    case NOT_HERE -> keep("deferred").thenReturn(true);
                    // A NEW_OUTBOUND_CALL carries its attempt id: the webhook may reconcile a call whose Create's
                    // answer never came (so the ledger has no TransactionId for it yet).
                    case UNKNOWN -> (e.invocation.eventType() == Invocation.EventType.NEW_OUTBOUND_CALL
                            ? deliver.apply(e.message.body().getBytes(StandardCharsets.UTF_8)).then()
                            : Mono.<Void>empty())
                            .then(Mono.defer(() -> olderThan(e.message, settings.unknownGrace())
                                    ? delete(e.message, "unknown").thenReturn(false)
                                    : keep("deferred").thenReturn(true)));
                    case READY -> deliver.apply(e.message.body().getBytes(StandardCharsets.UTF_8))
                            .flatMap(reply -> afterDelivery(e, reply));
                });
    }

    private Mono<Boolean> afterDelivery(Event e, WebhookReply reply) {
        if (reply.status() != 200) {
            log.warn("spill queue: the webhook answered {} to call {} {} sequence {}; deleted", reply.status(),
                    e.invocation.transactionId(), e.invocation.rawEventType(), e.invocation.sequence());
            return delete(e.message, "rejected").thenReturn(false);
        }
        if (e.invocation.eventType() != Invocation.EventType.HANGUP) {
            return delete(e.message, "recorded").thenReturn(false);
        }
        return calls.of(e.invocation.transactionId())
                .timeout(settings.visibilityTimeout().dividedBy(3), Mono.just(Status.NOT_HERE))
                .defaultIfEmpty(Status.UNKNOWN)
                .flatMap(status -> status == Status.RECORDED || receipts(e.message) >= MAX_RECEIPTS
                        ? delete(e.message, "recorded").thenReturn(false) : keep("deferred").thenReturn(true));
    }

    private boolean olderThan(Message m, Duration age) {
        String sent = m.attributes().get(MessageSystemAttributeName.SENT_TIMESTAMP);
        if (sent == null) {
            return true;
        }
        try {
            return clock.millis() - Long.parseLong(sent) >= age.toMillis();
        } catch (NumberFormatException ex) {
            return true;
        }
    }

    private static int receipts(Message m) {
        try {
            return Integer.parseInt(m.attributes().getOrDefault(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT,
                    "1"));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    private Mono<Void> keep(String result) {
        return Mono.fromRunnable(() -> count(result));
    }

    private Mono<Void> delete(Message m, String result) {
        return Mono.fromFuture(() -> sqs.deleteMessage(r -> r.queueUrl(settings.queueUrl().toString())
                        .receiptHandle(m.receiptHandle())))
                .doOnSuccess(r -> count(result))
                .onErrorResume(ex -> {
                    // It comes back after the visibility timeout and is handled again (idempotent).
                    log.warn("spill queue: could not delete message {}: {}", m.messageId(), ex.toString());
                    return Mono.empty();
                })
                .then();
    }

    private void count(String result) {
        counts.get(result).incrementAndGet();
        if (metrics != null) {
            metrics.spillEvent(result);
        }
    }

    /** Stops draining; messages being handled come back after their visibility timeout. */
    @Override
    public void close() {
        Disposable d = loop;
        if (d != null) {
            d.dispose();
        }
    }
}
