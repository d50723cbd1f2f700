package io.chimedialer.app.console;

import static io.chimedialer.app.console.Html.segment;
import static io.chimedialer.app.console.Html.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.chimedialer.app.http.CampaignFigures;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The console's HTML, built from the control API's JSON. Pure functions of their arguments: every value from the
 * JSON is escaped ({@link Html#text}); no inline script or style (the pages' Content-Security-Policy forbids both).
 * A figure the API did not send is shown as {@code -}. The figures are those of {@code dialer status}: progress is
 * contacts done (total - remaining) over total, the answer rate ANSWERED over the outcomes so far.
 */
final class Pages {
    static final Set<String> FINAL_STATES = Set.of("COMPLETED", "CANCELLED", "FAILED", "ENDED");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss 'UTC'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("HH:mm", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    /** The messages a redirect after a form may ask for ({@code ?done=}); nothing else from the URL is shown. */
    private static final Map<String, String> DONE = Map.of(
            "started", "The campaign was started.",
            "pause", "The campaign was paused.",
            "resume", "The campaign was resumed.",
            "cancel", "The campaign is being cancelled.",
            "rate", "The Region's rate was changed.");

    private Pages() {
    }

    /** What every page needs besides its content. */
    record Frame(String csrf, boolean loginRequired) {
    }

    // ---- pages ----

    static String login(String csrf, String error) {
        StringBuilder b = new StringBuilder();
        b.append("<h1>Log in</h1>\n");
        if (error != null) {
            b.append("<p class=\"error\" role=\"alert\">").append(text(error)).append("</p>\n");
        }
        b.append("<form method=\"post\" action=\"/console/login\" class=\"stack\">\n")
                .append(csrfField(csrf))
                .append("<label for=\"token\">Control token (<code>server.control-token</code>)</label>\n")
                .append("<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" ")
                .append("required autofocus>\n")
                .append("<button type=\"submit\">Log in</button>\n</form>\n");
        return page("Log in", null, b, null);
    }

    static String campaigns(JsonNode list, Frame frame, Instant now, String done) {
        StringBuilder b = new StringBuilder();
        b.append("<h1>Campaigns</h1>\n");
        flash(b, done);
        b.append("<p><a href=\"/console/start\">Start a campaign</a></p>\n");
        b.append("<table class=\"grid\">\n<caption>Every campaign this node or the ledger knows; figures refresh ")
                .append("every 2 s (<span id=\"updated\">").append(text(TIME.format(now))).append("</span>)</caption>\n")
                .append("<thead><tr><th scope=\"col\">Campaign</th><th scope=\"col\">State</th>")
                .append("<th scope=\"col\">Progress</th><th scope=\"col\">Done</th><th scope=\"col\">Answer rate</th>")
                .append("<th scope=\"col\">Live calls</th><th scope=\"col\">Waiting</th>")
                .append("<th scope=\"col\">Follow-ups pending</th><th scope=\"col\">ETA</th>")
                .append("<th scope=\"col\">Regions</th><th scope=\"col\">Results</th></tr></thead>\n")
                .append("<tbody id=\"campaign-rows\">").append(campaignRows(list, now)).append("</tbody>\n</table>\n");
        return page("Campaigns", frame, b, "/console/campaigns.json");
    }

    /** The rows of the campaigns table (also sent to the page every 2 s). */
    static String campaignRows(JsonNode list, Instant now) {
        StringBuilder b = new StringBuilder();
        JsonNode campaigns = list.path("campaigns");
        if (campaigns.isEmpty()) {
            return "<tr><td colspan=\"11\">No campaigns yet. <a href=\"/console/start\">Start one</a>.</td></tr>";
        }
        for (JsonNode c : campaigns) {
            CampaignFigures f = CampaignFigures.of(c);
            String name = name(c);
            String link = "/console/campaigns/" + segment(name);
            b.append("<tr data-campaign=\"").append(text(name)).append("\">")
                    .append("<th scope=\"row\"><a href=\"").append(text(link)).append("\">").append(text(name))
                    .append("</a></th>")
                    .append("<td data-field=\"state\">").append(state(c.path("state").asText("-"))).append("</td>")
                    .append("<td data-field=\"progress\">").append(progress(f)).append("</td>")
                    .append("<td data-field=\"done\">").append(text(f.done())).append("</td>")
                    .append("<td data-field=\"answer-rate\">").append(text(f.answerRate())).append("</td>")
                    .append("<td data-field=\"live\">").append(text(CampaignFigures.text(f.live()))).append("</td>")
                    .append("<td data-field=\"waiting\">").append(num(c.path("contacts").get("waiting"))).append("</td>")
                    .append("<td data-field=\"follow-ups\">").append(num(c.get("followUpsPending"))).append("</td>")
                    .append("<td data-field=\"eta\">").append(text(eta(c, now))).append("</td>")
                    .append("<td data-field=\"regions\">")
                    .append(text(CampaignFigures.regionsSummary(c.path("regions"), ", ")))
                    .append("</td>")
                    .append("<td><a href=\"").append(text(link + "/results.csv")).append("\" download>")
                    .append("attempts CSV<span class=\"visually-hidden\"> of ").append(text(name))
                    .append("</span></a></td></tr>\n");
        }
        return b.toString();
    }

    static String campaign(JsonNode c, Timeline timeline, Frame frame, Instant now, String done) {
        String name = name(c);
        String base = "/console/campaigns/" + segment(name);
        StringBuilder b = new StringBuilder();
        b.append("<p><a href=\"/console/\">All campaigns</a></p>\n");
        b.append("<h1>Campaign ").append(text(name)).append("</h1>\n");
        flash(b, done);
        b.append("<p>Figures refresh every 2 s (<span id=\"updated\">").append(text(TIME.format(now)))
                .append("</span>).</p>\n");
        b.append("<section aria-labelledby=\"summary-h\"><h2 id=\"summary-h\">Summary</h2>\n<div id=\"summary\">")
                .append(summary(c, now)).append("</div></section>\n");
        // The actions: the server answers 409 with the reason when one does not apply to the campaign's state. A
        // finished campaign (its state does not change again) gets none, and says how to dial it again.
        b.append("<section aria-labelledby=\"actions-h\"><h2 id=\"actions-h\">Actions</h2>\n<div class=\"actions\">");
        boolean finished = FINAL_STATES.contains(c.path("state").asText(""));
        if (finished) {
            b.append("<p id=\"finished\">This campaign is ").append(text(c.path("state").asText()))
                    .append(": nothing to pause, resume or cancel. <a href=\"/console/start\">Start it again</a> to "
                            + "dial its contacts afresh.</p>");
        }
        for (String action : finished ? List.<String>of() : List.of("pause", "resume", "cancel")) {
            b.append("<form method=\"post\" action=\"").append(text(base + "/" + action)).append("\"")
                    .append("cancel".equals(action) ? " data-confirm=\"Cancel campaign " + text(name)
                            + "? Its live calls are hung up.\"" : "")
                    .append(">").append(csrfField(frame.csrf()))
                    .append("<button type=\"submit\" id=\"").append(action).append("\">")
                    .append(Character.toUpperCase(action.charAt(0))).append(action.substring(1))
                    .append("</button></form>");
        }
        b.append("</div>\n<ul class=\"downloads\"><li><a id=\"results\" href=\"").append(text(base + "/results.csv"))
                .append("\" download>Download the results: every attempt (CSV)</a></li>")
                .append("<li><a id=\"contacts\" href=\"").append(text(base + "/contacts.csv"))
                .append("\" download>Each contact's final status (CSV)</a></li>")
                .append("<li><a id=\"opt-outs\" href=\"").append(text(base + "/opt-outs.txt"))
                .append("\" download>The opt-outs it honours (a DNC list file)</a></li></ul>\n</section>\n");
        b.append("<section aria-labelledby=\"chart-h\"><h2 id=\"chart-h\">Attempts and answers per minute</h2>\n")
                .append("<div id=\"chart\">").append(chart(timeline)).append("</div></section>\n");
        b.append("<section aria-labelledby=\"regions-h\"><h2 id=\"regions-h\">By Region</h2>\n<div id=\"regions\">")
                .append(regions(c)).append("</div>\n");
        rateForm(b, c, frame, name);
        b.append("</section>\n");
        b.append("<section aria-labelledby=\"outcomes-h\"><h2 id=\"outcomes-h\">By disposition</h2>\n")
                .append("<div id=\"outcomes\">").append(outcomes(c)).append("</div></section>\n");
        b.append("<section aria-labelledby=\"errors-h\"><h2 id=\"errors-h\">Last errors</h2>\n<div id=\"errors\">")
                .append(errors(c, timeline)).append("</div></section>\n");
        if (c.path("cluster").isObject()) {
            b.append("<section aria-labelledby=\"cluster-h\"><h2 id=\"cluster-h\">Cluster-wide</h2>\n")
                    .append("<div id=\"cluster\">").append(cluster(c)).append("</div></section>\n");
        }
        return page("Campaign " + name, frame, b, base + "/live.json");
    }

    static String start(JsonNode list, Frame frame, long maxUploadBytes) {
        StringBuilder b = new StringBuilder();
        b.append("<p><a href=\"/console/\">All campaigns</a></p>\n<h1>Start a campaign</h1>\n");
        b.append("<datalist id=\"known-campaigns\">");
        for (JsonNode c : list.path("campaigns")) {
            b.append("<option value=\"").append(text(name(c))).append("\"></option>");
        }
        b.append("</datalist>\n");
        b.append("<section aria-labelledby=\"config-h\"><h2 id=\"config-h\">From the configuration</h2>\n")
                .append("<p>A campaign of the configuration file, with the contact list it names.</p>\n")
                .append("<form method=\"post\" action=\"/console/start\" class=\"stack\">").append(csrfField(frame.csrf()))
                .append("<label for=\"config-campaign\">Campaign name</label>")
                .append("<input id=\"config-campaign\" name=\"campaign\" required list=\"known-campaigns\" ")
                .append("autocomplete=\"off\">")
                .append(resumeBox("config-resume"))
                .append("<button type=\"submit\" id=\"start-config\">Start</button></form></section>\n");
        b.append("<section aria-labelledby=\"upload-h\"><h2 id=\"upload-h\">With an uploaded list</h2>\n")
                .append("<p>A configured campaign dialing the CSV list uploaded here (at most ")
                .append(text(size(maxUploadBytes))).append(", <code>server.max-upload-size</code>). ")
                .append("The list is written to disk as it arrives and kept, so that a restarted node resumes from it.</p>\n")
                // csrf and campaign come before the file: the server checks them before it stores a byte of it.
                .append("<form method=\"post\" action=\"/console/upload\" enctype=\"multipart/form-data\" ")
                .append("class=\"stack\">").append(csrfField(frame.csrf()))
                .append("<label for=\"upload-campaign\">Campaign name</label>")
                .append("<input id=\"upload-campaign\" name=\"campaign\" required list=\"known-campaigns\" ")
                .append("autocomplete=\"off\">")
                .append(resumeBox("upload-resume"))
                .append("<label for=\"upload-file\">Contact list (CSV)</label>")
                .append("<input id=\"upload-file\" name=\"contacts\" type=\"file\" accept=\".csv,text/csv\" required>")
                .append("<button type=\"submit\" id=\"start-upload\">Upload and start</button></form></section>\n");
        return page("Start a campaign", frame, b, null);
    }

    static String error(int status, String message, Frame frame, String back) {
        StringBuilder b = new StringBuilder();
        b.append("<h1>").append(status).append(' ').append(text(reason(status))).append("</h1>\n")
                .append("<p class=\"error\" role=\"alert\">").append(text(message)).append("</p>\n")
                .append("<p><a href=\"").append(text(back == null ? "/console/" : back)).append("\">Back</a></p>\n");
        return page(reason(status), frame, b, null);
    }

    // ---- fragments (also sent to the campaign page every 2 s) ----

    static String summary(JsonNode c, Instant now) {
        CampaignFigures f = CampaignFigures.of(c);
        StringBuilder b = new StringBuilder("<dl class=\"figures\">");
        term(b, "State", state(c.path("state").asText("-")) + (c.has("running")
                ? c.path("running").asBoolean() ? " (running on this node)" : " (not running on this node)" : ""));
        if (c.hasNonNull("pauseReason")) {
            term(b, "Paused because", "<span class=\"error\">" + text(c.get("pauseReason").asText()) + "</span>");
        }
        JsonNode schedule = c.path("schedule");
        if (schedule.hasNonNull("start") || schedule.hasNonNull("end")) {
            term(b, "Schedule", "from " + text(schedule.path("start").asText("now")) + " to "
                    + text(schedule.path("end").asText("the end of its list"))
                    + (schedule.hasNonNull("endReason") ? "; " + text(schedule.get("endReason").asText()) : ""));
        }
        JsonNode limits = c.path("limits");
        if (limits.hasNonNull("callsPerSecond") || limits.hasNonNull("maxActiveCalls")
                || limits.path("priority").asInt(0) != 0) {
            term(b, "Campaign limits", "calls per second " + text(limits.path("callsPerSecond").asText("none"))
                    + ", live calls " + text(limits.path("maxActiveCalls").asText("none")) + ", priority "
                    + text(limits.path("priority").asText("0")));
        }
        term(b, "Progress", progress(f));
        term(b, "Contacts done", text(f.done()));
        term(b, "Remaining", num(c.get("remaining")));
        term(b, "Attempts", num(c.get("attempts")));
        term(b, "Answer rate", text(f.answerRate()));
        term(b, "Live calls", text(CampaignFigures.text(f.live())));
        term(b, "Follow-ups pending", num(c.get("followUpsPending"))
                + (c.path("followUps").hasNonNull("nextDue") ? ", next at "
                + text(c.path("followUps").get("nextDue").asText()) : ""));
        term(b, "Waiting for their calling window", num(c.path("contacts").get("waiting")));
        term(b, "Withdrawn (dialed again)", num(c.get("withdrawn")));
        term(b, "ETA", text(eta(c, now)));
        b.append("</dl>");
        JsonNode contacts = c.path("contacts");
        if (contacts.isObject() && contacts.size() > 0) {
            b.append("<table class=\"grid compact\"><caption>Contacts of the list</caption><tbody>");
            contacts.properties().forEach(e -> b.append("<tr><th scope=\"row\">").append(text(e.getKey()))
                    .append("</th><td>").append(num(e.getValue())).append("</td></tr>"));
            b.append("</tbody></table>");
        }
        JsonNode ledger = c.path("ledger");
        if (ledger.isObject()) {
            b.append("<table class=\"grid compact\"><caption>In the ledger (every run and node): state ")
                    .append(text(ledger.path("state").asText("-"))).append("</caption><tbody>");
            ledger.path("contactsByStatus").properties().forEach(e -> b.append("<tr><th scope=\"row\">")
                    .append(text(e.getKey())).append("</th><td>").append(num(e.getValue())).append("</td></tr>"));
            b.append("</tbody></table>");
        }
        return b.toString();
    }

    static String regions(JsonNode c) {
        JsonNode regions = c.path("regions");
        if (!regions.isObject() || regions.size() == 0) {
            return "<p>No Region figures (the campaign does not run on this node).</p>";
        }
        StringBuilder b = new StringBuilder("<table class=\"grid\"><thead><tr><th scope=\"col\">Region</th>")
                .append("<th scope=\"col\">Status</th><th scope=\"col\">Attempts</th><th scope=\"col\">Throttled</th>")
                .append("<th scope=\"col\">Calls/s configured</th><th scope=\"col\">effective</th>")
                .append("<th scope=\"col\">last 10 s</th><th scope=\"col\">achieved</th>")
                .append("<th scope=\"col\">Peak active / cap</th></tr></thead><tbody>");
        regions.properties().forEach(e -> {
            JsonNode r = e.getValue();
            b.append("<tr><th scope=\"row\">").append(text(e.getKey())).append("</th><td>")
                    .append(r.hasNonNull("failure") ? "<span class=\"state state-FAILED\">FAILED</span>: "
                            + text(r.get("failure").asText()) : "<span class=\"state state-up\">up</span>")
                    .append("</td><td>").append(num(r.get("attempts"))).append("</td><td>")
                    .append(num(r.get("throttled"))).append("</td><td>").append(dec(r.get("configuredCps")))
                    .append("</td><td>").append(dec(r.get("effectiveCps"))).append("</td><td>")
                    .append(dec(r.get("recentCps"))).append("</td><td>").append(dec(r.get("achievedCps")))
                    .append("</td><td>").append(num(r.get("peakActive"))).append(" / ").append(num(r.get("maxActive")))
                    .append("</td></tr>");
        });
        return b.append("</tbody></table>").toString();
    }

    static String outcomes(JsonNode c) {
        JsonNode outcomes = c.path("outcomes");
        if (!outcomes.isObject() || outcomes.size() == 0) {
            return "<p>No outcome yet.</p>";
        }
        long ended = 0;
        for (JsonNode n : outcomes) {
            ended += n.asLong();
        }
        StringBuilder b = new StringBuilder("<table class=\"grid\"><thead><tr><th scope=\"col\">Disposition</th>")
                .append("<th scope=\"col\">Attempts</th><th scope=\"col\">Share</th></tr></thead><tbody>");
        long total = ended;
        outcomes.properties().forEach(e -> b.append("<tr data-disposition=\"").append(text(e.getKey()))
                .append("\"><th scope=\"row\">").append(text(e.getKey())).append("</th><td>")
                .append(num(e.getValue())).append("</td><td>")
                .append(total == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * e.getValue().asLong() / total))
                .append("</td></tr>"));
        return b.append("</tbody><tfoot><tr><th scope=\"row\">ended</th><td>").append(ended)
                .append("</td><td></td></tr></tfoot></table>").toString();
    }

    static String errors(JsonNode c, Timeline timeline) {
        StringBuilder b = new StringBuilder();
        List<String> failed = new ArrayList<>();
        c.path("regions").properties().forEach(e -> {
            if (e.getValue().hasNonNull("failure")) {
                failed.add("Region " + e.getKey() + " FAILED: " + e.getValue().get("failure").asText());
            }
        });
        if (c.hasNonNull("pauseReason")) {
            failed.add(0, "Paused because: " + c.get("pauseReason").asText());
        }
        if (!failed.isEmpty()) {
            b.append("<ul class=\"error\">");
            failed.forEach(f -> b.append("<li>").append(text(f)).append("</li>"));
            b.append("</ul>");
        }
        if (timeline.lastErrors().isEmpty()) {
            b.append(failed.isEmpty() ? "<p>None: no Region failed, and no attempt failed.</p>"
                    : "<p>No attempt failed.</p>");
            return b.toString();
        }
        b.append("<table class=\"grid\"><caption>The last failed attempts (FAILED, UNKNOWN, or a failed action)")
                .append("</caption><thead><tr><th scope=\"col\">Placed at</th><th scope=\"col\">Region</th>")
                .append("<th scope=\"col\">Disposition</th><th scope=\"col\">SIP code</th>")
                .append("<th scope=\"col\">Failed action</th></tr></thead><tbody>");
        for (Timeline.Failure f : timeline.lastErrors()) {
            b.append("<tr><td>").append(text(f.at())).append("</td><td>").append(text(f.region())).append("</td><td>")
                    .append(text(f.disposition().isEmpty() ? "(live)" : f.disposition())).append("</td><td>")
                    .append(text(f.sipCode())).append("</td><td>").append(text(f.actionFailure())).append("</td></tr>");
        }
        return b.append("</tbody></table>").toString();
    }

    static String cluster(JsonNode c) {
        JsonNode v = c.path("cluster");
        StringBuilder b = new StringBuilder("<dl class=\"figures\">");
        term(b, "Attempts", num(v.get("attempts")));
        term(b, "Live calls", num(v.get("live")));
        term(b, "Remaining", num(v.get("remaining")));
        term(b, "Answer rate", v.path("answerRate").isNumber()
                ? String.format(Locale.ROOT, "%.1f%%", 100 * v.get("answerRate").asDouble()) : "-");
        b.append("</dl><table class=\"grid\"><caption>Nodes</caption><thead><tr><th scope=\"col\">Node</th>")
                .append("<th scope=\"col\">Contacts claimed</th><th scope=\"col\">Live calls</th></tr></thead><tbody>");
        v.path("nodes").properties().forEach(e -> b.append("<tr><th scope=\"row\">").append(text(e.getKey()))
                .append("</th><td>").append(num(e.getValue().get("claimed"))).append("</td><td>")
                .append(num(e.getValue().get("live"))).append("</td></tr>"));
        b.append("</tbody></table><table class=\"grid\"><caption>Regions over the cluster (Creates per second over ")
                .append("the last minute)</caption><thead><tr><th scope=\"col\">Region</th><th scope=\"col\">Attempts")
                .append("</th><th scope=\"col\">Live</th><th scope=\"col\">Calls/s</th><th scope=\"col\">configured")
                .append("</th></tr></thead><tbody>");
        v.path("regions").properties().forEach(e -> b.append("<tr><th scope=\"row\">").append(text(e.getKey()))
                .append("</th><td>").append(num(e.getValue().get("attempts"))).append("</td><td>")
                .append(num(e.getValue().get("live"))).append("</td><td>").append(dec(e.getValue().get("callsPerSecond")))
                .append("</td><td>").append(dec(e.getValue().get("configuredCallsPerSecond"))).append("</td></tr>"));
        return b.append("</tbody></table>").toString();
    }

    /**
     * The per-minute chart as inline SVG: a pair of bars per minute (attempts, and answers in front), the figures
     * also in a table for screen readers and for reading without colour.
     */
    static String chart(Timeline timeline) {
        List<Timeline.Minute> minutes = timeline.minutes();
        if (minutes.isEmpty()) {
            return "<p>No attempt placed yet.</p>";
        }
        long max = 1;
        for (Timeline.Minute m : minutes) {
            max = Math.max(max, m.attempts());
        }
        int width = 640;
        int height = 200;
        int top = 20;
        int bottom = 24;
        int left = 48;
        int plot = height - top - bottom;
        int slot = Math.max(12, (width - left - 8) / Math.max(minutes.size(), 10));
        Timeline.Minute last = minutes.get(minutes.size() - 1);
        StringBuilder b = new StringBuilder();
        b.append("<svg class=\"chart\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" width=\"").append(width).append("\" height=\"").append(height)
                .append("\" role=\"img\" aria-labelledby=\"chart-title\"><title id=\"chart-title\">Attempts and answers ")
                .append("per minute; last minute ").append(text(MINUTE.format(last.start()))).append(" UTC: ")
                .append(last.attempts()).append(" attempts, ").append(last.answered()).append(" answered</title>");
        b.append("<line x1=\"").append(left).append("\" y1=\"").append(top + plot).append("\" x2=\"").append(width)
                .append("\" y2=\"").append(top + plot).append("\" stroke=\"#555\"/>");
        b.append("<text x=\"").append(left - 6).append("\" y=\"").append(top + 4).append("\" text-anchor=\"end\" ")
                .append("font-size=\"11\">").append(max).append("</text><text x=\"").append(left - 6).append("\" y=\"")
                .append(top + plot).append("\" text-anchor=\"end\" font-size=\"11\">0</text>");
        int x = left + 4;
        int labelEvery = Math.max(1, minutes.size() / 8);
        for (int i = 0; i < minutes.size(); i++) {
            Timeline.Minute m = minutes.get(i);
            long ha = Math.round((double) plot * m.attempts() / max);
            long hn = Math.round((double) plot * m.answered() / max);
            int w = slot - 4;
            b.append("<rect class=\"bar-attempts\" x=\"").append(x).append("\" y=\"").append(top + plot - ha)
                    .append("\" width=\"").append(w).append("\" height=\"").append(ha).append("\" fill=\"#7aa6d6\">")
                    .append("<title>").append(text(MINUTE.format(m.start()))).append(": ").append(m.attempts())
                    .append(" attempts</title></rect>");
            b.append("<rect class=\"bar-answers\" x=\"").append(x + w / 4).append("\" y=\"").append(top + plot - hn)
                    .append("\" width=\"").append(Math.max(1, w / 2)).append("\" height=\"").append(hn)
                    .append("\" fill=\"#1d6b2f\"><title>").append(text(MINUTE.format(m.start()))).append(": ")
                    .append(m.answered()).append(" answered</title></rect>");
            if (i % labelEvery == 0 || i == minutes.size() - 1) {
                b.append("<text x=\"").append(x + w / 2).append("\" y=\"").append(height - 8)
                        .append("\" text-anchor=\"middle\" font-size=\"11\">").append(text(MINUTE.format(m.start())))
                        .append("</text>");
            }
            x += slot;
        }
        b.append("</svg>");
        b.append("<p class=\"legend\"><span class=\"key key-attempts\" aria-hidden=\"true\"></span> attempts (wide bars) ")
                .append("<span class=\"key key-answers\" aria-hidden=\"true\"></span> answered (narrow bars), per ")
                .append("minute (UTC) of the attempt's Create.</p>");
        b.append("<details><summary>The figures</summary><table class=\"grid compact\"><thead><tr>")
                .append("<th scope=\"col\">Minute (UTC)</th><th scope=\"col\">Attempts</th><th scope=\"col\">Answered")
                .append("</th></tr></thead><tbody>");
        for (Timeline.Minute m : minutes) {
            b.append("<tr><th scope=\"row\">").append(text(MINUTE.format(m.start()))).append("</th><td>")
                    .append(m.attempts()).append("</td><td>").append(m.answered()).append("</td></tr>");
        }
        return b.append("</tbody></table></details>").toString();
    }

    // ---- parts ----

    /** The page around its content: the header with navigation and logout, the live-refresh URL for the script. */
    static String page(String title, Frame frame, CharSequence content, String live) {
        StringBuilder b = new StringBuilder(content.length() + 2048);
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(text(title)).append(" - dialer console</title>\n")
                .append("<link rel=\"stylesheet\" href=\"/console/assets/console.css\">\n")
                .append("<script src=\"/console/assets/console.js\" defer></script>\n</head>\n<body");
        if (live != null) {
            b.append(" data-live=\"").append(text(live)).append('"');
        }
        b.append(">\n<header><a class=\"skip\" href=\"#main\">Skip to content</a><span class=\"brand\">dialer console")
                .append("</span>");
        if (frame != null) {
            b.append("<nav aria-label=\"Console\"><a href=\"/console/\">Campaigns</a> <a href=\"/console/start\">")
                    .append("Start a campaign</a></nav>");
            if (frame.loginRequired()) {
                b.append("<form method=\"post\" action=\"/console/logout\" class=\"logout\">").append(csrfField(frame.csrf()))
                        .append("<button type=\"submit\">Log out</button></form>");
            }
        }
        b.append("</header>\n<main id=\"main\">\n").append(content).append("</main>\n</body>\n</html>\n");
        return b.toString();
    }

    private static void rateForm(StringBuilder b, JsonNode c, Frame frame, String campaign) {
        JsonNode regions = c.path("regions");
        if (!regions.isObject() || regions.size() == 0) {
            return;
        }
        b.append("<form method=\"post\" action=\"/console/rate\" class=\"inline\">").append(csrfField(frame.csrf()))
                .append("<input type=\"hidden\" name=\"campaign\" value=\"").append(text(campaign)).append("\">")
                .append("<fieldset><legend>Change a Region's rate (every campaign dialing it; at most 4 times its ")
                .append("configured rate)</legend><label for=\"rate-region\">Region</label> ")
                .append("<select id=\"rate-region\" name=\"region\">");
        regions.properties().forEach(e -> b.append("<option value=\"").append(text(e.getKey())).append("\">")
                .append(text(e.getKey())).append("</option>"));
        b.append("</select> <label for=\"rate-cps\">Calls per second</label> ")
                .append("<input id=\"rate-cps\" name=\"calls-per-second\" type=\"number\" min=\"0.01\" step=\"any\" ")
                .append("required> <button type=\"submit\" id=\"set-rate\">Set rate</button></fieldset></form>\n");
    }

    private static String resumeBox(String id) {
        return "<div class=\"check\"><input id=\"" + id + "\" name=\"resume\" type=\"checkbox\" value=\"true\" checked>"
                + "<label for=\"" + id + "\">Resume: skip contacts an earlier run of this campaign finished</label>"
                + "</div>";
    }

    static String csrfField(String csrf) {
        return "<input type=\"hidden\" name=\"csrf\" value=\"" + text(csrf) + "\">";
    }

    private static void flash(StringBuilder b, String done) {
        String message = done == null ? null : DONE.get(done);
        if (message != null) {
            b.append("<p class=\"notice\" role=\"status\">").append(text(message)).append("</p>\n");
        }
    }

    private static void term(StringBuilder b, String term, String html) {
        b.append("<dt>").append(text(term)).append("</dt><dd>").append(html).append("</dd>");
    }

    /** The state as text (colour only adds to it). */
    static String state(String state) {
        String css = state.replaceAll("[^A-Za-z]", "");
        return "<span class=\"state state-" + css + "\">" + text(state) + "</span>";
    }

    private static String progress(CampaignFigures f) {
        if (f.total() < 0 || f.remaining() < 0) {
            return "-";
        }
        return "<progress max=\"" + Math.max(1, f.total()) + "\" value=\"" + f.doneCount() + "\" aria-hidden=\"true\">"
                + "</progress> <span class=\"percent\">" + text(f.progress()) + "</span>";
    }

    static String name(JsonNode c) {
        return c.hasNonNull("id") ? c.get("id").asText() : c.path("campaign").asText("-");
    }


    static String num(JsonNode v) {
        return v == null || !v.isNumber() ? "-" : Long.toString(v.asLong());
    }

    private static String dec(JsonNode v) {
        return v == null || !v.isNumber() ? "-" : String.format(Locale.ROOT, "%.1f", v.asDouble());
    }

    static String size(long bytes) {
        if (bytes % (1L << 30) == 0) {
            return bytes / (1L << 30) + " GiB";
        }
        if (bytes % (1L << 20) == 0) {
            return bytes / (1L << 20) + " MiB";
        }
        return bytes % 1024 == 0 ? bytes / 1024 + " KiB" : bytes + " bytes";
    }

    private static String reason(int status) {
        return switch (status) {
            case 400 -> "Bad request";
            case 401 -> "Not logged in";
            case 403 -> "Forbidden";
            case 404 -> "Not found";
            case 409 -> "Conflict";
            case 413 -> "Too large";
            case 503 -> "Unavailable";
            default -> status >= 500 ? "Server error" : "Error";
        };
    }

    /**
     * The time left, as the progress line of {@code run} and {@code demo} tells it: the contacts not done and not
     * waiting for a follow-up at the pace contacts were done so far in this run, and at least until the last pending
     * follow-up is due. "0s" once the campaign has ended, "-" while it cannot be told (and while it is not running).
     */
    static String eta(JsonNode c, Instant now) {
        String state = c.path("state").asText("");
        if (FINAL_STATES.contains(state)) {
            return "0s";
        }
        if (!"RUNNING".equals(state)) {
            return "-"; // paused, starting or cancelling: no pace to tell it by
        }
        JsonNode remainingNode = c.get("remaining");
        JsonNode contacts = c.path("contacts");
        if (remainingNode == null || !remainingNode.isNumber() || remainingNode.asLong() < 0
                || !contacts.path("total").isNumber()) {
            return "-";
        }
        long remaining = remainingNode.asLong();
        double seconds = 0;
        String lastDue = c.path("followUps").path("lastDue").asText(null);
        if (lastDue != null) {
            try {
                seconds = Math.max(0, Duration.between(now, Instant.parse(lastDue)).toMillis() / 1000.0);
            } catch (java.time.format.DateTimeParseException e) {
                seconds = 0;
            }
        }
        long pending = c.path("followUps").path("pending").asLong(0);
        long notScheduled = Math.max(0, remaining - pending);
        long doneHere = contacts.path("total").asLong() - remaining - contacts.path("alreadyDone").asLong(0);
        double elapsed = c.path("durationSeconds").asDouble(0);
        if (notScheduled > 0) {
            if (doneHere <= 0 || elapsed < 1) {
                return "-";
            }
            seconds = Math.max(seconds, notScheduled / (doneHere / elapsed));
        }
        long s = Math.round(Math.ceil(seconds));
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
