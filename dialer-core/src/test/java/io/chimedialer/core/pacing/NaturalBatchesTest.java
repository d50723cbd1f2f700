package io.chimedialer.core.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

class NaturalBatchesTest {

    /**
     * The last commit completes on its own thread while upstream completes on another: the Flux must not complete
     * before that commit's items are emitted (they were lost when the batch stopped counting as running before its
     * items went downstream, and the completing thread saw nothing left). The order is forced with latches, not
     * timed: the last batch's emission is held after its first item until upstream has completed.
     */
    @Test
    void apply_upstreamCompletesWhileTheLastBatchIsBeingEmitted_everyItemEmittedBeforeCompletion() throws Exception {
        Sinks.Many<Integer> upstream = Sinks.many().unicast().onBackpressureBuffer();
        List<Sinks.Empty<Void>> commits = new CopyOnWriteArrayList<>();
        List<Integer> dropped = new CopyOnWriteArrayList<>();
        NaturalBatches<Integer> batches = new NaturalBatches<>(100, 1, batch -> {
            Sinks.Empty<Void> commit = Sinks.empty();
            commits.add(commit);
            return commit.asMono().publishOn(Schedulers.single());
        }, dropped::add);
        CountDownLatch lastBatchEmitting = new CountDownLatch(1);
        CountDownLatch upstreamCompleted = new CountDownLatch(1);

        java.util.concurrent.CompletableFuture<List<Integer>> result = batches.apply(upstream.asFlux())
                .doOnNext(i -> {
                    if (i == 1) {
                        // The first item of the last batch: hold its thread until upstream has completed.
                        lastBatchEmitting.countDown();
                        await(upstreamCompleted);
                    }
                })
                .collectList().toFuture();
        upstream.tryEmitNext(0).orThrow();
        // [0] commits alone (one commit in flight); 1 to 9 wait for the next one.
        for (int i = 1; i < 10; i++) {
            upstream.tryEmitNext(i).orThrow();
        }
        assertThat(commits).hasSize(1);
        commits.get(0).tryEmitEmpty().orThrow();
        awaitSize(commits, 2);
        commits.get(1).tryEmitEmpty().orThrow();
        assertThat(lastBatchEmitting.await(10, TimeUnit.SECONDS)).isTrue();
        upstream.tryEmitComplete().orThrow();
        upstreamCompleted.countDown();

        List<Integer> out = result.get(10, TimeUnit.SECONDS);
        assertThat(out).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(dropped).isEmpty();
    }

    @Test
    void apply_commitsOfOneAtATime_eachItemOnceAfterItsCommit_noneDropped() {
        List<List<Integer>> commits = new CopyOnWriteArrayList<>();
        List<Integer> dropped = new CopyOnWriteArrayList<>();
        NaturalBatches<Integer> batches = new NaturalBatches<>(4, 2, batch -> Mono.fromRunnable(() -> commits.add(batch))
                .delaySubscription(Duration.ofMillis(1)), dropped::add);

        List<Integer> out = batches.apply(Flux.range(0, 200)).collectList().block(Duration.ofSeconds(30));

        assertThat(out).hasSize(200).doesNotHaveDuplicates();
        List<Integer> committed = new ArrayList<>();
        commits.forEach(committed::addAll);
        assertThat(committed).containsExactlyInAnyOrderElementsOf(out);
        assertThat(commits).allSatisfy(c -> assertThat(c).hasSizeBetween(1, 4));
        assertThat(dropped).isEmpty();
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void awaitSize(List<?> list, int size) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (list.size() < size) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + size + " commits, have " + list.size());
            }
            Thread.sleep(1);
        }
    }
}
