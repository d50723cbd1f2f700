package io.chimedialer.emulator;

import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.chimedialer.emulator.internal.LambdaContext;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Lambda mode: the SMA endpoint as an AWS Lambda {@link RequestStreamHandler} run in-process, the way the
 * Lambda runtime runs it. Each invocation gets the event's exact bytes as its input stream and a fresh
 * {@link com.amazonaws.services.lambda.runtime.Context} (a random request id, the remaining time counted from
 * the function timeout, a logger that writes to SLF4J {@code io.chimedialer.emulator.lambda}); what the
 * handler writes is the response. A handler that throws, or is still running after the function timeout,
 * is a failed delivery (the emulator then retries once, as for the webhook).
 *
 * <p>One handler instance serves every invocation, concurrently (like several warm function instances
 * sharing one class), so it must be thread-safe. Handlers block, so they run on a bounded elastic scheduler
 * of {@code concurrency} threads owned by this endpoint; {@link #close()} releases it. Thread-safe.
 *
 * <p>The emulator depends on nothing of the dialer: a handler is given as an object ({@link #of}) or loaded
 * by class name ({@link #load}).
 */
public final class LambdaEndpoint implements SmaEndpoint, AutoCloseable {

    /** The function timeout the contexts report by default: 6 s, as deploy/template.yaml deploys. */
    public static final Duration DEFAULT_FUNCTION_TIMEOUT = Duration.ofSeconds(6);
    /** Default number of invocations that may run at once (threads of the endpoint's scheduler). */
    public static final int DEFAULT_CONCURRENCY = 100;

    private final RequestStreamHandler handler;
    private final String functionName;
    private final Duration functionTimeout;
    private final Scheduler scheduler;

    private LambdaEndpoint(RequestStreamHandler handler, Duration functionTimeout, int concurrency) {
        this.handler = Objects.requireNonNull(handler, "handler");
        this.functionTimeout = Objects.requireNonNull(functionTimeout, "functionTimeout");
        if (functionTimeout.isNegative() || functionTimeout.isZero()) {
            throw new IllegalArgumentException("functionTimeout must be positive, was " + functionTimeout);
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be >= 1, was " + concurrency);
        }
        this.functionName = handler.getClass().getSimpleName();
        this.scheduler = Schedulers.newBoundedElastic(concurrency, 100_000, "chime-emulator-lambda", 60, true);
    }

    /** An endpoint running this handler, with {@link #DEFAULT_FUNCTION_TIMEOUT} and {@link #DEFAULT_CONCURRENCY}. */
    public static LambdaEndpoint of(RequestStreamHandler handler) {
        return of(handler, DEFAULT_FUNCTION_TIMEOUT, DEFAULT_CONCURRENCY);
    }

    /**
     * An endpoint running this handler.
     *
     * @param handler         the handler; must be thread-safe
     * @param functionTimeout the function timeout: what the contexts count down from, and the limit after
     *                        which a running invocation counts as failed
     * @param concurrency     how many invocations may run at once; more wait in a queue
     */
    public static LambdaEndpoint of(RequestStreamHandler handler, Duration functionTimeout, int concurrency) {
        return new LambdaEndpoint(handler, functionTimeout, concurrency);
    }

    /** {@link #load(String, Map, ClassLoader)} with this class's class loader. */
    public static LambdaEndpoint load(String className, Map<String, String> environment) {
        return of(instantiate(className, environment, LambdaEndpoint.class.getClassLoader()));
    }

    /**
     * Loads a handler class and wraps an instance of it, with the default timeout and concurrency.
     *
     * @param className   the fully qualified name of a {@link RequestStreamHandler} implementation
     * @param environment the function's environment variables, see {@link #instantiate}
     * @param loader      the class loader to load it from (e.g. one over the function's jar)
     * @throws IllegalArgumentException when the class cannot be loaded or instantiated (the message says why)
     */
    public static LambdaEndpoint load(String className, Map<String, String> environment, ClassLoader loader) {
        return of(instantiate(className, environment, loader));
    }

    /**
     * Creates a handler by class name. A Lambda function reads its configuration from the process
     * environment, which cannot be changed in-process, so the environment is handed over through a
     * constructor, tried in this order:
     * <ol>
     *   <li>an empty environment: the public no-argument constructor, as the Lambda runtime calls it (the
     *       handler then reads the real process environment, if it reads any);</li>
     *   <li>a public constructor taking one {@code java.util.Map} (the environment);</li>
     *   <li>a public constructor taking one configuration object whose type has a public static
     *       {@code fromEnvironment(Map)} factory (as {@code SmaBridgeHandler(BridgeConfig)} with
     *       {@code BridgeConfig.fromEnvironment}): the factory's result is passed.</li>
     * </ol>
     *
     * @param className   the handler class
     * @param environment the environment variables (copied); never printed, it may hold secrets
     * @param loader      where to load the class from
     * @return a new handler
     * @throws IllegalArgumentException when none of these applies, or the class or its constructor fails
     */
    public static RequestStreamHandler instantiate(String className, Map<String, String> environment,
                                                   ClassLoader loader) {
        Objects.requireNonNull(className, "className");
        Objects.requireNonNull(loader, "loader");
        Map<String, String> env = Map.copyOf(Objects.requireNonNull(environment, "environment"));
        Class<? extends RequestStreamHandler> type;
        try {
            Class<?> loaded = Class.forName(className, true, loader);
            if (!RequestStreamHandler.class.isAssignableFrom(loaded)) {
                throw new IllegalArgumentException("Lambda handler " + className + " does not implement "
                        + RequestStreamHandler.class.getName());
            }
            type = loaded.asSubclass(RequestStreamHandler.class);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalArgumentException("Lambda handler class " + className + " not found ("
                    + e.getClass().getSimpleName() + "); is its jar on the class path?", e);
        }
        try {
            if (env.isEmpty()) {
                Constructor<? extends RequestStreamHandler> noArgs = constructor(type);
                if (noArgs != null) {
                    return noArgs.newInstance();
                }
            }
            Constructor<? extends RequestStreamHandler> withMap = constructor(type, Map.class);
            if (withMap != null) {
                return withMap.newInstance(env);
            }
            for (Constructor<?> c : type.getConstructors()) {
                if (c.getParameterCount() != 1) {
                    continue;
                }
                Class<?> configType = c.getParameterTypes()[0];
                Method factory = factory(configType);
                if (factory != null) {
                    return type.cast(c.newInstance(factory.invoke(null, env)));
                }
            }
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalArgumentException("Lambda handler " + className + " failed to initialise: "
                    + cause.getMessage(), cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("Lambda handler " + className + " cannot be instantiated: " + e, e);
        }
        throw new IllegalArgumentException("Lambda handler " + className + " cannot take an environment: it needs "
                + (env.isEmpty() ? "a public no-argument constructor, " : "")
                + "a public constructor taking a java.util.Map, or one taking a configuration whose type has a "
                + "public static fromEnvironment(Map)");
    }

    private static Constructor<? extends RequestStreamHandler> constructor(
            Class<? extends RequestStreamHandler> type, Class<?>... parameters) {
        try {
            return type.getConstructor(parameters);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static Method factory(Class<?> configType) {
        try {
            Method m = configType.getMethod("fromEnvironment", Map.class);
            return Modifier.isStatic(m.getModifiers()) && configType.isAssignableFrom(m.getReturnType()) ? m : null;
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    /** The handler this endpoint runs. */
    public RequestStreamHandler handler() {
        return handler;
    }

    /** The function timeout its contexts report. */
    public Duration functionTimeout() {
        return functionTimeout;
    }

    @Override
    public Mono<byte[]> invoke(byte[] requestJson) {
        // The function timeout counts from the handler's start, as Lambda's does (and as the context's remaining time
        // counts down): an invocation waiting for one of the `concurrency` slots is not charged for the wait, or the
        // handler, trusting its context, would be cut off before its own deadline (a bridge in the middle of its
        // spill, say).
        return Mono.defer(() -> {
            Sinks.Empty<Void> started = Sinks.empty();
            return Mono.fromCallable(() -> {
                        started.tryEmitEmpty();
                        return run(requestJson);
                    })
                    .subscribeOn(scheduler)
                    .timeout(started.asMono().then(Mono.delay(functionTimeout)), Mono.defer(() -> Mono.error(
                            new TimeoutException("Lambda handler " + functionName + " timed out after "
                                    + functionTimeout.toMillis() + " ms"))));
        });
    }

    private byte[] run(byte[] requestJson) throws java.io.IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        handler.handleRequest(new ByteArrayInputStream(requestJson), out,
                new LambdaContext(UUID.randomUUID().toString(), functionName, functionTimeout));
        return out.toByteArray();
    }

    /** Releases the endpoint's threads; invocations still running finish on their own. Idempotent. */
    @Override
    public void close() {
        scheduler.dispose();
    }

    @Override
    public String toString() {
        return "Lambda handler " + handler.getClass().getName() + " (in-process)";
    }
}
