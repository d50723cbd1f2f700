package io.chimedialer.lambda;

import java.util.List;
import java.util.Locale;

/**
 * The few fields of a SIP media application invocation the bridge itself needs, read leniently
 * (CHIME.md §3): any of them may be missing, keys match ignoring case, {@code SipApplicationId} is
 * accepted for {@code SipMediaApplicationId}, and {@code ParticipantTag} matches ignoring case.
 * The bridge forwards the raw bytes regardless; this is only for routing, the fallback and logs.
 *
 * @param type                the {@code InvocationEventType}, upper-cased, or {@code null}
 * @param transactionId       {@code CallDetails.TransactionId}, or {@code null}
 * @param sequence            {@code Sequence} as text, or {@code null}
 * @param sipMediaApplicationId {@code CallDetails.SipMediaApplicationId} (or its alias), or {@code null}
 * @param legACallId          the {@code CallId} of the LEG-A participant (else of the only/first
 *                            participant), or {@code null}
 * @param attributesDialerUrl {@code CallDetails.TransactionAttributes.dialerUrl}, or {@code null}
 * @param argumentsDialerUrl  {@code ActionData.Parameters.Arguments.dialerUrl}, or {@code null}
 */
record SmaEvent(String type, String transactionId, String sequence, String sipMediaApplicationId,
                String legACallId, String attributesDialerUrl, String argumentsDialerUrl) {

    /** The key under which the dialer puts its node's URL in ArgumentsMap and TransactionAttributes. */
    static final String DIALER_URL_KEY = "dialerUrl";

    static final SmaEvent UNREADABLE = new SmaEvent(null, null, null, null, null, null, null);

    /** Reads an event; never throws: unreadable input gives {@link #UNREADABLE}. */
    static SmaEvent parse(byte[] body) {
        Object root;
        try {
            root = Json.read(body);
        } catch (java.io.IOException | RuntimeException e) {
            return UNREADABLE;
        }
        Object details = Json.get(root, "CallDetails");
        String smaId = Json.text(Json.get(details, "SipMediaApplicationId"));
        if (smaId == null) {
            smaId = Json.text(Json.get(details, "SipApplicationId"));
        }
        return new SmaEvent(
                Json.upper(Json.get(root, "InvocationEventType")),
                Json.text(Json.get(details, "TransactionId")),
                Json.text(Json.get(root, "Sequence")),
                smaId,
                legACallId(Json.get(details, "Participants")),
                Json.text(Json.path(details, "TransactionAttributes", DIALER_URL_KEY)),
                Json.text(Json.path(root, "ActionData", "Parameters", "Arguments", DIALER_URL_KEY)));
    }

    /** The node URL the dialer asked for: TransactionAttributes (set last) first, then ArgumentsMap. */
    String dialerUrl() {
        return attributesDialerUrl != null ? attributesDialerUrl : argumentsDialerUrl;
    }

    private static String legACallId(Object participants) {
        if (!(participants instanceof List<?> list) || list.isEmpty()) {
            return null;
        }
        for (Object participant : list) {
            String tag = Json.text(Json.get(participant, "ParticipantTag"));
            if (tag != null && tag.trim().toUpperCase(Locale.ROOT).equals("LEG-A")) {
                String callId = Json.text(Json.get(participant, "CallId"));
                if (callId != null) {
                    return callId;
                }
            }
        }
        // No tagged LEG-A: an untagged single participant is the first leg.
        for (Object participant : list) {
            if (Json.get(participant, "ParticipantTag") == null) {
                return Json.text(Json.get(participant, "CallId"));
            }
        }
        return null;
    }
}
