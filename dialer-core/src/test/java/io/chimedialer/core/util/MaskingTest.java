package io.chimedialer.core.util;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MaskingTest {

    @Test
    void phone_e164_keepsThePlusAndTheLastFourDigits() {
        assertThat(Masking.phone("+12125550123")).isEqualTo("+*******0123");
        assertThat(Masking.phone("+442079460018")).isEqualTo("+********0018");
    }

    @Test
    void phone_formattedNational_keepsEveryNonDigitAndTheLastFourDigits() {
        assertThat(Masking.phone("(212) 555-0123")).isEqualTo("(***) ***-0123");
        assertThat(Masking.phone(" +1 212 555 23 ")).isEqualTo(" +* *** *55 23 ");
    }

    @Test
    void phone_fourDigitsOrFewer_isShownAsWritten() {
        assertThat(Masking.phone("0123")).isEqualTo("0123");
        assertThat(Masking.phone("123")).isEqualTo("123");
        assertThat(Masking.phone("12345")).isEqualTo("*2345");
    }

    @Test
    void phone_noDigits_isUnchanged() {
        assertThat(Masking.phone("")).isEmpty();
        assertThat(Masking.phone("not a number")).isEqualTo("not a number");
    }

    @Test
    void phone_null_givesTheWordNull() {
        assertThat(Masking.phone(null)).isEqualTo("null");
    }

    @Test
    void phone_nonAsciiDigits_countAsDigits() {
        // Arabic-Indic digits parse as a number in libphonenumber, so they must not slip through unmasked.
        assertThat(Masking.phone("+١٢١٢٥٥٥٠١٢٣")).isEqualTo("+*******٠١٢٣");
    }
}
