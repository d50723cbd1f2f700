package io.chimedialer.core.calls;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.calls.CallEvent.CallEnded;
import io.chimedialer.core.flow.FlowConfig;
import io.chimedialer.core.flow.FlowConfig.Menu;
import io.chimedialer.core.flow.FlowConfig.MenuOption;
import io.chimedialer.core.flow.FlowConfig.Prompt;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A small Chime stand-in drives 2,000 scripted calls through the handler (seeded), with duplicated invocations
 * and lost HANGUPs: every attempt ends once with the disposition the script implies, the digits pressed are
 * recorded, opt-outs are published, no response has more than 10 actions, no call exceeds its budget, and no
 * call is left live.
 */
class WebhookSimulationTest {

    private enum Script { BUSY, NO_ANSWER, REJECTED, CONFIRM, REPEAT_THEN_CONFIRM, OPT_OUT, SILENT, TRANSFER,
        CALLEE_HANGS_UP }

    private static FlowConfig flow() {
        Map<String, MenuOption> options = new LinkedHashMap<>();
        options.put("1", MenuOption.of(MenuOption.Action.CONFIRM));
        options.put("2", MenuOption.of(MenuOption.Action.REPEAT));
        options.put("0", MenuOption.transfer("+12065550199", null));
        options.put("9", MenuOption.of(MenuOption.Action.OPT_OUT));
        return FlowConfig.menu(Prompt.text("Hello {name}, your visit is on {date}."),
                Menu.of(Prompt.text("Press 1 to confirm, 2 to repeat, 0 for an agent, 9 to opt out."), options))
                .withRepeat(12); // 12 Speaks + the menu: the first response must be split
    }

    @Test
    void scriptedCalls_withDuplicatesAndLostHangups_groundTruthHolds() {
        Random random = new Random(42);
        int calls = 2000;
        Map<String, Script> scripts = new HashMap<>();
        Map<String, String> expectedDigits = new HashMap<>();
        Set<String> lostHangup = new HashSet<>();
        int maxActions = 0;
        long maxInvocations = 0;
        try (Harness h = new Harness()) {
            for (int i = 0; i < calls; i++) {
                String att = "att-" + i;
                String tx = "tx-" + i;
                Script script = Script.values()[random.nextInt(Script.values().length)];
                scripts.put(att, script);
                h.expect(att, flow());
                Chime chime = new Chime(h, tx, random.nextInt(20) == 0);
                boolean placedFirst = random.nextBoolean();
                if (placedFirst) {
                    h.registry.placed(att, tx);
                }
                chime.invoke(Bodies.newOutbound(0, tx, att), null);
                if (!placedFirst) {
                    h.registry.placed(att, tx);
                }
                chime.invoke(Bodies.invocation("RINGING", 0, tx, null), null);
                boolean loseHangup = random.nextInt(30) == 0;
                if (loseHangup) {
                    lostHangup.add(att);
                }
                switch (script) {
                    case BUSY -> chime.hangup(486, loseHangup);
                    case NO_ANSWER -> chime.hangup(480, loseHangup);
                    case REJECTED -> chime.hangup(603, loseHangup);
                    default -> {
                        Deque<String> presses = switch (script) {
                            case CONFIRM -> new ArrayDeque<>(java.util.List.of("1"));
                            case REPEAT_THEN_CONFIRM -> new ArrayDeque<>(java.util.List.of("2", "1"));
                            case OPT_OUT -> new ArrayDeque<>(java.util.List.of("9"));
                            case TRANSFER -> new ArrayDeque<>(java.util.List.of("0"));
                            default -> new ArrayDeque<>();
                        };
                        expectedDigits.put(att, String.join("", presses));
                        chime.answerAndRun(presses, script == Script.CALLEE_HANGS_UP, loseHangup);
                    }
                }
                maxActions = Math.max(maxActions, chime.maxActions);
                maxInvocations = Math.max(maxInvocations, chime.sequence);
            }
            // Lost HANGUPs: the lifetime sweep closes them.
            h.clock.advance(Duration.ofMinutes(31));
            h.registry.sweep();

            Map<String, CallResult> results = h.eventsOf(CallEnded.class).stream().map(CallEnded::result)
                    .collect(Collectors.toMap(CallResult::attemptId, Function.identity()));
            assertThat(h.eventsOf(CallEnded.class)).hasSize(calls);
            assertThat(results).hasSize(calls);
            for (Map.Entry<String, Script> e : scripts.entrySet()) {
                CallResult r = results.get(e.getKey());
                Disposition expected = lostHangup.contains(e.getKey()) ? Disposition.UNKNOWN : switch (e.getValue()) {
                    case BUSY -> Disposition.BUSY;
                    case NO_ANSWER -> Disposition.NO_ANSWER;
                    case REJECTED -> Disposition.REJECTED;
                    default -> Disposition.ANSWERED;
                };
                assertThat(r.disposition()).as(e.getKey() + " " + e.getValue()).isEqualTo(expected);
                if (expectedDigits.containsKey(e.getKey())) {
                    assertThat(r.digits()).as(e.getKey() + " digits").isEqualTo(expectedDigits.get(e.getKey()));
                }
            }
            long optOuts = scripts.values().stream().filter(s -> s == Script.OPT_OUT).count();
            assertThat(h.eventsOf(CallEvent.OptedOut.class)).hasSize((int) optOuts)
                    .allMatch(o -> o.number().equals(Bodies.CALLEE));
            assertThat(maxActions).isLessThanOrEqualTo(10).isEqualTo(10);
            assertThat(maxInvocations).isLessThan(1000);
            assertThat(h.registry.liveCalls()).isZero();
            assertThat(h.handler.stats().duplicates()).isPositive();
            assertThat(h.handler.stats().internalErrors()).isZero();
            assertThat(h.handler.stats().unknownCalls()).isZero();
            assertThat(h.bus.dropped()).isZero();
        }
    }

