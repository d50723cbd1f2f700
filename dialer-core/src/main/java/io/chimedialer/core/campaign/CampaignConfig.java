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
 * @param maxCallLifetime after this a call without HANGUP is closed as UNKNOWN and its permit returned
 * @param redialUnknown  whether UNKNOWN attempts are retried (default false: never redial blindly)
 * @param reconcileGrace how long an attempt whose Create outcome is unknown (5xx, timeout) waits for a
 *                       NEW_OUTBOUND_CALL carrying its attempt id before it is closed as UNKNOWN and its permit
 *                       returned, at most {@code maxCallLifetime}; null gives {@link #DEFAULT_RECONCILE_GRACE}, or
 *                       {@code maxCallLifetime} when that is shorter
 */
public record CampaignConfig(String name, String contacts, Map<String, Integer> regions, String defaultRegion,
                             CallingWindowConfig callingWindow, RetryConfig retry, FlowConfig flow,
                             List<String> dncLists, Duration maxCallLifetime, boolean redialUnknown,
                             Duration reconcileGrace) {
    /** The reconciliation grace unless configured: 30 s. */
    public static final Duration DEFAULT_RECONCILE_GRACE = Duration.ofSeconds(30);

    /** A campaign with the default reconciliation grace. */
    public CampaignConfig(String name, String contacts, Map<String, Integer> regions, String defaultRegion,
                          CallingWindowConfig callingWindow, RetryConfig retry, FlowConfig flow,
                          List<String> dncLists, Duration maxCallLifetime, boolean redialUnknown) {
        this(name, contacts, regions, defaultRegion, callingWindow, retry, flow, dncLists, maxCallLifetime,
                redialUnknown, null);
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
        maxCallLifetime = maxCallLifetime == null ? Duration.ofMinutes(30) : maxCallLifetime;
        if (reconcileGrace == null) {
            reconcileGrace = maxCallLifetime.compareTo(DEFAULT_RECONCILE_GRACE) < 0 ? maxCallLifetime
                    : DEFAULT_RECONCILE_GRACE;
        }
        if (reconcileGrace.isZero() || reconcileGrace.isNegative() || reconcileGrace.compareTo(maxCallLifetime) > 0) {
            throw new IllegalArgumentException("reconcile-grace must be > 0 and at most max-call-lifetime ("
                    + maxCallLifetime + "), was " + reconcileGrace);
        }
    }
}
