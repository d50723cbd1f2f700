package io.chimedialer.app.notifications;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chimedialer.core.campaign.RunReport;
import io.chimedialer.core.domain.Disposition;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One completion notice: what happened to which campaign, and its figures. The body is built once
 * ({@link #body()}), so every attempt sends the same bytes under the same {@link #id()}; only the timestamp and
 * signature headers change. Immutable.
 *
 * @param id             unique per notice (a UUID): receivers drop a notice whose id they have seen
 * @param event          what happened
 * @param campaign       the campaign's name
 * @param runId          this node's run of the campaign (new each time the campaign is started or resumed here)
 * @param nodeId         the cluster node that sends it, or null when the dialer runs alone
 * @param occurredAt     when the run entered the state the notice tells
 * @param startedAt      when the run started on this node
 * @param report         the run's report when it entered that state (this node's run)
 * @param ledgerContacts the campaign's contacts by status over all its runs and nodes, from the ledger; empty when
 *                       the ledger could not be read
 */
public record CompletionNotice(String id, NoticeEvent event, String campaign, String runId, String nodeId,
                               Instant occurredAt, Instant startedAt, RunReport report,
                               Map<String, Long> ledgerContacts) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public CompletionNotice {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(campaign, "campaign");
        Objects.requireNonNull(occurredAt, "occurredAt");
        Objects.requireNonNull(report, "report");
        ledgerContacts = ledgerContacts == null ? Map.of() : Map.copyOf(ledgerContacts);
    }

    /** The JSON body, UTF-8 (fields are listed in docs/operations.md, "Completion notices"). */
    public byte[] body() {
        return json().toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The JSON body as a tree. */
    public ObjectNode json() {
        ObjectNode root = JSON.createObjectNode();
        root.put("id", id);
        root.put("event", event.wireName());
        root.put("campaign", campaign);
        if (runId != null) {
            root.put("runId", runId);
        }
        if (nodeId != null) {
            root.put("nodeId", nodeId);
        }
        root.put("occurredAt", occurredAt.toString());
        if (startedAt != null) {
            root.put("startedAt", startedAt.toString());
        }
        root.put("state", report.state());
        if (report.pauseReason() != null) {
            root.put("pauseReason", report.pauseReason());
        }
        root.set("contacts", JSON.valueToTree(report.contacts()));
        root.put("attempts", report.attempts());
        Map<String, Long> outcomes = new TreeMap<>();
        report.outcomes().forEach((disposition, count) -> outcomes.put(disposition.name(), count));
        root.set("outcomes", JSON.valueToTree(outcomes));
        long ended = outcomes.values().stream().mapToLong(Long::longValue).sum();
        long answered = report.outcomes().getOrDefault(Disposition.ANSWERED, 0L);
        if (ended > 0) {
            root.put("answerRate", Math.round(10_000.0 * answered / ended) / 10_000.0);
        } else {
            root.putNull("answerRate");
        }
        root.put("followUpsPending", report.followUps().pending());
        ObjectNode ledger = root.putObject("ledger");
        ledger.set("contactsByStatus", JSON.valueToTree(new TreeMap<>(ledgerContacts)));
        return root;
    }
}
