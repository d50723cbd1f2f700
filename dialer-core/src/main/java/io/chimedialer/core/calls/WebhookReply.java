package io.chimedialer.core.calls;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * What the HTTP layer sends back: a status and a JSON body (never null; empty for errors without a body).
 *
 * @param status the HTTP status: 200, 400, 401 or 413
 * @param body   the response body, JSON; not copied, do not modify
 */
public record WebhookReply(int status, byte[] body) {
    public WebhookReply {
        Objects.requireNonNull(body, "body");
    }

    static WebhookReply error(int status, String reason) {
        String json = "{\"error\":\"" + reason + "\"}";
        return new WebhookReply(status, json.getBytes(StandardCharsets.UTF_8));
    }

    /** The body as UTF-8 text. */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WebhookReply r && r.status == status && java.util.Arrays.equals(r.body, body);
    }

    @Override
    public int hashCode() {
        return 31 * status + java.util.Arrays.hashCode(body);
    }

    @Override
    public String toString() {
        return "WebhookReply[" + status + ", " + bodyText() + "]";
    }
}
