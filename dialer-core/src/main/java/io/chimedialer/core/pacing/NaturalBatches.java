package io.chimedialer.core.pacing;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

/**
 * Natural batching with several commits in flight: items are taken from upstream as fast as it gives them (it
 * is never paused by a commit); whenever fewer than {@code maxInFlight} commits are running, everything that
 * arrived meanwhile (at most {@code maxBatch} items) goes into the next commit. So a batch grows with the commit
 * latency and stays at one item when commits are quick, without a timer. Each item is emitted downstream only
 * after its own batch's commit completed; batches may complete in any order.
 *
 * <p>A failed commit: its items and every item not yet emitted are dropped, the other commits are cancelled (their
 * items dropped too), upstream is cancelled and the Flux errors. A cancel drops the same. Upstream is requested
 * without bound: the caller bounds what it holds (every item here holds an active-call permit).
 *
 * @param <T> the items
 */
final class NaturalBatches<T> {

    private final int maxBatch;
    private final int maxInFlight;
    private final Function<List<T>, Mono<?>> commit;
    private final Consumer<T> drop;

    /**
     * @param maxBatch    the most items one commit takes
     * @param maxInFlight the most commits running at once
     * @param commit      writes one batch; its items are emitted once it completes
     * @param drop        told about every item that will never be emitted (at most once per item)
     */
    NaturalBatches(int maxBatch, int maxInFlight, Function<List<T>, Mono<?>> commit, Consumer<T> drop) {
        if (maxBatch < 1 || maxInFlight < 1) {
            throw new IllegalArgumentException("maxBatch and maxInFlight must be >= 1");
        }
        this.maxBatch = maxBatch;
        this.maxInFlight = maxInFlight;
        this.commit = Objects.requireNonNull(commit, "commit");
        this.drop = Objects.requireNonNull(drop, "drop");
    }

    /** The items of {@code upstream}, each after its batch committed. */
    Flux<T> apply(Flux<T> upstream) {
        return Flux.create(sink -> new Run(sink).start(upstream), FluxSink.OverflowStrategy.BUFFER);
    }

    private final class Run {
        private final FluxSink<T> sink;
        private final ArrayDeque<T> buffer = new ArrayDeque<>();
        private final Map<Long, Batch> running = new HashMap<>();
        private final AtomicInteger wip = new AtomicInteger();
        private Disposable upstream;
        private long nextBatch;
        private boolean upstreamDone;
        private boolean terminated;
        private Throwable error;

        Run(FluxSink<T> sink) {
            this.sink = sink;
        }

        void start(Flux<T> source) {
            sink.onDispose(() -> terminate(null));
            // The downstream context (its discard hook) also covers what upstream drops.
            Disposable d = source.subscribe(this::onNext, this::onError, this::onComplete,
                    Context.of(sink.contextView()));
            boolean dispose;
            synchronized (this) {
                upstream = d;
                dispose = terminated;
            }
            if (dispose) {
                d.dispose();
            }
        }

        private void onNext(T item) {
            boolean accepted;
            synchronized (this) {
                accepted = !terminated;
                if (accepted) {
                    buffer.add(item);
                }
            }
            if (!accepted) {
                drop.accept(item);
                return;
            }
            drain();
        }

        private void onError(Throwable e) {
            terminate(e);
        }

        private void onComplete() {
            synchronized (this) {
                upstreamDone = true;
            }
            drain();
        }

        private void drain() {
            if (wip.getAndIncrement() != 0) {
                return;
            }
            int missed = 1;
            do {
                for (;;) {
                    Batch batch;
                    boolean complete = false;
                    synchronized (this) {
                        if (terminated) {
                            break;
                        }
                        if (running.size() >= maxInFlight || buffer.isEmpty()) {
                            if (upstreamDone && buffer.isEmpty() && running.isEmpty()) {
                                terminated = true;
                                complete = true;
                            }
                            batch = null;
                        } else {
                            List<T> items = new ArrayList<>(Math.min(maxBatch, buffer.size()));
                            while (items.size() < maxBatch && !buffer.isEmpty()) {
                                items.add(buffer.poll());
                            }
                            batch = new Batch(nextBatch++, items);
                            running.put(batch.id, batch);
                        }
                    }
                    if (complete) {
                        sink.complete();
                        break;
                    }
                    if (batch == null) {
                        break;
                    }
                    batch.start();
                }
                missed = wip.addAndGet(-missed);
            } while (missed != 0);
        }

        private void committed(Batch batch) {
            boolean emit;
            synchronized (this) {
                emit = running.containsKey(batch.id) && !terminated;
            }
            // The batch counts as running until its items are downstream: a drain on another thread (upstream
            // completing) must not complete the sink between the two, or the items emitted after it are lost.
            if (emit) {
                batch.items.forEach(sink::next);
            } else {
                batch.items.forEach(drop);
            }
            synchronized (this) {
                running.remove(batch.id);
            }
            drain();
        }

        private void failed(Batch batch, Throwable e) {
            synchronized (this) {
                running.remove(batch.id);
            }
            batch.items.forEach(drop);
            terminate(e);
        }

        /** Drops everything not emitted, cancels the commits and upstream; errors the sink when {@code e} is set. */
        private void terminate(Throwable e) {
            List<T> left;
            List<Batch> cancelled;
            Disposable up;
            synchronized (this) {
                if (terminated) {
                    return;
                }
                terminated = true;
                error = e;
                left = new ArrayList<>(buffer);
                buffer.clear();
                cancelled = new ArrayList<>(running.values());
                running.clear();
                up = upstream;
            }
            if (up != null) {
                up.dispose();
            }
            for (Batch b : cancelled) {
                b.cancel();
            }
            left.forEach(drop);
            if (error != null) {
                sink.error(error);
            }
        }

        private final class Batch {
            final long id;
            final List<T> items;
            private Disposable subscription;
            private boolean cancelled;
            private boolean settled;

            Batch(long id, List<T> items) {
                this.id = id;
                this.items = items;
            }

            void start() {
                Disposable d = Mono.defer(() -> commit.apply(List.copyOf(items)))
                        .subscribe(v -> { }, e -> settle(e), () -> settle(null));
                boolean dispose;
                synchronized (this) {
                    subscription = d;
                    dispose = cancelled && !settled;
                }
                if (dispose) {
                    d.dispose();
                }
            }

            private void settle(Throwable e) {
                synchronized (this) {
                    if (settled || cancelled) {
                        return;
                    }
                    settled = true;
                }
                if (e == null) {
                    committed(this);
                } else {
                    failed(this, e);
                }
            }

            /** Cancels the commit (if still running); its items are dropped, never emitted. */
            void cancel() {
                Disposable d;
                boolean dropItems;
                synchronized (this) {
                    dropItems = !settled && !cancelled;
                    cancelled = true;
                    d = settled ? null : subscription;
                }
                if (d != null) {
                    d.dispose();
                }
                if (dropItems) {
                    items.forEach(drop);
                }
            }
        }
    }
}
