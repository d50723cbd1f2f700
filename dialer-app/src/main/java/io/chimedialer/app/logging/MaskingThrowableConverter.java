package io.chimedialer.app.logging;

import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.IThrowableProxy;

/**
 * Logback's {@code %ex} (an exception with its causes and stack) with every phone number masked
 * ({@link PhoneNumberMasking}): an exception's message may quote input. logback.xml registers it as
 * {@code %maskedEx}; a pattern that names it gets no unmasked {@code %ex} added by logback.
 */
public final class MaskingThrowableConverter extends ThrowableProxyConverter {
    @Override
    protected String throwableProxyToString(IThrowableProxy proxy) {
        return PhoneNumberMasking.mask(super.throwableProxyToString(proxy));
    }
}
