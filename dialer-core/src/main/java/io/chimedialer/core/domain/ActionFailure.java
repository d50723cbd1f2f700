package io.chimedialer.core.domain;

import java.util.Set;

/**
 * An action of a call that Chime reported failed ({@code ACTION_FAILED}): the action's Type, its ErrorType and
 * ErrorMessage. A failed action that speaks or plays ({@link #wasAudible()}) was not heard, and Chime dropped the
 * actions after it in the list.
 *
 * <p>Not every ACTION_FAILED is a failure: a digit prompt that got no valid input and a transfer the agent did not
 * answer are outcomes of the call ({@link #isCallOutcome}).
 *
 * @param action    the failed action's Type, e.g. {@code Speak}; "unknown" when the invocation named none
 * @param errorType the ErrorType, e.g. {@code AccessDenied}, or null when Chime sent none
 * @param message   the ErrorMessage (printable, at most {@value #MAX_MESSAGE} characters), or null
 */
public record ActionFailure(String action, String errorType, String message) {

    /** Longest message kept. */
    public static final int MAX_MESSAGE = 200;

    private static final Set<String> AUDIBLE = Set.of("Speak", "SpeakAndGetDigits", "PlayAudio",
            "PlayAudioAndGetDigits");
    private static final Set<String> DIGIT_ACTIONS = Set.of("SpeakAndGetDigits", "PlayAudioAndGetDigits",
            "ReceiveDigits");
    private static final String FAILED = " failed";

    public ActionFailure {
        action = action == null || action.isBlank() ? "unknown" : printable(action, 64);
        errorType = errorType == null || errorType.isBlank() ? null : printable(errorType, 64);
        message = message == null || message.isBlank() ? null : printable(message, MAX_MESSAGE);
    }

    /**
     * Whether an ACTION_FAILED is an outcome of the call rather than a failure of the action: digits not received
     * (ErrorType {@code InvalidDigitsReceived}, or none on a digit action: no input before the timeout) or a transfer
     * not answered ({@code CallNotAnswered}).
     */
    public static boolean isCallOutcome(String action, String errorType) {
        if ("InvalidDigitsReceived".equalsIgnoreCase(errorType) || "CallNotAnswered".equalsIgnoreCase(errorType)) {
            return true;
        }
        return (errorType == null || errorType.isBlank()) && action != null && DIGIT_ACTIONS.contains(action);
    }

    /** Whether the action speaks or plays to the callee: its prompt was not heard. */
    public boolean wasAudible() {
        return AUDIBLE.contains(action);
    }

    /**
     * The failure as one line, as the ledger keeps it: {@code Speak failed: AccessDenied: <message>} (the parts that
     * are present). {@link #parse} reads it back.
     */
    public String detail() {
        StringBuilder sb = new StringBuilder(action).append(FAILED);
        if (errorType != null) {
            sb.append(": ").append(errorType);
        } else if (message != null) {
            sb.append(": -");
        }
        if (message != null) {
            sb.append(": ").append(message);
        }
        return sb.toString();
    }

    /** Reads a {@link #detail()} back; null when the text is not one. */
    public static ActionFailure parse(String detail) {
        if (detail == null) {
            return null;
        }
        int failed = detail.indexOf(FAILED);
        if (failed <= 0 || detail.substring(0, failed).contains(" ")) {
            return null;
        }
        String action = detail.substring(0, failed);
        String rest = detail.substring(failed + FAILED.length());
        if (rest.isEmpty()) {
            return new ActionFailure(action, null, null);
        }
        if (!rest.startsWith(": ")) {
            return null;
        }
        rest = rest.substring(2);
        int colon = rest.indexOf(": ");
        String type = colon < 0 ? rest : rest.substring(0, colon);
        String message = colon < 0 ? null : rest.substring(colon + 2);
        return new ActionFailure(action, "-".equals(type) ? null : type, message);
    }

    /** The text without control characters (no log or CSV line breaks), at most {@code max} characters. */
    private static String printable(String s, int max) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), max));
        for (int i = 0; i < s.length() && sb.length() < max; i++) {
            char c = s.charAt(i);
            sb.append(Character.isISOControl(c) ? ' ' : c);
        }
        return sb.toString().strip();
    }

    @Override
    public String toString() {
        return detail();
    }
}
