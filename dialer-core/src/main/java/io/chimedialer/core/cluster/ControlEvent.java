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
 * @param campaignId the campaign, for LAUNCH, PAUSE, RESUME and CANCEL; null for RATE and DNC
 * @param region     the Region, for RATE; null otherwise
 * @param value      the new calls per second, for RATE; null otherwise
 * @param payload    for LAUNCH, the campaign's definition (YAML) when it is not in the shared configuration, else
 *                   null; for DNC, the list and the number ({@link #optOut()}); null otherwise
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
        DNC
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
