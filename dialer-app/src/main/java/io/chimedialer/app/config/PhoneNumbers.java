package io.chimedialer.app.config;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;

/**
 * The one place dialer-app's validation asks libphonenumber about a number. The contacts package of
 * dialer-core will own row normalization; this stays small so it can be replaced by it.
 */
final class PhoneNumbers {
    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    private PhoneNumbers() {
    }

    /**
     * Why a number cannot be dialed, or {@code null} when it is a valid number.
     *
     * @param raw           the number as written
     * @param defaultRegion ISO country used when the number has no leading {@code +}
     */
    static String whyInvalid(String raw, String defaultRegion) {
        try {
            PhoneNumber n = UTIL.parse(raw, defaultRegion);
            return UTIL.isValidNumber(n) ? null : "not a valid number";
        } catch (NumberParseException e) {
            return switch (e.getErrorType()) {
                case INVALID_COUNTRY_CODE -> "no country code (write it as +<country><number>)";
                case TOO_SHORT_NSN, TOO_SHORT_AFTER_IDD -> "too short";
                case TOO_LONG -> "too long";
                default -> "not a phone number";
            };
        }
    }

    /** The number in E.164 form, or {@code null} when it is not valid. */
    static String e164(String raw, String defaultRegion) {
        try {
            PhoneNumber n = UTIL.parse(raw, defaultRegion);
            return UTIL.isValidNumber(n) ? UTIL.format(n, PhoneNumberUtil.PhoneNumberFormat.E164) : null;
        } catch (NumberParseException e) {
            return null;
        }
    }

    /** True when libphonenumber knows the ISO country code (e.g. {@code US}). */
    static boolean supportedRegion(String isoCountry) {
        return UTIL.getSupportedRegions().contains(isoCountry);
    }
}
