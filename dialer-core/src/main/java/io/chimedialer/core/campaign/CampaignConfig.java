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
 */
public record CampaignConfig(String name, String contacts, Map<String, Integer> regions, String defaultRegion,
                             CallingWindowConfig callingWindow, RetryConfig retry, FlowConfig flow,
                             List<String> dncLists, Duration maxCallLifetime, boolean redialUnknown) {
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
    }
}
