package io.chimedialer.app.logging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PhoneNumberMaskingTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "Invalid caller ID +17666904195                | Invalid caller ID +*******4195",
            "+442079460018                                 | +********0018",
            "to 17666904195 (NANP, no plus)                | to *******4195 (NANP, no plus)",
            "national 2065550100                           | national ******0100",
            "+1 206 555 0100                               | +* *** *** 0100",
            "+1-206-555-0100                               | +*-***-***-0100",
            "(206) 555-0100                                | (***) ***-0100",
            "206.555.0100                                  | ***.***.0100",
            "+44 20 7946 0018                              | +** ** **** 0018",
            "tx=tx17666904195x                             | tx=tx*******4195x",
            "{\"TransactionId\":\"+17666904195\"}        | {\"TransactionId\":\"+*******4195\"}",
            "%2B17666904195                                | %2B*******4195",
            "a +17666904195 12345 b                        | a +*******4195 12345 b",
            "12345 17666904195                             | 12345 *******4195",
            "on 2026-12-06 17666904195                     | on 2026-12-06 *******4195",
            "eight digits 23456789                         | eight digits ****6789",
            "fifteen 234567890123456                       | fifteen ***********3456",
    })
    void mask_phoneNumbers_allButTheLastFourDigitsMasked(String in, String expected) {
        assertThat(PhoneNumberMasking.mask(in.strip())).isEqualTo(expected.strip());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "attempt 123e4567-e89b-12d3-a456-426614174000 placed",
            "TransactionId 5a1b9c2e-0000-4000-8000-123456789012",
            "at 2026-12-06T15:08:10.123Z and 2026-12-06 15:08:10",
            "answered at 1765033690123 (epoch millis)",
            "timestamp 1765033690 (epoch seconds)",
            "listening on http://127.0.0.1:8080 and 10.100.200.150:54321",
            "channel 0x12345678 closed",
            "rate 0.33333333 calls/s, max 66.66666666666667",
            "body larger than 262144 bytes",
            "200 contacts, 181 dialed, 10000000 rows, 1234567 waits",
            "sixteen digits 1234567890123456 and nineteen 9876543210987654321",
            "regions us-east-1=149@7.4/s us-west-2=74@3.7/s",
            "version 1.5.38, port 65535, in PT30S",
            "four 5 6 7 8 9 10 11 counts",
    })
    void mask_notNumbers_keptAsWritten(String in) {
        assertThat(PhoneNumberMasking.mask(in)).isSameAs(in);
    }

    @Test
    void mask_nullOrShort_returnedAsIs() {
        assertThat(PhoneNumberMasking.mask(null)).isNull();
        assertThat(PhoneNumberMasking.mask("")).isEmpty();
        assertThat(PhoneNumberMasking.mask("call 5551234")).isEqualTo("call 5551234");
    }

    @Test
    void mask_numberBesideAKeptSpan_stillMasked() {
        assertThat(PhoneNumberMasking.mask("123e4567-e89b-12d3-a456-426614174000:+17666904195"))
                .isEqualTo("123e4567-e89b-12d3-a456-426614174000:+*******4195");
        assertThat(PhoneNumberMasking.mask("2026-12-06T10:00:00 +17666904195 2026-12-07"))
                .isEqualTo("2026-12-06T10:00:00 +*******4195 2026-12-07");
    }

    @Test
    void mask_nonAsciiDigits_countAsDigits() {
        assertThat(PhoneNumberMasking.mask("+١٧٦٦٦٩٠٤١٩٥")).isEqualTo("+*******٤١٩٥");
    }

    @Test
    void mask_manyNumbers_everyOneMasked() {
        assertThat(PhoneNumberMasking.mask("from +12065550100 to +17666904195, then 2065550199"))
                .isEqualTo("from +*******0100 to +*******4195, then ******0199");
    }
}
