package io.chimedialer.app.logging;

import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Logback's {@code %msg} with every phone number masked ({@link PhoneNumberMasking}). logback.xml registers it as
 * {@code %maskedMsg}; use it wherever a pattern would use {@code %msg}.
 */
public final class MaskingMessageConverter extends MessageConverter {
    @Override
    public String convert(ILoggingEvent event) {
        return PhoneNumberMasking.mask(super.convert(event));
    }
}
