package io.chimedialer.core.chime;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.pacing.internal.RegionRateLimiter;
import io.netty.channel.ChannelOption;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The real SDK path against a wire-level stub of the Chime REST API: each HTTP answer maps to the right
 * outcome, and the stub sees exactly one request per create (the SDK's retries are off).
 */
class SdkOriginatorTest {

    private static final String TX = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    private static final Duration BOUND = Duration.ofSeconds(10);

    private final ConcurrentMap<String, AtomicInteger> requestsByTo = new ConcurrentHashMap<>();
    private final List<String> bodies = new CopyOnWriteArrayList<>();
    private DisposableServer server;
    private ChimeClients clients;
    private SdkOriginator originator;
    private RegionConfig region;

    @BeforeEach
    void start() {
        server = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r.post("/sip-media-applications/{sma}/calls", this::create)
                        .post("/sip-media-applications/{sma}/calls/{tx}", this::update)
                        .get("/sip-media-applications/{sma}", this::getSma))
                .bindNow();
        region = region(URI.create("http://127.0.0.1:" + server.port()));
        clients = ChimeClients.create(List.of(region), credentials(), ChimeClientSettings.ofDefaults());
        originator = new SdkOriginator(clients,
                Map.of("us-east-1", RegionRateLimiter.fixed("us-east-1", 5, 1, Duration.ofSeconds(5),
                        Schedulers.parallel())), Schedulers.parallel());
    }

    @AfterEach
    void stop() {
        if (clients != null) {
            clients.close();
        }
        if (server != null) {
            server.disposeNow(BOUND);
        }
    }

    private Mono<Void> create(HttpServerRequest req, HttpServerResponse res) {
        return req.receive().aggregate().asString().defaultIfEmpty("").flatMap(body -> {
            bodies.add(body);
            String to = field(body, "ToPhoneNumber");
            requestsByTo.computeIfAbsent(to, k -> new AtomicInteger()).incrementAndGet();
            return switch (to) {
                case "+15550000201" -> json(res.status(201), "{\"SipMediaApplicationCall\":{\"TransactionId\":\"" + TX + "\"}}");
                case "+15550000202" -> json(res.status(202), "{\"SipMediaApplicationCall\":{\"TransactionId\":\"" + TX + "\"}}");
                case "+15550000429" -> error(res, 429, "ThrottledClientException", "Rate exceeded");
                case "+15550000400" -> error(res, 400, "BadRequestException", "Invalid ToPhoneNumber");
                case "+15550000401" -> error(res, 400, "ResourceLimitExceededException", "Active call limit");
                case "+15550000403" -> error(res, 403, "ForbiddenException", "Forbidden");
                case "+15550000413" -> error(res, 403, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/d "
                        + "is not authorized to perform: chime:CreateSipMediaApplicationCall");
                case "+15550000411" -> error(res, 401, "UnauthorizedClientException", "The security token is expired");
                case "+15550000404" -> error(res, 404, "NotFoundException", "SIP media application not found");
                case "+15550000402" -> error(res, 400, "BadRequestException",
                        "FromPhoneNumber is not in the phone number inventory of us-east-1");
                case "+15550000409" -> error(res, 400, "BadRequestException", "Invalid SIP header(s) provided");
                case "+15550000422" -> error(res, 422, "UnprocessableEntityException", "Unprocessable");
                case "+15550000503" -> error(res, 503, "ServiceUnavailableException", "Unavailable");
                case "+15550000500" -> error(res, 500, "ServiceFailureException", "Failure");
                case "+15550000999" -> Mono.<Void>fromRunnable(() -> res.withConnection(c -> {
                    // Abortive close (RST) after the request was read: the call's fate is unknown.
                    c.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                    c.channel().close();
                })).then(Mono.never());
                case "+15550000998" -> Mono.never(); // never answers: the API call times out
                default -> error(res, 500, "ServiceFailureException", "unexpected " + to);
            };
        });
    }

    private Mono<Void> update(HttpServerRequest req, HttpServerResponse res) {
        return req.receive().aggregate().asString().defaultIfEmpty("").flatMap(body -> {
            bodies.add(body);
            requestsByTo.computeIfAbsent("update:" + req.param("tx"), k -> new AtomicInteger()).incrementAndGet();
            if ("gone".equals(req.param("tx"))) {
                return error(res, 404, "NotFoundException", "no such call");
            }
            return json(res.status(202), "{\"SipMediaApplicationCall\":{\"TransactionId\":\"" + req.param("tx") + "\"}}");
        });
    }

    private Mono<Void> getSma(HttpServerRequest req, HttpServerResponse res) {
        requestsByTo.computeIfAbsent("get:" + req.param("sma"), k -> new AtomicInteger()).incrementAndGet();
        return switch (req.param("sma")) {
            case "sma-ok" -> json(res.status(200), "{\"SipMediaApplication\":{\"SipMediaApplicationId\":\"sma-ok\","
                    + "\"AwsRegion\":\"us-east-1\",\"Name\":\"outbound\",\"CreatedTimestamp\":\"2026-01-02T03:04:05Z\"}}");
            case "sma-gone" -> error(res, 404, "NotFoundException", "SipMediaApplication sma-gone not found");
            case "sma-denied" -> error(res, 403, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/d "
                    + "is not authorized to perform: chime:GetSipMediaApplication");
            default -> error(res, 503, "ServiceUnavailableException", "Unavailable");
        };
    }

    private RegionCheck checkSma(String smaId) {
        RegionConfig other = new RegionConfig(region.name(), smaId, region.callsPerSecond(), region.burst(),
                region.maxActiveCalls(), region.updateCallsPerSecond(), region.fromNumbers(), region.endpoint());
        return originator.check(other).block(BOUND);
    }

    @Test
    void check_eachAnswer_mapsToItsValueWithOneRequest() {
        assertThat(checkSma("sma-ok")).isEqualTo(new RegionCheck.Found("outbound", "us-east-1"));
        assertThat(checkSma("sma-gone")).isEqualTo(new RegionCheck.NotFound("SipMediaApplication sma-gone not found"));
        assertThat(checkSma("sma-denied")).isInstanceOfSatisfying(RegionCheck.NotPermitted.class,
                d -> assertThat(d.errorType()).isEqualTo("AccessDeniedException"));
        assertThat(checkSma("sma-down")).isEqualTo(new RegionCheck.Failed("ServiceUnavailableException", "Unavailable"));
        for (String sma : List.of("sma-ok", "sma-gone", "sma-denied", "sma-down")) {
            assertThat(requestsTo("get:" + sma)).as(sma).isEqualTo(1);
        }
    }

    private static Mono<Void> json(HttpServerResponse res, String body) {
        return res.header("Content-Type", "application/json").sendString(Mono.just(body)).then();
    }

    private static Mono<Void> error(HttpServerResponse res, int status, String type, String message) {
        return res.status(status).header("x-amzn-ErrorType", type).header("Content-Type", "application/json")
                .sendString(Mono.just("{\"Code\":\"" + type + "\",\"Message\":\"" + message + "\"}")).then();
    }

    private static String field(String json, String name) {
        int i = json.indexOf("\"" + name + "\"");
        if (i < 0) {
            return "";
        }
        int start = json.indexOf('"', json.indexOf(':', i) + 1) + 1;
        return json.substring(start, json.indexOf('"', start));
    }

    private CreateOutcome createTo(String number) {
        Attempt attempt = new Attempt("att-" + number, "camp-1", new Contact(1, "c1", number, "", null, Map.of()), 1,
                "us-east-1", "+12065550100");
        return originator.create(attempt, region, Map.of("greeting", "hello")).block(BOUND);
    }

    private int requestsTo(String number) {
        AtomicInteger n = requestsByTo.get(number);
        return n == null ? 0 : n.get();
    }

    @Test
    void create_201_placedWithTransactionIdAndArguments() {
        CreateOutcome outcome = createTo("+15550000201");

        assertThat(outcome).isEqualTo(new CreateOutcome.Placed(TX));
        assertThat(requestsTo("+15550000201")).isEqualTo(1);
        String body = bodies.get(0);
        assertThat(body).contains("\"FromPhoneNumber\":\"+12065550100\"")
                .contains("\"campaignId\":\"camp-1\"")
                .contains("\"attemptId\":\"att-+15550000201\"")
                .contains("\"greeting\":\"hello\"");
    }

    @Test
    void create_202_placed() {
        assertThat(createTo("+15550000202")).isEqualTo(new CreateOutcome.Placed(TX));
        assertThat(requestsTo("+15550000202")).isEqualTo(1);
    }

    @Test
    void create_429_throttledAndSentOnce() {
        assertThat(createTo("+15550000429")).isInstanceOf(CreateOutcome.Throttled.class);
        assertThat(requestsTo("+15550000429")).isEqualTo(1);
    }

    @Test
    void create_400BadRequest_rejectedAsInvalidNumber() {
        CreateOutcome outcome = createTo("+15550000400");

        assertThat(outcome).isEqualTo(new CreateOutcome.Rejected(Disposition.INVALID_NUMBER, "BadRequestException",
                "Invalid ToPhoneNumber"));
        assertThat(requestsTo("+15550000400")).isEqualTo(1);
    }

    @Test
    void create_400ResourceLimitExceeded_atCapacity() {
        assertThat(createTo("+15550000401")).isInstanceOf(CreateOutcome.AtCapacity.class);
        assertThat(requestsTo("+15550000401")).isEqualTo(1);
    }

    @ParameterizedTest
    @CsvSource({"+15550000403, ForbiddenException", "+15550000413, AccessDeniedException",
            "+15550000411, UnauthorizedClientException", "+15550000404, NotFoundException",
            "+15550000402, BadRequestException"})
    void create_accountOrRegionRefusal_regionFaultNotTheContacts(String to, String errorType) {
        CreateOutcome outcome = createTo(to);

        assertThat(outcome).isInstanceOf(CreateOutcome.RegionFault.class);
        assertThat(((CreateOutcome.RegionFault) outcome).errorType()).isEqualTo(errorType);
        assertThat(outcome.mayBeLive()).isFalse();
        assertThat(requestsTo(to)).isEqualTo(1);
    }

    @ParameterizedTest
    @CsvSource({"+15550000409, BadRequestException", "+15550000422, UnprocessableEntityException"})
    void create_unexplained4xx_rejectedAsFailed(String to, String errorType) {
        CreateOutcome outcome = createTo(to);

        assertThat(outcome).isEqualTo(new CreateOutcome.Rejected(Disposition.FAILED, errorType,
                ((CreateOutcome.Rejected) outcome).message()));
        assertThat(requestsTo(to)).isEqualTo(1);
    }

    @Test
    void create_503_unknownAndSentOnce() {
        CreateOutcome outcome = createTo("+15550000503");
        assertThat(outcome).isInstanceOf(CreateOutcome.Unknown.class);
        assertThat(((CreateOutcome.Unknown) outcome).timedOut()).isFalse();
        assertThat(requestsTo("+15550000503")).isEqualTo(1);
    }

    @Test
    void create_500_unknownAndSentOnce() {
        assertThat(createTo("+15550000500")).isInstanceOf(CreateOutcome.Unknown.class);
        assertThat(requestsTo("+15550000500")).isEqualTo(1);
    }

    @Test
    void create_resetAfterRequest_unknownAndSentOnce() {
        assertThat(createTo("+15550000999")).isInstanceOf(CreateOutcome.Unknown.class);
        assertThat(requestsTo("+15550000999")).isEqualTo(1);
    }

    @Test
    void create_noAnswerWithinApiCallTimeout_unknownAndSentOnce() {
        try (ChimeClients slow = ChimeClients.create(List.of(region), credentials(),
                ChimeClientSettings.ofDefaults().withApiCallTimeout(Duration.ofSeconds(2)))) {
            SdkOriginator impatient = new SdkOriginator(slow, Map.of(), Schedulers.parallel());
            Attempt attempt = new Attempt("att-t", "camp-1", new Contact(1, "c1", "+15550000998", "", null, Map.of()),
                    1, "us-east-1", "+12065550100");
            // Warm the client up first so that the timeout below is the server's silence, not class loading.
            createTo("+15550000201");

            CreateOutcome outcome = impatient.create(attempt, region, Map.of()).block(BOUND);

            assertThat(outcome).isInstanceOf(CreateOutcome.Unknown.class);
            assertThat(((CreateOutcome.Unknown) outcome).timedOut()).as("the API-call timeout").isTrue();
            assertThat(requestsTo("+15550000998")).isEqualTo(1);
        }
    }

    @Test
    void create_noAwsCredentials_regionFaultAndNothingSent() {
        // What the default provider chain throws on a machine without credentials: before any request is signed.
        software.amazon.awssdk.auth.credentials.AwsCredentialsProvider none = () -> {
            throw software.amazon.awssdk.core.exception.SdkClientException.create("Unable to load credentials from"
                    + " any of the providers in the chain AwsCredentialsProviderChain(credentialsProviders=[...])");
        };
        try (ChimeClients noCredentials = ChimeClients.create(List.of(region), none,
                ChimeClientSettings.ofDefaults())) {
            SdkOriginator o = new SdkOriginator(noCredentials, Map.of(), Schedulers.parallel());
            Attempt attempt = new Attempt("att-nc", "camp-1", new Contact(1, "c1", "+15550000201", "", null,
                    Map.of()), 1, "us-east-1", "+12065550100");

            CreateOutcome outcome = o.create(attempt, region, Map.of()).block(BOUND);

            // The account's fault, not the contact's, and provably not created: the Region fails at once (its
            // attempts withdrawn, no contact charged) instead of each call ending UNKNOWN.
            assertThat(outcome).isInstanceOf(CreateOutcome.RegionFault.class);
            assertThat(((CreateOutcome.RegionFault) outcome).errorType()).isEqualTo("NoCredentials");
            assertThat(((CreateOutcome.RegionFault) outcome).message()).contains("AWS credentials");
            assertThat(outcome.mayBeLive()).isFalse();
            assertThat(requestsTo("+15550000201")).isZero();
        }
    }

    @Test
    void create_connectionRefused_notSent() {
        DisposableServer closed = HttpServer.create().host("127.0.0.1").port(0).handle((q, r) -> r.send()).bindNow();
        int port = closed.port();
        closed.disposeNow(BOUND);
        RegionConfig dead = region(URI.create("http://127.0.0.1:" + port));
        try (ChimeClients deadClients = ChimeClients.create(List.of(dead), credentials(), ChimeClientSettings.ofDefaults())) {
            SdkOriginator deadOriginator = new SdkOriginator(deadClients, Map.of(), Schedulers.parallel());
            Attempt attempt = new Attempt("att-x", "camp-1", new Contact(1, "c1", "+15550000201", "", null, Map.of()), 1,
                    "us-east-1", "+12065550100");

            CreateOutcome outcome = deadOriginator.create(attempt, dead, Map.of()).block(BOUND);

            assertThat(outcome).isInstanceOf(CreateOutcome.NotSent.class);
        }
    }

    @Test
    void create_resubscribed_sendsAgain() {
        Attempt attempt = new Attempt("att-r", "camp-1", new Contact(1, "c1", "+15550000201", "", null, Map.of()), 1,
                "us-east-1", "+12065550100");
        Mono<CreateOutcome> call = originator.create(attempt, region, Map.of());

        call.block(BOUND);
        call.block(BOUND);

        assertThat(requestsTo("+15550000201")).isEqualTo(2);
    }

    @Test
    void hangUp_202_updatedWithHangupArgument() {
        UpdateOutcome outcome = originator.hangUp(region, TX).block(BOUND);

        assertThat(outcome).isEqualTo(new UpdateOutcome.Updated(TX));
        assertThat(requestsTo("update:" + TX)).isEqualTo(1);
        assertThat(bodies).anySatisfy(b -> assertThat(b).contains("\"action\":\"hangup\""));
    }

    @Test
    void hangUp_404_notFound() {
        assertThat(originator.hangUp(region, "gone").block(BOUND)).isInstanceOf(UpdateOutcome.NotFound.class);
    }

    @Test
    void create_tooManyArguments_rejectedWithoutSending() {
        Map<String, String> many = new java.util.HashMap<>();
        for (int i = 0; i < 19; i++) {
            many.put("k" + i, "v");
        }
        Attempt attempt = new Attempt("att-m", "camp-1", new Contact(1, "c1", "+15550000201", "", null, Map.of()), 1,
                "us-east-1", "+12065550100");

        CreateOutcome outcome = originator.create(attempt, region, many).block(BOUND);

        assertThat(outcome).isInstanceOf(CreateOutcome.Rejected.class);
        assertThat(((CreateOutcome.Rejected) outcome).errorType()).isEqualTo("InvalidRequest");
        assertThat(requestsTo("+15550000201")).isZero();
    }

    private static RegionConfig region(URI endpoint) {
        return new RegionConfig("us-east-1", "sma-1", 10, 1, 10, 5, List.of("+12065550100"), endpoint);
    }

    private static StaticCredentialsProvider credentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDEXAMPLE", "secret"));
    }
}
