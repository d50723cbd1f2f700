package io.chimedialer.core.campaign;

import io.chimedialer.core.domain.Disposition;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live counters of one campaign, updated from many threads without locks; read for progress, the
 * control API and the run report. Every contact of the list ends in exactly one of invalid, duplicate,
 * suppressed, windowExpired or (at least once) dialed.
 */
public final class CampaignCounters {
    /** Rows read from the source, valid or not. */
    public final LongAdder total = new LongAdder();
    /** Rows rejected: unparsable, no number, invalid number. */
    public final LongAdder invalid = new LongAdder();
    /** Numbers already seen earlier in this campaign. */
    public final LongAdder duplicate = new LongAdder();
    /** Numbers on a DNC list at dial time. */
    public final LongAdder suppressed = new LongAdder();
    /** Contacts whose calling window did not open before the campaign's horizon. */
    public final LongAdder windowExpired = new LongAdder();
    /** Contacts dialed at least once (first attempts). */
    public final LongAdder dialed = new LongAdder();
    /** Contacts already finished in an earlier run (resume). */
    public final LongAdder resumedDone = new LongAdder();
    /** Create calls issued, first attempts and follow-ups alike. */
    public final LongAdder attempts = new LongAdder();
    /** Calls currently live (placed or unknown, not yet ended). */
    public final LongAdder live = new LongAdder();
    /** Contacts whose last attempt ended with no follow-up to come. */
    public final LongAdder finished = new LongAdder();
    /** Follow-up attempts scheduled and not yet dialed. */
    public final LongAdder followUpsPending = new LongAdder();
    /** Contacts this node let go before dialing because another node could hold them (cluster; lease ran out). */
    public final LongAdder claimsLost = new LongAdder();
    /**
     * Attempts withdrawn: written as intents but never sent, or refused for a reason that is not the contact's
     * (a failed Region, throttling or capacity after every retry). Not calls; each contact is dialed again.
     */
    public final LongAdder withdrawn = new LongAdder();
    /** Bookkeeping writes to the ledger that failed (logged; the run went on). */
    public final LongAdder ledgerWriteFailures = new LongAdder();

    private final Map<Disposition, LongAdder> outcomes = new EnumMap<>(Disposition.class);

    public CampaignCounters() {
        for (Disposition d : Disposition.values()) {
            outcomes.put(d, new LongAdder());
        }
    }

    /** Counts one final outcome. */
    public void outcome(Disposition disposition) {
        outcomes.get(disposition).increment();
    }

    /** Moves one final outcome from {@code from} to {@code to} (an UNKNOWN whose real outcome came later). */
    public void replaceOutcome(Disposition from, Disposition to) {
        outcomes.get(to).increment();
        outcomes.get(from).decrement();
    }

    /** Final outcomes so far, by disposition (every disposition present, zero or more). */
    public Map<Disposition, Long> outcomes() {
        Map<Disposition, Long> copy = new EnumMap<>(Disposition.class);
        outcomes.forEach((d, n) -> copy.put(d, n.sum()));
        return copy;
    }

    /** Sum of all final outcomes. */
    public long ended() {
        return outcomes.values().stream().mapToLong(LongAdder::sum).sum();
    }
}
