package io.chimedialer.core.chime;

import io.chimedialer.core.domain.Attempt;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * Places and ends calls in one Region of Chime SDK PSTN audio. Implementations are thread-safe.
 *
 * <p>Both methods return cold {@code Mono}s: nothing is sent until subscription, and each subscription
 * sends one new request (so a retry operator re-sends). The {@code Mono}s never error for a per-call
 * failure: failures are {@link CreateOutcome} / {@link UpdateOutcome} values.
 */
public interface Originator {

    /** The ArgumentsMap key carrying the campaign id. */
    String CAMPAIGN_ID = "campaignId";
    /** The ArgumentsMap key carrying the attempt id (used to reconcile UNKNOWN outcomes). */
    String ATTEMPT_ID = "attemptId";
    /** Chime's limit on ArgumentsMap entries. */
    int MAX_ARGUMENTS = 20;

    /**
     * Sends one CreateSipMediaApplicationCall: From = {@code attempt.fromNumber()}, To = the contact's
     * number, ArgumentsMap = {@code arguments} plus {@link #CAMPAIGN_ID} and {@link #ATTEMPT_ID}. Arguments
     * that would exceed {@link #MAX_ARGUMENTS} entries or use a reserved key give a
     * {@link CreateOutcome.Rejected} ({@code FAILED}, {@code InvalidRequest}) without sending anything.
     */
    Mono<CreateOutcome> create(Attempt attempt, RegionConfig region, Map<String, String> arguments);

    /**
     * Asks Chime to hang up a live call: UpdateSipMediaApplicationCall with Arguments
     * {@code {"action":"hangup"}}, paced at {@code region.updateCallsPerSecond()}.
     */
    Mono<UpdateOutcome> hangUp(RegionConfig region, String transactionId);

    /**
     * Reads the Region's SIP media application (GetSipMediaApplication) once: a check of the configuration (a wrong
     * id or Region shows at start, not at the first call) that also opens the Region's connection and runs the SDK's
     * request path once before the first paced Create. Never errors: failures are {@link RegionCheck} values. The
     * default reads nothing ({@link RegionCheck.Skipped}).
     */
    default Mono<RegionCheck> check(RegionConfig region) {
        return Mono.just(new RegionCheck.Skipped());
    }

    /**
     * Builds the ArgumentsMap of an attempt; shared by implementations so that every one sends the same keys.
     *
     * @throws IllegalArgumentException when there would be more than {@link #MAX_ARGUMENTS} entries or a
     *                                  reserved key is used
     */
    static Map<String, String> argumentsOf(Attempt attempt, Map<String, String> arguments) {
        if (arguments.containsKey(CAMPAIGN_ID) || arguments.containsKey(ATTEMPT_ID)) {
            throw new IllegalArgumentException("arguments must not use the reserved keys "
                    + CAMPAIGN_ID + " and " + ATTEMPT_ID);
        }
        if (arguments.size() + 2 > MAX_ARGUMENTS) {
            throw new IllegalArgumentException("ArgumentsMap holds at most " + MAX_ARGUMENTS
                    + " entries; 2 are reserved, got " + arguments.size() + " more");
        }
        Map<String, String> all = new LinkedHashMap<>(arguments);
        all.put(CAMPAIGN_ID, attempt.campaignId());
        all.put(ATTEMPT_ID, attempt.attemptId());
        return Collections.unmodifiableMap(all);
    }
}
