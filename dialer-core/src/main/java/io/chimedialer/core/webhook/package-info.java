/**
 * The wire side of the SIP media application's webhook: what arrives on {@code POST /v1/sma/invocations}.
 *
 * <p>{@link io.chimedialer.core.webhook.WebhookSignature} checks a request's signature,
 * {@link io.chimedialer.core.webhook.InvocationParser} reads its body leniently (every documented variant of the
 * event schema) into an {@link io.chimedialer.core.webhook.Invocation}. Nothing here knows a call: the
 * {@code calls} package correlates invocations with attempts and its handler answers them.
 */
package io.chimedialer.core.webhook;
