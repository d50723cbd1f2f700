package io.chimedialer.core.chime;

import java.net.URI;
import java.util.List;
import java.util.Objects;

/**
 * One AWS Region the dialer places calls in.
 *
 * @param name                  the Region name, e.g. {@code us-east-1}
 * @param sipMediaApplicationId the SMA that runs the calls
 * @param callsPerSecond        CreateSipMediaApplicationCall rate granted by the quota (> 0)
 * @param burst                 how many Creates may go at once after an idle period (>= 1)
 * @param maxActiveCalls        the share of the SMA active-call quota this dialer may use (>= 1)
 * @param updateCallsPerSecond  UpdateSipMediaApplicationCall rate granted by the quota (> 0; Chime's default is 5)
 * @param fromNumbers           caller ids owned in this Region, rotated (at least one)
 * @param endpoint              endpoint override (the emulator's URL), or {@code null} for AWS
 */
public record RegionConfig(String name, String sipMediaApplicationId, double callsPerSecond, int burst,
                           int maxActiveCalls, double updateCallsPerSecond, List<String> fromNumbers, URI endpoint) {
    public RegionConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(sipMediaApplicationId, "sip-media-application-id");
        if (!(callsPerSecond > 0)) {
            throw new IllegalArgumentException("calls-per-second must be > 0, was " + callsPerSecond);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be >= 1, was " + burst);
        }
        if (maxActiveCalls < 1) {
            throw new IllegalArgumentException("max-active-calls must be >= 1, was " + maxActiveCalls);
        }
        if (!(updateCallsPerSecond > 0)) {
            throw new IllegalArgumentException("update-calls-per-second must be > 0, was " + updateCallsPerSecond);
        }
        fromNumbers = List.copyOf(fromNumbers);
        if (fromNumbers.isEmpty()) {
            throw new IllegalArgumentException("from-numbers must not be empty");
        }
    }
}
