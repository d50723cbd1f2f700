package io.chimedialer.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Reads deploy/template.yaml as data and checks what a deployment depends on. */
class DeployTemplateTest {

    static final Path TEMPLATE = Path.of("..", "deploy", "template.yaml");
    static final Path POLICY = Path.of("..", "deploy", "dialer-iam-policy.json");
    /** The most the deployed bridge may wait for the dialer in one invocation. */
    static final Duration MAX_BUDGET = Duration.ofSeconds(2);
    /** The alias the SIP media application invokes. */
    static final String ALIAS = "live";

    private static String text;
    private static JsonNode template;

    @BeforeAll
    static void read() throws IOException {
        text = Files.readString(TEMPLATE, StandardCharsets.UTF_8);
        template = new ObjectMapper(new YAMLFactory()).readTree(text);
    }

    private static JsonNode resource(String name) {
        JsonNode node = template.path("Resources").path(name);
        assertThat(node.isObject()).as("resource %s", name).isTrue();
        return node;
    }

    private static JsonNode ref(String name) {
        return new ObjectMapper().createObjectNode().put("Ref", name);
    }

    private static JsonNode getAtt(String resource, String attribute) {
        ObjectMapper mapper = new ObjectMapper();
        return mapper.createObjectNode().set("Fn::GetAtt", mapper.createArrayNode().add(resource).add(attribute));
    }

    @Test
    void template_usesOnlyLongFormIntrinsics() {
        assertThat(text).doesNotContainPattern("(?m)!(Ref|GetAtt|Sub|Join|If|Equals|Select|Split|ImportValue|FindInMap)\\b");
        assertThat(template.path("AWSTemplateFormatVersion").asText()).isEqualTo("2010-09-09");
        assertThat(template.path("Transform").asText()).isEqualTo("AWS::Serverless-2016-10-31");
    }

    @Test
    void resources_areExactlyTheFunctionItsLogsPermissionTheNativeSmaTheRoleAndAlarms() {
        Map<String, String> types = new java.util.TreeMap<>();
        template.path("Resources").properties().forEach(e -> types.put(e.getKey(), e.getValue().path("Type").asText()));

        // CloudFormation's own type; a custom resource (Custom::*, AWS::CloudFormation::CustomResource)
        // and the provider function that served it must not come back.
        assertThat(types).containsExactlyInAnyOrderEntriesOf(Map.of(
                "BridgeFunction", "AWS::Serverless::Function",
                "BridgeLogGroup", "AWS::Logs::LogGroup",
                "ChimeInvokePermission", "AWS::Lambda::Permission",
                "SipMediaApplication", "AWS::Chime::SipMediaApplication",
                "VoiceConnectorServiceLinkedRole", "AWS::IAM::ServiceLinkedRole",
                "BridgeErrorsAlarm", "AWS::CloudWatch::Alarm",
                "BridgeThrottlesAlarm", "AWS::CloudWatch::Alarm",
                "SpillQueue", "AWS::SQS::Queue",
                "SpillDeadLetterQueue", "AWS::SQS::Queue",
                "SpillQueuePolicy", "AWS::SQS::QueuePolicy"));
        assertThat(text).doesNotContain("Custom::", "AWS::CloudFormation::CustomResource", "ServiceToken",
                "InlineCode");
    }

