package io.chimedialer.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The AWS Lambda function a SIP media application invokes: it forwards each invocation, byte for
 * byte and signed (DESIGN.md §7a), to the dialer's webhook and returns the dialer's answer byte for
 * byte. When the dialer does not give a {@code 200} with a well-formed JSON object within the budget
 * ({@link BridgeConfig#timeout()}, shortened to what the Lambda has left), it returns a safe
 * {@linkplain Fallback fallback} and logs it with the TransactionId (never a phone number).
 *
 * <p>Several dialer nodes: when the event carries {@code dialerUrl} (in
 * {@code CallDetails.TransactionAttributes}, else in {@code ActionData.Parameters.Arguments}) and
 * {@link BridgeConfig#allowedNodeUrl} admits it, that node is asked first with two thirds of the
 * budget, then the default URL with what is left. A request that fails on a connection already open
 * (the dialer or a load balancer closed it while the function was frozen) is sent once more to the
 * same URL; the dialer is idempotent on {@code (TransactionId, Sequence)}.
 *
 * <p>Spill queue (issue 16 §3): with {@link BridgeConfig#spillQueueUrl()} set, an invocation the dialer did not
 * take (no answer in time, no connection, a 5xx or an unreadable answer; not a 4xx, which means the dialer read
 * it and refused it) is also sent to that Amazon SQS queue ({@link SpillQueue}) before the fallback is returned,
 * so the dialer can record its outcome when it is back. The dialer then gets the budget less
 * {@link BridgeConfig#spillTimeout()}, which is kept for the send: the whole invocation stays within the budget.
 *
 * <p>Lambda uses the no-argument constructor, which reads {@code DIALER_*} environment variables
 * ({@link BridgeConfig#fromEnvironment}). One {@link HttpClient} is shared by all instances and
 * invocations, created on first use. Thread-safe.
 */
public final class SmaBridgeHandler implements RequestStreamHandler {

    /** Kept back from the Lambda's remaining time to write the answer and return. */
    static final Duration OUTPUT_MARGIN = Duration.ofMillis(250);

    private final BridgeConfig config;
    private final WebhookSignature signature;
    private final Clock clock;
    private final SpillQueue spill;

    /** For the Lambda runtime: configuration from the environment; fails the init if it is invalid. */
    public SmaBridgeHandler() {
        this(BridgeConfig.fromEnvironment(System.getenv()), System.getenv(), false);
    }

    /**
     * A handler with an environment of its own instead of the process's (the emulator's Lambda mode): the
     * {@code DIALER_*} variables, and for the spill queue {@code AWS_REGION} and, if present,
     * {@code AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY}/{@code AWS_SESSION_TOKEN} as static credentials.
     *
     * @param environment the function's environment
     */
    public SmaBridgeHandler(Map<String, String> environment) {
        this(BridgeConfig.fromEnvironment(environment), environment, true);
    }

    /**
     * A handler with an explicit configuration (tests, {@link LocalInvoker}); a spill queue uses the SDK's
     * default credentials.
     *
     * @param config the configuration
     */
    public SmaBridgeHandler(BridgeConfig config) {
        this(config, System.getenv(), false);
    }

    private SmaBridgeHandler(BridgeConfig config, Map<String, String> environment, boolean ownEnvironment) {
        this(config, Clock.systemUTC(), config.spills()
                ? SpillQueue.create(config.spillQueueUrl(), environment, ownEnvironment) : null);
    }

    SmaBridgeHandler(BridgeConfig config, Clock clock) {
        this(config, clock, config.spills() ? SpillQueue.create(config.spillQueueUrl(), System.getenv(), false) : null);
    }

    SmaBridgeHandler(BridgeConfig config, Clock clock, SpillQueue spill) {
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.signature = new WebhookSignature(config.secret());
        this.spill = spill;
    }

    /** The configuration this handler runs with. */
    public BridgeConfig config() {
        return config;
    }

    /**
     * Reads the whole invocation, forwards it and writes the answer (the dialer's, or the fallback).
     * Never fails because of the dialer; only an I/O error on {@code input}/{@code output} escapes.
     *
     * @param input   the SMA invocation JSON
     * @param output  receives the answer
     * @param context the Lambda context; may be {@code null} (no deadline but the configured one, logs to stderr)
     */
    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        byte[] body = input.readAllBytes();
        output.write(answer(body, context));
        output.flush();
    }

    byte[] answer(byte[] body, Context context) {
        long start = System.nanoTime();
        long budgetMillis = config.timeout().toMillis();
        if (context != null) {
            long left = context.getRemainingTimeInMillis() - OUTPUT_MARGIN.toMillis();
            budgetMillis = Math.min(budgetMillis, Math.max(0, left));
        }
        long end = start + TimeUnit.MILLISECONDS.toNanos(budgetMillis);
        long forwardMillis = spill == null ? budgetMillis : Math.max(0, budgetMillis - config.spillTimeout().toMillis());
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(forwardMillis);
        SmaEvent event = SmaEvent.parse(body);

        List<Target> targets = new ArrayList<>(2);
        String requested = event.dialerUrl();
        if (requested != null) {
            URI node = config.allowedNodeUrl(requested);
            if (node == null) {
                log(context, "SmaBridge ignored a dialerUrl that is not allowed: " + describe(event));
            } else if (!node.equals(config.webhookUrl())) {
                targets.add(new Target("node", node));
            }
        }
        targets.add(new Target("default", config.webhookUrl()));

        java.time.Instant signedAt = clock.instant();
        long timestamp = signedAt.getEpochSecond();
        String signed = signature.sign(timestamp, body);
        List<String> failures = new ArrayList<>(3);
        boolean refused = false;
        for (int i = 0; i < targets.size(); i++) {
            Target target = targets.get(i);
            boolean last = i == targets.size() - 1;
            for (int attempt = 1; attempt <= 2; attempt++) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    failures.add(target.label + ": no time left");
                    break;
                }
                long slice = last ? left : left * 2 / 3;
                Outcome outcome = post(target.url, body, timestamp, signedAt.toEpochMilli(), signed,
                        Math.max(1, slice));
                if (outcome.answer != null) {
                    if (!failures.isEmpty()) {
                        log(context, "SmaBridge answered by " + target.label + " after " + failures + ": "
                                + describe(event));
                    }
                    return outcome.answer;
                }
                failures.add(target.label + ": " + outcome.failure);
                refused |= outcome.refused;
                if (!outcome.staleConnection) {
                    break;
                }
            }
        }
        String spilled = spill == null ? "" : refused ? "; not spilled (refused by the dialer)"
                : spill(body, failures, end);
        log(context, "SmaBridge fallback (" + Fallback.kindOf(event.type()) + ") after " + failures + spilled + ": "
                + describe(event));
        return Fallback.answer(event, config.fallbackText());
    }

    /** Sends the invocation to the spill queue within what is left of the budget; says how it went, for the log. */
    private String spill(byte[] body, List<String> failures, long end) {
        long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
        if (left <= 0) {
            return "; NOT spilled (no time left)";
        }
        String text = SpillQueue.body(body);
        long timestamp = clock.instant().getEpochSecond();
        String signed = signature.sign(timestamp, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try {
            String id = spill.send(text, timestamp, signed, String.join("; ", failures), Duration.ofMillis(left));
            return "; spilled as message " + id;
        } catch (RuntimeException e) {
            return "; NOT spilled (" + e.getClass().getSimpleName() + ")";
        }
    }

    private Outcome post(URI url, byte[] body, long timestamp, long sentAtMillis, String signed, long timeoutMillis) {
        HttpRequest request = HttpRequest.newBuilder(url)
                .timeout(Duration.ofMillis(timeoutMillis))
                .header("Content-Type", "application/json")
                .header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(timestamp))
                // The signing time in milliseconds: the dialer's webhook lag sees a wait under 1 s with it.
                .header(WebhookSignature.SENT_AT_HEADER, Long.toString(sentAtMillis))
                .header(WebhookSignature.SIGNATURE_HEADER, signed)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        CompletableFuture<HttpResponse<byte[]>> pending;
        try {
            pending = SharedHttpClient.get().sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (RuntimeException e) {
            return Outcome.failed("request not sent (" + e.getClass().getSimpleName() + ")", false);
        }
        HttpResponse<byte[]> response;
        try {
            response = pending.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            pending.cancel(true);
            return Outcome.failed("no answer within " + timeoutMillis + " ms", false);
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            return Outcome.failed("interrupted", false);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof HttpConnectTimeoutException || cause instanceof ConnectException) {
                return Outcome.failed("connection failed (" + cause.getClass().getSimpleName() + ")", false);
            }
            if (cause instanceof HttpTimeoutException) {
                return Outcome.failed("no answer within " + timeoutMillis + " ms", false);
            }
            // An I/O error after connecting is most often a pooled connection closed while frozen.
            return Outcome.failed("I/O error (" + cause.getClass().getSimpleName() + ")",
                    cause instanceof IOException);
        }
        if (response.statusCode() != 200) {
            int status = response.statusCode();
            return new Outcome(null, "HTTP " + status, false, status >= 400 && status < 500);
        }
        byte[] answer = response.body();
        if (!Json.isObject(answer)) {
            return Outcome.failed("unreadable answer (" + (answer == null ? 0 : answer.length) + " bytes)", false);
        }
        return new Outcome(answer, null, false, false);
    }

    private static String describe(SmaEvent event) {
        return "transactionId=" + event.transactionId() + " event=" + event.type() + " sequence="
                + event.sequence() + " sipMediaApplicationId=" + event.sipMediaApplicationId();
    }

    private static void log(Context context, String line) {
        LambdaLogger logger = context == null ? null : context.getLogger();
        if (logger != null) {
            logger.log(line);
        } else {
            System.err.println(line);
        }
    }

    private record Target(String label, URI url) {
    }

    private record Outcome(byte[] answer, String failure, boolean staleConnection, boolean refused) {
        static Outcome failed(String failure, boolean staleConnection) {
            return new Outcome(null, failure, staleConnection, false);
        }
    }

    /** The one client of the function instance, created on first use and kept across invocations. */
    static final class SharedHttpClient {

        private SharedHttpClient() {
        }

        static HttpClient get() {
            return Holder.CLIENT;
        }

        private static final class Holder {
            // HTTP/1.1 on purpose: no h2c upgrade dance with the dialer's server on plain http.
            static final HttpClient CLIENT = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .connectTimeout(Duration.ofSeconds(2))
                    .build();
        }
    }
}
