package io.chimedialer.core.contacts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Lists as spreadsheets save them: UTF-8 with or without a BOM, UTF-16, Windows-1252; and their headers. */
class ListReaderTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Test
    void windows1252_withoutBom_readAsWindows1252_fromTheFirstNonUtf8Byte() throws IOException {
        byte[] bytes = "id,phone,name\n1,+12125550101,Jos\u00e9 \u20ac\n".getBytes(ListReader.WINDOWS_1252);

        ListReader reader = ListReader.of(new ByteArrayInputStream(bytes));
        assertThat(read(reader)).isEqualTo("id,phone,name\n1,+12125550101,Jos\u00e9 \u20ac\n");
        assertThat(reader.encoding()).isEqualTo("windows-1252");
    }

    @Test
    void windows1252_afterMoreThanABufferOfAscii_stillRecognised() throws IOException {
        StringBuilder text = new StringBuilder("id,phone,name\n");
        for (int i = 0; i < 2_000; i++) {
            text.append(i).append(",+1212555").append(String.format("%04d", i)).append(",Ann\n");
        }
        text.append("x,+12125559999,Ren\u00e9e\n");

        String read = read(ListReader.of(new ByteArrayInputStream(text.toString().getBytes(ListReader.WINDOWS_1252))));

        assertThat(read).isEqualTo(text.toString());
    }

    @Test
    void utf8_withAndWithoutBom_utf16WithBom() throws IOException {
        String text = "id,phone,name\n1,+12125550101,Zo\u00eb \u00c5sa\n";
        byte[] bom8 = concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, text.getBytes(StandardCharsets.UTF_8));
        byte[] le = concat(new byte[] {(byte) 0xFF, (byte) 0xFE}, text.getBytes(StandardCharsets.UTF_16LE));
        byte[] be = concat(new byte[] {(byte) 0xFE, (byte) 0xFF}, text.getBytes(StandardCharsets.UTF_16BE));

        assertThat(read(ListReader.of(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))))).isEqualTo(text);
        assertThat(read(ListReader.of(new ByteArrayInputStream(bom8)))).isEqualTo(text);
        assertThat(read(ListReader.of(new ByteArrayInputStream(le)))).isEqualTo(text);
        assertThat(read(ListReader.of(new ByteArrayInputStream(be)))).isEqualTo(text);
    }

    @Test
    void utf8ThenANonUtf8Byte_failsNamingItsLine() {
        byte[] bytes = concat("id,phone,name\n1,+12125550101,Zo\u00eb\n2,+12125550102,Ann\n3,+12125550103,Jos"
                .getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xE9, '\n'});

        assertThatThrownBy(() -> read(ListReader.of(new ByteArrayInputStream(bytes))))
                .isInstanceOf(ListReader.EncodingException.class)
                .hasMessageStartingWith("line 4 is not valid UTF-8 text (byte 0xE9)")
                .satisfies(e -> assertThat(((ListReader.EncodingException) e).line()).isEqualTo(4));
    }

    @Test
    void contactSource_windows1252List_rowsRead_mixedList_errorNamesTheLine() {
        byte[] cp1252 = "id,phone,name\n1,+12125550101,Jos\u00e9\n".getBytes(ListReader.WINDOWS_1252);
        List<ContactRow> rows = ContactSource.csv(() -> ListReader.of(new ByteArrayInputStream(cp1252)), "w.csv",
                CsvOptions.defaults()).collectList().block(TIMEOUT);
        assertThat(rows).singleElement().isInstanceOfSatisfying(ContactRow.Valid.class,
                v -> assertThat(v.contact().name()).isEqualTo("Jos\u00e9"));

        byte[] mixed = concat("id,phone,name\n1,+12125550101,Zo\u00eb\n2,+12125550102,Jos"
                .getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xE9, '\n'});
        assertThatThrownBy(() -> ContactSource.csv(() -> ListReader.of(new ByteArrayInputStream(mixed)), "m.csv",
                CsvOptions.defaults()).collectList().block(TIMEOUT))
                .isInstanceOfSatisfying(ContactSourceException.class, e -> {
                    assertThat(e.line()).isEqualTo(3);
                    assertThat(e.reason()).startsWith("line 3 is not valid UTF-8 text");
                });
    }

    @Test
    void header_commonPhoneNames_accepted() {
        for (String header : List.of("Phone Number", "phone_number", "PhoneNumber", "Mobile", "Mobile Phone",
                "cell", "Cell-Phone", "Telephone")) {
            List<ContactRow> rows = ContactSource.csv(() -> new java.io.StringReader("Name," + header
                    + "\nAnn,+12125550101\n"), "h.csv", CsvOptions.defaults()).collectList().block(TIMEOUT);
            assertThat(rows).as(header).singleElement().isInstanceOf(ContactRow.Valid.class);
        }
    }

    @Test
    void header_separatedBySemicolonsOrTabs_errorSuggestsTheSeparator() {
        assertThatThrownBy(() -> ContactSource.csv(() -> new java.io.StringReader("id;Phone Number;name\n1;+1212;A\n"),
                "s.csv", CsvOptions.defaults()).collectList().block(TIMEOUT))
                .isInstanceOfSatisfying(ContactSourceException.class, e -> assertThat(e.reason())
                        .contains("the header seems separated by semicolons (';'), not ','"));
        assertThatThrownBy(() -> ContactSource.csv(() -> new java.io.StringReader("id\tphone\n1\t+1212\n"),
                "t.csv", CsvOptions.defaults()).collectList().block(TIMEOUT))
                .isInstanceOfSatisfying(ContactSourceException.class, e -> assertThat(e.reason())
                        .contains("the header seems separated by tabs"));
    }

    private static String read(Reader reader) throws IOException {
        try (reader) {
            StringWriter out = new StringWriter();
            char[] buffer = new char[1000]; // smaller than the reader's: reads end mid-buffer
            int n;
            while ((n = reader.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
            return out.toString();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
