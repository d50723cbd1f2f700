package io.chimedialer.app.monitoring;

import io.chimedialer.core.metrics.DialerMetrics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough PromQL reading for the monitoring tests: the metric names and label matchers an expression uses,
 * and the substitution of Grafana's variables. Not a parser: it relies on the expressions being valid, which
 * promtool and the real-Prometheus IT check.
 */
final class PromQl {
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
    private static final Pattern BRACES = Pattern.compile("\\{[^}]*\\}");
    private static final Pattern BRACKETS = Pattern.compile("\\[[^\\]]*\\]");
    private static final Pattern GROUPING = Pattern.compile(
            "\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern TOKEN = Pattern.compile("[0-9][0-9a-zA-Z_.]*|[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "by", "without", "on", "ignoring",
            "group_left", "group_right", "bool", "offset", "atan2", "inf", "nan", "start", "end");
    private static final Pattern SELECTOR = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{((?:[^}\"]|\"(?:[^\"\\\\]|\\\\.)*\")*)\\}");
    private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)");
    private static final Pattern LABEL_VALUES = Pattern.compile(
            "^\\s*label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*(\\{[^}]*\\})?\\s*,\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*\\)\\s*$");

    private PromQl() {
    }

    /** The metric names an expression selects, in order of appearance. */
    static Set<String> metricNames(String expr) {
        String rest = STRING.matcher(expr).replaceAll(" ");
        rest = BRACES.matcher(rest).replaceAll(" ");
        rest = BRACKETS.matcher(rest).replaceAll(" ");
        rest = GROUPING.matcher(rest).replaceAll(" ");
        Set<String> names = new LinkedHashSet<>();
        Matcher token = TOKEN.matcher(rest);
        while (token.find()) {
            String word = token.group();
            if (Character.isDigit(word.charAt(0)) || KEYWORDS.contains(word) || isCall(rest, token.end())) {
                continue;
            }
            names.add(word);
        }
        return names;
    }

    /** Label names used in the matchers of each selector: metric name to the labels matched on it. */
    static Map<String, Set<String>> matchedLabels(String expr) {
        Map<String, Set<String>> labels = new LinkedHashMap<>();
        Matcher selector = SELECTOR.matcher(expr);
        while (selector.find()) {
            Set<String> names = labels.computeIfAbsent(selector.group(1), k -> new LinkedHashSet<>());
            String inside = STRING.matcher(selector.group(2)).replaceAll("\"\"");
            Matcher matcher = MATCHER.matcher(inside);
            while (matcher.find()) {
                names.add(matcher.group(1));
            }
        }
        return labels;
    }

    /**
     * The metric and label of a Grafana {@code label_values(metric, label)} variable query.
     *
     * @return {metric, label}
     * @throws IllegalArgumentException when the query has another form
     */
    static List<String> labelValuesQuery(String query) {
        Matcher m = LABEL_VALUES.matcher(query);
        if (!m.matches()) {
            throw new IllegalArgumentException("not label_values(metric, label): " + query);
        }
        return List.of(m.group(1), m.group(3));
    }

    /**
     * Replaces Grafana's variables as Grafana would with every campaign and Region selected ({@code .*}) and the
     * given window for {@code $__rate_interval}, {@code $__interval} and {@code $__range}.
     */
    static String substituteGrafanaVariables(String expr, String window) {
        return expr.replace("$__rate_interval", window)
                .replace("$__interval", window)
                .replace("$__range", window)
                .replace("${campaign}", ".*").replace("$campaign", ".*")
                .replace("${region}", ".*").replace("$region", ".*");
    }

    /** Every series name the catalog documents: DialerMetrics' own and the library meters it lists. */
    static Set<String> catalogSeriesNames() {
        Set<String> names = new LinkedHashSet<>();
        for (DialerMetrics.Metric metric : DialerMetrics.Metric.values()) {
            names.addAll(metric.seriesNames());
        }
        for (DialerMetrics.ExternalMetric metric : DialerMetrics.ExternalMetric.values()) {
            names.addAll(metric.seriesNames());
        }
        return names;
    }

    /** The catalog's meter a series name belongs to, or null when it is not one of DialerMetrics' own. */
    static DialerMetrics.Metric ownMetric(String seriesName) {
        for (DialerMetrics.Metric metric : DialerMetrics.Metric.values()) {
            if (metric.seriesNames().contains(seriesName)) {
                return metric;
            }
        }
        return null;
    }

    static List<String> all(List<String> a, List<String> b) {
        List<String> both = new ArrayList<>(a);
        both.addAll(b);
        return both;
    }

    private static boolean isCall(String text, int end) {
        int i = end;
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        return i < text.length() && text.charAt(i) == '(';
    }
}
