package io.chimedialer.core.calls;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.flow.FlowConfig;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the webhook needs to run a call's flow, handed over by the pipeline with {@link CallRegistry#expect}.
 *
 * @param campaignId  the campaign
 * @param flow        the campaign's flow
 * @param variables   values for the flow's {@code {placeholders}}: the contact's columns plus name, number, id
 * @param region      the Region the call is placed in, may be null
 * @param callerId    the number the call is placed from (default caller id of a transfer), may be null
 * @param maxLifetime after this (from {@code expect}) a call without HANGUP is closed as UNKNOWN (default 30 min)
 */
public record CallContext(String campaignId, FlowConfig flow, Map<String, String> variables, String region,
                          String callerId, Duration maxLifetime) {
    public CallContext {
        Objects.requireNonNull(campaignId, "campaignId");
        flow = flow == null ? FlowConfig.DEFAULT : flow;
        variables = variables == null ? Map.of() : Map.copyOf(variables);
        maxLifetime = maxLifetime == null || maxLifetime.isNegative() || maxLifetime.isZero()
                ? Duration.ofMinutes(30) : maxLifetime;
    }

    /**
     * The usual context of an attempt: the contact's columns plus {@code name}, {@code number} and {@code id}.
     */
    public static CallContext of(Attempt attempt, FlowConfig flow, Duration maxLifetime) {
        Contact c = attempt.contact();
        Map<String, String> vars = new LinkedHashMap<>(c.variables());
        vars.put("name", c.name());
        vars.put("number", c.number());
        vars.put("id", c.id());
        return new CallContext(attempt.campaignId(), flow, vars, attempt.region(), attempt.fromNumber(),
                maxLifetime);
    }
}
