package io.chimedialer.core.contacts;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberToTimeZonesMapper;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;

/** The time zones a phone number may ring in, from libphonenumber's geocoder data. Thread-safe. */
public final class TimeZones {
    private static final String UNKNOWN = PhoneNumberToTimeZonesMapper.getUnknownTimeZone();

    private TimeZones() {
    }

    /**
     * The zones of a number: one for most geographic numbers, several when the prefix spans zones (and all of
     * the country's zones for non-geographic numbers such as toll-free or many mobiles).
     *
     * @param e164 a number in E.164 form
     * @return the zones, in the geocoder's order; empty when unknown or when the text does not parse
     */
    public static List<ZoneId> zonesFor(String e164) {
        if (e164 == null || e164.isBlank()) {
            return List.of();
        }
        List<String> ids;
        try {
            ids = PhoneNumberToTimeZonesMapper.getInstance()
                    .getTimeZonesForNumber(PhoneNumberUtil.getInstance().parse(e164, "ZZ"));
        } catch (NumberParseException e) {
            return List.of();
        }
        List<ZoneId> zones = new ArrayList<>(ids.size());
        for (String id : ids) {
            if (!UNKNOWN.equals(id)) {
                try {
                    zones.add(ZoneId.of(id));
                } catch (DateTimeException e) {
                    // A zone id the JDK's tz data does not know yet: the other zones still apply.
                }
            }
        }
        return List.copyOf(zones);
    }
}
