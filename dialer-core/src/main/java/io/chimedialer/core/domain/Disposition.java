package io.chimedialer.core.domain;

/**
 * The final outcome of one call attempt (DESIGN.md section 5).
 */
public enum Disposition {
    /** CALL_ANSWERED was seen (a person or a voicemail). */
    ANSWERED,
    /** 486 or 600. */
    BUSY,
    /** 480, 408, 487, or the ring timeout. */
    NO_ANSWER,
    /** 403 or 603. */
    REJECTED,
    /** 404, 484, 604, or a BadRequest on the number. */
    INVALID_NUMBER,
    /** Any other SIP code, a 5xx, or an ACTION_FAILED that ended the call. */
    FAILED,
    /** Not observable: Create timed out with no NEW_OUTBOUND_CALL seen, or the HANGUP was lost. */
    UNKNOWN;

    /**
     * Classifies a HANGUP of a call that was never answered by its SIP response code.
     *
     * @param sipCode the code from the HANGUP's ActionData, or {@code null} when it carried none
     * @return the disposition; {@link #UNKNOWN} when the code is absent
     */
    public static Disposition ofUnansweredHangup(Integer sipCode) {
        if (sipCode == null) {
            return UNKNOWN;
        }
        return switch (sipCode) {
            case 486, 600 -> BUSY;
            case 480, 408, 487 -> NO_ANSWER;
            case 403, 603 -> REJECTED;
            case 404, 484, 604 -> INVALID_NUMBER;
            default -> FAILED;
        };
    }
}