    @Test
    void function_runsTheShadedJarsHandlerOnASupportedJavaRuntimeWithinChimesBudget() {
        JsonNode p = resource("BridgeFunction").path("Properties");

        // java17 (Amazon Linux 2) no longer accepts new functions; the release-17 jar runs on java21.
        assertThat(p.path("Runtime").asText()).isEqualTo("java21");
        assertThat(p.path("Handler").asText()).isEqualTo(SmaBridgeHandler.class.getName() + "::handleRequest");
        assertThat(p.path("CodeUri").asText()).isEqualTo("../dialer-lambda/target/dialer-lambda.jar");
        assertThat(p.path("Timeout").asInt()).isEqualTo(6);
        assertThat(p.path("MemorySize")).isEqualTo(ref("MemorySize"));
        JsonNode env = p.path("Environment").path("Variables");
        assertThat(env.path(BridgeConfig.ENV_WEBHOOK_URL)).isEqualTo(ref("DialerWebhookUrl"));
        assertThat(env.path(BridgeConfig.ENV_WEBHOOK_SECRET)).isEqualTo(ref("DialerWebhookSecret"));
        assertThat(env.path(BridgeConfig.ENV_ALLOWED_URL_PREFIXES)).isEqualTo(ref("DialerAllowedUrlPrefixes"));
        assertThat(env.path(BridgeConfig.ENV_FALLBACK_TEXT)).isEqualTo(ref("DialerFallbackText"));
        assertThat(env.path(BridgeConfig.ENV_TIMEOUT_MS)).isEqualTo(ref("DialerTimeoutMs"));
        assertThat(env.path(BridgeConfig.ENV_SPILL_QUEUE_URL)).isEqualTo(ref("SpillQueue"));
        assertThat(env.path(BridgeConfig.ENV_SPILL_TIMEOUT_MS).asText())
                .isEqualTo(Long.toString(BridgeConfig.DEFAULT_SPILL_TIMEOUT.toMillis()));
    }

    @Test
    void spillQueue_keepsWhatTheBridgeCannotDeliver_sentByTheBridgeOnly() throws IOException {
        JsonNode queue = resource("SpillQueue").path("Properties");
        JsonNode dlq = resource("SpillDeadLetterQueue").path("Properties");
        ObjectMapper json = new ObjectMapper();

        // Retention as a parameter (4 days by default), a dead-letter queue after 20 receipts, encrypted at rest.
        assertThat(queue.path("MessageRetentionPeriod")).isEqualTo(ref("SpillRetentionSeconds"));
        assertThat(template.at("/Parameters/SpillRetentionSeconds/Default").asInt()).isEqualTo(345_600);
        assertThat(template.at("/Parameters/SpillRetentionSeconds/MaxValue").asInt()).isEqualTo(1_209_600);
        assertThat(queue.at("/RedrivePolicy/deadLetterTargetArn")).isEqualTo(json.readTree(
                "{\"Fn::GetAtt\":[\"SpillDeadLetterQueue\",\"Arn\"]}"));
        assertThat(queue.at("/RedrivePolicy/maxReceiveCount").asInt()).isEqualTo(20);
        assertThat(queue.path("SqsManagedSseEnabled").asBoolean()).isTrue();
        assertThat(dlq.path("MessageRetentionPeriod").asInt()).isEqualTo(1_209_600);
        // The bridge's role may send (SAM's SQSSendMessagePolicy template: sqs:SendMessage on that queue) ...
        assertThat(resource("BridgeFunction").at("/Properties/Policies/0/SQSSendMessagePolicy/QueueName"))
                .isEqualTo(json.readTree("{\"Fn::GetAtt\":[\"SpillQueue\",\"QueueName\"]}"));
        // ... and no one else: the queue policy denies SendMessage to every other principal.
        JsonNode statement = resource("SpillQueuePolicy").at("/Properties/PolicyDocument/Statement/0");
        assertThat(statement.path("Effect").asText()).isEqualTo("Deny");
        assertThat(statement.path("Action").asText()).isEqualTo("sqs:SendMessage");
        assertThat(statement.at("/Condition/ArnNotEquals/aws:PrincipalArn")).isEqualTo(json.readTree(
                "{\"Fn::GetAtt\":[\"BridgeFunctionRole\",\"Arn\"]}"));
        assertThat(template.at("/Outputs/SpillQueueUrl/Value")).isEqualTo(ref("SpillQueue"));
    }

