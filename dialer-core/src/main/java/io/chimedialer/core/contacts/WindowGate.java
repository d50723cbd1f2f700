package io.chimedialer.core.contacts;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Holds contacts until their calling window opens, without holding up the contacts that may be called now.
 *
 * <p>{@link #apply} turns the contact stream into a stream of {@link Gated} results. A contact inside its window
 * passes at once as {@link Gated.Open}. One outside it waits, on the gate's scheduler, until
 * {@link CallingWindow#nextOpening}, then passes as {@code Open} at exactly that instant. A contact whose opening
 * is after the horizon (e.g. the campaign's end), or that never opens, passes at once as {@link Gated.Expired}: its
 * final state is outside-window-expired and it is not dialed.
 *
 * <p>At most {@code maxHeld} contacts are held at once: those waiting plus those released but not yet taken
 * downstream. While that many are held the gate asks its source for nothing more, so a list sorted by time zone
 * cannot make the gate buffer the whole list. Time is the scheduler's clock ({@link Scheduler#now}), so a
 * virtual-time scheduler drives the gate in tests.
 *
 * <p>One gate serves one campaign stream; {@link #waitingCount()} is safe to read from any thread.
 */
public final class WindowGate {
    private final CallingWindow window;
    private final Scheduler scheduler;
    private final int maxHeld;
    private final Instant horizon;
    private final AtomicInteger waiting = new AtomicInteger();

    private WindowGate(CallingWindow window, Scheduler scheduler, int maxHeld, Instant horizon) {
        this.window = Objects.requireNonNull(window, "window");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        if (maxHeld < 1) {
            throw new IllegalArgumentException("maxHeld must be >= 1, was " + maxHeld);
        }
        this.maxHeld = maxHeld;
        this.horizon = Objects.requireNonNull(horizon, "horizon");
    }

    /**
     * A gate without a horizon: a contact waits however long its window takes to open (up to
     * {@link CallingWindow#NEVER}, which expires it).
     */
    public static WindowGate of(CallingWindow window, Scheduler scheduler, int maxHeld) {
        return new WindowGate(window, scheduler, maxHeld, CallingWindow.NEVER);
    }

    /**
     * A gate.
     *
     * @param window    the calling window
     * @param scheduler runs the waits and gives the time
     * @param maxHeld   the most contacts held at once (waiting or released but not yet requested), at least 1
     * @param horizon   contacts whose window opens after this instant expire instead of waiting
     * @return the gate
     */
    public static WindowGate of(CallingWindow window, Scheduler scheduler, int maxHeld, Instant horizon) {
        return new WindowGate(window, scheduler, maxHeld, horizon);
    }

    /**
     * Gates a contact stream. Open contacts keep their order among themselves except that a released contact
     * joins whenever its window opens.
     *
     * @param contacts the contacts, pulled at most {@code maxHeld} ahead of downstream demand
     * @return each contact exactly once, as {@link Gated.Open} or {@link Gated.Expired}
     */
    public Flux<Gated> apply(Flux<Contact> contacts) {
        return contacts.flatMap(this::gate, maxHeld, 1);
    }

    /** How many contacts are waiting for their window now. */
    public int waitingCount() {
        return waiting.get();
    }

    private Mono<Gated> gate(Contact contact) {
        Instant now = Instant.ofEpochSecond(0, scheduler.now(TimeUnit.NANOSECONDS));
        Instant opening = window.nextOpening(contact, now);
        // hide(): flatMap batches the upstream requests that replace scalar (Mono.just) inners, which would
        // stall contacts that may be called now behind waiting ones; a non-scalar inner is replaced one for one.
        if (!opening.isAfter(now)) {
            return Mono.<Gated>just(new Gated.Open(contact)).hide();
        }
        if (opening.equals(CallingWindow.NEVER) || opening.isAfter(horizon)) {
            return Mono.<Gated>just(new Gated.Expired(contact, opening)).hide();
        }
        Duration wait = Duration.between(now, opening);
        return Mono.delay(wait, scheduler)
                .<Gated>map(tick -> new Gated.Open(contact))
                .doOnSubscribe(subscription -> waiting.incrementAndGet())
                .doFinally(signal -> waiting.decrementAndGet());
    }

    /** What the gate lets through: a contact to call now, or one whose window opens too late. */
    public sealed interface Gated permits Gated.Open, Gated.Expired {
        /** The contact. */
        Contact contact();

        /**
         * A contact inside its calling window now.
         *
         * @param contact the contact
         */
        record Open(Contact contact) implements Gated {
        }

        /**
         * A contact whose window does not open before the horizon: not dialed, final state outside-window-expired.
         *
         * @param contact the contact
         * @param opening when its window would open, or {@link CallingWindow#NEVER}
         */
        record Expired(Contact contact, Instant opening) implements Gated {
        }
    }
}
