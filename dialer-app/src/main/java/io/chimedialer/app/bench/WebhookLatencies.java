package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.emulator.WebhookLatency;
import java.util.Locale;

/** The webhook's answer latency as the emulator (Chime's side) saw it, for the JSON and the progress lines. */
final class WebhookLatencies {
    private WebhookLatencies() {
    }

    static ObjectNode json(ObjectMapper json, WebhookLatency l) {
        ObjectNode o = json.createObjectNode();
        o.put("answered", l.answered());
        o.put("p50Ms", l.p50Ms());
        o.put("p99Ms", l.p99Ms());
        o.put("p999Ms", l.p999Ms());
        o.put("maxMs", l.maxMs());
        o.put("over1s", l.over1s());
        o.put("over5s", l.over5s());
        o.put("timedOut", l.timedOut());
        o.put("failed", l.failed());
        o.put("measuredBy", "the emulator, per delivery, from its send to the answer (buckets 1% wide)");
        return o;
    }

    static String describe(WebhookLatency l) {
        return String.format(Locale.ROOT, "%,d answered, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.1f ms; "
                        + "after 1 s: %d, after 5 s (or never): %d, failed: %d", l.answered(), l.p50Ms(), l.p99Ms(),
                l.p999Ms(), l.maxMs(), l.over1s(), l.over5s(), l.failed());
    }
}