    @Test
    void function_usesSnapStartOnTheVersionsItsAliasPublishes() {
        JsonNode p = resource("BridgeFunction").path("Properties");

        // SnapStart applies to published versions only: without AutoPublishAlias the SMA would invoke
        // $LATEST, whose cold starts start a JVM from scratch.
        assertThat(p.at("/SnapStart/ApplyOn").asText()).isEqualTo("PublishedVersions");
        assertThat(p.path("AutoPublishAlias").asText()).isEqualTo(ALIAS);
    }

    @Test
    void handlerClass_inTheTemplate_existsAndIsAStreamHandler() throws ClassNotFoundException {
        String handler = resource("BridgeFunction").path("Properties").path("Handler").asText();
        Class<?> type = Class.forName(handler.substring(0, handler.indexOf("::")));

        assertThat(com.amazonaws.services.lambda.runtime.RequestStreamHandler.class).isAssignableFrom(type);
    }

    @Test
    void permission_letsChimeInvokeTheAliasFromThisAccountOnly() {
        JsonNode p = resource("ChimeInvokePermission").path("Properties");

        assertThat(p.path("Action").asText()).isEqualTo("lambda:InvokeFunction");
        assertThat(p.path("Principal").asText()).isEqualTo("voiceconnector.chime.amazonaws.com");
        assertThat(p.path("SourceAccount")).isEqualTo(ref("AWS::AccountId"));
        // A permission on the bare function does not cover invocations of its alias.
        assertThat(p.path("FunctionName")).isEqualTo(ref("BridgeFunction.Alias"));
    }

    @Test
    void sipMediaApplication_isTheNativeTypeInThisRegionPointingAtTheAlias() {
        JsonNode sma = resource("SipMediaApplication");
        JsonNode p = sma.path("Properties");
        List<String> properties = new ArrayList<>();
        p.fieldNames().forEachRemaining(properties::add);

        // cfn-lint 1.51 does not know AWS::Chime::SipMediaApplication, so these checks stand in for its
        // schema: required AwsRegion, Name and Endpoints (exactly one LambdaArn), nothing else.
        assertThat(sma.path("Type").asText()).isEqualTo("AWS::Chime::SipMediaApplication");
        assertThat(properties).containsExactlyInAnyOrder("AwsRegion", "Name", "Endpoints");
        assertThat(p.path("AwsRegion")).isEqualTo(ref("AWS::Region"));
        assertThat(p.path("Name")).isEqualTo(ref("SipMediaApplicationName"));
        assertThat(p.path("Endpoints").size()).isEqualTo(1);
        // The alias ARN, so Chime invokes the SnapStart version the alias points at.
        assertThat(p.path("Endpoints").get(0).path("LambdaArn")).isEqualTo(ref("BridgeFunction.Alias"));
        assertThat(sma.path("DependsOn").asText()).isEqualTo("ChimeInvokePermission");
        // The lint exemption covers the unknown type only, not every check on this resource.
        assertThat(sma.at("/Metadata/cfn-lint/config/ignore_checks").toString()).isEqualTo("[\"E3006\"]");
    }

    @Test
    void smaName_parameterPattern_matchesWhatChimeAccepts() {
        // CreateSipMediaApplication: Name is 1 to 256 of [a-zA-Z0-9 _.-].
        Pattern allowed = Pattern.compile(template.at("/Parameters/SipMediaApplicationName/AllowedPattern").asText());

        assertThat(template.at("/Parameters/SipMediaApplicationName/Default").asText()).matches(allowed);
        assertThat("a".repeat(256)).matches(allowed);
        assertThat("a".repeat(257)).doesNotMatch(allowed);
        assertThat("").doesNotMatch(allowed);
        assertThat("dialer/1").doesNotMatch(allowed);
    }

