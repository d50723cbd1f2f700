package io.chimedialer.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/deploy-aws.md stays in step with the template, the policy and the code. */
class DeployDocsTest {

    static final Path DOC = Path.of("..", "docs", "deploy-aws.md");
    static final Path README = Path.of("..", "README.md");

    private static String doc;

    @BeforeAll
    static void read() throws IOException {
        doc = Files.readString(DOC, StandardCharsets.UTF_8);
    }

    @Test
    void doc_namesEveryTemplateParameterResourceAndEnvironmentVariable() throws IOException {
        JsonNode template = new ObjectMapper(new YAMLFactory()).readTree(DeployTemplateTest.TEMPLATE.toFile());

        template.path("Parameters").fieldNames().forEachRemaining(name -> assertThat(doc).contains("`" + name + "`"));
        template.path("Resources").properties().forEach(resource -> assertThat(doc)
                .contains("| `" + resource.getKey() + "` | `" + resource.getValue().path("Type").asText() + "` |"));
        assertThat(doc).contains("runtime `" + template.at("/Resources/BridgeFunction/Properties/Runtime").asText() + "`");
        assertThat(doc).contains(BridgeConfig.ENV_WEBHOOK_URL, BridgeConfig.ENV_WEBHOOK_SECRET,
                BridgeConfig.ENV_TIMEOUT_MS, BridgeConfig.ENV_FALLBACK_TEXT, BridgeConfig.ENV_ALLOWED_URL_PREFIXES,
                BridgeConfig.ENV_SPILL_QUEUE_URL, BridgeConfig.ENV_SPILL_TIMEOUT_MS, "sqs:ReceiveMessage",
                "sqs:DeleteMessage", "server.spill-queue.url",
                BridgeConfig.DEFAULT_FALLBACK_TEXT, "io.chimedialer.lambda.SmaBridgeHandler::handleRequest",
                "voiceconnector.chime.amazonaws.com", "AWS::Chime::SipMediaApplication");
    }

    @Test
    void doc_listsTheThreeQuotaCodesAndTheIamActions() {
        assertThat(doc).contains("`L-C115F428`", "`L-21762DC9`", "`L-32923D03`",
                "chime:CreateSipMediaApplicationCall", "chime:UpdateSipMediaApplicationCall",
                "chime:GetSipMediaApplication", "once per Region");
    }

    @Test
    void doc_policyBlock_equalsDeployPolicyFile() throws IOException {
        ObjectMapper json = new ObjectMapper();

        assertThat(jsonBlocks()).contains(json.readTree(DeployTemplateTest.POLICY.toFile()));
    }

    @Test
    void doc_bucketPolicyForPlayAudio_letsOnlyThisAccountsSmaReadObjects() throws IOException {
        JsonNode statement = jsonBlocks().stream()
                .filter(block -> block.at("/Statement/0/Principal/Service").asText().equals("voiceconnector.chime.amazonaws.com"))
                .findFirst().orElseThrow().at("/Statement/0");

        assertThat(statement.path("Effect").asText()).isEqualTo("Allow");
        assertThat(statement.path("Action").asText()).isEqualTo("s3:GetObject");
        assertThat(statement.path("Resource").asText()).startsWith("arn:aws:s3:::").endsWith("/*");
        assertThat(statement.at("/Condition/StringEquals/aws:SourceAccount").asText()).isNotBlank();
        assertThat(statement.at("/Condition/ArnLike/aws:SourceArn").asText()).startsWith("arn:aws:chime:").contains(":sma/");
        assertThat(doc).contains("AWSServiceRoleForAmazonChimeVoiceConnector",
                "aws iam create-service-linked-role --aws-service-name voiceconnector.chime.amazonaws.com");
    }

    @Test
    void readme_deployingSection_pointsHereWithTheBridgesBudget() throws IOException {
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        int start = readme.indexOf("## Deploying on AWS");
        assertThat(start).isPositive();
        int end = readme.indexOf("\n## ", start + 1);
        String section = readme.substring(start, end < 0 ? readme.length() : end);

        assertThat(section).contains("deploy/template.yaml", "(docs/deploy-aws.md)", "L-C115F428",
                "within " + BridgeConfig.DEFAULT_TIMEOUT.toSeconds() + " s");
    }

    @Test
    void doc_phoneNumbersAndSipRule_areCliStepsSinceCloudFormationHasNoTypeForThem() {
        assertThat(doc).contains("aws chime-sdk-voice search-available-phone-numbers",
                "aws chime-sdk-voice create-phone-number-order", "--product-type SipMediaApplicationDialIn",
                "aws chime-sdk-voice get-phone-number-order", "aws chime-sdk-voice create-sip-rule",
                "--trigger-type ToPhoneNumber", "SipMediaApplicationId=<SipMediaApplicationId>,Priority=1,AwsRegion=");
    }

    private static List<JsonNode> jsonBlocks() throws IOException {
        List<JsonNode> blocks = new ArrayList<>();
        Matcher block = Pattern.compile("```json\\n(.*?)```", Pattern.DOTALL).matcher(doc);
        while (block.find()) {
            blocks.add(new ObjectMapper().readTree(block.group(1)));
        }
        return blocks;
    }
}
