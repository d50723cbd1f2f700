package io.chimedialer.core.chime;

import static org.assertj.core.api.Assertions.assertThat;

import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.pacing.DialResult;
import io.chimedialer.core.pacing.Dialer;
import io.chimedialer.core.pacing.DialerSettings;
import io.chimedialer.core.pacing.PacingSettings;
import io.chimedialer.core.pacing.RegionPacing;
import io.chimedialer.core.pacing.RegionRouter;
import io.chimedialer.core.pacing.ResilientCreate;
import io.chimedialer.core.pacing.RetrySettings;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The whole origination half on real time: Dialer -> ResilientCreate -> SdkOriginator -> the real SDK ->
 * a wire stub that answers 201 and counts requests per attempt id.
 */
class ChimeDialIT {

    private static final Pattern ATTEMPT = Pattern.compile("\"attemptId\":\"([^\"]+)\"");
    private static final Pattern TO = Pattern.compile("\"ToPhoneNumber\":\"([^\"]+)\"");

    private final ConcurrentMap<String, AtomicInteger> byAttempt = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, AtomicInteger> byNumber = new ConcurrentHashMap<>();
    private DisposableServer server;
    private Scheduler scheduler;

    @BeforeEach
    void start() {
        server = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r.post("/sip-media-applications/{sma}/calls", (req, res) ->
                        req.receive().aggregate().asString().flatMap(body -> {
                            count(byAttempt, ATTEMPT.matcher(body));
                            count(byNumber, TO.matcher(body));
                            return res.status(201).header("Content-Type", "application/json")
                                    .sendString(Mono.just("{\"SipMediaApplicationCall\":{\"TransactionId\":\""
                                            + UUID.randomUUID() + "\"}}")).then();
                        })))
                .bindNow();
        scheduler = Schedulers.newParallel("dial-it", 2);
    }

    @AfterEach
    void stop() {
        server.disposeNow(Duration.ofSeconds(10));
        scheduler.dispose();
    }

    private static void count(ConcurrentMap<String, AtomicInteger> counts, Matcher m) {
        counts.computeIfAbsent(m.find() ? m.group(1) : "?", k -> new AtomicInteger()).incrementAndGet();
    }

    @Test
    void dial_threeHundredContacts_eachSentExactlyOnceWithinTheCap() {
        RegionConfig config = new RegionConfig("us-east-1", "sma-1", 100, 10, 40, 5,
                List.of("+12065550100", "+12065550101"), URI.create("http://127.0.0.1:" + server.port()));
        try (ChimeClients clients = ChimeClients.create(List.of(config),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDEXAMPLE", "secret")),
                ChimeClientSettings.ofDefaults())) {
            RegionPacing region = RegionPacing.create(config, PacingSettings.ofDefaults(), scheduler, p -> { });
            SdkOriginator originator = new SdkOriginator(clients, RegionPacing.hangUpLimiters(List.of(region)),
                    scheduler);
            Dialer dialer = new Dialer("camp-it", new RegionRouter(Map.of(region, 1), Duration.ofSeconds(1), scheduler),
                    new ResilientCreate(originator, RetrySettings.ofDefaults(), scheduler), DialerSettings.ofDefaults(),
                    () -> UUID.randomUUID().toString(), scheduler);
            Flux<Contact> contacts = Flux.range(1, 300)
                    .map(i -> new Contact(i, "c" + i, String.format("+1555%07d", i), "", null, Map.of()));

            List<DialResult> results = dialer.dial(contacts, attempts -> Mono.empty(), n -> false)
                    // Plays the webhook: each call "hangs up" 200 ms after it was placed.
                    .doOnNext(r -> scheduler.schedule(r.permit()::release, 200, TimeUnit.MILLISECONDS))
                    .collectList()
                    .block(Duration.ofSeconds(60));

            assertThat(results).hasSize(300)
                    .allSatisfy(r -> assertThat(r.outcome()).isInstanceOf(CreateOutcome.Placed.class));
            assertThat(byAttempt).hasSize(300).allSatisfy((id, n) -> assertThat(n.get()).isEqualTo(1));
            assertThat(byNumber).hasSize(300);
            assertThat(results.stream().map(r -> r.attempt().attemptId())).doesNotHaveDuplicates()
                    .allSatisfy(id -> assertThat(byAttempt).containsKey(id));
            assertThat(region.permits().peak()).isLessThanOrEqualTo(40);
            assertThat(region.limiter().granted()).isEqualTo(300);
        }
    }
}
