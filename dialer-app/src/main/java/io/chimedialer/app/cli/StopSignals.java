package io.chimedialer.app.cli;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM and SIGINT as stop requests for a long-running command ({@code serve}, {@code run}, {@code demo}): instead of starting the JVM's
 * shutdown (whose exit code is 128 + the signal, whatever the command does), the first signal releases
 * {@link #await()}, the command drains and returns its own exit code ({@link Stop#exitCode}); a second signal
 * exits at once. The handlers are installed through {@code sun.misc.Signal} (module {@code jdk.unsupported}) by
 * reflection, so that no internal API is compiled against; where that fails, or the signal was ignored when the
 * JVM started (a background job of a non-interactive shell ignores SIGINT), that signal keeps the JVM's default.
 * Thread-safe.
 */
final class StopSignals implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StopSignals.class);

    /** A stop request and the exit code it leads to. */
    enum Stop {
        /** SIGTERM: the ordinary way to stop a service; 0 after a complete drain, 1 when calls were cut off. */
        TERM(15),
        /** SIGINT (Ctrl-C): an interrupted command, 130 as {@code dialer --help} says, drained or not. */
        INT(2);

        /** The signal's name, as {@code SIGINT}. */
        String signalName() {
            return "SIG" + name();
        }

        private final int number;

        Stop(int number) {
            this.number = number;
        }

        /**
         * The exit code after the drain.
         *
         * @param liveCallsLeft calls still live when the drain ended
         */
        int exitCode(long liveCallsLeft) {
            return this == INT ? 130 : liveCallsLeft == 0 ? 0 : 1;
        }

        /** What the JVM exits with when this signal ends it without a handler: 128 + the signal's number. */
        int jvmDefaultExitCode() {
            return 128 + number;
        }
    }

    private final CountDownLatch received = new CountDownLatch(1);
    private final AtomicReference<Stop> first = new AtomicReference<>();
    private final java.util.concurrent.CompletableFuture<Stop> requested = new java.util.concurrent.CompletableFuture<>();
    /** The handlers this one replaced, by signal, put back by {@link #close()}. */
    private final java.util.Map<Stop, Object> previous = new java.util.concurrent.ConcurrentHashMap<>();
    private final boolean installed;

    private StopSignals(boolean installTerm, boolean installInt) {
        boolean term = installTerm && install(Stop.TERM);
        boolean interrupt = installInt && install(Stop.INT);
        this.installed = term;
        if (installInt && !interrupt) {
            log.debug("SIGINT keeps the JVM's default (ignored or not available)");
        }
    }

    /** Installs the handlers of SIGTERM and SIGINT for this process. */
    static StopSignals install() {
        return new StopSignals(true, true);
    }

    /** Whether SIGTERM is handled here; when false, the caller must stop through a shutdown hook instead. */
    boolean installed() {
        return installed;
    }

    /** Waits for the first stop request. */
    Stop await() throws InterruptedException {
        received.await();
        return first.get();
    }

    /** The first stop request, when it comes (never completed when none does). */
    java.util.concurrent.CompletableFuture<Stop> requested() {
        return requested;
    }

    /** A signal arrived: the first releases {@link #await()}, a second one exits now. Package-private for tests. */
    void received(Stop stop) {
        if (first.compareAndSet(null, stop)) {
            received.countDown();
            requested.complete(stop);
            return;
        }
        log.warn("SIG{} during the stop: exiting now, without waiting for live calls or the ledger", stop.name());
        System.exit(stop.jvmDefaultExitCode());
    }

    /**
     * Puts back the handlers these replaced (the JVM's own), for a command that ends while its process goes on
     * (in-process tests, embedding). {@code serve} never needs it: its process ends with it.
     */
    @Override
    public void close() {
        previous.forEach((stop, handler) -> {
            try {
                Class<?> signalClass = Class.forName("sun.misc.Signal");
                Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
                Object signal = signalClass.getConstructor(String.class).newInstance(stop.name());
                signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, handler);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                log.debug("SIG{} handler not restored: {}", stop.name(), e.toString());
            }
        });
        previous.clear();
    }

    private boolean install(Stop stop) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance(stop.name());
            InvocationHandler onSignal = (Object proxy, Method method, Object[] args) -> {
                if ("handle".equals(method.getName())) {
                    received(stop);
                    return null;
                }
                return switch (method.getName()) {
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> "StopSignals[" + stop + "]";
                };
            };
            Object handler = Proxy.newProxyInstance(StopSignals.class.getClassLoader(), new Class<?>[] {handlerClass},
                    onSignal);
            Object replaced = signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, handler);
            // An ignored signal stays ignored: the JVM answers with SIG_IGN and does not install the handler.
            Object ignored = handlerClass.getField("SIG_IGN").get(null);
            if (replaced != null && replaced != ignored) {
                previous.put(stop, replaced);
            }
            return replaced != ignored;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.debug("SIG{} keeps the JVM's default: {}", stop.name(), e.toString());
            return false;
        }
    }
}
