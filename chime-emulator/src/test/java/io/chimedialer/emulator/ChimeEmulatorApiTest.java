package io.chimedialer.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.chimesdkvoice.ChimeSdkVoiceAsyncClient;
import software.amazon.awssdk.services.chimesdkvoice.model.GetSipMediaApplicationResponse;
import software.amazon.awssdk.services.chimesdkvoice.model.AccessDeniedException;
import software.amazon.awssdk.services.chimesdkvoice.model.BadRequestException;
import software.amazon.awssdk.services.chimesdkvoice.model.CreateSipMediaApplicationCallRequest;
import software.amazon.awssdk.services.chimesdkvoice.model.CreateSipMediaApplicationCallResponse;
import software.amazon.awssdk.services.chimesdkvoice.model.ForbiddenException;
import software.amazon.awssdk.services.chimesdkvoice.model.NotFoundException;
import software.amazon.awssdk.services.chimesdkvoice.model.ResourceLimitExceededException;
import software.amazon.awssdk.services.chimesdkvoice.model.ServiceFailureException;
import software.amazon.awssdk.services.chimesdkvoice.model.ServiceUnavailableException;
import software.amazon.awssdk.services.chimesdkvoice.model.ThrottledClientException;
import software.amazon.awssdk.services.chimesdkvoice.model.UpdateSipMediaApplicationCallResponse;

/** The REST API driven by the real ChimeSdkVoiceAsyncClient (netty-nio-client, retries off). */
class ChimeEmulatorApiTest {
    private static final String EAST_SMA = "11111111-1111-4111-8111-111111111111";
    private static final String WEST_SMA = "22222222-2222-4222-8222-222222222222";
    private static final String EAST_FROM = "+17035550100";
    private static final String GUID = "[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private SdkEventLoopGroup sdkLoops;
    private NettyNioAsyncHttpClient sdkHttp;
    private ChimeEmulator emu;
    private ChimeSdkVoiceAsyncClient client;