    @Test
    void parameters_haveTheExpectedNamesDefaultsAndASecretThatIsNeverEchoed() {
        JsonNode params = template.path("Parameters");
        List<String> names = new ArrayList<>();
        params.fieldNames().forEachRemaining(names::add);

        assertThat(names).containsExactlyInAnyOrder("DialerWebhookUrl", "DialerWebhookSecret",
                "DialerAllowedUrlPrefixes", "DialerFallbackText", "DialerTimeoutMs", "SipMediaApplicationName",
                "MemorySize", "CreateVoiceConnectorServiceLinkedRole", "AlarmTopicArn", "SpillRetentionSeconds");
        assertThat(params.path("DialerWebhookSecret").path("NoEcho").asBoolean()).isTrue();
        assertThat(params.path("DialerWebhookSecret").has("Default")).isFalse();
        assertThat(params.path("DialerWebhookUrl").has("Default")).isFalse();
        assertThat(params.path("DialerFallbackText").path("Default").asText()).isEqualTo(BridgeConfig.DEFAULT_FALLBACK_TEXT);
        assertThat(params.path("DialerFallbackText").path("MaxLength").asInt()).isEqualTo(BridgeConfig.MAX_FALLBACK_TEXT);
        assertThat(params.path("DialerAllowedUrlPrefixes").path("Default").asText()).isEmpty();
        params.properties().forEach(e -> assertThat(e.getValue().path("Description").asText())
                .as("description of %s", e.getKey()).isNotBlank());
    }

    @Test
    void dialerTimeout_defaultAndLimit_stayWithinTwoSecondsAndAgreeWithTheBridge() {
        JsonNode timeout = template.path("Parameters").path("DialerTimeoutMs");

        // Chime retries an unanswered invocation after 5 s: with at most 2 s of waiting for the dialer,
        // a cold start and the way back fit before it, so a retry never meets a bridge still waiting.
        assertThat(BridgeConfig.DEFAULT_TIMEOUT).isLessThanOrEqualTo(MAX_BUDGET);
        assertThat(timeout.path("Default").asLong()).isEqualTo(BridgeConfig.DEFAULT_TIMEOUT.toMillis());
        assertThat(timeout.path("MaxValue").asLong()).isPositive().isLessThanOrEqualTo(MAX_BUDGET.toMillis());
        assertThat(timeout.path("MinValue").asLong()).isPositive().isLessThanOrEqualTo(timeout.path("Default").asLong());
    }

    @Test
    void serviceLinkedRole_forSpeak_isCreatedOnlyOnRequestAndOutlivesTheStack() throws IOException {
        JsonNode role = resource("VoiceConnectorServiceLinkedRole");
        JsonNode parameter = template.path("Parameters").path("CreateVoiceConnectorServiceLinkedRole");

        // Speak and SpeakAndGetDigits (the bridge's fallback too) run as AWSServiceRoleForAmazonChimeVoiceConnector.
        assertThat(role.at("/Properties/AWSServiceName").asText()).isEqualTo("voiceconnector.chime.amazonaws.com");
        // One per account: off by default, since the account may have it already.
        assertThat(role.path("Condition").asText()).isEqualTo("CreateServiceLinkedRole");
        assertThat(template.at("/Conditions/CreateServiceLinkedRole")).isEqualTo(new ObjectMapper().readTree(
                "{\"Fn::Equals\":[{\"Ref\":\"CreateVoiceConnectorServiceLinkedRole\"},\"true\"]}"));
        assertThat(parameter.path("Default").asText()).isEqualTo("false");
        assertThat(parameter.path("AllowedValues").toString()).isEqualTo("[\"true\",\"false\"]");
        // Other Regions' stacks rely on it: deleting or replacing this stack leaves it in place.
        assertThat(role.path("DeletionPolicy").asText()).isEqualTo("Retain");
        assertThat(role.path("UpdateReplacePolicy").asText()).isEqualTo("Retain");
    }

