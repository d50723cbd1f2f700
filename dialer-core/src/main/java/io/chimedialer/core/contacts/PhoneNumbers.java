package io.chimedialer.core.contacts;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import io.chimedialer.core.util.Masking;
import java.util.Locale;
import java.util.Objects;

/**
 * Normalizes phone numbers to E.164 with libphonenumber.
 *
 * <p>Numbers written without a leading {@code +} are read as national numbers of the default region. A number
 * is accepted only when libphonenumber's {@code isValidNumber} holds, so a well-formed but unassigned number
 * (for example a US area code starting with 0) is rejected. Instances are immutable and thread-safe.
 */
public final class PhoneNumbers {
    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    private final String defaultRegion;

    private PhoneNumbers(String defaultRegion) {
        this.defaultRegion = defaultRegion;
    }

    /**
     * Creates a normalizer.
     *
     * @param defaultRegion ISO 3166 country code (e.g. {@code US}) used for numbers without a leading {@code +}
     * @return the normalizer
     * @throws IllegalArgumentException when libphonenumber does not know the region
     */
    public static PhoneNumbers forRegion(String defaultRegion) {
        Objects.requireNonNull(defaultRegion, "defaultRegion");
        String region = defaultRegion.trim().toUpperCase(Locale.ROOT);
        if (!supportedRegion(region)) {
            throw new IllegalArgumentException("defaultRegion: unknown region '" + defaultRegion
                    + "' (expected an ISO 3166 country code such as US)");
        }
        return new PhoneNumbers(region);
    }

    /**
     * Whether libphonenumber knows a country, so {@link #forRegion} accepts it.
     *
     * @param isoCountry an ISO 3166 code in upper case, e.g. {@code US}
     */
    public static boolean supportedRegion(String isoCountry) {
        return UTIL.getSupportedRegions().contains(isoCountry);
    }

    /** The ISO country used for numbers written without a leading {@code +}. */
    public String defaultRegion() {
        return defaultRegion;
    }

    /**
     * Parses and validates one number.
     *
     * @param raw the number as written, e.g. {@code (212) 555-0123} or {@code +44 20 7946 0018}
     * @return the E.164 form, or the reason the number is not dialable: {@code not a phone number}, {@code too
     *         short to be a phone number}, {@code too long to be a phone number}, {@code no country code (...)}
     *         when libphonenumber cannot parse it, {@code not a valid number (default region XX)} when it parses
     *         but is not a valid number
     */
    public Normalized normalize(String raw) {
        if (raw == null || raw.isBlank()) {
            return new Normalized(raw, null, "no number");
        }
        PhoneNumber parsed;
        try {
            parsed = UTIL.parse(raw, defaultRegion);
        } catch (NumberParseException e) {
            return new Normalized(raw, null, unparsable(e.getErrorType()));
        }
        if (!UTIL.isValidNumber(parsed)) {
            return new Normalized(raw, null, "not a valid number (default region " + defaultRegion + ")");
        }
        return new Normalized(raw, UTIL.format(parsed, PhoneNumberUtil.PhoneNumberFormat.E164), null);
    }


    // The reasons are read by people (dialer validate, the ledger's skip reasons), not by code.
    private static String unparsable(NumberParseException.ErrorType type) {
        return switch (type) {
            case INVALID_COUNTRY_CODE -> "no country code (write it as +<country><number>)";
            case TOO_SHORT_NSN, TOO_SHORT_AFTER_IDD -> "too short to be a phone number";
            case TOO_LONG -> "too long to be a phone number";
            case NOT_A_NUMBER -> "not a phone number";
        };
    }

    /**
     * The outcome of {@link #normalize(String)}: either {@code e164} or {@code reason} is set.
     *
     * @param input  the number as written
     * @param e164   the E.164 form, or {@code null} when invalid
     * @param reason why the number is not dialable, or {@code null} when valid
     */
    public record Normalized(String input, String e164, String reason) {
        /** True when the number is dialable and {@link #e164()} is set. */
        public boolean isValid() {
            return e164 != null;
        }

        @Override
        public String toString() {
            return isValid() ? "Normalized[" + Masking.phone(e164) + "]"
                    : "Normalized[" + Masking.phone(input) + ": " + reason + "]";
        }
    }
}
