package io.chimedialer.lambda;

import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;

/**
 * Runs a {@link RequestStreamHandler} in-process the way the Lambda runtime would: the request bytes
 * as the input stream, a fresh {@link LocalContext} per invocation, the output stream's bytes as the
 * answer. This is how the emulator's Lambda mode drives the real {@link SmaBridgeHandler}, e.g.
 * {@code json -> Mono.fromCallable(() -> invoker.invoke(json)).subscribeOn(Schedulers.boundedElastic())}.
 *
 * <p>{@link #invoke} blocks for as long as the handler runs (the bridge: at most its budget); keep it
 * off event-loop threads. The function timeout is reported through the context, not enforced.
 * Thread-safe if the handler is.
 */
public final class LocalInvoker {

    /** The function timeout the template deploys with. */
    public static final Duration DEFAULT_FUNCTION_TIMEOUT = Duration.ofSeconds(6);

    private final RequestStreamHandler handler;
    private final Duration functionTimeout;
    private final LambdaLogger logger;

    /** An invoker with the deployed function timeout and logs on standard error. */
    public LocalInvoker(RequestStreamHandler handler) {
        this(handler, DEFAULT_FUNCTION_TIMEOUT, LocalContext.stderrLogger());
    }

    /**
     * An invoker.
     *
     * @param handler         the handler to run
     * @param functionTimeout what each invocation's context reports as the function timeout
     * @param logger          the context's logger
     */
    public LocalInvoker(RequestStreamHandler handler, Duration functionTimeout, LambdaLogger logger) {
        this.handler = Objects.requireNonNull(handler, "handler");
        this.functionTimeout = Objects.requireNonNull(functionTimeout, "functionTimeout");
        this.logger = Objects.requireNonNull(logger, "logger");
        if (functionTimeout.isNegative() || functionTimeout.isZero()) {
            throw new IllegalArgumentException("functionTimeout: must be positive");
        }
    }

    /**
     * The bridge as deployed, forwarding to a dialer webhook with the default budget and fallback.
     *
     * @param webhookUrl the dialer's {@code /v1/sma/invocations} URL (or its base URL)
     * @param secret     the webhook secret
     * @return an invoker of a {@link SmaBridgeHandler}
     */
    public static LocalInvoker forDialer(URI webhookUrl, String secret) {
        return new LocalInvoker(new SmaBridgeHandler(BridgeConfig.of(webhookUrl, secret)));
    }

    /** The handler this invoker runs. */
    public RequestStreamHandler handler() {
        return handler;
    }

    /**
     * Invokes the handler once.
     *
     * @param requestJson the invocation event, as Chime would send it
     * @return exactly the bytes the handler wrote
     * @throws UncheckedIOException if the handler throws an {@link IOException} (a function error)
     */
    public byte[] invoke(byte[] requestJson) {
        Objects.requireNonNull(requestJson, "requestJson");
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        LocalContext context = new LocalContext(UUID.randomUUID().toString(), functionTimeout, logger);
        try {
            handler.handleRequest(new ByteArrayInputStream(requestJson), out, context);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
