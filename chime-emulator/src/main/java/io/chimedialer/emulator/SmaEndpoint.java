package io.chimedialer.emulator;

import reactor.core.publisher.Mono;

/**
 * Where the emulated SIP media application delivers its invocations: the seam between the call
 * simulation and a transport. The HTTP webhook (signed, see {@link ChimeEmulator.Builder#webhook}) is one
 * implementation; an in-process Lambda handler is another.
 *
 * <p>{@link #invoke} receives the exact JSON of one invocation event and returns the raw JSON response
 * (an empty array or empty Mono for "no response body"). An error signal means the delivery failed; the
 * emulator applies its timeout and retry-once rule around this method, so implementations should neither
 * retry nor time out by themselves. Implementations must be thread-safe: invocations of different calls
 * run concurrently.
 */
@FunctionalInterface
public interface SmaEndpoint {

    /** Delivers one invocation; emits the response body, or an error if the delivery failed. */
    Mono<byte[]> invoke(byte[] requestJson);
}
