package io.chimedialer.core.cluster;

import io.chimedialer.core.util.Masking;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One control command issued to the cluster, as stored in {@code campaign_control}.
 *
 * @param seq        its order in the cluster (increasing)
 * @param command    what to do
 * @param campaignId the campaign, for LAUNCH, PAUSE, RESUME, CANCEL and ENDED; null for RATE and DNC
 * @param region     the Region, for RATE; null otherwise
 * @param value      the new calls per second, for RATE; null otherwise
 * @param payload    for LAUNCH, the campaign's definition (YAML) when it is not in the shared configuration, else
 *                   null; for DNC, the list and the number ({@link #optOut()}); for ENDED, the attempt and its
 *                   outcome ({@link #callEnd()}); null otherwise
 * @param issuedBy   the node that published it
 * @param issuedAt   when (the issuing node's clock)
 */
public record ControlEvent(long seq, Command command, String campaignId, String region, Double value, String payload,
                           String issuedBy, Instant issuedAt) {
    public ControlEvent {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(issuedBy, "issuedBy");
        Objects.requireNonNull(issuedAt, "issuedAt");
    }

    /** A command without payload. */
    public ControlEvent(long seq, Command command, String campaignId, String region, Double value, String issuedBy,
                        Instant issuedAt) {
        this(seq, command, campaignId, region, value, null, issuedBy, issuedAt);
    }

    /** The commands every node applies. */
    public enum Command {
        /** Launch a campaign on every node that does not run it (its list is already in {@code cluster_contacts}). */
        LAUNCH,
        /** Pause a campaign's run on every node. */
        PAUSE,
        /** Resume it. */
        RESUME,
        /** Cancel it. */
        CANCEL,
        /** Set a Region's configured (total) rate: {@link ClusterLimits#setTotalRate}. */
        RATE,
        /** A number opted out: every run whose opt-outs go to this DNC list refuses it from now on. */
        DNC,
        /**
         * A call ended on a node that did not place it (its invocations reached that node): the node that holds
         * the call ends it with this outcome, releasing its permit ({@link #callEnd()}).
         */
        ENDED
    }

    /**
     * The end of a call carried by an ENDED command.
     *
     * @param attemptId   the attempt
     * @param disposition its disposition's name ({@code io.chimedialer.core.domain.Disposition})
     * @param sipCode     its SIP code, or null
     */
    public record CallEnd(String attemptId, String disposition, Integer sipCode) {
        public CallEnd {
            Objects.requireNonNull(attemptId, "attemptId");
            Objects.requireNonNull(disposition, "disposition");
        }

        String toJson() {
            Map<String, String> fields = new java.util.LinkedHashMap<>();
            fields.put("attemptId", attemptId);
            fields.put("disposition", disposition);
            if (sipCode != null) {
                fields.put("sipCode", sipCode.toString());
            }
            return Json.write(fields);
        }
    }

    /** The call end of an ENDED command; empty for any other command (or an ENDED whose payload lacks a field). */
    public Optional<CallEnd> callEnd() {
        if (command != Command.ENDED || payload == null) {
            return Optional.empty();
        }
        Map<String, String> fields = Json.strings(payload);
        String attemptId = fields.get("attemptId");
        String disposition = fields.get("disposition");
        if (attemptId == null || disposition == null) {
            return Optional.empty();
        }
        Integer sip = null;
        try {
            sip = fields.get("sipCode") == null ? null : Integer.valueOf(fields.get("sipCode"));
        } catch (NumberFormatException e) {
            // a SIP code is informational
        }
        return Optional.of(new CallEnd(attemptId, disposition, sip));
    }

    /**
     * An opt-out carried by a DNC command.
     *
     * @param list   the DNC list the opt-out was recorded under (as in the ledger's {@code dnc} table)
     * @param number the number (E.164)
     */
    public record OptOut(String list, String number) {
        public OptOut {
            Objects.requireNonNull(list, "list");
            Objects.requireNonNull(number, "number");
        }

        /** Masks the number. */
        @Override
        public String toString() {
            return "OptOut[list=" + list + ", number=" + Masking.phone(number) + "]";
        }

        String toJson() {
            return Json.write(Map.of("list", list, "number", number));
        }
    }

    /** The opt-out of a DNC command; empty for any other command (or a DNC whose payload lacks a field). */
    public Optional<OptOut> optOut() {
        if (command != Command.DNC || payload == null) {
            return Optional.empty();
        }
        Map<String, String> fields = Json.strings(payload);
        String list = fields.get("list");
        String number = fields.get("number");
        return list == null || number == null ? Optional.empty() : Optional.of(new OptOut(list, number));
    }

    /** Leaves the payload out (a DNC's holds a number; a LAUNCH's may be long): only its length is shown. */
    @Override
    public String toString() {
        return "ControlEvent[seq=" + seq + ", command=" + command + ", campaignId=" + campaignId + ", region=" + region
                + ", value=" + value + ", payload=" + (payload == null ? "null" : payload.length() + " chars")
                + ", issuedBy=" + issuedBy + ", issuedAt=" + issuedAt + "]";
    }
}
