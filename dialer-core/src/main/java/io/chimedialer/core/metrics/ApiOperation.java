package io.chimedialer.core.metrics;

/**
 * The Chime SDK Voice operations the dialer calls, as the {@code operation} tag of the API meters. An enum so
 * that the tag stays bounded; its tag value is the AWS operation name.
 */
public enum ApiOperation {
    /** {@code CreateSipMediaApplicationCall}: places an outbound call. */
    CREATE_SIP_MEDIA_APPLICATION_CALL("CreateSipMediaApplicationCall"),
    /** {@code UpdateSipMediaApplicationCall}: sends arguments to a running call. */
    UPDATE_SIP_MEDIA_APPLICATION_CALL("UpdateSipMediaApplicationCall");

    private final String tagValue;

    ApiOperation(String tagValue) {
        this.tagValue = tagValue;
    }

    /** The value of the {@code operation} tag, e.g. {@code CreateSipMediaApplicationCall}. */
    public String tagValue() {
        return tagValue;
    }
}