    @ParameterizedTest
    @CsvSource({"BridgeErrorsAlarm, Errors", "BridgeThrottlesAlarm, Throttles"})
    void alarm_onTheFunctionsMetric_firesOnTheFirstOneInAMinuteAndNotifiesTheOptionalTopic(String name, String metric) {
        JsonNode p = resource(name).path("Properties");
        ObjectMapper mapper = new ObjectMapper();

        assertThat(p.path("Namespace").asText()).isEqualTo("AWS/Lambda");
        assertThat(p.path("MetricName").asText()).isEqualTo(metric);
        // FunctionName alone sums every version and alias of the function.
        assertThat(p.path("Dimensions")).isEqualTo(mapper.createArrayNode().add(
                mapper.createObjectNode().put("Name", "FunctionName").set("Value", ref("BridgeFunction"))));
        // Every error or throttle is a call Chime hung up on: one in a minute is enough.
        assertThat(p.path("Statistic").asText()).isEqualTo("Sum");
        assertThat(p.path("Period").asInt()).isEqualTo(60);
        assertThat(p.path("EvaluationPeriods").asInt()).isEqualTo(1);
        assertThat(p.path("Threshold").asDouble()).isEqualTo(1.0);
        assertThat(p.path("ComparisonOperator").asText()).isEqualTo("GreaterThanOrEqualToThreshold");
        assertThat(p.path("TreatMissingData").asText()).isEqualTo("notBreaching");
        JsonNode topicIfSet = mapper.createObjectNode().set("Fn::If", mapper.createArrayNode().add("HasAlarmTopic")
                .add(mapper.createArrayNode().add(ref("AlarmTopicArn"))).add(ref("AWS::NoValue")));
        assertThat(p.path("AlarmActions")).isEqualTo(topicIfSet);
        assertThat(p.path("OKActions")).isEqualTo(topicIfSet);
    }

    @Test
    void alarmTopic_isOptional_andOnlyAnSnsTopicArnIsAccepted() throws IOException {
        JsonNode topic = template.path("Parameters").path("AlarmTopicArn");
        Pattern allowed = Pattern.compile(topic.path("AllowedPattern").asText());

        assertThat(topic.path("Default").asText()).isEmpty();
        assertThat(template.at("/Conditions/HasAlarmTopic")).isEqualTo(new ObjectMapper().readTree(
                "{\"Fn::Not\":[{\"Fn::Equals\":[{\"Ref\":\"AlarmTopicArn\"},\"\"]}]}"));
        assertThat("").matches(allowed);
        assertThat("arn:aws:sns:us-east-1:123456789012:dialer-alarms").matches(allowed);
        assertThat("arn:aws:sqs:us-east-1:123456789012:dialer-alarms").doesNotMatch(allowed);
        assertThat("dialer-alarms").doesNotMatch(allowed);
    }

    @Test
    void conditions_everyDeclaredOneIsUsedAndEveryUsedOneDeclared() {
        Set<String> declared = new HashSet<>();
        template.path("Conditions").fieldNames().forEachRemaining(declared::add);
        Set<String> used = new HashSet<>();
        template.path("Resources").forEach(r -> {
            if (r.has("Condition")) {
                used.add(r.path("Condition").asText());
            }
        });
        collectIfConditions(template.path("Resources"), used);
        collectIfConditions(template.path("Outputs"), used);

        assertThat(used).isEqualTo(declared);
    }

    @Test
    void outputs_giveTheSmaIdTheFunctionArnAndTheAliasArn() {
        JsonNode outputs = template.path("Outputs");

        assertThat(outputs.path("SipMediaApplicationId").path("Value"))
                .isEqualTo(getAtt("SipMediaApplication", "SipMediaApplicationId"));
        assertThat(outputs.path("BridgeFunctionArn").path("Value")).isEqualTo(getAtt("BridgeFunction", "Arn"));
        assertThat(outputs.path("BridgeAliasArn").path("Value")).isEqualTo(ref("BridgeFunction.Alias"));
    }

