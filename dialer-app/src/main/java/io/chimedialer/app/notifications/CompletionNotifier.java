package io.chimedialer.app.notifications;

import io.chimedialer.app.config.DialerConfig;
import io.chimedialer.core.metrics.DialerMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/**
 * Delivers completion notices to {@code notifications.url}, off the dialing path: each notice is POSTed with its
 * signature and retried on connection errors, timeouts, 408, 429 and 5xx, waiting {@code initial-backoff} after the
 * first failed attempt and twice as long after each further one, up to {@code max-backoff}, each wait shortened by
 * a random part of up to half ({@link #backoff}), so that receivers coming back are not hit by every sender at
 * once. Another 4xx (or a 1xx/3xx) is the receiver's refusal: given up at once. A notice given up is logged once
 * as a warning, with the URL but not its query string, and never the secret.
 *
 * <p>Usage: {@link #expect()} when a notice becomes due (so that {@link #idle()} waits for it while it is being
 * built), then {@link Pending#send} or {@link Pending#drop}. {@link #start()} once; {@link #close()} abandons the
 * deliveries still in progress. Thread-safe.
 */
public final class CompletionNotifier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CompletionNotifier.class);
    /** The largest part of a backoff wait the jitter may take off. */
    static final double JITTER = 0.5;
    /** Notices delivered at the same time (each one's attempts are sequential). */
    private static final int CONCURRENCY = 16;

    /** What became of a notice. */
    enum Outcome { DELIVERED, REJECTED, FAILED }

    /**
     * The end of one notice's delivery.
     *
     * @param outcome  delivered, refused by the receiver, or given up
     * @param attempts the attempts made
     * @param detail   the last answer ({@code HTTP 503}) or error
     */
    record Result(Outcome outcome, int attempts, String detail) {
    }

    private final DialerConfig.Notifications settings;
    private final NoticeTransport transport;
    private final DialerMetrics metrics;
    private final Scheduler scheduler;
    private final Clock clock;
    private final DoubleSupplier random;
    private final Sinks.Many<CompletionNotice> queue = Sinks.many().unicast().onBackpressureBuffer();
    private final Object lock = new Object();
    /** Notices expected or being delivered; guarded by {@link #lock}, which also orders its emits. */
    private int inFlight;
    private final Sinks.Many<Integer> inFlightCounts = Sinks.many().replay().latest();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Disposable deliveries;

    CompletionNotifier(DialerConfig.Notifications settings, NoticeTransport transport, DialerMetrics metrics,
                       Scheduler scheduler, Clock clock, DoubleSupplier random) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
        inFlightCounts.tryEmitNext(0);
    }

    /**
     * A notifier POSTing with reactor-netty's HttpClient (a connection pool of its own, released on close).
     *
     * @param scheduler where backoff waits and attempt timeouts run
     */
    public static CompletionNotifier create(DialerConfig.Notifications settings, DialerMetrics metrics,
                                            Scheduler scheduler, Clock clock) {
        return new CompletionNotifier(settings, new NettyTransport(settings.timeout()), metrics, scheduler, clock,
                () -> ThreadLocalRandom.current().nextDouble());
    }

    /** The settings (their {@code toString()} shows no secret). */
    public DialerConfig.Notifications settings() {
        return settings;
    }

    /** Starts taking notices. Call once. */
    public void start() {
        deliveries = queue.asFlux()
                .flatMap(notice -> deliver(notice).doFinally(signal -> changeInFlight(-1)), CONCURRENCY)
                .subscribe(result -> { }, e -> log.error("completion notices: deliveries ended: {}", e.toString()));
    }

    /**
     * Announces a notice about to be built: {@link #idle()} waits for it from now on. Send or drop the result.
     */
    public Pending expect() {
        changeInFlight(1);
        return new Pending();
    }

    /** A notice announced by {@link #expect()}: sent or dropped once; further calls do nothing. */
    public final class Pending {
        private final AtomicBoolean done = new AtomicBoolean();

        private Pending() {
        }

        /** Queues the notice for delivery. */
        public void send(CompletionNotice notice) {
            Objects.requireNonNull(notice, "notice");
            if (!done.compareAndSet(false, true)) {
                return;
            }
            if (closed.get()) {
                metrics.notification(notice.event().wireName(), "failed");
                log.warn("campaign {}: {} notice {} not sent to {}: the dialer is stopping", notice.campaign(),
                        notice.event().wireName(), notice.id(), settings.describeUrl());
                changeInFlight(-1);
                return;
            }
            synchronized (lock) {
                queue.emitNext(notice, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
            }
        }

        /** No notice after all (this node is not the one to send it). */
        public void drop() {
            if (done.compareAndSet(false, true)) {
                changeInFlight(-1);
            }
        }
    }

    /** Completes as soon as no notice is expected or being delivered (at once when none is). */
    public Mono<Void> idle() {
        return inFlightCounts.asFlux().filter(n -> n == 0).next().then();
    }

    /** Notices expected or being delivered now. */
    public int inFlight() {
        synchronized (lock) {
            return inFlight;
        }
    }

    /** Blocks until {@link #idle()} or for at most {@code max}; true when idle. */
    public boolean awaitIdle(Duration max) {
        try {
            idle().block(max);
            return true;
        } catch (IllegalStateException timedOut) {
            return false;
        }
    }

    private void changeInFlight(int delta) {
        synchronized (lock) {
            inFlight += delta;
            inFlightCounts.emitNext(inFlight, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
        }
    }

    /**
     * One notice's delivery, every attempt: completes with its result once delivered, refused or given up (it
     * never errors). Counted in {@code dialer_notifications_total}; cancelling it counts it as failed.
     */
    Mono<Result> deliver(CompletionNotice notice) {
        String event = notice.event().wireName();
        byte[] body = notice.body();
        byte[] key = settings.secret().bytes();
        AtomicInteger attempts = new AtomicInteger();
        Mono<Integer> attempt = Mono.defer(() -> {
            attempts.incrementAndGet();
            long timestamp = clock.instant().getEpochSecond();
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("Content-Type", "application/json");
            headers.put(NoticeSignature.TIMESTAMP_HEADER, Long.toString(timestamp));
            headers.put(NoticeSignature.SIGNATURE_HEADER, NoticeSignature.sign(key, timestamp, body));
            headers.put(NoticeSignature.NOTICE_ID_HEADER, notice.id());
            return transport.post(settings.url(), headers, body).timeout(settings.timeout(), scheduler);
        }).flatMap(status -> {
            if (status >= 200 && status < 300) {
                return Mono.just(status);
            }
            if (status == 408 || status == 429 || status >= 500) {
                return Mono.error(new Unanswered("HTTP " + status));
            }
            return Mono.error(new Refused(status));
        });
        return attempt
                .retryWhen(Retry.from(signals -> signals.concatMap(signal -> {
                    Throwable failure = signal.failure();
                    long failed = signal.totalRetries() + 1;
                    if (failure instanceof Refused || failed >= settings.maxAttempts()) {
                        return Mono.error(failure);
                    }
                    Duration wait = backoff(settings.initialBackoff(), settings.maxBackoff(), failed,
                            random.getAsDouble());
                    metrics.notification(event, "retried");
                    log.debug("campaign {}: {} notice {} attempt {} failed ({}); next in {} ms", notice.campaign(),
                            event, notice.id(), failed, describe(failure), wait.toMillis());
                    return Mono.delay(wait, scheduler);
                })))
                .map(status -> {
                    metrics.notification(event, "delivered");
                    log.info("campaign {}: {} notice {} delivered to {} (HTTP {}, attempt {})", notice.campaign(),
                            event, notice.id(), settings.describeUrl(), status, attempts.get());
                    return new Result(Outcome.DELIVERED, attempts.get(), "HTTP " + status);
                })
                .onErrorResume(Refused.class, refused -> {
                    metrics.notification(event, "rejected");
                    log.warn("campaign {}: {} notice {} refused by {} with HTTP {}; not retried", notice.campaign(),
                            event, notice.id(), settings.describeUrl(), refused.status);
                    return Mono.just(new Result(Outcome.REJECTED, attempts.get(), "HTTP " + refused.status));
                })
                .onErrorResume(e -> {
                    metrics.notification(event, "failed");
                    log.warn("campaign {}: {} notice {} not delivered to {} after {} attempts; last: {}",
                            notice.campaign(), event, notice.id(), settings.describeUrl(), attempts.get(), describe(e));
                    return Mono.just(new Result(Outcome.FAILED, attempts.get(), describe(e)));
                })
                .doOnCancel(() -> {
                    metrics.notification(event, "failed");
                    log.warn("campaign {}: {} notice {} abandoned after {} attempts: the dialer stopped",
                            notice.campaign(), event, notice.id(), attempts.get());
                });
    }

    /**
     * The wait after the {@code failedAttempts}-th failed attempt: {@code initial} doubled for each attempt after
     * the first, at most {@code max}, less up to {@link #JITTER} of it as {@code random} (in [0, 1)) says.
     */
    static Duration backoff(Duration initial, Duration max, long failedAttempts, double random) {
        long maxMillis = max.toMillis();
        long base = initial.toMillis();
        // Doubles until the cap: at most ~40 rounds for any cap a Duration of milliseconds can hold.
        for (long i = 1; i < failedAttempts && base < maxMillis; i++) {
            base *= 2;
        }
        base = Math.min(base, maxMillis);
        double clamped = Math.max(0, Math.min(random, 1));
        return Duration.ofMillis(Math.round(base * (1 - JITTER * clamped)));
    }

    private static String describe(Throwable e) {
        if (e instanceof TimeoutException) {
            return "no answer in time";
        }
        if (e instanceof Unanswered u) {
            return u.getMessage();
        }
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    /** Abandons the deliveries in progress (each counted and logged as failed); later notices are not sent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Disposable d = deliveries;
        if (d != null) {
            d.dispose();
        }
        if (transport instanceof AutoCloseable resource) {
            try {
                resource.close();
            } catch (Exception e) {
                log.debug("completion notices: transport not closed cleanly: {}", e.toString());
            }
        }
    }

    /** A retryable answer (408, 429, 5xx). */
    private static final class Unanswered extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unanswered(String message) {
            super(message, null, false, false);
        }
    }

    /** A refusal: not retried. */
    private static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        Refused(int status) {
            super("HTTP " + status, null, false, false);
            this.status = status;
        }
    }
}
