package io.chimedialer.core.chime;

import io.chimedialer.core.domain.Disposition;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.services.chimesdkvoice.model.BadRequestException;
import software.amazon.awssdk.services.chimesdkvoice.model.NotFoundException;
import software.amazon.awssdk.services.chimesdkvoice.model.ResourceLimitExceededException;
import software.amazon.awssdk.services.chimesdkvoice.model.ThrottledClientException;

/**
 * Maps SDK failures to outcome values. The one question that matters for Create is whether the request
 * could have reached Chime: only failures that provably happened before a byte was written (connect
 * refused or timed out, DNS, no pooled connection) are {@link CreateOutcome.NotSent}; every other
 * non-HTTP failure (reset, closed channel, read timeout, API-call timeout) is {@link CreateOutcome.Unknown}.
 */
final class SdkErrors {

    // NettyUtils replaces pool-acquire failures by plain Throwables with these messages (netty-nio-client 2.x).
    private static final String ACQUIRE_TIMEOUT = "Acquire operation took longer";
    private static final String TOO_MANY_ACQUIRES = "Maximum pending connection acquisitions exceeded";
    private static final String TOO_MANY_OUTSTANDING = "Too many outstanding acquire operations";

    private SdkErrors() {
    }

    static CreateOutcome classifyCreate(Throwable error) {
        Throwable e = unwrap(error);
        if (e instanceof SdkServiceException service) {
            int status = service.statusCode();
            String message = message(service);
            if (e instanceof ThrottledClientException || status == 429) {
                return new CreateOutcome.Throttled(message);
            }
            if (e instanceof ResourceLimitExceededException) {
                return new CreateOutcome.AtCapacity(message);
            }
            if (status >= 500 || status < 400) {
                return new CreateOutcome.Unknown(e);
            }
            Disposition disposition = e instanceof BadRequestException ? Disposition.INVALID_NUMBER : Disposition.FAILED;
            return new CreateOutcome.Rejected(disposition, errorType(service), message);
        }
        return provablyNotSent(e) ? new CreateOutcome.NotSent(e) : new CreateOutcome.Unknown(e);
    }

    static UpdateOutcome classifyUpdate(Throwable error) {
        Throwable e = unwrap(error);
        if (e instanceof SdkServiceException service) {
            if (e instanceof NotFoundException) {
                return new UpdateOutcome.NotFound(message(service));
            }
            if (e instanceof ThrottledClientException || service.statusCode() == 429) {
                return new UpdateOutcome.Throttled(message(service));
            }
            return new UpdateOutcome.Failed(errorType(service), e);
        }
        return new UpdateOutcome.Failed(e.getClass().getSimpleName(), e);
    }

    static boolean provablyNotSent(Throwable error) {
        int depth = 0;
        for (Throwable t = error; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof ConnectException || t instanceof UnknownHostException) {
                return true;
            }
            String m = t.getMessage();
            if (m != null && (m.startsWith(ACQUIRE_TIMEOUT) || m.startsWith(TOO_MANY_ACQUIRES)
                    || m.startsWith(TOO_MANY_OUTSTANDING))) {
                return true;
            }
            if (t instanceof TimeoutException && m != null && m.contains("Acquire")) {
                return true;
            }
        }
        return false;
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String errorType(SdkServiceException e) {
        if (e instanceof AwsServiceException aws) {
            AwsErrorDetails details = aws.awsErrorDetails();
            if (details != null && details.errorCode() != null) {
                return details.errorCode();
            }
        }
        return e.getClass().getSimpleName();
    }

    private static String message(SdkServiceException e) {
        if (e instanceof AwsServiceException aws) {
            AwsErrorDetails details = aws.awsErrorDetails();
            if (details != null && details.errorMessage() != null) {
                return details.errorMessage();
            }
        }
        return e.getMessage() == null ? "" : e.getMessage();
    }
}
