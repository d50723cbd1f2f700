package io.chimedialer.app.console;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A streaming {@code multipart/form-data} parser (RFC 7578): fed the body chunk by chunk, it hands each text field
 * whole to its {@link Handler} and each file part's bytes as they arrive, holding no more than one chunk plus a
 * delimiter's length of a file in memory. Text fields are limited to {@link #MAX_FIELD_BYTES}, a part's headers to
 * {@link #MAX_HEADER_BYTES}, a form to {@link #MAX_PARTS} parts. Not thread-safe: feed it from one thread at a time.
 */
final class MultipartParser {
    static final int MAX_FIELD_BYTES = 8 * 1024;
    static final int MAX_HEADER_BYTES = 8 * 1024;
    static final int MAX_PARTS = 32;

    /** What the parser finds, in the order of the form. */
    interface Handler {
        /** A text field, complete. */
        void field(String name, String value);

        /** A file part begins. */
        void fileStart(String name, String filename);

        /** Bytes of the current file part ({@code data} is only valid during the call). */
        void fileData(byte[] data, int offset, int length);

        /** The current file part has ended. */
        void fileEnd();
    }

    /** The body is not a well-formed form, or passes a limit: the message says which. */
    static final class MalformedForm extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        MalformedForm(String message) {
            super(message);
        }
    }

    private enum State { PREAMBLE, AFTER_DELIMITER, HEADERS, BODY, DONE }

    private static final byte[] HEADERS_END = {'\r', '\n', '\r', '\n'};

    private final byte[] delimiter;
    private final Handler handler;
    private byte[] buf = new byte[16 * 1024];
    private int start;
    private int end;
    private State state = State.PREAMBLE;
    private int parts;
    /** The current part: its field name, and whether it is a file (else its value is gathered in {@code field}). */
    private String partName;
    private boolean partIsFile;
    private final ByteArrayOutputStream field = new ByteArrayOutputStream();

    MultipartParser(String boundary, Handler handler) {
        Objects.requireNonNull(boundary, "boundary");
        this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        this.handler = Objects.requireNonNull(handler, "handler");
        // The first delimiter may open the body without the CRLF that precedes every later one.
        append(new byte[]{'\r', '\n'}, 0, 2);
    }

    /**
     * The boundary of a {@code multipart/form-data} Content-Type, or null when the type is another or names none.
     */
    static String boundary(String contentType) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            return null;
        }
        String b = parameters(contentType).get("boundary");
        // RFC 2046: 1 to 70 characters.
        return b == null || b.isEmpty() || b.length() > 70 ? null : b;
    }

    /** Parses the next chunk of the body. */
    void feed(byte[] chunk) {
        append(chunk, 0, chunk.length);
        process();
    }

    /** The body has ended: fails unless the closing delimiter was seen. */
    void finish() {
        if (state != State.DONE) {
            throw new MalformedForm("the form ended before its closing boundary (an interrupted upload?)");
        }
    }

    private void process() {
        while (true) {
            switch (state) {
                case PREAMBLE -> {
                    int i = indexOf(delimiter);
                    if (i < 0) {
                        start = Math.max(start, end - (delimiter.length - 1));
                        return;
                    }
                    start = i + delimiter.length;
                    state = State.AFTER_DELIMITER;
                }
                case AFTER_DELIMITER -> {
                    if (end - start < 2) {
                        return;
                    }
                    if (buf[start] == '-' && buf[start + 1] == '-') {
                        state = State.DONE;
                    } else if (buf[start] == '\r' && buf[start + 1] == '\n') {
                        // The CRLF stays: it lets a part without headers end its (empty) header block like the others.
                        state = State.HEADERS;
                    } else {
                        throw new MalformedForm("the form's boundary is followed by neither a line break nor '--'");
                    }
                }
                case HEADERS -> {
                    int i = indexOf(HEADERS_END);
                    if (i < 0) {
                        if (end - start > MAX_HEADER_BYTES) {
                            throw new MalformedForm("a part's headers are longer than " + MAX_HEADER_BYTES + " bytes");
                        }
                        return;
                    }
                    String headers = new String(buf, start + 2, Math.max(0, i - start - 2), StandardCharsets.UTF_8);
                    start = i + HEADERS_END.length;
                    beginPart(headers);
                    state = State.BODY;
                }
                case BODY -> {
                    int i = indexOf(delimiter);
                    if (i < 0) {
                        int safe = end - (delimiter.length - 1);
                        if (safe > start) {
                            data(start, safe - start);
                            start = safe;
                        }
                        return;
                    }
                    data(start, i - start);
                    start = i + delimiter.length;
                    endPart();
                    state = State.AFTER_DELIMITER;
                }
                case DONE -> {
                    start = end; // the epilogue is ignored
                    return;
                }
                default -> throw new IllegalStateException(state.name());
            }
        }
    }

    private void beginPart(String headers) {
        if (++parts > MAX_PARTS) {
            throw new MalformedForm("the form has more than " + MAX_PARTS + " parts");
        }
        String disposition = null;
        for (String line : headers.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-disposition")) {
                disposition = line.substring(colon + 1).trim();
            }
        }
        if (disposition == null || !disposition.toLowerCase(Locale.ROOT).startsWith("form-data")) {
            throw new MalformedForm("a part of the form has no 'Content-Disposition: form-data' header");
        }
        Map<String, String> params = parameters(disposition);
        partName = params.get("name");
        if (partName == null) {
            throw new MalformedForm("a part of the form has no name");
        }
        String filename = params.get("filename");
        partIsFile = filename != null;
        field.reset();
        if (partIsFile) {
            handler.fileStart(partName, filename);
        }
    }

    private void data(int offset, int length) {
        if (length <= 0) {
            return;
        }
        if (partIsFile) {
            handler.fileData(buf, offset, length);
            return;
        }
        if (field.size() + length > MAX_FIELD_BYTES) {
            throw new MalformedForm("the form's field '" + partName + "' is longer than " + MAX_FIELD_BYTES + " bytes");
        }
        field.write(buf, offset, length);
    }

    private void endPart() {
        if (partIsFile) {
            handler.fileEnd();
        } else {
            handler.field(partName, field.toString(StandardCharsets.UTF_8));
        }
        partName = null;
    }

    private int indexOf(byte[] pattern) {
        int last = end - pattern.length;
        outer:
        for (int i = start; i <= last; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (buf[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private void append(byte[] data, int offset, int length) {
        if (end + length > buf.length) {
            int kept = end - start;
            if (kept + length > buf.length) {
                byte[] bigger = new byte[Math.max(buf.length * 2, kept + length)];
                System.arraycopy(buf, start, bigger, 0, kept);
                buf = bigger;
            } else {
                System.arraycopy(buf, start, buf, 0, kept);
            }
            start = 0;
            end = kept;
        }
        System.arraycopy(data, offset, buf, end, length);
        end += length;
    }

    /** The {@code ;}-separated parameters of a header value, names lower-cased, quoted values unquoted. */
    static Map<String, String> parameters(String value) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = value.indexOf(';');
        while (i >= 0 && i < value.length()) {
            int eq = value.indexOf('=', i + 1);
            if (eq < 0) {
                break;
            }
            String name = value.substring(i + 1, eq).trim().toLowerCase(Locale.ROOT);
            int j = eq + 1;
            StringBuilder v = new StringBuilder();
            if (j < value.length() && value.charAt(j) == '"') {
                j++;
                while (j < value.length() && value.charAt(j) != '"') {
                    char c = value.charAt(j);
                    if (c == '\\' && j + 1 < value.length()) {
                        c = value.charAt(++j);
                    }
                    v.append(c);
                    j++;
                }
                j = value.indexOf(';', j);
            } else {
                int semi = value.indexOf(';', j);
                v.append(value, j, semi < 0 ? value.length() : semi);
                j = semi;
            }
            out.putIfAbsent(name, v.toString().trim());
            i = j;
        }
        return out;
    }
}