    /** Plays Chime's side of one call: sends invocations, reads responses, runs their action lists. */
    private static final class Chime {
        private final Harness h;
        private final String tx;
        private final boolean duplicates;
        private long sequence;
        private Map<String, String> attributes = Map.of();
        int maxActions;

        Chime(Harness h, String tx, boolean duplicates) {
            this.h = h;
            this.tx = tx;
            this.duplicates = duplicates;
        }

        JsonNode invoke(ObjectNode body, Map<String, String> ignored) {
            sequence++;
            body.put("Sequence", sequence);
            Bodies.withAttributes(body, attributes);
            JsonNode reply = h.sendOk(body);
            if (duplicates) {
                // Chime retried: the same bytes must come back.
                JsonNode again = h.sendOk(body);
                assertThat(again).isEqualTo(reply);
            }
            maxActions = Math.max(maxActions, reply.get("Actions").size());
            Map<String, String> next = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = reply.get("TransactionAttributes").properties()
                    .iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                next.put(e.getKey(), e.getValue().asText());
            }
            attributes = next;
            return reply;
        }

        void hangup(int sip, boolean lost) {
            if (!lost) {
                invoke(Bodies.hangup(0, tx, sip, null), null);
            }
        }

        void answerAndRun(Deque<String> presses, boolean calleeHangsUpEarly, boolean loseHangup) {
            JsonNode reply = invoke(Bodies.invocation("CALL_ANSWERED", 0, tx, "Connected"), null);
            boolean bridged = false;
            for (int guard = 0; guard < 200; guard++) {
                ArrayNode actions = (ArrayNode) reply.get("Actions");
                if (actions.isEmpty() || calleeHangsUpEarly) {
                    break;
                }
                JsonNode last = actions.get(actions.size() - 1);
                String type = last.get("Type").asText();
                if (type.equals("Hangup")) {
                    break;
                }
                ObjectNode next;
                if (type.endsWith("GetDigits")) {
                    next = presses.isEmpty()
                            ? Bodies.actionFailed(0, tx, type, "InvalidDigitsReceived", null)
                            : Bodies.actionSuccessful(0, tx, type, presses.poll(), null);
                } else {
                    if (type.equals("CallAndBridge")) {
                        bridged = true;
                    }
                    next = Bodies.actionSuccessful(0, tx, type, null, null);
                }
                next.remove("CallDetails");
                ObjectNode fresh = Bodies.invocation(next.get("InvocationEventType").asText(), 0, tx, "Connected");
                fresh.set("ActionData", next.get("ActionData"));
                reply = invoke(fresh, null);
                if (bridged) {
                    break;
                }
            }
            if (!loseHangup) {
                ObjectNode hangup = Bodies.hangup(0, tx, 0, null);
                if (bridged) {
                    ObjectNode b = ((ArrayNode) hangup.at("/CallDetails/Participants")).addObject();
                    b.put("CallId", "call-b");
                    b.put("ParticipantTag", "LEG-B");
                    b.put("Status", "Connected");
                }
                JsonNode last = invoke(hangup, null);
                if (bridged) {
                    assertThat(last.at("/Actions/0/Parameters/ParticipantTag").asText()).isEqualTo("LEG-B");
                }
            }
        }
    }
}
