package io.chimedialer.emulator.internal;

import io.chimedialer.emulator.CallRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** A call created in API-only mode: recorded compactly, ended at once, never invoked. Immutable. */
record UnsimulatedCall(String transactionId, String smaId, String region, String from, String to,
                       Map<String, String> arguments, Map<String, String> sipHeaders, Instant created)
        implements CallEntry {

    @Override
    public boolean ended() {
        return true;
    }

    @Override
    public void requestUpdate(Map<String, String> arguments) {
        // Never reached: the REST API answers 404 for ended calls.
    }

    @Override
    public CallRecord snapshot() {
        return new CallRecord(transactionId, smaId, region, from, to, arguments, sipHeaders, created, null, created,
                Engine.NOT_SIMULATED, null, false, Engine.NOT_SIMULATED, List.of(), List.of());
    }
}
