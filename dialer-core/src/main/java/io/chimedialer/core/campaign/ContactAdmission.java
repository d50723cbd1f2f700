package io.chimedialer.core.campaign;

import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.contacts.ContactRow;
import io.chimedialer.core.contacts.Deduplicator;
import io.chimedialer.core.contacts.WindowGate;
import io.chimedialer.core.pacing.DialRequest;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The contact side of a run: each row read is validated, de-duplicated, skipped when an earlier run finished it
 * (resume), held for its calling window and checked against the DNC list; what is left becomes a first attempt.
 * Every contact that is not dialed is recorded in the ledger with its final state, as part of the list's flow (a
 * ledger outage holds the list until the ledger returns).
 */
final class ContactAdmission {
    private static final Logger log = LoggerFactory.getLogger(CampaignRun.class);
    /** Contacts whose known-ness in the ledger is asked in one query when resuming. */
    private static final int KNOWN_BATCH = 256;
    private static final int CONCURRENCY = 64;
    /** Tables of known numbers are sized up front, to at most this many entries. */
    private static final long MAX_DEDUPE_SIZE = 100_000_000L;

    private final RunContext run;
    private final Deduplicator dedupe;
    private final WindowGate gate;
    private final BooleanSupplier claimsGuarded;
    private final Runnable listRead;

    /**
     * @param claimsGuarded whether a cluster guards this run's claims (then repeated numbers are not this side's)
     * @param listRead      called once the whole list is read
     */
    ContactAdmission(RunContext run, BooleanSupplier claimsGuarded, Runnable listRead) {
        this.run = run;
        this.claimsGuarded = claimsGuarded;
        this.listRead = listRead;
        RunSetup setup = run.setup;
        // Sized up front when the list's length is known, so its table is never rebuilt as it fills.
        long expected = setup.expectedTotal();
        this.dedupe = expected > 0 ? new Deduplicator((int) Math.min(expected, MAX_DEDUPE_SIZE)) : new Deduplicator();
        this.gate = WindowGate.of(setup.window(), setup.scheduler(), setup.maxWaiting(), setup.horizon());
    }

    /** Contacts waiting for their calling window now. */
    int waiting() {
        return gate.waitingCount();
    }

    /** The first attempts of the list's contacts, each counted as pending work; completes when the list is read. */
    Flux<DialRequest> firstAttempts() {
        RunSetup setup = run.setup;
        Flux<Contact> contacts = setup.source().flatMap(this::admitRow, CONCURRENCY);
        if (setup.resume()) {
            contacts = contacts.buffer(KNOWN_BATCH).concatMap(this::dropKnown, 1);
        }
        return gate.apply(contacts)
                .flatMap(gated -> {
                    if (gated instanceof WindowGate.Gated.Expired expired) {
                        run.counters.windowExpired.increment();
                        Contact c = expired.contact();
                        return run.skip(c.id(), c.number(), "WINDOW_EXPIRED", "calling window opens at "
                                + expired.opening() + ", after the campaign's horizon").then(Mono.<Contact>empty());
                    }
                    return Mono.just(gated.contact());
                }, CONCURRENCY)
                .flatMap(contact -> {
                    if (setup.dnc().contains(contact.number())) {
                        run.counters.suppressed.increment();
                        return run.skip(contact.id(), contact.number(), "SUPPRESSED", "on a DNC list")
                                .then(Mono.<Contact>empty());
                    }
                    return Mono.just(contact);
                }, CONCURRENCY)
                .map(contact -> {
                    run.pending.incrementAndGet();
                    return new DialRequest(contact, 1, setup.arguments());
                })
                .doOnComplete(() -> {
                    log.info("campaign {}: contact list read ({} rows)", run.id, run.counters.total.sum());
                    listRead.run();
                });
    }

    private Mono<Contact> admitRow(ContactRow row) {
        run.counters.total.increment();
        if (row instanceof ContactRow.Rejected rejected) {
            run.counters.invalid.increment();
            return run.skip("line-" + rejected.line(), rejected.rawNumber(), "INVALID",
                    "line " + rejected.line() + ": " + rejected.reason()).then(Mono.empty());
        }
        Contact contact = ((ContactRow.Valid) row).contact();
        // In a cluster (claims guarded), repeated numbers were settled when the list was imported, and a contact
        // this node let go may come back to it later: it must not be taken for a repeat of itself.
        if (!claimsGuarded.getAsBoolean() && !dedupe.firstSeen(contact.number())) {
            run.counters.duplicate.increment();
            return run.skip(contact.id(), contact.number(), "DUPLICATE", "number already in this campaign")
                    .then(Mono.empty());
        }
        return Mono.just(contact);
    }

    private Flux<Contact> dropKnown(List<Contact> batch) {
        List<String> keys = batch.stream().map(Contact::id).toList();
        return run.setup.ledger().knownContacts(run.id, keys)
                .retryWhen(run.ledgerOutage())
                .flatMapMany(known -> Flux.fromIterable(batch).filter(c -> {
                    if (known.contains(c.id())) {
                        // A withdrawn first attempt is dialed by its recovered follow-up: not done yet.
                        if (!run.redialedFirstAttempts.remove(c.id())) {
                            run.counters.resumedDone.increment();
                        }
                        return false;
                    }
                    return true;
                }));
    }
}
