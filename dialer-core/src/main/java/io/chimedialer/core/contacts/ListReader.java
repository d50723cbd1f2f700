package io.chimedialer.core.contacts;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a contact or DNC list file as text, whatever a spreadsheet saved it as: a byte order mark picks UTF-8,
 * UTF-16LE or UTF-16BE (and is dropped); without one the bytes are read as UTF-8 and, when a byte turns out not to
 * be UTF-8 before any non-ASCII UTF-8 character was seen, as Windows-1252 from there on (the usual "CSV" export of
 * Excel; ASCII reads the same in both, so nothing read before changes). A file that mixes both, where UTF-8
 * characters come before the bad byte, fails with a {@link EncodingException} naming the line. Streams: memory does
 * not grow with the file. Not thread-safe.
 */
public final class ListReader extends Reader {
    /** Windows-1252, what Excel on Windows writes for "CSV". */
    public static final Charset WINDOWS_1252 = Charset.forName("windows-1252");

    /** A list whose bytes are not text in the encoding it is read with, with the line they are on. */
    public static final class EncodingException extends IOException {
        private static final long serialVersionUID = 1L;
        private final long line;

        EncodingException(long line, String message) {
            super(message);
            this.line = line;
        }

        /** The 1-based line of the first byte that could not be read. */
        public long line() {
            return line;
        }
    }

    private final InputStream in;
    private final ByteBuffer bytes = ByteBuffer.allocate(8192);
    private CharsetDecoder decoder;
    private boolean detecting;
    private boolean sawNonAscii;
    private boolean eof;
    private boolean finished;
    private long line = 1;
    private String charsetName;

    private ListReader(InputStream in, Charset charset, boolean detecting) {
        this.in = in;
        this.detecting = detecting;
        use(charset);
        bytes.flip();
    }

    /**
     * Opens a list file, its encoding told by its byte order mark, or UTF-8 falling back to Windows-1252.
     *
     * @throws IOException when the file cannot be opened
     */
    public static ListReader open(Path file) throws IOException {
        return of(Files.newInputStream(file));
    }

    /** As {@link #open(Path)}, for a stream (closed with the reader). */
    public static ListReader of(InputStream stream) throws IOException {
        InputStream in = new java.io.BufferedInputStream(stream, 8192);
        in.mark(3);
        int b0 = in.read();
        int b1 = in.read();
        int b2 = in.read();
        if (b0 == 0xEF && b1 == 0xBB && b2 == 0xBF) {
            return new ListReader(in, StandardCharsets.UTF_8, false);
        }
        in.reset();
        if (b0 == 0xFF && b1 == 0xFE) {
            in.skip(2);
            return new ListReader(in, StandardCharsets.UTF_16LE, false);
        }
        if (b0 == 0xFE && b1 == 0xFF) {
            in.skip(2);
            return new ListReader(in, StandardCharsets.UTF_16BE, false);
        }
        return new ListReader(in, StandardCharsets.UTF_8, true);
    }

    /** The encoding the list is read with so far (UTF-8 until a fallback to Windows-1252). */
    public String encoding() {
        return charsetName;
    }

    private void use(Charset charset) {
        charsetName = charset.name();
        // Windows-1252 leaves five bytes undefined: they read as U+FFFD rather than stop the list.
        CodingErrorAction action = charset.equals(WINDOWS_1252) ? CodingErrorAction.REPLACE : CodingErrorAction.REPORT;
        decoder = charset.newDecoder().onMalformedInput(action).onUnmappableCharacter(action);
    }

    @Override
    public int read(char[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        if (finished) {
            return -1;
        }
        CharBuffer out = CharBuffer.wrap(buffer, offset, length);
        boolean needMore = false;
        while (out.position() == offset) {
            if (!eof && (needMore || bytes.remaining() < 16)) {
                fill();
                needMore = false;
            }
            int before = out.position();
            CoderResult result = decoder.decode(bytes, out, eof);
            count(buffer, before, out.position());
            if (result.isError()) {
                if (out.position() > offset) {
                    break; // hand over what was decoded; the bad byte comes again on the next read
                }
                if (detecting && !sawNonAscii) {
                    // Not UTF-8, and nothing but ASCII so far: the rest is Windows-1252.
                    use(WINDOWS_1252);
                    detecting = false;
                    continue;
                }
                fail();
            }
            if (eof && !bytes.hasRemaining()) {
                if (out.position() == offset) {
                    decoder.flush(out);
                    finished = true;
                }
                break;
            }
            if (result.isUnderflow() && out.position() == offset) {
                needMore = true;
            }
        }
        int n = out.position() - offset;
        return n == 0 && finished ? -1 : n;
    }

    private void count(char[] buffer, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = buffer[i];
            if (c == '\n') {
                line++;
            } else if (c > 0x7F) {
                sawNonAscii = true;
            }
        }
    }

    private void fail() throws EncodingException {
        throw new EncodingException(line, "line " + line + " is not valid " + charsetName + " text (byte 0x"
                + String.format("%02X", bytes.get(bytes.position()) & 0xFF) + ") although earlier lines were: save "
                + "the list in one encoding, UTF-8 (or Windows-1252)");
    }

    private void fill() throws IOException {
        bytes.compact();
        try {
            int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
            if (n < 0) {
                eof = true;
            } else {
                bytes.position(bytes.position() + n);
            }
        } finally {
            bytes.flip();
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
