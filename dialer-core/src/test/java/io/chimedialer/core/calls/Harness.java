package io.chimedialer.core.calls;

import io.chimedialer.testkit.ManualClock;
import io.chimedialer.core.webhook.WebhookSignature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.flow.FlowConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import reactor.core.Disposable;

/** A handler wired to a registry, a bus that records every event of campaign c1, and a test clock. */
final class Harness implements AutoCloseable {
    static final String SECRET = "test-secret";
    static final String CAMPAIGN = "c1";

    final ManualClock clock = new ManualClock(Instant.parse("2026-01-05T10:00:00Z"));
    final EventBus bus = new EventBus(1024);
    final CallRegistry registry = new CallRegistry(bus, clock);
    final WebhookSignature signature = new WebhookSignature(SECRET, clock);
    final WebhookHandler handler;
    final List<CallEvent> events = Collections.synchronizedList(new ArrayList<>());
    final List<CallEvent> uncorrelated = Collections.synchronizedList(new ArrayList<>());
    final List<CallEvent> inbound = Collections.synchronizedList(new ArrayList<>());
    private final List<Disposable> subscriptions = new ArrayList<>();

    Harness() {
        this(b -> b);
    }

    Harness(java.util.function.Function<WebhookHandler.Builder, WebhookHandler.Builder> customize) {
        this.handler = customize.apply(WebhookHandler.builder(registry, signature)).build();
        subscribe();
    }

    private void subscribe() {
        subscriptions.add(bus.events(CAMPAIGN).subscribe(events::add));
        subscriptions.add(bus.events(EventBus.UNCORRELATED).subscribe(uncorrelated::add));
        subscriptions.add(bus.events(EventBus.INBOUND).subscribe(inbound::add));
    }

    Attempt expect(String attemptId, FlowConfig flow) {
        Contact contact = new Contact(1, "id-" + attemptId, Bodies.CALLEE, "Ada", null, Map.of("date", "Monday"));
        Attempt attempt = new Attempt(attemptId, CAMPAIGN, contact, 1, "us-east-1", Bodies.FROM);
        registry.expect(attempt, CallContext.of(attempt, flow, Duration.ofMinutes(30)));
        return attempt;
    }

    WebhookReply send(byte[] body) {
        long ts = signature.nowSeconds();
        WebhookReply reply = handler.handle(Long.toString(ts), signature.sign(ts, body), body)
                .block(Duration.ofSeconds(5));
        if (reply == null) {
            throw new AssertionError("no reply");
        }
        return reply;
    }

    JsonNode sendOk(ObjectNode body) {
        WebhookReply reply = send(Bodies.bytes(body));
        if (reply.status() != 200) {
            throw new AssertionError("expected 200, got " + reply);
        }
        return json(reply);
    }

    static JsonNode json(WebhookReply reply) {
        try {
            return Bodies.MAPPER.readTree(reply.body());
        } catch (Exception e) {
            throw new AssertionError("reply is not JSON: " + reply, e);
        }
    }

    static Map<String, String> attributes(JsonNode reply) {
        Map<String, String> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = reply.get("TransactionAttributes").properties().iterator();
             it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    static List<String> actionTypes(JsonNode reply) {
        List<String> out = new ArrayList<>();
        reply.get("Actions").forEach(a -> out.add(a.get("Type").asText()));
        return out;
    }

    <T extends CallEvent> List<T> eventsOf(Class<T> type) {
        synchronized (events) {
            return events.stream().filter(type::isInstance).map(type::cast).toList();
        }
    }

    @Override
    public void close() {
        subscriptions.forEach(Disposable::dispose);
    }
}
