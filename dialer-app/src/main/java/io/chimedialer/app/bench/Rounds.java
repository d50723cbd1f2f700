package io.chimedialer.app.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Interleaved rounds of a measured side and its ceiling (ceiling, measured, ceiling, measured, ...): each round
 * pairs a ceiling with the measured figure taken right after it, so that a swing of the machine's load moves both
 * sides of that round's ratio alike. The result is the median ratio of the rounds with its spread (min, max), and
 * every round is kept. Not thread-safe.
 */
final class Rounds {
    private final List<Round> rounds = new ArrayList<>();

    /**
     * One round.
     *
     * @param ceiling  the ceiling measured in this round
     * @param measured the measured figure of this round
     * @param detail   extra figures of this round (may be null)
     */
    record Round(double ceiling, double measured, ObjectNode detail) {
        /** measured / ceiling, or 0 when the ceiling is not positive. */
        double ratio() {
            return ceiling > 0 ? measured / ceiling : 0;
        }
    }

    /** Adds a round. */
    Rounds add(double ceiling, double measured, ObjectNode detail) {
        rounds.add(new Round(ceiling, measured, detail));
        return this;
    }

    /** The rounds so far, in order. */
    List<Round> rounds() {
        return List.copyOf(rounds);
    }

    int size() {
        return rounds.size();
    }

    double medianRatio() {
        return median(rounds.stream().mapToDouble(Round::ratio).toArray());
    }

    double minRatio() {
        return rounds.stream().mapToDouble(Round::ratio).min().orElse(0);
    }

    double maxRatio() {
        return rounds.stream().mapToDouble(Round::ratio).max().orElse(0);
    }

    double medianCeiling() {
        return median(rounds.stream().mapToDouble(Round::ceiling).toArray());
    }

    double medianMeasured() {
        return median(rounds.stream().mapToDouble(Round::measured).toArray());
    }

    /**
     * The median of some values (the mean of the two middle ones for an even count); 0 for none.
     */
    static double median(double[] values) {
        if (values.length == 0) {
            return 0;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /**
     * Writes the rounds into {@code o}: {@code measuredField} (median of the measured figures), {@code ceiling}
     * (median of the ceilings), {@code ratio} (median of the rounds' ratios), {@code ratioMin}, {@code ratioMax},
     * {@code roundsCount}, and {@code rounds}: one object per round with {@code round} (1-based),
     * {@code ceiling}, {@code measuredField}, {@code ratio} and the round's detail figures.
     */
    ObjectNode writeTo(ObjectNode o, String measuredField) {
        o.put(measuredField, medianMeasured());
        o.put("ceiling", medianCeiling());
        o.put("ratio", medianRatio());
        o.put("ratioMin", minRatio());
        o.put("ratioMax", maxRatio());
        o.put("roundsCount", rounds.size());
        ArrayNode array = o.putArray("rounds");
        for (int i = 0; i < rounds.size(); i++) {
            Round r = rounds.get(i);
            ObjectNode n = array.addObject();
            n.put("round", i + 1);
            n.put("ceiling", r.ceiling());
            n.put(measuredField, r.measured());
            n.put("ratio", r.ratio());
            if (r.detail() != null) {
                for (var e : r.detail().properties()) {
                    if (!n.has(e.getKey())) {
                        n.set(e.getKey(), e.getValue());
                    }
                }
            }
        }
        return o;
    }

    /** A new empty detail object for a round. */
    static ObjectNode detail() {
        return new ObjectMapper().createObjectNode();
    }

    /** "median 0.83 (0.79 to 0.90, 3 rounds)". */
    String describeRatio() {
        return String.format(Locale.ROOT, "median %.2f (%.2f to %.2f, %d rounds)", medianRatio(), minRatio(),
                maxRatio(), rounds.size());
    }
}
