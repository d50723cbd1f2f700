package io.chimedialer.core.chime;

/**
 * What reading a Region's SIP media application (GetSipMediaApplication) at start came to. Failures are values,
 * never errors: the check informs the operator and warms the Region's client, and placing calls never depends on it.
 */
public sealed interface RegionCheck {

    /** The SIP media application exists and the credentials may read it. */
    record Found(String name, String awsRegion) implements RegionCheck {
    }

    /** NotFoundException: no such SIP media application in the Region; every Create there would fail the same way. */
    record NotFound(String message) implements RegionCheck {
    }

    /**
     * 403 (AccessDeniedException, ForbiddenException): the credentials may not read it. Placing calls needs other
     * actions, so this alone says nothing about the Region.
     */
    record NotPermitted(String errorType, String message) implements RegionCheck {
    }

    /** Anything else: a throttle, a 5xx, no answer, no credentials. */
    record Failed(String errorType, String message) implements RegionCheck {
    }

    /** The originator reads nothing (a test double, an originator without a Chime client). */
    record Skipped() implements RegionCheck {
    }
}
