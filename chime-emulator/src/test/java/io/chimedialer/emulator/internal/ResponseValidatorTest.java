package io.chimedialer.emulator.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ResponseValidatorTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static ResponseValidator.Parsed parse(String json) {
        return ResponseValidator.parse(MAPPER, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void parse_validResponse_returnsAttributesAndActions() {
        ResponseValidator.Parsed p = parse("{\"SchemaVersion\":\"1.0\",\"TransactionAttributes\":{\"a\":\"1\"},"
                + "\"Actions\":[{\"Type\":\"Pause\",\"Parameters\":{\"DurationInMilliseconds\":\"100\"}},{\"Type\":\"Hangup\"}]}");

        assertThat(p.invalid()).isFalse();
        assertThat(p.attributes()).containsExactly(java.util.Map.entry("a", "1"));
        assertThat(p.actions()).extracting(a -> a.get("Type").asText()).containsExactly("Pause", "Hangup");
    }

    @Test
    void parse_absentFields_keepTheStoredState() {
        ResponseValidator.Parsed p = parse("{\"SchemaVersion\":\"1.0\",\"Actions\":null}");

        assertThat(p.invalid()).isFalse();
        assertThat(p.attributes()).isNull();
        assertThat(p.actions()).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{}                                                                                  | InvalidSchemaVersion",
        "[]                                                                                  | InvalidLambdaResponse",
        "{\"SchemaVersion\":1.0}                                                             | InvalidSchemaVersion",
        "{\"SchemaVersion\":\"1.0\",\"Actions\":{}}                                          | InvalidLambdaResponse",
        "{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Parameters\":{}}]}                       | InvalidLambdaResponse",
        "{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"Speak\",\"Parameters\":[]}]}    | InvalidLambdaResponse",
        "{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"Dance\"}]}                  | UnsupportedAction",
        "{\"SchemaVersion\":\"1.0\",\"TransactionAttributes\":{\"a\":1}}                      | TransactionAttributesInvalidKeyOrValue",
        "{\"SchemaVersion\":\"1.0\",\"TransactionAttributes\":[]}                             | TransactionAttributesInvalidKeyOrValue"})
    void parse_invalidResponse_namesTheProblem(String json, String errorType) {
        ResponseValidator.Parsed p = parse(json);

        assertThat(p.invalid()).isTrue();
        assertThat(p.errorType()).isEqualTo(errorType);
        assertThat(p.errorMessage()).isNotBlank();
    }

    @Test
    void parse_wellFormedActionWithBadParameters_isReadable() {
        // Parameter errors are the action's (ACTION_FAILED when it runs), not the response's.
        ResponseValidator.Parsed p = parse("{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"PlayAudio\","
                + "\"Parameters\":{\"AudioSource\":{\"Type\":\"S3\",\"BucketName\":\"b\"}}},"
                + "{\"Type\":\"Speak\",\"Parameters\":{\"CallId\":\"c\",\"Text\":\"\"}}]}");

        assertThat(p.invalid()).isFalse();
        assertThat(p.actions()).extracting(a -> a.get("Type").asText()).containsExactly("PlayAudio", "Speak");
    }

    @Test
    void parse_tenActionsAndTenAttributes_areAccepted() {
        StringBuilder sb = new StringBuilder("{\"SchemaVersion\":\"1.0\",\"Actions\":[");
        for (int i = 0; i < 10; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"Type\":\"Hangup\"}");
        }
        sb.append("],\"TransactionAttributes\":{");
        for (int i = 0; i < 10; i++) {
            sb.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"").append("v".repeat(1024)).append('"');
        }
        ResponseValidator.Parsed p = parse(sb.append("}}").toString());

        assertThat(p.invalid()).isFalse();
        assertThat(p.actions()).hasSize(10);
        assertThat(p.attributes()).hasSize(10);
    }

    @Test
    void attributesLeniently_invalidOrEmptyBody_givesNull() {
        assertThat(ResponseValidator.attributesLeniently(MAPPER, new byte[0])).isNull();
        assertThat(ResponseValidator.attributesLeniently(MAPPER, "{\"SchemaVersion\":\"2.0\",\"TransactionAttributes\":{\"a\":\"1\"}}"
                .getBytes(StandardCharsets.UTF_8))).isNull();
    }
}
