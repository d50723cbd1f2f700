package io.chimedialer.app.console;

/**
 * HTML escaping for the console's pages. Every value that did not come from this class's caller as a literal
 * (campaign names, error messages, Region names, anything from the control API) goes through {@link #text}
 * before it reaches a page; attribute values are always quoted with {@code "}.
 */
final class Html {
    private Html() {
    }

    /**
     * The value escaped for an element's text or a double-quoted attribute: {@code & < > " '} become entities.
     * {@code null} becomes the empty string.
     */
    static String text(Object value) {
        if (value == null) {
            return "";
        }
        String s = value.toString();
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String entity = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> null;
            };
            if (entity == null) {
                if (out != null) {
                    out.append(c);
                }
                continue;
            }
            if (out == null) {
                out = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            out.append(entity);
        }
        return out == null ? s : out.toString();
    }

    /** A path segment percent-encoded (UTF-8), for links to a campaign whose name holds any character. */
    static String segment(String value) {
        return java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }
}
