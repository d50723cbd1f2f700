package io.chimedialer.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code server.max-upload-size}: the largest contact list the control API takes as an upload. */
class MaxUploadSizeTest {
    @TempDir
    Path dir;

    @Test
    void byteSize_unitsAndBytes() {
        assertThat(ConfigLoader.byteSize("1GiB")).isEqualTo(1L << 30);
        assertThat(ConfigLoader.byteSize("500 MB")).isEqualTo(500_000_000L);
        assertThat(ConfigLoader.byteSize("256kib")).isEqualTo(256 * 1024L);
        assertThat(ConfigLoader.byteSize("1048576")).isEqualTo(1L << 20);
        assertThatThrownBy(() -> ConfigLoader.byteSize("lots")).hasMessage(
                "not a size: 'lots' (use e.g. 1GiB, 500MB, 256KiB or bytes)");
        assertThatThrownBy(() -> ConfigLoader.byteSize("0")).hasMessage("must be at least 1 byte, was '0'");
    }

    @Test
    void config_defaultOneGiB_setValueRead_badValueNamesTheKey() throws Exception {
        Path plain = write("plain.yaml", "server: { port: 8080 }\n");
        Path set = write("set.yaml", "server: { max-upload-size: 2GiB }\n");
        Path bad = write("bad.yaml", "server: { max-upload-size: huge }\n");

        assertThat(ConfigLoader.load(plain, Map.of()).server().maxUploadSize()).isEqualTo(1L << 30);
        assertThat(ConfigLoader.load(set, Map.of()).server().maxUploadSize()).isEqualTo(2L << 30);
        assertThatThrownBy(() -> ConfigLoader.load(bad, Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("server.max-upload-size").hasMessageContaining("not a size: 'huge'");
    }

    private Path write(String name, String yaml) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, yaml + """
                regions:
                  us-east-1:
                    sip-media-application-id: 5b2b8d5e-0000-4000-8000-00000000e001
                    calls-per-second: 1
                    from-numbers: ["+12065550100"]
                """, StandardCharsets.UTF_8);
        return f;
    }
}
