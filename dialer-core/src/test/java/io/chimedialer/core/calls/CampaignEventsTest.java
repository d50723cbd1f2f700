package io.chimedialer.core.calls;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

class CampaignEventsTest {

    private static CallEvent event(int i) {
        return new CallEvent.DigitsCollected("c", "a" + i, "1");
    }

    @Test
    void emit_fromEightThreadsConcurrently_everyEventDeliveredNoneDropped() throws Exception {
        EventBus bus = new EventBus(1 << 16);
        CampaignEvents events = bus.campaign("c");
        AtomicLong received = new AtomicLong();
        Disposable sub = events.flux().subscribe(e -> {
            // A subscriber that sometimes gives up its core makes concurrent emits collide often.
            if (received.incrementAndGet() % 64 == 0) {
                Thread.yield();
            }
        });
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                futures.add(pool.submit(() -> {
                    go.await(10, TimeUnit.SECONDS);
                    int ok = 0;
                    for (int i = 0; i < 10_000; i++) {
                        ok += bus.publish(event(i)) ? 1 : 0;
                    }
                    return ok;
                }));
            }
            go.countDown();
            int ok = 0;
            for (Future<Integer> f : futures) {
                ok += f.get(30, TimeUnit.SECONDS);
            }
            assertThat(ok).isEqualTo(80_000);
        } finally {
            pool.shutdownNow();
            sub.dispose();
        }
        assertThat(received.get()).isEqualTo(80_000);
        assertThat(events.emitted()).isEqualTo(80_000);
        assertThat(events.dropped()).isZero();
    }

    @Test
    void emit_fromSubscriberOnNext_reentrantEventDeliveredAfterTheCurrentOne() {
        EventBus bus = new EventBus();
        CampaignEvents events = bus.campaign("c");
        java.util.List<String> seen = new java.util.ArrayList<>();
        Disposable sub = events.flux().subscribe(e -> {
            CallEvent.DigitsCollected d = (CallEvent.DigitsCollected) e;
            seen.add(d.attemptId());
            if (d.attemptId().equals("a1")) {
                events.emit(event(2));
                seen.add("after-emit");
            }
        });
        events.emit(event(1));
        sub.dispose();
        assertThat(seen).containsExactly("a1", "after-emit", "a2");
        assertThat(events.dropped()).isZero();
    }

    @Test
    void emit_beforeSubscriber_bufferedUpToSizeThenDroppedAndCounted() {
        EventBus bus = new EventBus(16);
        for (int i = 0; i < 20; i++) {
            bus.publish(event(i));
        }
        CampaignEvents events = bus.campaign("c");
        assertThat(events.emitted()).isEqualTo(16);
        assertThat(events.dropped()).isEqualTo(4);
        assertThat(bus.dropped()).isEqualTo(4);
        StepVerifier.create(events.flux().take(16)).expectNextCount(16).expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void complete_subscribersComplete_laterEmitsCounted() {
        EventBus bus = new EventBus();
        CampaignEvents events = bus.campaign("c");
        StepVerifier.create(events.flux())
                .then(() -> events.emit(event(1)))
                .expectNextCount(1)
                .then(() -> bus.complete("c"))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(events.emit(event(2))).isFalse();
        assertThat(events.dropped()).isEqualTo(1);
        assertThat(bus.campaigns()).isEmpty();
    }
}
