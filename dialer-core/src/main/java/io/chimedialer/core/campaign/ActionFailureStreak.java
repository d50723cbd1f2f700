package io.chimedialer.core.campaign;

import io.chimedialer.core.domain.ActionFailure;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Counts the run's answered calls in a row whose actions failed with the same ErrorType. When every answered call
 * fails alike, the cause is the account or the configuration (Polly without its service-linked role, an S3 object
 * without its bucket policy, a bad parameter), not the callees: dialing on would burn the list. An answered call
 * without a failure resets the count, so does a failure of another ErrorType (which starts a new count); unanswered
 * calls leave it alone. Thread-safe.
 */
final class ActionFailureStreak {
    private final int threshold;
    private String errorType;
    private int count;

    /** @param threshold the count that asks for a pause; 0 never does */
    ActionFailureStreak(int threshold) {
        this.threshold = threshold;
    }

    /**
     * Counts one answered call.
     *
     * @param failure its first failed action, or null when none failed
     * @return the reason to pause with, once the count reached the threshold (on every call from then on)
     */
    synchronized Optional<String> answered(ActionFailure failure) {
        if (failure == null) {
            count = 0;
            errorType = null;
            return Optional.empty();
        }
        String type = failure.errorType() == null ? "no ErrorType" : failure.errorType();
        if (count > 0 && type.equals(errorType)) {
            count++;
        } else {
            errorType = type;
            count = 1;
        }
        return threshold > 0 && count >= threshold ? Optional.of(reason(count, failure)) : Optional.empty();
    }

    /** Starts over (after a resume: the operator says the cause is fixed). */
    synchronized void reset() {
        count = 0;
        errorType = null;
    }

    /** The current count, for tests and status. */
    synchronized int count() {
        return count;
    }

    static String reason(int count, ActionFailure failure) {
        Objects.requireNonNull(failure, "failure");
        StringBuilder sb = new StringBuilder().append(count).append(" answered calls in a row failed ")
                .append(failure.action()).append(" with ")
                .append(failure.errorType() == null ? "no ErrorType" : failure.errorType());
        if (failure.message() != null) {
            sb.append(": ").append(failure.message());
        }
        return sb.append(" — ").append(hint(failure)).toString();
    }

    private static String hint(ActionFailure failure) {
        String type = failure.errorType() == null ? "" : failure.errorType().toLowerCase(Locale.ROOT);
        return switch (type) {
            case "invalidactionparameter", "missingrequiredactionparameter" ->
                    "the configuration, not the callees (the flow's voice, texts or audio as Chime received them)";
            case "invalidaudiosource" ->
                    "the configuration or the account, not the callees (the S3 object, its format, or the bucket"
                            + " policy for S3 audio)";
            default -> "the account, not the callees (e.g. the service-linked role"
                    + " AWSServiceRoleForAmazonChimeVoiceConnector for Polly, or the bucket policy for S3 audio)";
        };
    }
}
