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

    /**
     * An HTTP reply.
     *
     * @param status the HTTP status
     * @param body   the JSON body (may be empty)
     */
    record Reply(int status, byte[] body) {
    }
}
