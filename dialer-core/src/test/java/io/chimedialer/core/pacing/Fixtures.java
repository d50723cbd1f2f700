package io.chimedialer.core.pacing;

import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.contacts.Contact;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;

/** Shared test data. */
final class Fixtures {

    private Fixtures() {
    }

    static RegionConfig region(String name, double cps, int burst, int cap) {
        return new RegionConfig(name, "sma-" + name, cps, burst, cap, 5,
                List.of("+1206555" + "0100", "+1206555" + "0101", "+1206555" + "0102"), null);
    }

    static Flux<Contact> contacts(int n) {
        return Flux.range(1, n).map(Fixtures::contact);
    }

    static Contact contact(int i) {
        return new Contact(i, "c" + i, String.format("+1555%07d", i), "", null, Map.of());
    }

    static Supplier<String> attemptIds() {
        AtomicInteger next = new AtomicInteger();
        return () -> "a-" + next.incrementAndGet();
    }

    static PacingSettings pacing() {
        return PacingSettings.ofDefaults();
    }

    static DialerSettings dialer() {
        return new DialerSettings(16, 2, 20, Duration.ofMillis(50));
    }
}
