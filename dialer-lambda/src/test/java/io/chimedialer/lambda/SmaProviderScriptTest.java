package io.chimedialer.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs the template's inline SIP media application provider (Python) against a stand-in boto3 and a
 * local ResponseURL: every CloudFormation request type answers SUCCESS or FAILED with the right
 * physical id, and never leaves CloudFormation waiting. Needs {@code python3} on the PATH.
 */
class SmaProviderScriptTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROPS = "{\"ServiceToken\":\"arn:token\",\"AwsRegion\":\"us-east-1\","
            + "\"Name\":\"chime-dialer\",\"Endpoints\":[{\"LambdaArn\":\"arn:aws:lambda:us-east-1:1:function:f\"}]}";

    private static String inlineCode;

    @TempDir
    Path dir;

    @BeforeAll
    static void readCode() throws IOException {
        JsonNode template = new ObjectMapper(new YAMLFactory()).readTree(DeployTemplateTest.TEMPLATE.toFile());
        inlineCode = template.path("Resources").path("SipMediaApplicationProvider").path("Properties")
                .path("InlineCode").asText();
    }

    private List<JsonNode> run(String... events) throws Exception {
        assumeTrue(python3Available(), "python3 is not on the PATH");
        Files.writeString(dir.resolve("index.py"), inlineCode);
        Files.createDirectories(dir.resolve("boto3"));
        copy("sma-provider/boto3/__init__.py", dir.resolve("boto3").resolve("__init__.py"));
        copy("sma-provider/run_events.py", dir.resolve("run_events.py"));
        Process python = new ProcessBuilder("python3", "run_events.py").directory(dir.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            python.getOutputStream().write(String.join("\n", events).getBytes(StandardCharsets.UTF_8));
            python.getOutputStream().close();
            assertThat(python.waitFor(60, TimeUnit.SECONDS)).as("python3 finished").isTrue();
            List<JsonNode> results = new ArrayList<>();
            for (String line : new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    results.add(JSON.readTree(line));
                }
            }
            assertThat(python.exitValue()).isZero();
            return results;
        } finally {
            python.destroyForcibly();
        }
    }

    private static boolean python3Available() {
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void copy(String resource, Path target) throws IOException {
        try (InputStream in = SmaProviderScriptTest.class.getClassLoader().getResourceAsStream(resource)) {
            assertThat(in).as(resource).isNotNull();
            Files.copy(in, target);
        }
    }

    private static String event(String type, String props, String physicalId, String oldProps) {
        return "{\"RequestType\":\"" + type + "\",\"RequestId\":\"req-" + type + "\",\"ResourceProperties\":" + props
                + (physicalId == null ? "" : ",\"PhysicalResourceId\":\"" + physicalId + "\"")
                + (oldProps == null ? "" : ",\"OldResourceProperties\":" + oldProps) + "}";
    }

    @Test
    void create_makesTheSmaInTheRegionAndReturnsItsId() throws Exception {
        JsonNode result = run(event("Create", PROPS, null, null)).get(0);

        assertThat(result.at("/response/Status").asText()).isEqualTo("SUCCESS");
        assertThat(result.at("/response/PhysicalResourceId").asText()).isEqualTo("new-sma-us-east-1");
        assertThat(result.at("/response/Data/SipMediaApplicationId").asText()).isEqualTo("new-sma-us-east-1");
        assertThat(result.at("/response/RequestId").asText()).isEqualTo("req-Create");
        assertThat(result.at("/calls")).hasSize(1);
        assertThat(result.at("/calls/0/op").asText()).isEqualTo("create");
        assertThat(result.at("/calls/0/args")).isEqualTo(JSON.readTree("{\"AwsRegion\":\"us-east-1\","
                + "\"Name\":\"chime-dialer\",\"Endpoints\":[{\"LambdaArn\":\"arn:aws:lambda:us-east-1:1:function:f\"}]}"));
    }

    @Test
    void update_sameRegion_updatesInPlace_otherRegion_createsANewOne() throws Exception {
        String renamed = PROPS.replace("chime-dialer", "dialer-2");
        String moved = PROPS.replace("us-east-1\",\"Name", "us-west-2\",\"Name");

        List<JsonNode> results = run(event("Update", renamed, "sma-1", PROPS), event("Update", moved, "sma-1", PROPS));

        assertThat(results.get(0).at("/calls/0/op").asText()).isEqualTo("update");
        assertThat(results.get(0).at("/calls/0/args/SipMediaApplicationId").asText()).isEqualTo("sma-1");
        assertThat(results.get(0).at("/response/PhysicalResourceId").asText()).isEqualTo("sma-1");
        assertThat(results.get(1).at("/calls/0/op").asText()).isEqualTo("create");
        assertThat(results.get(1).at("/calls/0/region").asText()).isEqualTo("us-west-2");
        assertThat(results.get(1).at("/response/PhysicalResourceId").asText()).isEqualTo("new-sma-us-west-2");
    }

    @Test
    void delete_existingOrAlreadyGone_succeeds() throws Exception {
        List<JsonNode> results = run(event("Delete", PROPS, "sma-1", null), event("Delete", PROPS, "gone", null));

        assertThat(results).allSatisfy(r -> assertThat(r.at("/response/Status").asText()).isEqualTo("SUCCESS"));
        assertThat(results.get(0).at("/calls/0/op").asText()).isEqualTo("delete");
        assertThat(results.get(0).at("/calls/0/args/SipMediaApplicationId").asText()).isEqualTo("sma-1");
        assertThat(results.get(1).at("/response/PhysicalResourceId").asText()).isEqualTo("gone");
    }

    @Test
    void failedCreate_reportsFailedAndItsDeleteTouchesNothing() throws Exception {
        List<JsonNode> results = run(event("Create", PROPS.replace("chime-dialer", "boom"), null, null),
                event("Delete", PROPS, "sma:req-Create", null));

        assertThat(results.get(0).at("/response/Status").asText()).isEqualTo("FAILED");
        assertThat(results.get(0).at("/response/Reason").asText()).contains("bad name");
        assertThat(results.get(0).at("/response/PhysicalResourceId").asText()).isEqualTo("sma:req-Create");
        assertThat(results.get(1).at("/response/Status").asText()).isEqualTo("SUCCESS");
        assertThat(results.get(1).at("/calls")).isEmpty();
    }

    @Test
    void missingProperty_reportsFailedInsteadOfHanging() throws Exception {
        JsonNode result = run(event("Create", "{\"Name\":\"x\"}", null, null)).get(0);

        assertThat(result.at("/response/Status").asText()).isEqualTo("FAILED");
        assertThat(result.at("/response/Reason").asText()).contains("AwsRegion");
    }
}
