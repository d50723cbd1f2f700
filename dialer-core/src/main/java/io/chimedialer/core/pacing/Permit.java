package io.chimedialer.core.pacing;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.Disposable;

/**
 * One active-call permit of a Region, held from just before Create until the call ends (its HANGUP), or
 * until its maximum lifetime passes. {@link #release()} is idempotent and thread-safe.
 */
public final class Permit {

    private final ActivePermits owner;
    private final long id;
    private final long acquiredAtNanos;
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile String attemptId;
    private volatile Disposable lifetimeGuard;
    /** Released with this one: the campaign's own live-call permit, when the campaign has a cap. */
    private final AtomicReference<Permit> companion = new AtomicReference<>();

    Permit(ActivePermits owner, long id, long acquiredAtNanos) {
        this.owner = owner;
        this.id = id;
        this.acquiredAtNanos = acquiredAtNanos;
    }

    /** The Region it belongs to. */
    public String region() {
        return owner.region();
    }

    /** A sequence number, unique within its Region. */
    public long id() {
        return id;
    }

    /** The attempt it was used for, or {@code null} before it was bound to one. */
    public String attemptId() {
        return attemptId;
    }

    /** The scheduler time it was acquired at, nanoseconds. */
    public long acquiredAtNanos() {
        return acquiredAtNanos;
    }

    /** Whether it has been released (or reclaimed). */
    public boolean isReleased() {
        return released.get();
    }

    /**
     * Returns the permit to its Region.
     *
     * @return {@code true} the first time, {@code false} when it was already released or reclaimed
     */
    public boolean release() {
        return owner.release(this);
    }

    /**
     * Ties another permit (the campaign's live-call permit) to this one: whatever releases this one (the call's end,
     * the lifetime guard) releases it too. Tied to a permit already released, it is released at once.
     */
    void tie(Permit other) {
        companion.set(other);
        if (released.get()) {
            Permit tied = companion.getAndSet(null);
            if (tied != null) {
                tied.release();
            }
        }
    }

    /**
     * Releases the permit tied to this one, once this one is back with its owner (so that a campaign's waiter that the
     * campaign permit lets go never sees this Region permit still in use).
     */
    void releaseTied() {
        Permit tied = companion.getAndSet(null);
        if (tied != null) {
            tied.release();
        }
    }

    /** Unties the permit tied to this one, to tie it to another (an attempt sent again after AtCapacity). */
    Permit untie() {
        return companion.getAndSet(null);
    }

    void bind(String attempt) {
        this.attemptId = attempt;
    }

    boolean markReleased() {
        boolean first = released.compareAndSet(false, true);
        if (first) {
            Disposable guard = lifetimeGuard;
            if (guard != null) {
                guard.dispose();
            }
        }
        return first;
    }

    void guardWith(Disposable guard) {
        this.lifetimeGuard = guard;
        if (released.get()) {
            guard.dispose();
        }
    }

    @Override
    public String toString() {
        return "Permit{" + region() + "#" + id + (attemptId == null ? "" : ", attempt=" + attemptId) + "}";
    }
}
