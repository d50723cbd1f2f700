package io.chimedialer.app.notifications;

import java.net.URI;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * One HTTP POST of a notice: the status code the receiver answered, or an error when no answer came (connection
 * refused or reset, TLS failure...). Subscribing sends it again: the notifier re-subscribes for each attempt.
 */
interface NoticeTransport {
    Mono<Integer> post(URI url, Map<String, String> headers, byte[] body);
}
