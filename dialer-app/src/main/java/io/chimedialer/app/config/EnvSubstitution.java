package io.chimedialer.app.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${NAME}} and {@code ${NAME:-default}} in a YAML text before it is parsed; {@code $${} writes
 * a literal {@code ${}. Comments are left alone. Values that YAML would misread (a {@code #}, {@code ": "},
 * quotes...) are quoted when the reference is a whole scalar, and escaped inside quoted strings, so a secret
 * containing them arrives intact. Each replacement is recorded with its line and column so that the loader
 * can name the key it belongs to.
 */
final class EnvSubstitution {
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern SAFE_PLAIN = Pattern.compile("[A-Za-z0-9._/+=~-][A-Za-z0-9._/+=~?&%:@-]*");

    /** Where a replacement value came from. */
    enum Source { ENV, DEFAULT, MISSING }

    /**
     * One {@code ${...}} reference.
     *
     * @param line        1-based line
     * @param column      1-based column in the substituted text where the value starts
     * @param name        the variable's name (empty when malformed)
     * @param source      where the value came from
     * @param emptyValue  true when the value substituted was empty
     * @param problem     a syntax problem with the reference, or null
     */
    record Ref(int line, int column, String name, Source source, boolean emptyValue, String problem) {
    }

    /** The substituted text and every reference in it. */
    record Result(String text, List<Ref> refs) {
    }

    private EnvSubstitution() {
    }

    static Result apply(String text, Map<String, String> env) {
        List<Ref> refs = new ArrayList<>();
        StringBuilder out = new StringBuilder(text.length());
        String[] lines = text.split("\n", -1);
        for (int li = 0; li < lines.length; li++) {
            if (li > 0) {
                out.append('\n');
            }
            substituteLine(lines[li], li + 1, env, out, refs);
        }
        return new Result(out.toString(), List.copyOf(refs));
    }

    private static void substituteLine(String line, int lineNr, Map<String, String> env, StringBuilder out,
                                       List<Ref> refs) {
        int lineStart = out.length();
        char quote = 0;
        int i = 0;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (quote == 0 && c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                out.append(line, i, line.length());
                return;
            }
            if (c == '$' && line.startsWith("$${", i)) {
                out.append("${");
                i += 3;
                continue;
            }
            if (c == '$' && line.startsWith("${", i)) {
                int close = line.indexOf('}', i + 2);
                int column = out.length() - lineStart + 1;
                if (close < 0) {
                    refs.add(new Ref(lineNr, column, "", Source.MISSING, true, "unclosed '${' (write $${ for a literal ${)"));
                    out.append(line, i, line.length());
                    return;
                }
                String body = line.substring(i + 2, close);
                int sep = body.indexOf(":-");
                String name = sep < 0 ? body : body.substring(0, sep);
                String def = sep < 0 ? null : body.substring(sep + 2);
                String value;
                Source source;
                String problem = null;
                if (!NAME.matcher(name).matches()) {
                    value = "";
                    source = Source.MISSING;
                    problem = "'${" + body + "}' is not a variable reference (use ${NAME} or ${NAME:-default})";
                } else if (env.get(name) != null) {
                    value = env.get(name);
                    source = Source.ENV;
                } else if (def != null) {
                    value = def;
                    source = Source.DEFAULT;
                } else {
                    value = "";
                    source = Source.MISSING;
                    problem = "environment variable " + name + " is not set (and ${" + name + "} has no :-default)";
                }
                boolean whole = quote == 0 && startsScalar(line, i) && endsScalar(line, close + 1);
                refs.add(new Ref(lineNr, column, name, source, value.isEmpty(), problem));
                out.append(encode(value, quote, whole));
                i = close + 1;
                continue;
            }
            if (quote == 0 && (c == '"' || c == '\'') && (i == 0 || startsScalar(line, i))) {
                quote = c;
            } else if (quote == '"' && c == '\\' && i + 1 < line.length()) {
                out.append(c).append(line.charAt(i + 1));
                i += 2;
                continue;
            } else if (quote != 0 && c == quote) {
                if (quote == '\'' && i + 1 < line.length() && line.charAt(i + 1) == '\'') {
                    out.append("''");
                    i += 2;
                    continue;
                }
                quote = 0;
            }
            out.append(c);
            i++;
        }
    }

    private static boolean startsScalar(String line, int at) {
        int j = at - 1;
        while (j >= 0 && line.charAt(j) == ' ') {
            j--;
        }
        if (j < 0) {
            return true;
        }
        char p = line.charAt(j);
        if (p == '[' || p == '{' || p == ',') {
            return true;
        }
        // "key: value", "- item", "? key": the indicator needs a space after it
        return (p == ':' || p == '-' || p == '?') && j < at - 1;
    }

    private static boolean endsScalar(String line, int at) {
        int j = at;
        while (j < line.length() && line.charAt(j) == ' ') {
            j++;
        }
        return j == line.length() || line.charAt(j) == ',' || line.charAt(j) == ']' || line.charAt(j) == '}'
                || line.charAt(j) == '#' && j > at;
    }

    private static String encode(String value, char quote, boolean wholeScalar) {
        if (quote == '"') {
            return escapeDouble(value);
        }
        if (quote == '\'') {
            return value.replace("'", "''");
        }
        if (wholeScalar && !value.isEmpty() && !SAFE_PLAIN.matcher(value).matches() || value.endsWith(":") && wholeScalar) {
            return '"' + escapeDouble(value) + '"';
        }
        return value;
    }

    private static String escapeDouble(String value) {
        StringBuilder sb = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
