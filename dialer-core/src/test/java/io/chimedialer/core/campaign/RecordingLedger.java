package io.chimedialer.core.campaign;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.ledger.Ledger;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** An in-memory ledger that records every write, for engine tests. */
final class RecordingLedger implements Ledger {
    final Map<String, Attempt> intents = new ConcurrentHashMap<>();
    final Map<String, String> placed = new ConcurrentHashMap<>();
    final Map<String, CallResult> results = new ConcurrentHashMap<>();
    final List<String> skipped = new CopyOnWriteArrayList<>();
    final List<String> dnc = new CopyOnWriteArrayList<>();
    final List<String> followUpsTaken = new CopyOnWriteArrayList<>();
    final List<Instant> intentTimes = new CopyOnWriteArrayList<>();
    /** Withdrawn attempts by id: the reason, or the final state and reason ({@code SUPPRESSED: ...}). */
    final Map<String, String> withdrawn = new ConcurrentHashMap<>();
    final List<AttemptEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public Mono<Void> recordIntents(List<Attempt> attempts) {
        return Mono.fromRunnable(() -> attempts.forEach(a -> intents.put(a.attemptId(), a)));
    }

    @Override
    public Mono<Void> recordPlaced(String attemptId, String transactionId, Instant at) {
        return Mono.fromRunnable(() -> placed.putIfAbsent(attemptId, transactionId));
    }

    /** Runs before each result is recorded: a delay holds the write, an error fails it (and nothing is recorded). */
    volatile Mono<Void> beforeResult = Mono.empty();
    /** Result writes made, including those that changed nothing (the first result stands). */
    final java.util.concurrent.atomic.AtomicInteger resultWrites = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public Mono<Void> recordResult(CallResult result) {
        // as the ledger: the first result stands, but a known outcome replaces an UNKNOWN
        return beforeResult.then(Mono.fromRunnable(() -> {
            resultWrites.incrementAndGet();
            results.merge(result.attemptId(), result, (old, late) -> old.disposition() == Disposition.UNKNOWN
                    && late.disposition() != Disposition.UNKNOWN ? late : old);
        }));
    }

    @Override
    public Mono<Void> recordEvent(AttemptEvent event) {
        return Mono.fromRunnable(() -> events.add(event));
    }

    @Override
    public Mono<Void> recordSkipped(String campaignId, String contactKey, String number, String state, String reason) {
        return Mono.fromRunnable(() -> skipped.add(state + ":" + contactKey));
    }

    @Override
    public Mono<Void> recordWithdrawn(Attempt attempt, String reason, Instant redialAt) {
        return Mono.fromRunnable(() -> withdrawn.putIfAbsent(attempt.attemptId(), reason));
    }

    @Override
    public Mono<Void> recordWithdrawnFinal(Attempt attempt, String state, String reason) {
        return Mono.fromRunnable(() -> withdrawn.putIfAbsent(attempt.attemptId(), state + ": " + reason));
    }

    /** Follow-ups scheduled, as {@code contactKey#attemptNumber}. */
    final List<String> followUpsScheduled = new CopyOnWriteArrayList<>();

    @Override
    public Mono<Void> scheduleFollowUp(String campaignId, String contactKey, String number, int attemptNumber,
                                       Instant due) {
        return Mono.fromRunnable(() -> followUpsScheduled.add(contactKey + "#" + attemptNumber));
    }

    @Override
    public Mono<Void> markFollowUpTaken(String campaignId, String contactKey, int attemptNumber, Instant at) {
        return Mono.fromRunnable(() -> followUpsTaken.add(contactKey + "#" + attemptNumber));
    }

    @Override
    public Mono<Void> addDnc(String list, String number, Instant at) {
        return Mono.fromRunnable(() -> dnc.add(number));
    }

    @Override
    public Flux<String> dncNumbers(String list) {
        return Flux.fromIterable(dnc);
    }

    @Override
    public Mono<AttemptRecord> findByTransactionId(String transactionId) {
        return Mono.empty();
    }

    @Override
    public Flux<AttemptRecord> attempts(String campaignId) {
        return Flux.empty();
    }

    @Override
    public void close() {
    }
}
