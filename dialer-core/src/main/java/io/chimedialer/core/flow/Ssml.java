package io.chimedialer.core.flow;

/**
 * SSML for Speak's {@code TextType: ssml}: escaping of the values placed into it. Stateless.
 */
final class Ssml {

    private Ssml() {
    }

    /** Whether a text is SSML markup (it starts with {@code <}, after blanks) rather than plain text. */
    static boolean isMarkup(String text) {
        return text.stripLeading().startsWith("<");
    }

    /**
     * The text as SSML character data: {@code & < > " '} become entities, so a contact's value can neither break
     * the document nor add markup (quotes too, since a placeholder may sit in an attribute value); control
     * characters that XML does not allow become spaces.
     */
    static String escape(String text) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String replacement = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&quot;";
                case '\'' -> "&apos;";
                default -> c < 0x20 && c != '\t' && c != '\n' && c != '\r' ? " " : null;
            };
            if (replacement != null && sb == null) {
                sb = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            if (sb != null) {
                if (replacement != null) {
                    sb.append(replacement);
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? text : sb.toString();
    }

    /**
     * Plain text as an SSML document ({@code <speak>escaped text</speak>}) of at most {@code max} characters: the
     * text is cut at its end until the document fits.
     */
    static String wrap(String text, int max) {
        String t = text;
        while (true) {
            String doc = "<speak>" + escape(t) + "</speak>";
            int over = doc.length() - max;
            if (over <= 0 || t.isEmpty()) {
                return doc;
            }
            int end = Math.max(0, t.length() - over);
            if (end > 0 && Character.isHighSurrogate(t.charAt(end - 1))) {
                end--;
            }
            t = t.substring(0, end);
        }
    }
}
