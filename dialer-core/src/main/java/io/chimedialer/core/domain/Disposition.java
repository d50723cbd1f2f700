package io.chimedialer.core.domain;

/**
 * The final outcome of one call attempt (DESIGN.md section 5).
 */
public enum Disposition {
    /** CALL_ANSWERED was seen (a person or a voicemail). */
    ANSWERED,
    /** 486 or 600. */
    BUSY,
    /** 480, 408, 487, the ring timeout, or a HANGUP without SIP code of a call that rang and was not answered. */
    NO_ANSWER,
    /** 403 or 603. */
    REJECTED,
    /** 404, 484, 604, or a BadRequest on the number. */
    INVALID_NUMBER,
    /**
     * Any other SIP code, a 5xx, an ACTION_FAILED that ended the call, or a HANGUP without SIP code of a call that
     * never rang.
     */
    FAILED,
    /**
     * Not observable: Create timed out with no NEW_OUTBOUND_CALL seen, the HANGUP was lost, or a HANGUP without SIP
     * code came for an unanswered call whose NEW_OUTBOUND_CALL and RINGING this process did not see (taken over after
     * a restart: whether it rang is not known).
     */
    UNKNOWN;

    /**
     * Classifies a HANGUP of a call that was never answered. A HANGUP without {@code SipResponseCode} is documented
     * and common in AWS's own examples (CHIME.md section 3.4): a call that rang ended unanswered (NO_ANSWER), one
     * that never rang failed before reaching the callee (FAILED).
     *
     * @param sipCode the code from the HANGUP's ActionData, or {@code null} when it carried none
     * @param rang    whether a RINGING invocation was seen for the call
     * @return the disposition
     */
    public static Disposition ofUnansweredHangup(Integer sipCode, boolean rang) {
        if (sipCode == null) {
            return rang ? NO_ANSWER : FAILED;
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
