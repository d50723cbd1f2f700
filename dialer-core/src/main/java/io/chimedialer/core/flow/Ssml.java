package io.chimedialer.core.flow;

import java.io.IOException;
import java.io.StringReader;
import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.Attributes;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * SSML for Speak's {@code TextType: ssml}: the check of a configured text and the escaping of the values placed into
 * it. Stateless and thread-safe.
 */
final class Ssml {

    /** The root element Polly requires. */
    static final String ROOT = "speak";

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

    /**
     * What is wrong with a configured text for this {@code TextType}, or null. As {@code ssml}, markup must be a
     * well-formed document whose root element is {@code <speak>}; as {@code text}, a text that starts with
     * {@code <speak} is flagged, since Polly would read its markup aloud.
     */
    static String problem(String text, String textType) {
        if ("text".equals(textType)) {
            return text.stripLeading().startsWith("<" + ROOT) ? "looks like SSML (it starts with <speak>) but"
                    + " flow.voice.text-type is text, so the markup would be read aloud; set text-type: ssml" : null;
        }
        if (!isMarkup(text)) {
            return null; // plain text: escaped and wrapped in <speak> when spoken
        }
        return wellFormedProblem(text);
    }

    /**
     * Parses the text with a parser that reads no DTD and resolves no external entity (a DOCTYPE is an error), and
     * without namespaces, since Polly accepts {@code <amazon:effect>} without declaring its prefix. {@code {column}}
     * placeholders are plain character data here.
     */
    private static String wellFormedProblem(String text) {
        String[] root = new String[1];
        try {
            SAXParser parser = parserFactory().newSAXParser();
            parser.parse(new InputSource(new StringReader(text)), new DefaultHandler() {
                @Override
                public void startElement(String uri, String localName, String qName, Attributes attributes) {
                    if (root[0] == null) {
                        root[0] = qName;
                    }
                }
            });
        } catch (SAXParseException e) {
            return "not well-formed SSML (line " + e.getLineNumber() + ", column " + e.getColumnNumber() + "): "
                    + e.getMessage();
        } catch (SAXException | IOException e) {
            return "not well-formed SSML: " + e.getMessage();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks a security feature", e);
        }
        return ROOT.equals(root[0]) ? null : "SSML must have <speak> as its root element, was <" + root[0] + ">";
    }

    private static SAXParserFactory parserFactory() throws ParserConfigurationException, SAXException {
        SAXParserFactory factory = SAXParserFactory.newInstance();
        factory.setNamespaceAware(false);
        factory.setValidating(false);
        factory.setXIncludeAware(false);
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        factory.setFeature("http://xml.org/sax/features/external-general-entities", false);
        factory.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return factory;
    }
}
