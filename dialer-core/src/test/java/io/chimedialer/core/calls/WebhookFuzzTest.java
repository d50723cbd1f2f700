package io.chimedialer.core.calls;

import io.chimedialer.core.webhook.WebhookSignature;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.core.flow.FlowConfig.Menu;
import io.chimedialer.core.flow.FlowConfig.MenuOption;
import io.chimedialer.core.flow.FlowConfig.Prompt;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * 10,000 random and mutated bodies (seeded): every reply is 200, 400, 401 or 413, never an error signal, and
 * every 200 is a valid SMA response within Chime's limits.
 */
class WebhookFuzzTest {

    private static final String[] EVENTS = {"NEW_INBOUND_CALL", "NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED",
        "ACTION_SUCCESSFUL", "ACTION_FAILED", "ACTION_INTERRUPTED", "HANGUP", "DIGITS_RECEIVED",
        "CALL_UPDATE_REQUESTED", "INVALID_LAMBDA_RESPONSE", "NOT_A_REAL_EVENT"};
    private static final String[] ACTION_TYPES = {"Speak", "SpeakAndGetDigits", "PlayAudio",
        "PlayAudioAndGetDigits", "Hangup", "CallAndBridge", "ReceiveDigits", "CallCreateRequest", "Bogus"};

    @Test
    void handle_tenThousandRandomAndMutatedBodies_onlyExpectedStatusesAndValidResponses() {
        Random random = new Random(20260105L);
        Map<Integer, Integer> statuses = new HashMap<>();
        try (Harness h = new Harness()) {
            for (int i = 0; i < 50; i++) {
                h.expect("att-" + i, i % 2 == 0 ? menuFlow() : FlowConfig.DEFAULT.withRepeat(15));
                if (i % 3 != 0) {
                    h.registry.placed("att-" + i, "tx-" + i);
                }
            }
            WebhookSignature wrong = new WebhookSignature("not-the-secret", h.clock);
            for (int n = 0; n < 10_000; n++) {
                byte[] body = body(random);
                long ts = h.signature.nowSeconds();
                String tsHeader = Long.toString(ts);
                String sigHeader = h.signature.sign(ts, body);
                int auth = random.nextInt(20);
                switch (auth) {
                    case 0 -> sigHeader = wrong.sign(ts, body);
                    case 1 -> {
                        tsHeader = Long.toString(ts - 301 - random.nextInt(100_000));
                        sigHeader = h.signature.sign(Long.parseLong(tsHeader), body);
                    }
                    case 2 -> tsHeader = null;
                    case 3 -> sigHeader = null;
                    case 4 -> sigHeader = "v1=" + randomString(random, 64);
                    case 5 -> tsHeader = randomString(random, random.nextInt(30));
                    default -> {
                    }
                }
                WebhookReply reply = h.handler.handle(tsHeader, sigHeader, body).block(Duration.ofSeconds(5));
                assertThat(reply).isNotNull();
                assertThat(reply.status()).as("body #%d", n).isIn(200, 400, 401, 413);
                statuses.merge(reply.status(), 1, Integer::sum);
                if (auth <= 5 && body.length <= WebhookHandler.DEFAULT_MAX_BODY_BYTES) {
                    assertThat(reply.status()).as("unsigned body #%d", n).isEqualTo(401);
                }
                if (reply.status() == 200) {
                    assertValidResponse(Harness.json(reply));
                }
                if (n % 500 == 0) {
                    h.clock.advance(Duration.ofMinutes(1));
                    h.registry.sweep();
                }
            }
            assertThat(h.handler.stats().requests()).isEqualTo(10_000);
            assertThat(h.handler.stats().internalErrors()).isZero();
            // Each status class was really exercised.
            assertThat(statuses).containsKeys(200, 400, 401, 413);
            assertThat(statuses.get(200)).isGreaterThan(3000);
            assertThat(h.bus.dropped()).isZero();
        }
    }

    private static void assertValidResponse(JsonNode r) {
        assertThat(r.get("SchemaVersion")).isNotNull();
        assertThat(r.get("Actions").isArray()).isTrue();
        assertThat(r.get("Actions").size()).isLessThanOrEqualTo(10);
        r.get("Actions").forEach(a -> {
            assertThat(a.get("Type").isTextual()).isTrue();
            assertThat(a.get("Parameters").isObject()).isTrue();
        });
        JsonNode attrs = r.get("TransactionAttributes");
        assertThat(attrs.isObject()).isTrue();
        assertThat(attrs.size()).isLessThanOrEqualTo(10);
        for (Iterator<Map.Entry<String, JsonNode>> it = attrs.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            assertThat(e.getKey().length()).isLessThanOrEqualTo(1024);
            assertThat(e.getValue().isTextual()).isTrue();
            assertThat(e.getValue().asText().length()).isLessThanOrEqualTo(1024);
        }
    }

    private static FlowConfig menuFlow() {
        return FlowConfig.menu(Prompt.text("Hi {name}"), Menu.of(Prompt.text("Press"), Map.of(
                "1", MenuOption.of(MenuOption.Action.CONFIRM), "2", MenuOption.of(MenuOption.Action.REPEAT),
                "0", MenuOption.transfer("+12065550199", null), "9", MenuOption.of(MenuOption.Action.OPT_OUT))))
                .withHumanCheck(FlowConfig.HumanCheck.DEFAULT);
    }

