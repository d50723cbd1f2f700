package io.chimedialer.lambda;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageRequest;

/**
 * Where the bridge puts an invocation the dialer did not take (issue 16 §3): one SQS {@code SendMessage} with the
 * event's exact text as the body and three String attributes, {@value #TIMESTAMP}, {@value #SIGNATURE} (the
 * webhook's signature of that body at that time, so the dialer checks the message came from a holder of the
 * secret) and {@value #REASON} (why the dialer did not take it; never a phone number). The dialer drains the queue
 * ({@code webhook.spill-queue}, docs/configuration.md).
 *
 * <p>One {@link SqsClient} over the JDK's {@code HttpURLConnection} (no Apache or Netty client: smaller jar, quicker
 * start), created with the handler, so a SnapStart snapshot holds it initialised; credentials are resolved on the
 * first send (after a restore). The endpoint is the queue URL's scheme and authority; the Region is
 * {@code AWS_REGION}, else the one in an {@code sqs.<region>.amazonaws.com} host, else us-east-1. Thread-safe.
 */
final class SpillQueue implements AutoCloseable {

    /** Message attribute: the unix seconds the signature was made at. */
    static final String TIMESTAMP = "dialer-timestamp";
    /** Message attribute: {@code v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>}. */
    static final String SIGNATURE = "dialer-signature";
    /** Message attribute: why the dialer did not take the invocation. */
    static final String REASON = "dialer-spill-reason";

    private static final Pattern SQS_HOST = Pattern.compile("^sqs[.-]([a-z0-9-]+)\\.amazonaws\\.com(\\.cn)?$");

    private final URI queueUrl;
    private final SqsClient client;

    private SpillQueue(URI queueUrl, SqsClient client) {
        this.queueUrl = queueUrl;
        this.client = client;
    }

    /**
     * The queue of a configuration.
     *
     * @param queueUrl    the queue's URL
     * @param environment the function's environment: {@code AWS_REGION}, and, only when the handler was given an
     *                    environment of its own (the emulator's Lambda mode), {@code AWS_ACCESS_KEY_ID} /
     *                    {@code AWS_SECRET_ACCESS_KEY} / {@code AWS_SESSION_TOKEN} as static credentials
     * @param ownEnvironment whether {@code environment} was handed over rather than the process's (then its keys
     *                    are used as given; otherwise the SDK's default chain, which on Lambda reads the function's
     *                    role and follows its renewals)
     */
    static SpillQueue create(URI queueUrl, Map<String, String> environment, boolean ownEnvironment) {
        Objects.requireNonNull(queueUrl, "queueUrl");
        AwsCredentialsProvider credentials = ownEnvironment ? staticCredentials(environment) : null;
        SqsClient client = SqsClient.builder()
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(1))
                        .socketTimeout(Duration.ofSeconds(2))
                        .build())
                .endpointOverride(URI.create(queueUrl.getScheme() + "://" + queueUrl.getRawAuthority()))
                .region(region(queueUrl, environment))
                .credentialsProvider(credentials != null ? credentials : DefaultCredentialsProvider.builder().build())
                .build();
        prime(queueUrl);
        return new SpillQueue(queueUrl, client);
    }

    /**
     * Runs one SendMessage through the SDK's whole pipeline (endpoint rules, signing, marshalling, the answer's
     * checks) against an HTTP client that answers in memory, so that the first real spill does not pay for
     * loading and initialising those classes (over a second in a fresh JVM, more than the spill's part of the
     * budget). Done at init, it is in the SnapStart snapshot. Any failure here is ignored.
     */
    private static void prime(URI queueUrl) {
        SdkHttpClient canned = new SdkHttpClient() {
            @Override
            public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
                return new ExecutableHttpRequest() {
                    @Override
                    public HttpExecuteResponse call() {
                        byte[] json = "{\"MessageId\":\"prime\"}".getBytes(StandardCharsets.UTF_8);
                        return HttpExecuteResponse.builder()
                                .response(SdkHttpResponse.builder().statusCode(200)
                                        .putHeader("Content-Type", "application/x-amz-json-1.0")
                                        .putHeader("Content-Length", Integer.toString(json.length)).build())
                                .responseBody(AbortableInputStream.create(new ByteArrayInputStream(json)))
                                .build();
                    }

                    @Override
                    public void abort() {
                    }
                };
            }

            @Override
            public void close() {
            }
        };
        try (SqsClient primer = SqsClient.builder().httpClient(canned)
                .endpointOverride(URI.create(queueUrl.getScheme() + "://" + queueUrl.getRawAuthority()))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("prime", "prime")))
                .build()) {
            primer.sendMessage(SendMessageRequest.builder().queueUrl(queueUrl.toString()).messageBody("{}")
                    .messageAttributes(Map.of(TIMESTAMP, text("0"), SIGNATURE, text("v1="), REASON, text("prime")))
                    .overrideConfiguration(c -> c.apiCallTimeout(Duration.ofSeconds(5)))
                    .build());
        } catch (RuntimeException e) {
            // the canned answer has no checksums: the SDK's check refuses it, after everything else ran
        }
    }

    /** The queue's URL. */
    URI queueUrl() {
        return queueUrl;
    }

    /**
     * Sends one event.
     *
     * @param body      the event's text
     * @param timestamp the signature's unix seconds
     * @param signature the signature of {@code body} at {@code timestamp}
     * @param reason    why (no phone number)
     * @param within    the most the call may take, retries included
     * @return the message id
     * @throws RuntimeException (the SDK's) when it was not sent in time
     */
    String send(String body, long timestamp, String signature, String reason, Duration within) {
        SendMessageRequest request = SendMessageRequest.builder()
                .queueUrl(queueUrl.toString())
                .messageBody(body)
                .messageAttributes(Map.of(
                        TIMESTAMP, text(Long.toString(timestamp)),
                        SIGNATURE, text(signature),
                        REASON, text(reason.length() > 256 ? reason.substring(0, 256) : reason)))
                .overrideConfiguration(c -> c.apiCallTimeout(within))
                .build();
        return client.sendMessage(request).messageId();
    }

    /** The body as sent: the event's bytes as UTF-8 text (what the signature covers is this text's bytes). */
    static String body(byte[] event) {
        return new String(event, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        client.close();
    }

    private static MessageAttributeValue text(String value) {
        return MessageAttributeValue.builder().dataType("String").stringValue(value).build();
    }

    static Region region(URI queueUrl, Map<String, String> environment) {
        String configured = environment.get("AWS_REGION");
        if (configured != null && !configured.isBlank()) {
            return Region.of(configured.trim());
        }
        Matcher m = SQS_HOST.matcher(queueUrl.getHost().toLowerCase(Locale.ROOT));
        if (m.matches()) {
            return Region.of(m.group(1));
        }
        return Region.US_EAST_1;
    }

    private static AwsCredentialsProvider staticCredentials(Map<String, String> environment) {
        String key = environment.get("AWS_ACCESS_KEY_ID");
        String secret = environment.get("AWS_SECRET_ACCESS_KEY");
        if (key == null || key.isBlank() || secret == null || secret.isBlank()) {
            return null;
        }
        String token = environment.get("AWS_SESSION_TOKEN");
        return StaticCredentialsProvider.create(token == null || token.isBlank()
                ? AwsBasicCredentials.create(key, secret) : AwsSessionCredentials.create(key, secret, token));
    }
}
