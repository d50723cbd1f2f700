package io.chimedialer.emulator.internal;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Lambda {@link Context} of one in-process invocation: the function's deadline starts when it is created,
 * identity and client context are {@code null} (as for a function invoked by a service), and the logger
 * writes to SLF4J (logger {@code io.chimedialer.emulator.lambda}). Immutable and thread-safe.
 */
public final class LambdaContext implements Context {
    private static final Logger LOG = LoggerFactory.getLogger("io.chimedialer.emulator.lambda");

    /** One logger for every invocation: lines go to SLF4J at INFO. */
    public static final LambdaLogger LOGGER = new LambdaLogger() {
        @Override
        public void log(String message) {
            LOG.info("{}", message);
        }

        @Override
        public void log(byte[] message) {
            LOG.info("{}", new String(message, StandardCharsets.UTF_8));
        }
    };

    private final String requestId;
    private final String functionName;
    private final long deadlineNanos;

    /**
     * A context whose deadline is {@code timeout} from now.
     *
     * @param requestId    the request id
     * @param functionName the function name (the handler's simple class name)
     * @param timeout      the function timeout
     */
    public LambdaContext(String requestId, String functionName, Duration timeout) {
        this.requestId = requestId;
        this.functionName = functionName;
        this.deadlineNanos = System.nanoTime() + timeout.toNanos();
    }

    @Override
    public String getAwsRequestId() {
        return requestId;
    }

    @Override
    public String getLogGroupName() {
        return "/aws/lambda/" + functionName;
    }

    @Override
    public String getLogStreamName() {
        return "chime-emulator";
    }

    @Override
    public String getFunctionName() {
        return functionName;
    }

    @Override
    public String getFunctionVersion() {
        return "$LATEST";
    }

    @Override
    public String getInvokedFunctionArn() {
        return "arn:aws:lambda:local:123456789012:function:" + functionName;
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
        long left = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, left));
    }

    @Override
    public int getMemoryLimitInMB() {
        return 512;
    }

    @Override
    public LambdaLogger getLogger() {
        return LOGGER;
    }
}
