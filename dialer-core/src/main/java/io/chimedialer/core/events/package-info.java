/**
 * The webhook half of the dialing loop: SMA invocations in, actions and call events out.
 *
 * <p>{@link io.chimedialer.core.events.WebhookHandler} is the pure handler of {@code POST /v1/sma/invocations}
 * (signature check by {@link io.chimedialer.core.events.WebhookSignature}, lenient parsing by
 * {@link io.chimedialer.core.events.InvocationParser}, correlation and idempotence through
 * {@link io.chimedialer.core.events.CallRegistry}, decisions by the {@code flow} package). Every call event goes
 * to its campaign's {@link io.chimedialer.core.events.CampaignEvents} on the
 * {@link io.chimedialer.core.events.EventBus}; every expected attempt ends in exactly one
 * {@link io.chimedialer.core.events.CallEvent.CallEnded}.
 */
package io.chimedialer.core.events;