    @Test
    void everyReference_namesADeclaredParameterResourceOrPseudoParameter() {
        Set<String> declared = new HashSet<>(Set.of("AWS::AccountId", "AWS::Region", "AWS::Partition",
                "AWS::StackName", "AWS::URLSuffix", "AWS::NoValue"));
        template.path("Parameters").fieldNames().forEachRemaining(declared::add);
        template.path("Resources").fieldNames().forEachRemaining(declared::add);
        List<String> used = new ArrayList<>();
        collectReferences(template, used);

        assertThat(used).isNotEmpty().allSatisfy(name -> assertThat(declared).contains(name));
        List<String> parameters = new ArrayList<>();
        template.path("Parameters").fieldNames().forEachRemaining(parameters::add);
        assertThat(used).as("every parameter is used").containsAll(parameters);
        assertThat(used).contains("BridgeFunction", "SipMediaApplication");
    }

    @Test
    void dialerPolicy_allowsCreateAndUpdateSmaCall_andReadingTheSma() throws IOException {
        JsonNode policy = new ObjectMapper().readTree(Files.readString(POLICY, StandardCharsets.UTF_8));

        assertThat(policy.path("Version").asText()).isEqualTo("2012-10-17");
        assertThat(policy.path("Statement")).hasSize(2);
        List<String> actions = new ArrayList<>();
        policy.path("Statement").forEach(statement -> {
            assertThat(statement.path("Effect").asText()).isEqualTo("Allow");
            statement.path("Action").forEach(a -> actions.add(a.asText()));
        });
        assertThat(actions).containsExactlyInAnyOrder("chime:CreateSipMediaApplicationCall",
                "chime:UpdateSipMediaApplicationCall", "chime:GetSipMediaApplication");
    }

    private static void collectIfConditions(JsonNode node, Set<String> out) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                if (field.getKey().equals("Fn::If")) {
                    out.add(field.getValue().get(0).asText());
                }
                collectIfConditions(field.getValue(), out);
            }
        } else if (node.isArray()) {
            node.forEach(child -> collectIfConditions(child, out));
        }
    }

    /**
     * SAM's {@code Function.Alias} and {@code Function.Version} name resources it generates from a
     * function with {@code AutoPublishAlias}; they stand for that function here.
     */
    private static String samReferenceTarget(String name) {
        // SAM names a function's generated execution role <Function>Role.
        if (name.endsWith("Role") && template.path("Resources").has(name.substring(0, name.length() - 4))) {
            String function = name.substring(0, name.length() - 4);
            assertThat(resource(function).path("Type").asText()).isEqualTo("AWS::Serverless::Function");
            assertThat(resource(function).path("Properties").has("Role")).as("%s has no Role of its own", function)
                    .isFalse();
            return function;
        }
        for (String suffix : List.of(".Alias", ".Version")) {
            if (name.endsWith(suffix)) {
                String function = name.substring(0, name.length() - suffix.length());
                assertThat(resource(function).path("Properties").path("AutoPublishAlias").asText())
                        .as("%s needs AutoPublishAlias on %s", name, function).isNotEmpty();
                return function;
            }
        }
        return name;
    }

    private static final Pattern SUB_VARIABLE = Pattern.compile("\\$\\{([^}!]+)}");

    private static void collectReferences(JsonNode node, List<String> out) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                JsonNode value = field.getValue();
                switch (field.getKey()) {
                    case "Ref" -> out.add(samReferenceTarget(value.asText()));
                    case "Fn::GetAtt" -> out.add(samReferenceTarget(value.isArray() ? value.get(0).asText()
                            : value.asText().substring(0, value.asText().indexOf('.'))));
                    case "Fn::Sub" -> {
                        Matcher m = SUB_VARIABLE.matcher(value.isArray() ? value.get(0).asText() : value.asText());
                        while (m.find()) {
                            out.add(m.group(1).split("\\.")[0]);
                        }
                    }
                    case "DependsOn" -> out.add(value.asText());
                    default -> collectReferences(value, out);
                }
            }
        } else if (node.isArray()) {
            node.forEach(child -> collectReferences(child, out));
        }
    }
}
