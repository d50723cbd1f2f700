package io.chimedialer.lambda;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A Lambda {@link Context} for running a handler in-process (the emulator's Lambda mode, tests): the
 * function's deadline starts when the context is created, so make one per invocation. Identity and
 * client context are {@code null}, as for a function invoked by a service. Immutable and thread-safe.
 */
public final class LocalContext implements Context {

    /** The function name the context reports. */
    public static final String FUNCTION_NAME = "dialer-lambda-local";

    private final String requestId;
    private final long deadlineNanos;
    private final LongSupplier nanoTime;
    private final LambdaLogger logger;

    /**
     * A context for one invocation.
     *
     * @param requestId the request id ({@link #getAwsRequestId()})
     * @param timeout   the function's timeout, counted from now
     * @param logger    where {@link #getLogger()} writes
     */
    public LocalContext(String requestId, Duration timeout, LambdaLogger logger) {
        this(requestId, timeout, logger, System::nanoTime);
    }

    /** A context whose deadline is read on {@code nanoTime} (a monotonic ticker; tests pass their own). */
    LocalContext(String requestId, Duration timeout, LambdaLogger logger, LongSupplier nanoTime) {
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.requestId = Objects.requireNonNull(requestId, "requestId");
        this.logger = Objects.requireNonNull(logger, "logger");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: must be positive");
        }
        this.deadlineNanos = nanoTime.getAsLong() + timeout.toNanos();
    }

    /** A context with a random request id and a logger that writes lines to standard error. */
    public static LocalContext withTimeout(Duration timeout) {
        return new LocalContext(UUID.randomUUID().toString(), timeout, stderrLogger());
    }

    /** A logger that writes each message as one line on standard error. */
    public static LambdaLogger stderrLogger() {
        return new LambdaLogger() {
            @Override
            public void log(String message) {
                System.err.println(message);
            }

            @Override
            public void log(byte[] message) {
                System.err.println(new String(message, StandardCharsets.UTF_8));
            }
        };
    }

    @Override
    public String getAwsRequestId() {
        return requestId;
    }

    @Override
    public String getLogGroupName() {
        return "/aws/lambda/" + FUNCTION_NAME;
    }

    @Override
    public String getLogStreamName() {
        return "local";
    }

    @Override
    public String getFunctionName() {
        return FUNCTION_NAME;
    }

    @Override
    public String getFunctionVersion() {
        return "$LATEST";
    }

    @Override
    public String getInvokedFunctionArn() {
        return "arn:aws:lambda:local:000000000000:function:" + FUNCTION_NAME;
    }

    @Override
    public CognitoIdentity getIdentity() {
        return null;
    }

    @Override
    public ClientContext getClientContext() {
        return null;
    }

    /** Milliseconds until the deadline, never negative. */
    @Override
    public int getRemainingTimeInMillis() {
        long left = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - nanoTime.getAsLong());
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, left));
    }

    @Override
    public int getMemoryLimitInMB() {
        return 512;
    }

    @Override
    public LambdaLogger getLogger() {
        return logger;
    }
}
