package io.chimedialer.core.campaign;

import io.chimedialer.core.contacts.CallingWindowConfig;
import io.chimedialer.core.flow.FlowConfig;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One campaign: which contacts, where, when, how to retry, and what to say.
 *
 * @param name           the campaign's id (unique)
 * @param contacts       path of the contact list CSV (resolved by dialer-app)
 * @param regions        Region name -> weight (> 0); the campaign's calls are spread by weight
 * @param defaultRegion  the ISO country used to parse numbers without a leading + (e.g. {@code US})
 * @param callingWindow  when callees may be called
 * @param retry          follow-up rules
 * @param flow           what the call does once answered
 * @param dncLists       paths of suppression lists checked before each dial; opt-outs are added to the first
 * @param maxCallLifetime after this a call without HANGUP is closed as UNKNOWN and its permit returned; null derives
 *                       it from the flow ({@link #derivedMaxCallLifetime})
 * @param redialUnknown  whether UNKNOWN attempts are retried (default false: never redial blindly)
 * @param pauseAfterActionFailures the run pauses itself after this many answered calls in a row whose actions
 *                       failed with the same ErrorType (the account's or the configuration's fault, not the callees');
 *                       0 never pauses (default {@value #DEFAULT_PAUSE_AFTER_ACTION_FAILURES})
 * @param reconcileGrace how long an attempt whose Create outcome is unknown (5xx, timeout) waits for a
 *                       NEW_OUTBOUND_CALL carrying its attempt id before it is closed as UNKNOWN and its permit
 *                       returned, at most {@code maxCallLifetime}; null gives {@link #DEFAULT_RECONCILE_GRACE}, or
 *                       {@code maxCallLifetime} when that is shorter
 * @param schedule       when the campaign may place calls ({@code start}, {@code end}); null:
 *                       {@link CampaignSchedule#NONE}
 * @param limits         the campaign's own {@code calls-per-second} and {@code max-active-calls}, and its
 *                       {@code priority}; null: {@link CampaignLimits#NONE}
 */
public record CampaignConfig(String name, String contacts, Map<String, Integer> regions, String defaultRegion,
                             CallingWindowConfig callingWindow, RetryConfig retry, FlowConfig flow,
                             List<String> dncLists, Duration maxCallLifetime, boolean redialUnknown,
                             int pauseAfterActionFailures, Duration reconcileGrace, CampaignSchedule schedule,
                             CampaignLimits limits) {

    /** The default of {@code pause-after-action-failures}. */
    public static final int DEFAULT_PAUSE_AFTER_ACTION_FAILURES = 20;
    /** The reconciliation grace unless configured: 30 s. */
    public static final Duration DEFAULT_RECONCILE_GRACE = Duration.ofSeconds(30);

    /** A campaign without a schedule or limits of its own, at priority 0. */
    public CampaignConfig(String name, String contacts, Map<String, Integer> regions, String defaultRegion,
                          CallingWindowConfig callingWindow, RetryConfig retry, FlowConfig flow, List<String> dncLists,
                          Duration maxCallLifetime, boolean redialUnknown, int pauseAfterActionFailures,
                          Duration reconcileGrace) {
        this(name, contacts, regions, defaultRegion, callingWindow, retry, flow, dncLists, maxCallLifetime,
                redialUnknown, pauseAfterActionFailures, reconcileGrace, null, null);
    }

    /** A campaign with the default reconciliation grace. */
    public CampaignConfig(String name, String contacts, Map<String, Integer> regions, String defaultRegion,
                          CallingWindowConfig callingWindow, RetryConfig retry, FlowConfig flow, List<String> dncLists,
                          Duration maxCallLifetime, boolean redialUnknown, int pauseAfterActionFailures) {
        this(name, contacts, regions, defaultRegion, callingWindow, retry, flow, dncLists, maxCallLifetime,
                redialUnknown, pauseAfterActionFailures, null);
    }

    /** A campaign that pauses after {@value #DEFAULT_PAUSE_AFTER_ACTION_FAILURES} answered calls failing alike. */
    public CampaignConfig(String name, String contacts, Map<String, Integer> regions, String defaultRegion,
                          CallingWindowConfig callingWindow, RetryConfig retry, FlowConfig flow, List<String> dncLists,
                          Duration maxCallLifetime, boolean redialUnknown, Duration reconcileGrace) {
        this(name, contacts, regions, defaultRegion, callingWindow, retry, flow, dncLists, maxCallLifetime,
                redialUnknown, DEFAULT_PAUSE_AFTER_ACTION_FAILURES, reconcileGrace);
    }

    /** A campaign with the defaults of both. */
    public CampaignConfig(String name, String contacts, Map<String, Integer> regions, String defaultRegion,
                          CallingWindowConfig callingWindow, RetryConfig retry, FlowConfig flow, List<String> dncLists,
                          Duration maxCallLifetime, boolean redialUnknown) {
        this(name, contacts, regions, defaultRegion, callingWindow, retry, flow, dncLists, maxCallLifetime,
                redialUnknown, DEFAULT_PAUSE_AFTER_ACTION_FAILURES, null);
    }

    public CampaignConfig {
        Objects.requireNonNull(name, "name");
        regions = regions == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(regions));
        if (regions.isEmpty()) {
            throw new IllegalArgumentException("regions must name at least one Region");
        }
        regions.forEach((region, weight) -> {
            if (weight == null || weight <= 0) {
                throw new IllegalArgumentException("regions." + region + " weight must be > 0, was " + weight);
            }
        });
        defaultRegion = defaultRegion == null || defaultRegion.isBlank() ? "US" : defaultRegion;
        callingWindow = callingWindow == null ? CallingWindowConfig.ALWAYS : callingWindow;
        retry = retry == null ? RetryConfig.NONE : retry;
        flow = flow == null ? FlowConfig.DEFAULT : flow;
        dncLists = dncLists == null ? List.of() : List.copyOf(dncLists);
        maxCallLifetime = maxCallLifetime == null ? derivedMaxCallLifetime(flow) : maxCallLifetime;
        if (pauseAfterActionFailures < 0) {
            throw new IllegalArgumentException("pause-after-action-failures must be >= 0 (0: never), was "
                    + pauseAfterActionFailures);
        }
        if (reconcileGrace == null) {
            reconcileGrace = maxCallLifetime.compareTo(DEFAULT_RECONCILE_GRACE) < 0 ? maxCallLifetime
                    : DEFAULT_RECONCILE_GRACE;
        }
        if (reconcileGrace.isZero() || reconcileGrace.isNegative() || reconcileGrace.compareTo(maxCallLifetime) > 0) {
            throw new IllegalArgumentException("reconcile-grace must be > 0 and at most max-call-lifetime ("
                    + maxCallLifetime + "), was " + reconcileGrace);
        }
        schedule = schedule == null ? CampaignSchedule.NONE : schedule;
        limits = limits == null ? CampaignLimits.NONE : limits;
    }

    /**
     * How long Chime may ring a callee before it gives up. Not documented by AWS; carriers end an unanswered call
     * with 408 or 480 within about two minutes.
     */
    public static final Duration RING_ALLOWANCE = Duration.ofMinutes(3);
    /** Added to the ring allowance and the flow's longest path, for invocation round trips and retries. */
    public static final Duration LIFETIME_MARGIN = Duration.ofMinutes(2);
    /** The lifetime of a call whose flow has no bound the configuration can tell (a transfer, an audio prompt). */
    public static final Duration UNBOUNDED_FLOW_LIFETIME = Duration.ofMinutes(30);

    /**
     * The default {@code max-call-lifetime}: {@link #RING_ALLOWANCE} + the flow's {@link FlowConfig#longestPath()} +
     * {@link #LIFETIME_MARGIN}, in whole seconds, or {@link #UNBOUNDED_FLOW_LIFETIME} when the flow has no bound. A
     * lost HANGUP holds an active-call permit this long, so it should be no longer than the flow needs: 30 minutes
     * stalls a campaign at Chime's default of 10 active calls after ten lost HANGUPs.
     */
    public static Duration derivedMaxCallLifetime(FlowConfig flow) {
        return flow.longestPath()
                .map(path -> {
                    Duration d = RING_ALLOWANCE.plus(path).plus(LIFETIME_MARGIN);
                    return d.getNano() == 0 ? d : Duration.ofSeconds(d.getSeconds() + 1);
                })
                .orElse(UNBOUNDED_FLOW_LIFETIME);
    }

    /** This campaign with another schedule. */
    public CampaignConfig withSchedule(CampaignSchedule other) {
        return new CampaignConfig(name, contacts, regions, defaultRegion, callingWindow, retry, flow, dncLists,
                maxCallLifetime, redialUnknown, pauseAfterActionFailures, reconcileGrace, other, limits);
    }

    /** This campaign with other limits of its own. */
    public CampaignConfig withLimits(CampaignLimits other) {
        return new CampaignConfig(name, contacts, regions, defaultRegion, callingWindow, retry, flow, dncLists,
                maxCallLifetime, redialUnknown, pauseAfterActionFailures, reconcileGrace, schedule, other);
    }
}
