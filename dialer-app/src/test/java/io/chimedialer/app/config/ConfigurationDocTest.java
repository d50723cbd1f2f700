package io.chimedialer.app.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.flow.PollyVoices;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** docs/configuration.md states what the code checks. */
class ConfigurationDocTest {
    private static final Path DOC = Path.of("..", "docs", "configuration.md");

    @Test
    void pollyVoicesTable_listsExactlyTheVoicesOfPollyVoicesByLanguageAndEngine() throws IOException {
        Map<String, List<String>> documented = new TreeMap<>();
        String doc = Files.readString(DOC);
        int start = doc.indexOf("#### Polly voices");
        assertThat(start).as("section Polly voices").isNotNegative();
        String section = doc.substring(start, doc.indexOf("\n#### ", start + 1));
        for (String line : section.lines().toList()) {
            if (line.matches("\\| `[a-z]{2,3}(-[A-Z]{2}(-[A-Z]{3})?)?` \\|.*")) {
                List<String> cells = Arrays.stream(line.split("\\|")).map(String::strip).skip(1).toList();
                documented.put(cells.get(0).replace("`", ""), List.of(cells.get(1), cells.get(2)));
            }
        }
        Map<String, List<String>> expected = new TreeMap<>();
        TreeSet<String> languages = new TreeSet<>();
        PollyVoices.all().forEach(v -> {
            languages.add(v.languageCode());
            languages.addAll(v.otherLanguages());
        });
        for (String language : languages) {
            expected.put(language, List.of(cell(PollyVoices.voicesFor(language, PollyVoices.STANDARD)),
                    cell(PollyVoices.voicesFor(language, PollyVoices.NEURAL))));
        }

        assertThat(documented).isEqualTo(expected);
    }

    private static String cell(List<String> voices) {
        return voices.isEmpty() ? "—" : String.join(", ", voices);
    }
}
