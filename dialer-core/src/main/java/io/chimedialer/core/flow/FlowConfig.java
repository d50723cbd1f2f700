package io.chimedialer.core.flow;

/**
 * What a call does once answered. Placeholder shape: the flow package defines the full set of flows
 * (message, menu, opt-out, human check, inbound).
 *
 * @param message the text spoken to the callee, with {@code {variable}} placeholders from the contact row
 */
public record FlowConfig(String message) {
    /** A short message, then hang up. */
    public static final FlowConfig DEFAULT = new FlowConfig("Hello {name}, this is a reminder call. Goodbye.");
}
