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
import software.amazon.awssdk.services.chimesdkvoice.model.AccessDeniedException;
import software.amazon.awssdk.services.chimesdkvoice.model.BadRequestException;
import software.amazon.awssdk.services.chimesdkvoice.model.ForbiddenException;
import software.amazon.awssdk.services.chimesdkvoice.model.NotFoundException;
import software.amazon.awssdk.services.chimesdkvoice.model.ResourceLimitExceededException;
import software.amazon.awssdk.services.chimesdkvoice.model.ThrottledClientException;
import software.amazon.awssdk.services.chimesdkvoice.model.UnauthorizedClientException;

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
            return rejection(service, status, message);
        }
        if (noCredentials(e)) {
            return new CreateOutcome.RegionFault("NoCredentials", "no AWS credentials could be loaded (the default"
                    + " provider chain: environment, system properties, profile, container or instance role); nothing"
                    + " was sent");
        }
        return provablyNotSent(e) ? new CreateOutcome.NotSent(e) : new CreateOutcome.Unknown(e);
    }

    /**
     * The SDK found no credentials: it fails before it signs, so the request was never written, and every
     * Create of the Region would fail the same way (the account's fault, as a 403 is).
     */
    private static boolean noCredentials(Throwable error) {
        int depth = 0;
        for (Throwable t = error; t != null && depth < 16; t = t.getCause(), depth++) {
            String m = t.getMessage();
            if (t instanceof software.amazon.awssdk.core.exception.SdkClientException && m != null
                    && m.startsWith("Unable to load credentials")) {
                return true;
            }
        }
        return false;
    }

    /**
     * A final 4xx of Create, by whose fault it is. The Region's or account's: 401 and 403 (expired or wrong
     * credentials, an IAM policy without {@code chime:CreateSipMediaApplicationCall}), NotFound (the SIP media
     * application), a BadRequest naming {@code FromPhoneNumber} or the SIP media application. The contact's: a
     * BadRequest naming {@code ToPhoneNumber}. Anything else is unexplained: FAILED for this contact, and the
     * Region's health counts it (a run of them fails the Region).
     */
    private static CreateOutcome rejection(SdkServiceException service, int status, String message) {
        String type = errorType(service);
        if (status == 401 || status == 403 || service instanceof NotFoundException
                || service instanceof AccessDeniedException || service instanceof ForbiddenException
                || service instanceof UnauthorizedClientException) {
            return new CreateOutcome.RegionFault(type, message);
        }
        if (service instanceof BadRequestException || status == 400) {
            if (names(message, "FromPhoneNumber") || names(message, "SipMediaApplication")) {
                return new CreateOutcome.RegionFault(type, message);
            }
            if (names(message, "ToPhoneNumber")) {
                return new CreateOutcome.Rejected(Disposition.INVALID_NUMBER, type, message);
            }
        }
        return new CreateOutcome.Rejected(Disposition.FAILED, type, message);
    }

    private static boolean names(String message, String field) {
        return message != null && message.toLowerCase(java.util.Locale.ROOT).contains(field.toLowerCase(java.util.Locale.ROOT));
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

    static RegionCheck classifyCheck(Throwable error) {
        Throwable e = unwrap(error);
        if (e instanceof SdkServiceException service) {
            if (e instanceof NotFoundException || service.statusCode() == 404) {
                return new RegionCheck.NotFound(message(service));
            }
            if (service.statusCode() == 403) {
                return new RegionCheck.NotPermitted(errorType(service), message(service));
            }
            return new RegionCheck.Failed(errorType(service), message(service));
        }
        return new RegionCheck.Failed(e.getClass().getSimpleName(), String.valueOf(e.getMessage()));
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
