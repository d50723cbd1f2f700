package io.chimedialer.core.contacts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PhoneNumbersTest {
    private final PhoneNumbers us = PhoneNumbers.forRegion("US");

    @Test
    void normalize_nationalFormats_giveE164() {
        assertThat(us.normalize("(212) 555-0123").e164()).isEqualTo("+12125550123");
        assertThat(us.normalize("212.555.0123").e164()).isEqualTo("+12125550123");
        assertThat(us.normalize("1 212 555 0123").e164()).isEqualTo("+12125550123");
        assertThat(us.normalize("  2125550123 ").e164()).isEqualTo("+12125550123");
    }

    @Test
    void normalize_internationalFormats_ignoreTheDefaultRegion() {
        assertThat(us.normalize("+44 20 7946 0018").e164()).isEqualTo("+442079460018");
        assertThat(us.normalize("011 44 20 7946 0018").e164()).isEqualTo("+442079460018");
        assertThat(us.normalize("+7 495 123 4567").e164()).isEqualTo("+74951234567");
    }

    @Test
    void normalize_otherDefaultRegion_readsNationalNumbersThere() {
        PhoneNumbers gb = PhoneNumbers.forRegion("gb");

        assertThat(gb.defaultRegion()).isEqualTo("GB");
        assertThat(gb.normalize("020 7946 0018").e164()).isEqualTo("+442079460018");
        assertThat(us.normalize("020 7946 0018").isValid()).isFalse();
    }

    @Test
    void normalize_invalidNumbers_giveReasons() {
        PhoneNumbers.Normalized unassigned = us.normalize("+1 099 555 0101");
        assertThat(unassigned.isValid()).isFalse();
        assertThat(unassigned.e164()).isNull();
        assertThat(unassigned.reason()).isEqualTo("not a valid number (default region US)");

        assertThat(us.normalize("12").reason()).startsWith("not a valid number");
        assertThat(us.normalize("call me").reason()).isEqualTo("not a phone number");
        assertThat(us.normalize("").reason()).isEqualTo("no number");
        assertThat(us.normalize(null).reason()).isEqualTo("no number");
    }

    @Test
    void forRegion_unknownRegion_throwsNamingIt() {
        assertThatThrownBy(() -> PhoneNumbers.forRegion("XX"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("defaultRegion")
                .hasMessageContaining("'XX'");
    }

    @Test
    void toString_masksTheNumber() {
        assertThat(us.normalize("+12125550123").toString()).doesNotContain("2125550123");
    }

    @Test
    void e164Pack_roundTripsDigitsAndRejectsOtherText() {
        assertThat(E164.pack("+12125550123")).isEqualTo(12125550123L);
        assertThat(E164.pack("+999999999999999")).isEqualTo(999_999_999_999_999L);
        assertThat(E164.pack("12125550123")).isEqualTo(-1);
        assertThat(E164.pack("+1212555012a")).isEqualTo(-1);
        assertThat(E164.pack("+1234567890123456")).isEqualTo(-1);
        assertThat(E164.pack("+")).isEqualTo(-1);
    }
}
