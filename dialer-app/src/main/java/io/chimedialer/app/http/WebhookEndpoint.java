package io.chimedialer.app.http;

import reactor.core.publisher.Mono;

/**
 * What the HTTP server calls for {@code POST /v1/sma/invocations}: the raw body and the two signing
 * headers in, a status and a body out. Implementations answer from memory and never block.
 */
@FunctionalInterface
public interface WebhookEndpoint {

    /**
     * Handles one invocation.
     *
     * @param timestamp the {@code X-Dialer-Timestamp} header, or {@code null}
     * @param signature the {@code X-Dialer-Signature} header, or {@code null}
     * @param body      the raw request body
     * @return the reply; never an error signal
     */
    Mono<Reply> handle(String timestamp, String signature, byte[] body);

    /** The header in which a sender may say when it sent the request, in epoch milliseconds (not signed). */
    String SENT_AT_HEADER = "X-Dialer-Sent-At";

    /**
     * Handles one invocation whose sender said when it sent it; by default the send time is not used.
     *
     * @param sentAt the {@link #SENT_AT_HEADER} header, or {@code null}
     */
    default Mono<Reply> handle(String timestamp, String signature, String sentAt, byte[] body) {
        return handle(timestamp, signature, body);
    }

    /**
     * An HTTP reply.
     *
     * @param status the HTTP status
     * @param body   the JSON body (may be empty)
     */
    record Reply(int status, byte[] body) {
    }
}
