package io.chimedialer.emulator.internal;

/** The Chime SDK Voice errors the emulator sends: HTTP status, {@code x-amzn-ErrorType}, legacy body Code. */
enum ApiError {
    BAD_REQUEST("BadRequestException", 400, "BadRequest"),
    UNAUTHORIZED("UnauthorizedClientException", 401, "Unauthorized"),
    FORBIDDEN("ForbiddenException", 403, "Forbidden"),
    ACCESS_DENIED("AccessDeniedException", 403, "AccessDenied"),
    NOT_FOUND("NotFoundException", 404, "NotFound"),
    RESOURCE_LIMIT_EXCEEDED("ResourceLimitExceededException", 400, "ResourceLimitExceeded"),
    THROTTLED("ThrottledClientException", 429, "Throttled"),
    SERVICE_FAILURE("ServiceFailureException", 500, "ServiceFailure"),
    SERVICE_UNAVAILABLE("ServiceUnavailableException", 503, "ServiceUnavailable");

    final String type;
    final int status;
    final String code;

    /** The error a Create gets at the active-call quota, as configured. */
    static ApiError of(io.chimedialer.emulator.ActiveCallLimitError e) {
        return switch (e) {
            case RESOURCE_LIMIT_EXCEEDED -> RESOURCE_LIMIT_EXCEEDED;
            case THROTTLED -> THROTTLED;
            case SERVICE_UNAVAILABLE -> SERVICE_UNAVAILABLE;
        };
    }

    ApiError(String type, int status, String code) {
        this.type = type;
        this.status = status;
        this.code = code;
    }
}
