/**
 * Completion notices: a signed JSON summary POSTed to {@code notifications.url} when a campaign completes, is
 * cancelled or pauses on an error, retried with backoff (docs/operations.md, "Completion notices").
 * {@link io.chimedialer.app.notifications.CompletionNotifier} is the API; the signature is
 * {@link io.chimedialer.app.notifications.NoticeSignature}.
 */
package io.chimedialer.app.notifications;
