package io.chimedialer.core.flow;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the flow answers: at most {@link FlowEngine#MAX_ACTIONS} actions, the complete TransactionAttributes
 * map to store, and the side effects the webhook must publish.
 *
 * @param actions    the actions, in order
 * @param attributes the complete new TransactionAttributes (at most 10 keys, values at most 1,024 chars)
 * @param effects    side effects, in order
 */
public record FlowDecision(List<Action> actions, Map<String, String> attributes, List<Effect> effects) {
    public FlowDecision {
        actions = List.copyOf(actions);
        attributes = Map.copyOf(Objects.requireNonNull(attributes, "attributes"));
        effects = List.copyOf(effects);
        if (actions.size() > FlowEngine.MAX_ACTIONS) {
            throw new IllegalStateException("more than 10 actions: " + actions.size());
        }
    }

    /** A side effect of a flow step. */
    public sealed interface Effect permits DigitsCollected, OptOut, Confirmed {
    }

    /**
     * The callee pressed digits.
     *
     * @param digits the digits, as received
     */
    public record DigitsCollected(String digits) implements Effect {
    }

    /** The callee asked never to be called again. */
    public record OptOut() implements Effect {
    }

    /**
     * The callee pressed a menu key whose option is {@code confirm}.
     *
     * @param key the key
     */
    public record Confirmed(String key) implements Effect {
    }
}
