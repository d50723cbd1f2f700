package io.chimedialer.core.spill;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how the dialer drains the Lambda bridge's spill queue ({@code server.spill-queue},
 * docs/configuration.md).
 *
 * @param queueUrl          the SQS queue's URL (the bridge's {@code DIALER_SPILL_QUEUE_URL})
 * @param region            the queue's AWS Region, or null to take it from an {@code sqs.<region>.amazonaws.com} URL
 *                          (else us-east-1)
 * @param pollWait          ReceiveMessage's long-poll wait, 1 to 20 s (default 20 s)
 * @param visibilityTimeout how long a received message stays hidden from other receivers while it is handled; a
 *                          message not deleted by then comes back (default 60 s, at least 10 s)
 * @param unknownGrace      how long a message whose TransactionId the ledger does not know is kept (its Create may
 *                          not be recorded yet) before it is dropped as unknown (default 30 s)
 */
public record SpillSettings(URI queueUrl, String region, Duration pollWait, Duration visibilityTimeout,
                            Duration unknownGrace) {

    /** Default long-poll wait. */
    public static final Duration DEFAULT_POLL_WAIT = Duration.ofSeconds(20);
    /** Default visibility timeout. */
    public static final Duration DEFAULT_VISIBILITY_TIMEOUT = Duration.ofSeconds(60);
    /** Default grace of an unknown TransactionId. */
    public static final Duration DEFAULT_UNKNOWN_GRACE = Duration.ofSeconds(30);

    /** Validates; messages name the setting. */
    public SpillSettings {
        Objects.requireNonNull(queueUrl, "queueUrl");
        if (queueUrl.getScheme() == null || queueUrl.getHost() == null || queueUrl.getRawPath() == null
                || queueUrl.getRawPath().length() < 2) {
            throw new IllegalArgumentException("url: must be an SQS queue URL (http(s)://host/account/name), was "
                    + queueUrl);
        }
        pollWait = pollWait == null ? DEFAULT_POLL_WAIT : pollWait;
        visibilityTimeout = visibilityTimeout == null ? DEFAULT_VISIBILITY_TIMEOUT : visibilityTimeout;
        unknownGrace = unknownGrace == null ? DEFAULT_UNKNOWN_GRACE : unknownGrace;
        if (pollWait.compareTo(Duration.ofSeconds(1)) < 0 || pollWait.compareTo(Duration.ofSeconds(20)) > 0) {
            throw new IllegalArgumentException("poll-wait: must be 1s to 20s, was " + pollWait);
        }
        if (visibilityTimeout.compareTo(Duration.ofSeconds(10)) < 0
                || visibilityTimeout.compareTo(Duration.ofHours(12)) > 0) {
            throw new IllegalArgumentException("visibility-timeout: must be 10s to 12h, was " + visibilityTimeout);
        }
        if (unknownGrace.isNegative()) {
            throw new IllegalArgumentException("unknown-grace: must not be negative, was " + unknownGrace);
        }
    }

    /** A queue with the defaults. */
    public static SpillSettings of(URI queueUrl) {
        return new SpillSettings(queueUrl, null, null, null, null);
    }

    /** The endpoint: the queue URL's scheme and authority. */
    public URI endpoint() {
        return URI.create(queueUrl.getScheme() + "://" + queueUrl.getRawAuthority());
    }

    /** The Region: as configured, else from an {@code sqs.<region>.amazonaws.com} host, else us-east-1. */
    public String regionOrDefault() {
        if (region != null && !region.isBlank()) {
            return region.trim();
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^sqs[.-]([a-z0-9-]+)\\.amazonaws\\.com(\\.cn)?$")
                .matcher(queueUrl.getHost().toLowerCase(java.util.Locale.ROOT));
        return m.matches() ? m.group(1) : "us-east-1";
    }
}
