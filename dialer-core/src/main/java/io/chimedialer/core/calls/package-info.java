/**
 * The calls in flight: what the pipeline placed, and the webhook handler that answers their invocations.
 *
 * <p>{@link io.chimedialer.core.calls.WebhookHandler} is the pure handler of {@code POST /v1/sma/invocations}: it
 * checks the signature and parses the body with the {@code webhook} package, finds the call in the
 * {@link io.chimedialer.core.calls.CallRegistry} (by {@code TransactionId}, or by the dialer's own arguments when
 * an event arrives before the Create's answer), asks the {@code flow} package for the call's next actions, and
 * makes replays idempotent. The handler advances each {@link io.chimedialer.core.calls.LiveCall}'s state under
 * the registry's lock, which is why both live in this package. Every call event goes to its campaign's
 * {@link io.chimedialer.core.calls.CampaignEvents} on the {@link io.chimedialer.core.calls.EventBus}; every
 * expected attempt ends in exactly one {@link io.chimedialer.core.calls.CallEvent.CallEnded}.
 */
package io.chimedialer.core.calls;
