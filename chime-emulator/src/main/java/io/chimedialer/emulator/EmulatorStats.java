package io.chimedialer.emulator;

import java.util.Map;

/**
 * A snapshot of the emulator's counters, the Java form of {@code GET /emulator/v1/stats}. Every created
 * call is either active or ended: {@code created == active + ended} once no Create is in progress.
 *
 * @param created           Creates that created a call (including those answered with an injected 5xx or reset afterwards)
 * @param throttled         Creates answered 429 (quota or injected)
 * @param rejected          Creates answered 400 BadRequestException (validation)
 * @param resourceLimited   Creates refused at the active-call quota (400 ResourceLimitExceededException, or the configured {@link ActiveCallLimitError})
 * @param active            calls not yet ended
 * @param peakActive        the highest number of simultaneously active calls
 * @param ended             calls that ended (each counted once)
 * @param endedTwice        calls that ended more than once: always 0 unless the emulator is broken
 * @param duplicateNumbers  distinct To numbers that were dialed (created) more than once
 * @param invocations       invocation events sent (a retried or duplicated delivery counts once here)
 * @param redeliveries      extra deliveries: retries after a timeout or error, and injected duplicates
 * @param invalidResponses  responses that produced INVALID_LAMBDA_RESPONSE
 * @param budgetExhausted   calls ended by the 1,000-invocation limit
 * @param webhookFailures   calls ended with 480 because the endpoint did not answer twice
 * @param hangupsDropped    HANGUP invocations withheld by the dropHangup fault
 * @param hangupsWithoutSipCode HANGUP invocations sent without SipResponseCode (the scenario's share; the call records keep the real code)
 * @param updates           Updates accepted (202)
 * @param updatesThrottled  Updates answered 429
 * @param dispositions      ended calls by disposition (answered, busy, noAnswer, invalidNumber, rejected, failed, notSimulated)
 * @param faults            injected faults by kind
 * @param actionErrors      ACTION_FAILED invocations by ErrorType (parameter errors, injected failures, CallNotAnswered, InvalidDigitsReceived, ...)
 * @param regions           the per-Region counters, keyed by Region name
 * @param webhookLatency    how fast the SMA endpoint answered each delivery (p50, p99, p99.9, over 1 s, over 5 s)
 * @param webhookLatencyHangup the same for the deliveries of HANGUP invocations only (which the dialer answers once
 *                          the call's outcome is durable); {@code webhookLatency} includes them
 */
public record EmulatorStats(long created, long throttled, long rejected, long resourceLimited, long active,
                            long peakActive, long ended, long endedTwice, long duplicateNumbers, long invocations,
                            long redeliveries, long invalidResponses, long budgetExhausted, long webhookFailures,
                            long hangupsDropped, long hangupsWithoutSipCode, long updates, long updatesThrottled,
                            Map<String, Long> dispositions, Map<String, Long> faults, Map<String, Long> actionErrors,
                            Map<String, RegionStats> regions, WebhookLatency webhookLatency,
                            WebhookLatency webhookLatencyHangup) {

    /**
     * Counters of one Region.
     *
     * @param maxCreatesInOneSecond the highest number of accepted Creates within any one-second window
     */
    public record RegionStats(long created, long throttled, long resourceLimited, long active, long peakActive,
                              long maxCreatesInOneSecond, long updates, long updatesThrottled) {
    }
}