    private static byte[] body(Random random) {
        int kind = random.nextInt(10);
        if (kind == 0) {
            byte[] b = new byte[random.nextInt(2000)];
            random.nextBytes(b);
            return b;
        }
        if (kind == 1) {
            return randomJson(random, 0).toString().getBytes(StandardCharsets.UTF_8);
        }
        if (kind == 2 && random.nextInt(4) == 0) {
            byte[] b = new byte[WebhookHandler.DEFAULT_MAX_BODY_BYTES + 1 + random.nextInt(1000)];
            Arrays.fill(b, (byte) 'x');
            return b;
        }
        ObjectNode valid = valid(random);
        int mutations = kind <= 4 ? 0 : 1 + random.nextInt(3);
        for (int m = 0; m < mutations; m++) {
            mutate(random, valid);
        }
        byte[] bytes = Bodies.bytes(valid);
        if (random.nextInt(12) == 0) {
            bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
        }
        return bytes;
    }

    private static ObjectNode valid(Random random) {
        String event = EVENTS[random.nextInt(EVENTS.length)];
        String tx = random.nextInt(5) == 0 ? "tx-unknown-" + random.nextInt(100) : "tx-" + random.nextInt(50);
        ObjectNode root = Bodies.invocation(event, 1 + random.nextInt(1000), tx,
                random.nextBoolean() ? "Connected" : null);
        if (random.nextBoolean()) {
            ObjectNode ad = root.putObject("ActionData");
            ad.put("Type", ACTION_TYPES[random.nextInt(ACTION_TYPES.length)]);
            ObjectNode p = ad.putObject("Parameters");
            if (random.nextBoolean()) {
                p.putObject("Arguments").put("attemptId", "att-" + random.nextInt(60));
            }
            if (random.nextBoolean()) {
                p.put("SipResponseCode", random.nextBoolean() ? "486" : "0");
            }
            if (random.nextBoolean()) {
                ad.put("ReceivedDigits", Integer.toString(random.nextInt(10)));
            }
            if (random.nextInt(4) == 0) {
                ad.put("ErrorType", "InvalidDigitsReceived");
            }
        }
        if (random.nextBoolean()) {
            ObjectNode ta = ((ObjectNode) root.get("CallDetails")).putObject("TransactionAttributes");
            ta.put("a", "att-" + random.nextInt(60));
            ta.put("s", new String[] {"H", "M", "U0", "U1", "C1", "T0", "X", "O", "B", "I", "zz"}[random.nextInt(11)]);
            ta.put("o", Integer.toString(random.nextInt(20) - 2));
            ta.put("l", ACTION_TYPES[random.nextInt(ACTION_TYPES.length)]);
            if (random.nextInt(5) == 0) {
                ta.put("m", "x");
            }
            if (random.nextInt(5) == 0) {
                ta.put("ans", "not-a-number");
            }
            if (random.nextInt(5) == 0) {
                for (int i = 0; i < 15; i++) {
                    ta.put("k" + i, "v".repeat(random.nextInt(2000)));
                }
            }
        }
        return root;
    }

    private static void mutate(Random random, ObjectNode root) {
        List<ObjectNode> containers = new ArrayList<>();
        collect(root, containers);
        ObjectNode target = containers.get(random.nextInt(containers.size()));
        List<String> names = new ArrayList<>();
        target.fieldNames().forEachRemaining(names::add);
        if (names.isEmpty()) {
            return;
        }
        String name = names.get(random.nextInt(names.size()));
        switch (random.nextInt(7)) {
            case 0 -> target.remove(name);
            case 1 -> target.put(name, random.nextLong());
            case 2 -> target.put(name, random.nextDouble());
            case 3 -> target.putNull(name);
            case 4 -> target.set(name, randomJson(random, 0));
            case 5 -> target.put(name, random.nextInt(8) == 0 ? "\u00e9x".repeat(60_000 + random.nextInt(80_000))
                    : randomString(random, 2000));
            default -> target.put(name, random.nextBoolean());
        }
    }

    private static void collect(JsonNode node, List<ObjectNode> out) {
        if (node instanceof ObjectNode o) {
            out.add(o);
        }
        if (node.isContainerNode()) {
            node.forEach(child -> collect(child, out));
        }
    }

    private static JsonNode randomJson(Random random, int depth) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        int kind = depth > 4 ? random.nextInt(4) : random.nextInt(6);
        return switch (kind) {
            case 0 -> f.numberNode(random.nextInt());
            case 1 -> f.textNode(randomString(random, random.nextInt(40)));
            case 2 -> f.nullNode();
            case 3 -> f.booleanNode(random.nextBoolean());
            case 4 -> {
                ArrayNode a = f.arrayNode();
                for (int i = random.nextInt(4); i > 0; i--) {
                    a.add(randomJson(random, depth + 1));
                }
                yield a;
            }
            default -> {
                ObjectNode o = f.objectNode();
                Set<String> keys = Set.of("CallDetails", "TransactionId", "InvocationEventType", "Sequence",
                        "ActionData", "Participants", "x");
                List<String> list = new ArrayList<>(keys);
                for (int i = random.nextInt(4); i > 0; i--) {
                    o.set(list.get(random.nextInt(list.size())), randomJson(random, depth + 1));
                }
                yield o;
            }
        };
    }

    private static String randomString(Random random, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            int c = random.nextInt(6) == 0 ? random.nextInt(0x3000) : 32 + random.nextInt(95);
            sb.append(Character.isSurrogate((char) c) ? 'x' : (char) c);
        }
        return sb.toString();
    }
}
