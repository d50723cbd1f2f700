package io.chimedialer.app.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The streaming multipart parser, fed its body cut at every position. */
class MultipartParserTest {
    private static final String BOUNDARY = "----WebKitFormBoundaryX3b";

    private static final class Recorder implements MultipartParser.Handler {
        final List<String> events = new ArrayList<>();
        final ByteArrayOutputStream file = new ByteArrayOutputStream();

        @Override
        public void field(String name, String value) {
            events.add("field " + name + "=" + value);
        }

        @Override
        public void fileStart(String name, String filename) {
            events.add("file " + name + " " + filename);
        }

        @Override
        public void fileData(byte[] data, int offset, int length) {
            file.write(data, offset, length);
        }

        @Override
        public void fileEnd() {
            events.add("end " + file.size());
        }
    }

    private static byte[] body(String fileContent) {
        return ("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n"
                + "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"campaign\"\r\n\r\nal\"pha\r\n"
                + "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"contacts\"; filename=\"a b.csv\"\r\n"
                + "Content-Type: text/csv\r\n\r\n" + fileContent + "\r\n--" + BOUNDARY + "--\r\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void feed_cutAtEveryPosition_sameFieldsAndFileBytes() {
        // The file holds a line that starts like the delimiter but is not one.
        String content = "id,phone\r\nc1,+13125550100\r\n--" + BOUNDARY.substring(0, 10) + "\r\n\r\n-\r\n";
        byte[] body = body(content);
        for (int cut = 0; cut <= body.length; cut++) {
            Recorder r = new Recorder();
            MultipartParser parser = new MultipartParser(BOUNDARY, r);
            parser.feed(java.util.Arrays.copyOfRange(body, 0, cut));
            parser.feed(java.util.Arrays.copyOfRange(body, cut, body.length));
            parser.finish();
            assertThat(r.events).as("cut at %d", cut).containsExactly("field csrf=tok", "field campaign=al\"pha",
                    "file contacts a b.csv", "end " + content.length());
            assertThat(r.file.toString(StandardCharsets.UTF_8)).as("cut at %d", cut).isEqualTo(content);
        }
    }

    @Test
    void feed_oneByteAtATime_sameResult() {
        byte[] body = body("x".repeat(100_000));
        Recorder r = new Recorder();
        MultipartParser parser = new MultipartParser(BOUNDARY, r);
        for (byte b : body) {
            parser.feed(new byte[]{b});
        }
        parser.finish();
        assertThat(r.file.size()).isEqualTo(100_000);
    }

    @Test
    void finish_bodyCutShort_fails() {
        byte[] body = body("id,phone\n");
        MultipartParser parser = new MultipartParser(BOUNDARY, new Recorder());
        parser.feed(java.util.Arrays.copyOf(body, body.length - 10));
        assertThatThrownBy(parser::finish).isInstanceOf(MultipartParser.MalformedForm.class)
                .hasMessageContaining("ended before its closing boundary");
    }

    @Test
    void feed_fieldOverTheLimit_fails() {
        byte[] body = ("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"campaign\"\r\n\r\n"
                + "a".repeat(MultipartParser.MAX_FIELD_BYTES + 1) + "\r\n--" + BOUNDARY + "--\r\n")
                .getBytes(StandardCharsets.UTF_8);
        MultipartParser parser = new MultipartParser(BOUNDARY, new Recorder());
        assertThatThrownBy(() -> parser.feed(body)).isInstanceOf(MultipartParser.MalformedForm.class)
                .hasMessage("the form's field 'campaign' is longer than 8192 bytes");
    }

    @Test
    void boundary_ofContentTypes() {
        assertThat(MultipartParser.boundary("multipart/form-data; boundary=" + BOUNDARY)).isEqualTo(BOUNDARY);
        assertThat(MultipartParser.boundary("multipart/form-data; charset=utf-8; boundary=\"a b\"")).isEqualTo("a b");
        assertThat(MultipartParser.boundary("application/x-www-form-urlencoded")).isNull();
        assertThat(MultipartParser.boundary("multipart/form-data")).isNull();
        assertThat(MultipartParser.boundary(null)).isNull();
    }
}
