package io.chimedialer.core.util;

import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * {@code flatMap} for {@link Mono} inners whose work per finished inner does not grow with the number in flight.
 *
 * <p>Why: Reactor's {@code Flux.flatMap} keeps its inners in an array and, each time one of them completes, scans
 * the whole array (its capacity: the most inners ever in flight at once) for values to emit and inners to remove.
 * With hundreds of Creates in flight (the {@code Dialer}, one completion per Create) or thousands of ledger writes
 * waiting for one commit (a campaign's results), that scan, one cache miss per slot, was the largest single cost per
 * Create of the whole pipeline (issue 17: 40% of the pipeline's Java samples, on the SDK's response threads and the
 * ledger's writer). Here a finished inner puts itself on a queue and the drain takes only what is queued.
 *
 * <p>Semantics as {@code flatMap(mapper, maxConcurrency)} for Mono inners: at most {@code maxConcurrency} inners are
 * subscribed at once (upstream is asked for one more once a finished inner's value, if any, went downstream); values
 * in the order the inners finish; downstream demand honoured (values of finished inners wait for it); an error of
 * upstream, of an inner or of the mapper cancels upstream and every inner and is passed on at once (what is queued
 * is discarded); a cancel cancels upstream and every inner and discards what is queued and every item that arrives
 * after it ({@link Operators#onDiscard}); the inners see the downstream {@link Context}. Completes once upstream
 * completed and every inner finished and was drained.
 */
public final class MonoMerge {

    private MonoMerge() {
    }

    /**
     * Maps each item of {@code source} to a Mono and merges their values, at most {@code maxConcurrency} subscribed
     * at once ({@link Integer#MAX_VALUE}: unbounded).
     */
    public static <T, R> Flux<R> flatMap(Flux<T> source, Function<? super T, ? extends Mono<? extends R>> mapper,
                                         int maxConcurrency) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(mapper, "mapper");
        if (maxConcurrency < 1) {
            throw new IllegalArgumentException("maxConcurrency must be >= 1, was " + maxConcurrency);
        }
        return Flux.from(subscriber -> source.subscribe(
                new Main<T, R>(Operators.toCoreSubscriber(subscriber), mapper, maxConcurrency)));
    }

    private static final class Main<T, R> implements CoreSubscriber<T>, Subscription {
        private final CoreSubscriber<? super R> actual;
        private final Function<? super T, ? extends Mono<? extends R>> mapper;
        private final int maxConcurrency;
        /** Finished inners, in the order they finished, each with its value or none. */
        private final Queue<Inner<T, R>> finished = new ConcurrentLinkedQueue<>();
        /** Inners subscribed and not finished: what a cancel or an error cancels. */
        private final Set<Inner<T, R>> running = ConcurrentHashMap.newKeySet();
        /** Inners subscribed and not yet on the finished queue. */
        private final AtomicInteger active = new AtomicInteger();
        private final AtomicInteger wip = new AtomicInteger();
        private final AtomicLong requested = new AtomicLong();
        private final AtomicReference<Throwable> error = new AtomicReference<>();
        private volatile Subscription upstream;
        private volatile boolean upstreamDone;
        private volatile boolean cancelled;
        /** Only in the drain loop. */
        private boolean terminated;

        Main(CoreSubscriber<? super R> actual, Function<? super T, ? extends Mono<? extends R>> mapper,
             int maxConcurrency) {
            this.actual = actual;
            this.mapper = mapper;
            this.maxConcurrency = maxConcurrency;
        }

        @Override
        public Context currentContext() {
            return actual.currentContext();
        }

        @Override
        public void onSubscribe(Subscription s) {
            if (Operators.validate(upstream, s)) {
                upstream = s;
                actual.onSubscribe(this);
                s.request(maxConcurrency == Integer.MAX_VALUE ? Long.MAX_VALUE : maxConcurrency);
            }
        }

        @Override
        public void onNext(T item) {
            if (upstreamDone || cancelled || error.get() != null) {
                Operators.onDiscard(item, currentContext());
                return;
            }
            Mono<? extends R> mono;
            try {
                mono = Objects.requireNonNull(mapper.apply(item), "the mapper returned null");
            } catch (Throwable e) {
                Operators.onDiscard(item, currentContext());
                upstream.cancel();
                onError(Operators.onOperatorError(e, currentContext()));
                return;
            }
            Inner<T, R> inner = new Inner<>(this);
            running.add(inner);
            active.incrementAndGet();
            mono.subscribe(inner);
            if (cancelled || error.get() != null) {
                // Cancelled while it was being added: cancelInners may have run before it was in the set.
                inner.cancel();
            }
        }

        @Override
        public void onError(Throwable e) {
            if (upstreamDone) {
                Operators.onErrorDropped(e, currentContext());
                return;
            }
            fail(e);
            upstreamDone = true;
            drain();
        }

        @Override
        public void onComplete() {
            if (upstreamDone) {
                return;
            }
            upstreamDone = true;
            drain();
        }

        @Override
        public void request(long n) {
            if (Operators.validate(n)) {
                requested.getAndUpdate(r -> r + n < 0 ? Long.MAX_VALUE : r + n);
                drain();
            }
        }

        @Override
        public void cancel() {
            if (cancelled) {
                return;
            }
            cancelled = true;
            upstream.cancel();
            cancelInners();
            drain();
        }

        /** The first error wins; it cancels upstream and every inner. */
        private void fail(Throwable e) {
            if (!error.compareAndSet(null, e)) {
                Operators.onErrorDropped(e, currentContext());
                return;
            }
            upstream.cancel();
            cancelInners();
        }

        private void cancelInners() {
            for (Inner<T, R> inner : running) {
                inner.cancel();
            }
        }

        void innerNext(Inner<T, R> inner, R value) {
            inner.value = value;
        }

        void innerDone(Inner<T, R> inner, Throwable e) {
            if (!inner.finish()) {
                return;
            }
            running.remove(inner);
            if (e != null) {
                fail(e);
            } else if (cancelled || error.get() != null) {
                R value = inner.value;
                inner.value = null;
                if (value != null) {
                    Operators.onDiscard(value, currentContext());
                }
            } else {
                finished.offer(inner);
            }
            // After the offer: the drain never sees no inner active and nothing queued while one is finishing.
            active.decrementAndGet();
            drain();
        }

        private void drain() {
            if (wip.getAndIncrement() != 0) {
                return;
            }
            int missed = 1;
            for (;;) {
                if (terminated) {
                    discardQueued();
                    return;
                }
                if (cancelled) {
                    terminated = true;
                    discardQueued();
                    return;
                }
                Throwable e = error.get();
                if (e != null) {
                    terminated = true;
                    discardQueued();
                    actual.onError(e);
                    return;
                }
                long r = requested.get();
                long emitted = 0;
                long replenish = 0;
                for (;;) {
                    Inner<T, R> inner = finished.peek();
                    if (inner == null || cancelled || error.get() != null) {
                        break;
                    }
                    R value = inner.value;
                    if (value != null) {
                        if (emitted == r) {
                            break;
                        }
                        finished.poll();
                        inner.value = null;
                        actual.onNext(value);
                        emitted++;
                    } else {
                        finished.poll();
                    }
                    replenish++;
                }
                if (emitted != 0 && r != Long.MAX_VALUE) {
                    requested.addAndGet(-emitted);
                }
                if (!cancelled && error.get() == null) {
                    if (upstreamDone && active.get() == 0 && finished.isEmpty()) {
                        terminated = true;
                        actual.onComplete();
                        return;
                    }
                    if (replenish != 0 && !upstreamDone && maxConcurrency != Integer.MAX_VALUE) {
                        upstream.request(replenish);
                    }
                }
                // Whatever arrived meanwhile (a finished inner, a request, a cancel, an error) raised wip: go again.
                missed = wip.addAndGet(-missed);
                if (missed == 0) {
                    return;
                }
            }
        }

        private void discardQueued() {
            Inner<T, R> inner;
            while ((inner = finished.poll()) != null) {
                R value = inner.value;
                inner.value = null;
                if (value != null) {
                    Operators.onDiscard(value, currentContext());
                }
            }
        }
    }

    private static final class Inner<T, R> implements CoreSubscriber<R> {
        private final Main<T, R> parent;
        private final AtomicReference<Subscription> subscription = new AtomicReference<>();
        private final AtomicBoolean finished = new AtomicBoolean();
        /** The inner's value, set before it is queued; read by the drain after it polled the inner. */
        volatile R value;

        Inner(Main<T, R> parent) {
            this.parent = parent;
        }

        @Override
        public Context currentContext() {
            return parent.currentContext();
        }

        @Override
        public void onSubscribe(Subscription s) {
            if (subscription.compareAndSet(null, s)) {
                s.request(Long.MAX_VALUE);
            } else {
                s.cancel();
            }
        }

        @Override
        public void onNext(R v) {
            if (finished.get()) {
                Operators.onDiscard(v, currentContext());
                return;
            }
            parent.innerNext(this, v);
            // A Mono's value ends it: settle now rather than wait for its onComplete.
            parent.innerDone(this, null);
        }

        @Override
        public void onError(Throwable e) {
            if (finished.get()) {
                Operators.onErrorDropped(e, currentContext());
                return;
            }
            parent.innerDone(this, e);
        }

        @Override
        public void onComplete() {
            parent.innerDone(this, null);
        }

        /** Marks it finished; false when it already was. */
        boolean finish() {
            return finished.compareAndSet(false, true);
        }

        void cancel() {
            Subscription s = subscription.getAndSet(Operators.cancelledSubscription());
            if (s != null && s != Operators.cancelledSubscription()) {
                s.cancel();
            }
        }
    }
}
