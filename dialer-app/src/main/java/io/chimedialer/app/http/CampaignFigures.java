package io.chimedialer.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * The figures that {@code dialer status} and the console derive from one campaign of the control API
 * ({@code GET /v1/campaigns} or {@code /v1/campaigns/{id}}), so that both show the same numbers. In a cluster the
 * status holds the campaign over all nodes under {@code cluster}; the figures come from there (the node's own counts
 * at the top level cover only its share), so every node shows the same line.
 *
 * @param total     the list's contacts, or -1 when not known
 * @param remaining contacts not final yet, or -1 when not known
 * @param answered  ANSWERED outcomes, or -1 before any outcome is known
 * @param ended     outcomes of every disposition, or -1 when not known
 * @param live      live calls, or -1 when not known
 */
public record CampaignFigures(long total, long remaining, long answered, long ended, long live) {

    /** The figures of one campaign's status. */
    public static CampaignFigures of(JsonNode status) {
        JsonNode cluster = status.get("cluster");
        JsonNode source = cluster != null && cluster.isObject() ? cluster : status;
        JsonNode total = source.path("contacts").get("total");
        if (total == null && source != status) {
            total = status.path("contacts").get("total");
        }
        JsonNode remaining = source.has("remaining") ? source.get("remaining") : status.get("remaining");
        JsonNode outcomes = source.get("outcomes");
        long ended = -1;
        long answered = -1;
        if (outcomes != null && outcomes.isObject()) {
            ended = 0;
            for (JsonNode n : outcomes) {
                ended += n.asLong();
            }
            answered = outcomes.path("ANSWERED").asLong(0);
        }
        JsonNode live = source.has("live") ? source.get("live") : status.get("live");
        return new CampaignFigures(number(total), number(remaining), answered, ended, number(live));
    }

    private static long number(JsonNode n) {
        return n != null && n.isNumber() ? n.asLong() : -1;
    }

    /** Contacts done: total - remaining (0 when either is unknown). */
    public long doneCount() {
        return total < 0 || remaining < 0 ? 0 : Math.max(0, total - remaining);
    }

    /** Done over total as a percentage, e.g. "45%", or "-" when unknown. */
    public String progress() {
        if (total < 0 || remaining < 0) {
            return "-";
        }
        return (total == 0 ? 100 : Math.round(100.0 * doneCount() / total)) + "%";
    }

    /** "270/600", or "-" when unknown. */
    public String done() {
        return total < 0 || remaining < 0 ? "-" : doneCount() + "/" + total;
    }

    /** ANSWERED over the outcomes so far, e.g. "40.0%", or "-" before the first outcome. */
    public String answerRate() {
        return ended <= 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * answered / ended);
    }

    /** A count as text, "-" when unknown. */
    public static String text(long n) {
        return n < 0 ? "-" : Long.toString(n);
    }

    /**
     * A campaign's Regions in a word: {@code up}, or {@code FAILED} and the Regions that failed joined by
     * {@code separator}; "-" when the status has none.
     */
    public static String regionsSummary(JsonNode regions, String separator) {
        if (regions == null || !regions.isObject() || regions.size() == 0) {
            return "-";
        }
        java.util.List<String> failed = new java.util.ArrayList<>();
        regions.properties().forEach(e -> {
            if (e.getValue().hasNonNull("failure")) {
                failed.add(e.getKey());
            }
        });
        return failed.isEmpty() ? "up" : "FAILED" + (separator.contains(" ") ? ": " : ":")
                + String.join(separator, failed);
    }
}
