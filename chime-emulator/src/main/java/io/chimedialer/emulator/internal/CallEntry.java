package io.chimedialer.emulator.internal;

import io.chimedialer.emulator.CallRecord;
import java.util.Map;

/** A created call as the REST API and the ground truth see it. Implementations are thread-safe. */
interface CallEntry {
    String smaId();

    boolean ended();

    void requestUpdate(Map<String, String> arguments);

    CallRecord snapshot();
}