    @BeforeEach
    void setUp() {
        sdkLoops = SdkEventLoopGroup.builder().numberOfThreads(1).build();
        sdkHttp = (NettyNioAsyncHttpClient) NettyNioAsyncHttpClient.builder().eventLoopGroup(sdkLoops).build();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (client != null) {
            client.close();
        }
        sdkHttp.close();
        sdkLoops.eventLoopGroup().shutdownGracefully(0, 1, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
        if (emu != null) {
            emu.close();
        }
    }

    private void start(ChimeEmulator.Builder builder, Region region) {
        emu = builder.start();
        client = ChimeSdkVoiceAsyncClient.builder()
                .endpointOverride(emu.url())
                .region(region)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDEXAMPLE", "secret")))
                .httpClient(sdkHttp)
                .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
    }

    private static List<EmulatorRegion> regions(double createTps, double updateTps, int maxActive) {
        return EmulatorRegion.defaults().stream().map(r -> r.withQuotas(createTps, updateTps, maxActive)).toList();
    }

    private CreateSipMediaApplicationCallResponse create(CreateSipMediaApplicationCallRequest.Builder b) {
        return client.createSipMediaApplicationCall(b.build()).join();
    }

    private static CreateSipMediaApplicationCallRequest.Builder valid() {
        return CreateSipMediaApplicationCallRequest.builder()
                .sipMediaApplicationId(EAST_SMA).fromPhoneNumber(EAST_FROM).toPhoneNumber("+14155550123")
                .argumentsMap(Map.of("contactId", "c-1"));
    }

    private static Throwable cause(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    @Test
    void create_validRequest_returns201AndRecordsTheCall() {
        start(ChimeEmulator.builder().simulateCalls(false), Region.US_EAST_1);

        CreateSipMediaApplicationCallResponse r = create(valid().sipHeaders(Map.of("X-Campaign", "c7")));

        assertThat(r.sdkHttpResponse().statusCode()).isEqualTo(201);
        String tx = r.sipMediaApplicationCall().transactionId();
        assertThat(tx).matches(GUID);
        assertThat(emu.stats().created()).isEqualTo(1);
        assertThat(emu.stats().regions().get("us-east-1").created()).isEqualTo(1);
        assertThat(emu.stats().regions().get("us-west-2").created()).isZero();
        CallRecord call = emu.calls().get(0);
        assertThat(call.transactionId()).isEqualTo(tx);
        assertThat(call.smaId()).isEqualTo(EAST_SMA);
        assertThat(call.region()).isEqualTo("us-east-1");
        assertThat(call.from()).isEqualTo(EAST_FROM);
        assertThat(call.to()).isEqualTo("+14155550123");
        assertThat(call.arguments()).containsExactly(Map.entry("contactId", "c-1"));
        assertThat(call.sipHeaders()).containsExactly(Map.entry("X-Campaign", "c7"));
        assertThat(call.disposition()).isEqualTo("notSimulated");
    }

    @Test
    void create_apiOnlyWithoutRecords_countsEveryCreateAndKeepsNothingPerCall() {
        start(ChimeEmulator.builder().simulateCalls(false).recordCalls(false), Region.US_EAST_1);

        Set<String> transactions = new HashSet<>();
        for (String to : List.of("+14155550123", "+14155550124", "+14155550123")) {
            transactions.add(create(valid().toPhoneNumber(to)).sipMediaApplicationCall().transactionId());
        }

        assertThat(transactions).hasSize(3).allMatch(tx -> tx.matches(GUID));
        EmulatorStats s = emu.stats();
        assertThat(s.created()).isEqualTo(3);
        assertThat(s.regions().get("us-east-1").created()).isEqualTo(3);
        assertThat(s.ended()).isEqualTo(3);
        assertThat(s.dispositions()).containsEntry("notSimulated", 3L);
        assertThat(emu.calls()).isEmpty();
        // nothing kept per number: the repeated number is not counted, as it is with records (next test)
        assertThat(s.duplicateNumbers()).isZero();
    }

    @Test
    void create_apiOnlyWithRecords_keepsEachCallAndCountsARepeatedNumber() {
        start(ChimeEmulator.builder().simulateCalls(false), Region.US_EAST_1);

        for (String to : List.of("+14155550123", "+14155550124", "+14155550123")) {
            create(valid().toPhoneNumber(to));
        }

        assertThat(emu.calls()).extracting(CallRecord::to)
                .containsExactly("+14155550123", "+14155550124", "+14155550123");
        assertThat(emu.stats().duplicateNumbers()).isEqualTo(1);
    }

    @Test
    void builder_noRecordsOfSimulatedCalls_rejected() {
        assertThatThrownBy(() -> ChimeEmulator.builder().recordCalls(false).start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("recordCalls(false) needs simulateCalls(false)");
    }

    @Test
    void create_202Selected_returns202() {
        start(ChimeEmulator.builder().simulateCalls(false).createStatus(202), Region.US_EAST_1);

        CreateSipMediaApplicationCallResponse r = create(valid());

        assertThat(r.sdkHttpResponse().statusCode()).isEqualTo(202);
        assertThat(r.sipMediaApplicationCall().transactionId()).matches(GUID);
    }

    @Test
    void create_fromWithoutPlus_isAccepted() {
        start(ChimeEmulator.builder().simulateCalls(false), Region.US_EAST_1);

        assertThat(create(valid().fromPhoneNumber("17035550101").toPhoneNumber("14155550123"))
                .sipMediaApplicationCall().transactionId()).matches(GUID);
    }

    @Test
    void create_overCreateTps_throwsThrottledClientException() {
        // 0.1/s: the bucket holds one token and refills in 10 s, so a slow machine cannot refill it in between.
        start(ChimeEmulator.builder().simulateCalls(false).regions(regions(0.1, 5, 10)), Region.US_EAST_1);

        create(valid());
        assertThatThrownBy(() -> create(valid()))
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(ThrottledClientException.class))
                .satisfies(t -> assertThat(((ThrottledClientException) cause(t)).statusCode()).isEqualTo(429));
        EmulatorStats s = emu.stats();
        assertThat(s.created()).isEqualTo(1);
        assertThat(s.throttled()).isEqualTo(1);
        assertThat(s.regions().get("us-east-1").throttled()).isEqualTo(1);
        assertThat(s.regions().get("us-east-1").maxCreatesInOneSecond()).isEqualTo(1);
    }

    @Test
    void create_invalidInput_throwsBadRequestException() {
        start(ChimeEmulator.builder().simulateCalls(false), Region.US_EAST_1);
        Map<String, String> tooMany = new HashMap<>();
        for (int i = 0; i < 21; i++) {
            tooMany.put("k" + i, "v");
        }
        List<CreateSipMediaApplicationCallRequest.Builder> bad = List.of(
                valid().toPhoneNumber("+04155550123"),
                valid().toPhoneNumber("1"),
                valid().toPhoneNumber("+1415555012345678"),
                valid().fromPhoneNumber("+12065550100"),
                valid().argumentsMap(tooMany),
                valid().sipHeaders(tooMany.keySet().stream().collect(java.util.stream.Collectors.toMap(k -> "x-" + k, k -> "v"))),
                valid().sipHeaders(Map.of("Campaign", "c7")),
                valid().sipHeaders(Map.of("X-AMZN-Thing", "c7")),
                valid().sipHeaders(Map.of("X-Long", "a".repeat(2049))));
        for (CreateSipMediaApplicationCallRequest.Builder b : bad) {
            assertThatThrownBy(() -> create(b))
                    .satisfies(t -> assertThat(cause(t)).isInstanceOf(BadRequestException.class))
                    .satisfies(t -> assertThat(((BadRequestException) cause(t)).statusCode()).isEqualTo(400));
        }
        assertThat(emu.stats().created()).isZero();
        assertThat(emu.stats().rejected()).isEqualTo(bad.size());
    }

    @Test
    void create_withAllowedSipHeaders_isAccepted() {
        start(ChimeEmulator.builder().simulateCalls(false), Region.US_EAST_1);

        assertThat(create(valid().sipHeaders(Map.of("User-to-User", "abc", "Diversion", "<sip:+1@x>", "x-id", "1")))
                .sdkHttpResponse().statusCode()).isEqualTo(201);
    }

    @Test
    void create_unknownSma_throwsNotFoundExceptionNamingIt() {
        start(ChimeEmulator.builder().simulateCalls(false), Region.US_EAST_1);
        String unknown = "99999999-9999-4999-8999-999999999999";

        assertThatThrownBy(() -> create(valid().sipMediaApplicationId(unknown)))
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(NotFoundException.class))
                .satisfies(t -> assertThat(((NotFoundException) cause(t)).statusCode()).isEqualTo(404))
                .satisfies(t -> assertThat(((NotFoundException) cause(t)).awsErrorDetails().errorMessage()).contains(unknown));
        assertThat(emu.stats().created()).isZero();
    }

    @Test
    void getSipMediaApplication_knownId_describesItsRegionWithoutTakingACreateToken() {
        start(ChimeEmulator.builder().simulateCalls(false).regions(regions(1, 5, 10)), Region.US_EAST_1);

        for (int i = 0; i < 3; i++) {
            GetSipMediaApplicationResponse r = client.getSipMediaApplication(b -> b.sipMediaApplicationId(EAST_SMA)).join();
            assertThat(r.sipMediaApplication().sipMediaApplicationId()).isEqualTo(EAST_SMA);
            assertThat(r.sipMediaApplication().awsRegion()).isEqualTo("us-east-1");
            assertThat(r.sipMediaApplication().sipMediaApplicationArn())
                    .isEqualTo("arn:aws:chime:us-east-1:123456789012:sma/" + EAST_SMA);
            assertThat(r.sipMediaApplication().endpoints()).hasSize(1);
            assertThat(r.sipMediaApplication().createdTimestamp()).isNotNull();
        }
        // at 1 Create a second, the reads took none of the bucket's token
        assertThat(create(valid()).sipMediaApplicationCall().transactionId()).matches(GUID);
        assertThat(emu.stats().throttled()).isZero();
    }

    @Test
    void getSipMediaApplication_unknownIdOrDeniedRegion_failsAsAwsDoes() {
        start(ChimeEmulator.builder().simulateCalls(false).faults(Faults.builder().authDenied("us-east-1").build()),
                Region.US_EAST_1);
        String unknown = "99999999-9999-4999-8999-999999999999";

        assertThatThrownBy(() -> client.getSipMediaApplication(b -> b.sipMediaApplicationId(EAST_SMA)).join())
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(AccessDeniedException.class))
                .satisfies(t -> assertThat(((AccessDeniedException) cause(t)).awsErrorDetails().errorMessage())
                        .contains("chime:GetSipMediaApplication"));
        assertThat(emu.stats().faults()).containsExactly(Map.entry("authRead", 1L));
        assertThatThrownBy(() -> client.getSipMediaApplication(b -> b.sipMediaApplicationId(unknown)).join())
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(NotFoundException.class))
                .satisfies(t -> assertThat(((NotFoundException) cause(t)).awsErrorDetails().errorMessage()).contains(unknown));
        // the west SMA through a client scoped to us-east-1: the wrong credential scope
        assertThatThrownBy(() -> client.getSipMediaApplication(b -> b.sipMediaApplicationId(WEST_SMA)).join())
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(ForbiddenException.class));
    }

    @Test
    void create_fromNumberOutsideTheRegionsInventory_throwsBadRequestExceptionNamingFromPhoneNumber() {
        start(ChimeEmulator.builder().simulateCalls(false), Region.US_EAST_1);

        // A us-west-2 number on the us-east-1 SMA: a real number of the account, but not in this Region's inventory.
        assertThatThrownBy(() -> create(valid().fromPhoneNumber("+12065550100")))
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(BadRequestException.class))
                .satisfies(t -> assertThat(((BadRequestException) cause(t)).statusCode()).isEqualTo(400))
                .satisfies(t -> assertThat(((BadRequestException) cause(t)).awsErrorDetails().errorMessage())
                        .contains("FromPhoneNumber").contains("us-east-1"));
        assertThat(emu.stats().created()).isZero();
        assertThat(emu.stats().rejected()).isEqualTo(1);
    }

    @Test
    void create_inARegionTheAccountMayNotUse_throwsAccessDeniedExceptionInAwsWords() {
        start(ChimeEmulator.builder().simulateCalls(false).faults(Faults.builder().authDenied("us-east-1").build()),
                Region.US_EAST_1);

        assertThatThrownBy(() -> create(valid()))
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(AccessDeniedException.class))
                .satisfies(t -> assertThat(((AccessDeniedException) cause(t)).statusCode()).isEqualTo(403))
                .satisfies(t -> assertThat(((AccessDeniedException) cause(t)).awsErrorDetails().errorCode())
                        .isEqualTo("AccessDeniedException"))
                .satisfies(t -> assertThat(((AccessDeniedException) cause(t)).awsErrorDetails().errorMessage())
                        .isEqualTo("User: arn:aws:iam::123456789012:user/dialer is not authorized to perform: "
                                + "chime:CreateSipMediaApplicationCall on resource: arn:aws:chime:us-east-1:123456789012:sma/"
                                + EAST_SMA + " because no identity-based policy allows the chime:CreateSipMediaApplicationCall action"));
        // The Update of the same account is refused too, before the transaction is looked up.
        assertThatThrownBy(() -> client.updateSipMediaApplicationCall(b -> b.sipMediaApplicationId(EAST_SMA)
                .transactionId("00000000-0000-4000-8000-000000000000").arguments(Map.of())).join())
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(AccessDeniedException.class))
                .satisfies(t -> assertThat(((AccessDeniedException) cause(t)).awsErrorDetails().errorMessage())
                        .contains("chime:UpdateSipMediaApplicationCall"));
        EmulatorStats s = emu.stats();
        assertThat(s.created()).isZero();
        assertThat(s.throttled()).isZero();
        assertThat(s.faults()).containsExactly(Map.entry("auth", 2L));
    }

    @Test
    void create_authDeniedInAnotherRegion_isAcceptedHere() {
        start(ChimeEmulator.builder().simulateCalls(false).faults(Faults.builder().authDenied("us-west-2").build()),
                Region.US_EAST_1);

        assertThat(create(valid()).sipMediaApplicationCall().transactionId()).matches(GUID);
        assertThat(emu.stats().faults()).isEmpty();
    }

    @Test
    void create_authDeniedEverywhere_refusesEveryRegion() throws Exception {
        start(ChimeEmulator.builder().simulateCalls(false).faults(Faults.builder().authDenied(Faults.ALL_REGIONS).build()),
                Region.US_EAST_1);
        HttpClient http = HttpClient.create().baseUrl(emu.url().toString());
        String westAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-west-2/chime/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=" + "ab".repeat(32);

        Raw west = post(http, "/sip-media-applications/" + WEST_SMA + "/calls",
                "{\"FromPhoneNumber\":\"+12065550100\",\"ToPhoneNumber\":\"+14155550123\"}", westAuth);

        assertThat(west.status).isEqualTo(403);
        assertThat(west.errorType).isEqualTo("AccessDeniedException");
        assertThat(west.json.path("Code").asText()).isEqualTo("AccessDenied");
        assertThat(west.json.path("Message").asText()).contains("arn:aws:chime:us-west-2:123456789012:sma/" + WEST_SMA);
        assertThatThrownBy(() -> create(valid())).satisfies(t -> assertThat(cause(t)).isInstanceOf(AccessDeniedException.class));
        assertThat(emu.stats().faults()).containsEntry("auth", 2L);
    }

    @Test
    void create_credentialScopedToAnotherRegion_throwsForbiddenException() {
        start(ChimeEmulator.builder().simulateCalls(false), Region.US_WEST_2);

        assertThatThrownBy(() -> create(valid()))
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(ForbiddenException.class));
        assertThat(create(valid().sipMediaApplicationId(WEST_SMA).fromPhoneNumber("+12065550100"))
                .sipMediaApplicationCall().transactionId()).matches(GUID);
        assertThat(emu.stats().regions().get("us-west-2").created()).isEqualTo(1);
    }

    @Test
    void create_atActiveCallQuota_throwsResourceLimitExceededException() {
        // An endpoint that never answers keeps the first call active.
        start(ChimeEmulator.builder().regions(regions(100, 100, 1)).endpoint(req -> Mono.never())
                .webhookTimeout(Duration.ofSeconds(30)), Region.US_EAST_1);

        create(valid());
        assertThatThrownBy(() -> create(valid()))
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(ResourceLimitExceededException.class))
                .satisfies(t -> assertThat(((ResourceLimitExceededException) cause(t)).statusCode()).isEqualTo(400));
        EmulatorStats s = emu.stats();
        assertThat(s.created()).isEqualTo(1);
        assertThat(s.active()).isEqualTo(1);
        assertThat(s.resourceLimited()).isEqualTo(1);
        assertThat(s.regions().get("us-east-1").peakActive()).isEqualTo(1);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(ActiveCallLimitError.class)
    void create_atActiveCallQuota_answersTheConfiguredError(ActiveCallLimitError choice) {
        start(ChimeEmulator.builder().regions(regions(100, 100, 1)).endpoint(req -> Mono.never())
                .webhookTimeout(Duration.ofSeconds(30)).activeCallLimitError(choice), Region.US_EAST_1);

        create(valid());
        Throwable t = cause(catchThrowable(() -> create(valid())));

        Class<?> expected = switch (choice) {
            case RESOURCE_LIMIT_EXCEEDED -> ResourceLimitExceededException.class;
            case THROTTLED -> ThrottledClientException.class;
            case SERVICE_UNAVAILABLE -> ServiceUnavailableException.class;
        };
        int status = switch (choice) {
            case RESOURCE_LIMIT_EXCEEDED -> 400;
            case THROTTLED -> 429;
            case SERVICE_UNAVAILABLE -> 503;
        };
        assertThat(t).isInstanceOf(expected);
        assertThat(((software.amazon.awssdk.awscore.exception.AwsServiceException) t).statusCode()).isEqualTo(status);
        assertThat(((software.amazon.awssdk.awscore.exception.AwsServiceException) t).awsErrorDetails().errorMessage())
                .contains("active call limit of 1");
        EmulatorStats s = emu.stats();
        assertThat(s.created()).isEqualTo(1);
        assertThat(s.resourceLimited()).isEqualTo(1);
        assertThat(s.throttled()).isZero();
    }

    @Test
    void create_with5xxFaultBeforeCreate_throwsTypedServerErrorsAndCreatesNothing() {
        start(ChimeEmulator.builder().simulateCalls(false).regions(regions(1000, 1000, 1000))
                .faults(Faults.builder().create5xxBeforeCreate(1).build()), Region.US_EAST_1);

        Set<Class<?>> seen = new HashSet<>();
        for (int i = 0; i < 16; i++) {
            Throwable t = cause(catchThrowable(() -> create(valid())));
            assertThat(t).isInstanceOfAny(ServiceFailureException.class, ServiceUnavailableException.class);
            if (t instanceof ServiceFailureException f) {
                assertThat(f.statusCode()).isEqualTo(500);
            } else {
                assertThat(((ServiceUnavailableException) t).statusCode()).isEqualTo(503);
            }
            seen.add(t.getClass());
        }
        assertThat(seen).containsExactlyInAnyOrder(ServiceFailureException.class, ServiceUnavailableException.class);
        assertThat(emu.stats().created()).isZero();
        assertThat(emu.stats().faults()).containsEntry("create5xxBeforeCreate", 16L);
    }

    @Test
    void create_with5xxFaultAfterCreate_throwsButTheCallExists() {
        start(ChimeEmulator.builder().simulateCalls(false).regions(regions(1000, 1000, 1000))
                .faults(Faults.builder().create5xxAfterCreate(1).build()), Region.US_EAST_1);

        Throwable t = cause(catchThrowable(() -> create(valid())));

        assertThat(t).isInstanceOfAny(ServiceFailureException.class, ServiceUnavailableException.class);
        assertThat(emu.stats().created()).isEqualTo(1);
        assertThat(emu.calls()).hasSize(1);
    }

    @Test
    void create_with429Fault_throwsThrottledClientException() {
        start(ChimeEmulator.builder().simulateCalls(false).faults(Faults.builder().create429(1).build()), Region.US_EAST_1);

        assertThatThrownBy(() -> create(valid()))
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(ThrottledClientException.class));
        assertThat(emu.stats().created()).isZero();
        assertThat(emu.stats().faults()).containsEntry("create429", 1L);
    }

    @Test
    void create_withConnectionResetFault_failsWithoutAnHttpAnswer() {
        start(ChimeEmulator.builder().simulateCalls(false).regions(regions(1000, 1000, 1000))
                .faults(Faults.builder().connectionReset(1).build()), Region.US_EAST_1);

        for (int i = 0; i < 4; i++) {
            Throwable t = cause(catchThrowable(() -> create(valid())));
            assertThat(t).isNotNull().isNotInstanceOf(software.amazon.awssdk.awscore.exception.AwsServiceException.class);
        }
        Map<String, Long> faults = emu.stats().faults();
        long before = faults.getOrDefault("connectionResetBeforeCreate", 0L);
        long after = faults.getOrDefault("connectionResetAfterCreate", 0L);
        assertThat(before + after).isEqualTo(4);
        assertThat(emu.stats().created()).isEqualTo(after);
    }

    @Test
    void update_activeCall_returns202AndCounts() {
        start(ChimeEmulator.builder().regions(regions(100, 100, 10)).endpoint(req -> Mono.never())
                .webhookTimeout(Duration.ofSeconds(30)), Region.US_EAST_1);
        String tx = create(valid()).sipMediaApplicationCall().transactionId();

        UpdateSipMediaApplicationCallResponse r = client.updateSipMediaApplicationCall(b -> b
                .sipMediaApplicationId(EAST_SMA).transactionId(tx).arguments(Map.of("action", "hangup"))).join();

        assertThat(r.sdkHttpResponse().statusCode()).isEqualTo(202);
        assertThat(r.sipMediaApplicationCall().transactionId()).isEqualTo(tx);
        assertThat(emu.stats().updates()).isEqualTo(1);
        assertThat(emu.stats().regions().get("us-east-1").updates()).isEqualTo(1);
    }

    @Test
    void update_unknownTransaction_throwsNotFoundException() {
        start(ChimeEmulator.builder().simulateCalls(false), Region.US_EAST_1);

        assertThatThrownBy(() -> client.updateSipMediaApplicationCall(b -> b.sipMediaApplicationId(EAST_SMA)
                .transactionId("00000000-0000-4000-8000-000000000000").arguments(Map.of())).join())
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(NotFoundException.class));
    }

    @Test
    void update_overUpdateTps_throwsThrottledClientException() {
        start(ChimeEmulator.builder().regions(regions(100, 0.1, 10)).endpoint(req -> Mono.never())
                .webhookTimeout(Duration.ofSeconds(30)), Region.US_EAST_1);
        String tx = create(valid()).sipMediaApplicationCall().transactionId();

        client.updateSipMediaApplicationCall(b -> b.sipMediaApplicationId(EAST_SMA).transactionId(tx).arguments(Map.of())).join();
        assertThatThrownBy(() -> client.updateSipMediaApplicationCall(b -> b.sipMediaApplicationId(EAST_SMA)
                .transactionId(tx).arguments(Map.of())).join())
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(ThrottledClientException.class));
        assertThat(emu.stats().updatesThrottled()).isEqualTo(1);
    }

    @Test
    void rawRequests_withoutAuthorizationOrArguments_getTheDocumentedErrors() throws Exception {
        start(ChimeEmulator.builder().simulateCalls(false), Region.US_EAST_1);
        HttpClient http = HttpClient.create().baseUrl(emu.url().toString());
        String body = "{\"FromPhoneNumber\":\"+17035550100\",\"ToPhoneNumber\":\"+14155550123\"}";

        Raw noAuth = post(http, "/sip-media-applications/" + EAST_SMA + "/calls", body, null);
        assertThat(noAuth.status).isEqualTo(401);
        assertThat(noAuth.errorType).isEqualTo("UnauthorizedClientException");
        assertThat(noAuth.json.path("Code").asText()).isEqualTo("Unauthorized");
        assertThat(noAuth.json.path("Message").asText()).isNotEmpty();

        String auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/chime/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=" + "ab".repeat(32);
        Raw malformed = post(http, "/sip-media-applications/" + EAST_SMA + "/calls", body, "Bearer x");
        assertThat(malformed.status).isEqualTo(401);

        Raw ok = post(http, "/sip-media-applications/" + EAST_SMA + "/calls", body, auth);
        assertThat(ok.status).isEqualTo(201);
        String tx = ok.json.path("SipMediaApplicationCall").path("TransactionId").asText();
        assertThat(tx).matches(GUID);

        Raw noArguments = post(http, "/sip-media-applications/" + EAST_SMA + "/calls/" + tx, "{}", auth);
        assertThat(noArguments.status).isEqualTo(400);
        assertThat(noArguments.errorType).isEqualTo("BadRequestException");

        Raw notJson = post(http, "/sip-media-applications/" + EAST_SMA + "/calls", "{nope", auth);
        assertThat(notJson.status).isEqualTo(400);
        assertThat(emu.stats().created()).isEqualTo(1);
    }

    @Test
    void groundTruthEndpoints_serveStatsCallsAndConfig() throws Exception {
        start(ChimeEmulator.builder().simulateCalls(false), Region.US_EAST_1);
        create(valid());
        create(valid());
        HttpClient http = HttpClient.create().baseUrl(emu.url().toString());

        JsonNode stats = get(http, "/emulator/v1/stats");
        assertThat(stats.path("created").asLong()).isEqualTo(2);
        assertThat(stats.path("duplicateNumbers").asLong()).isEqualTo(1);
        for (String f : List.of("throttled", "active", "peakActive", "invocations", "invalidResponses", "budgetExhausted")) {
            assertThat(stats.has(f)).as(f).isTrue();
        }
        // 2 unless the machine stalled for a second between the two Creates.
        assertThat(stats.path("regions").path("us-east-1").path("maxCreatesInOneSecond").asLong()).isBetween(1L, 2L);
        assertThat(stats.path("regions").path("us-east-1").has("updates")).isTrue();
        assertThat(stats.path("regions").path("us-west-2").path("peakActive").asLong()).isZero();

        JsonNode calls = get(http, "/emulator/v1/calls");
        assertThat(calls.size()).isEqualTo(2);
        assertThat(calls.get(0).path("smaId").asText()).isEqualTo(EAST_SMA);
        assertThat(calls.get(0).path("arguments").path("contactId").asText()).isEqualTo("c-1");
        assertThat(calls.get(0).path("created").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");

        String tx = calls.get(1).path("transactionId").asText();
        assertThat(get(http, "/emulator/v1/calls/" + tx).path("transactionId").asText()).isEqualTo(tx);

        JsonNode config = get(http, "/emulator/v1/config");
        assertThat(config.path("regions").path("us-east-1").path("sipMediaApplicationId").asText()).isEqualTo(EAST_SMA);
        assertThat(config.path("regions").path("us-west-2").path("fromNumbers").get(0).asText()).isEqualTo("+12065550100");
        assertThat(config.path("regions").path("us-east-1").path("quotas").path("maxActiveCalls").asInt()).isEqualTo(100);
        assertThat(config.path("scenario").path("mix").path("answered").asDouble()).isEqualTo(0.7);
        assertThat(config.path("activeCallLimitError").asText()).isEqualTo("resourceLimitExceeded");
        assertThat(config.path("retrySequence").asText()).isEqualTo("same");
        assertThat(config.path("faults").path("authDeniedRegions").size()).isZero();
        assertThat(config.path("faults").path("actionFailure").asDouble()).isZero();
    }

    @Test
    void create_withLatencyFault_stillAnswersAndCountsIt() {
        start(ChimeEmulator.builder().simulateCalls(false)
                .faults(Faults.builder().latency(1, Duration.ofMillis(50)).build()), Region.US_EAST_1);

        assertThat(create(valid()).sipMediaApplicationCall().transactionId()).matches(GUID);
        assertThat(emu.stats().faults()).containsEntry("latency", 1L);
    }

    @Test
    void standalone_startFromOptions_describesUrlAndSmaIds(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path scenario = dir.resolve("s.yaml");
        java.nio.file.Files.writeString(scenario, "mix: {busy: 1}\n");
        emu = Standalone.startFromOptions(0, java.net.URI.create("http://127.0.0.1:9/v1/sma/invocations"), "s3cret",
                scenario, 0.5, 7L);

        String text = emu.describe();

        assertThat(text).contains(emu.url().toString()).contains(EAST_SMA).contains(WEST_SMA)
                .contains("us-east-1").contains("us-west-2").contains("http://127.0.0.1:9/v1/sma/invocations")
                .doesNotContain("s3cret");
        assertThat(emu.scenario().mix().busy()).isEqualTo(1.0);
        assertThat(emu.regions()).extracting(EmulatorRegion::name).containsExactly("us-east-1", "us-west-2");
    }

    @Test
    void standalone_behaviourFlags_reachTheConfig() throws Exception {
        emu = Standalone.startFromOptions(0, null, null, null, null, null, List.of("--fault-auth=us-west-2",
                "--fault-action-failed=0.25", "--fault-action-error=AccessDenied:3,SystemException",
                "--active-call-limit-error=throttled", "--retry-sequence=increment", "--hangup-without-sip-code=0.05"));
        HttpClient http = HttpClient.create().baseUrl(emu.url().toString());

        JsonNode config = get(http, "/emulator/v1/config");

        JsonNode faults = config.path("faults");
        assertThat(faults.path("authDeniedRegions")).containsExactly(MAPPER.readTree("\"us-west-2\""));
        assertThat(faults.path("actionFailure").asDouble()).isEqualTo(0.25);
        assertThat(faults.path("actionErrorTypes").path("AccessDenied").asDouble()).isEqualTo(3.0);
        assertThat(faults.path("actionErrorTypes").path("SystemException").asDouble()).isEqualTo(1.0);
        assertThat(faults.path("actionErrorTypes").has("InvalidAudioSource")).isFalse();
        assertThat(config.path("activeCallLimitError").asText()).isEqualTo("throttled");
        assertThat(config.path("retrySequence").asText()).isEqualTo("increment");
        assertThat(config.path("scenario").path("hangupWithoutSipCodeProbability").asDouble()).isEqualTo(0.05);
        emu.close();

        emu = Standalone.startFromOptions(0, null, null, null, null, null, List.of("--fault-auth"));
        assertThat(get(HttpClient.create().baseUrl(emu.url().toString()), "/emulator/v1/config")
                .path("faults").path("authDeniedRegions").get(0).asText()).isEqualTo("*");
    }

    @Test
    void standalone_badFlag_isRejectedNamingIt() {
        assertThatThrownBy(() -> Standalone.startFromOptions(0, null, null, null, null, null, List.of("--fault-action-error=Oops")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--fault-action-error: ")
                .hasMessageContaining("Oops");
        assertThatThrownBy(() -> Standalone.startFromOptions(0, null, null, null, null, null, List.of("--retry-sequence=twice")))
                .hasMessageStartingWith("--retry-sequence: ");
        assertThatThrownBy(() -> Standalone.startFromOptions(0, null, null, null, null, null, List.of("--fault-action-failed=2")))
                .hasMessageContaining("actionFailure");
        assertThatThrownBy(() -> Standalone.startFromOptions(0, null, null, null, null, null, List.of("--fault-auth=mars-1")))
                .hasMessageContaining("mars-1");
        assertThatThrownBy(() -> Standalone.startFromOptions(0, null, null, null, null, null, List.of("--colour=blue")))
                .hasMessageStartingWith("--colour: ");
    }

    private record Raw(int status, String errorType, JsonNode json) {
    }

    private static Raw post(HttpClient http, String path, String body, String auth) throws Exception {
        return http.headers(h -> {
                    h.set(HttpHeaderNames.CONTENT_TYPE, "application/json");
                    if (auth != null) {
                        h.set(HttpHeaderNames.AUTHORIZATION, auth);
                    }
                })
                .post().uri(path).send((req, out) -> out.sendString(Mono.just(body)))
                .responseSingle((res, b) -> b.asString().defaultIfEmpty("{}").map(s -> {
                    try {
                        return new Raw(res.status().code(), res.responseHeaders().get("x-amzn-ErrorType"), MAPPER.readTree(s));
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException(e);
                    }
                }))
                .block(Duration.ofSeconds(10));
    }

    private static JsonNode get(HttpClient http, String path) throws Exception {
        String s = http.get().uri(path).responseSingle((res, b) -> b.asString()).block(Duration.ofSeconds(10));
        return MAPPER.readTree(s);
    }

    private static Throwable catchThrowable(Runnable r) {
        try {
            r.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }
}
