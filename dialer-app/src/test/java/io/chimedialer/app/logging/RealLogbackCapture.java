package io.chimedialer.app.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusUtil;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Captures what loggers of the running JVM write, encoded exactly as the dialer's {@code logback.xml} encodes it:
 * the encoder of its {@code STDERR} appender (pattern and masking converters) is loaded from the real file into
 * a context of its own, and each captured event goes through it. Detach with {@link #close()}.
 */
final class RealLogbackCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final Encoder<ILoggingEvent> encoder;
    private final StringBuilder text = new StringBuilder();
    private final List<Logger> attached = new ArrayList<>();

    private RealLogbackCapture(Encoder<ILoggingEvent> encoder) {
        this.encoder = encoder;
    }

    /** Captures these loggers (and their children) of the JVM's Logback context from now on. */
    static RealLogbackCapture of(String... loggerNames) {
        RealLogbackCapture capture = new RealLogbackCapture(realEncoder());
        capture.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
        capture.start();
        for (String name : loggerNames) {
            Logger logger = (Logger) LoggerFactory.getLogger(name);
            logger.addAppender(capture);
            capture.attached.add(logger);
        }
        return capture;
    }

    /** The encoder of the STDERR appender of dialer-app's logback.xml, configured from that file. */
    @SuppressWarnings("unchecked")
    static Encoder<ILoggingEvent> realEncoder() {
        URL file = RealLogbackCapture.class.getResource("/logback.xml");
        if (file == null) {
            throw new IllegalStateException("dialer-app's logback.xml is not on the class path");
        }
        LoggerContext context = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
            configurator.doConfigure(file);
        } catch (JoranException e) {
            throw new IllegalStateException(e);
        }
        StatusUtil status = new StatusUtil(context);
        if (status.getHighestLevel(0) >= Status.WARN) {
            throw new IllegalStateException("logback.xml configured with problems: "
                    + context.getStatusManager().getCopyOfStatusList());
        }
        OutputStreamAppender<ILoggingEvent> stderr = (OutputStreamAppender<ILoggingEvent>)
                context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR");
        return stderr.getEncoder();
    }

    /** Everything captured so far, as it would have reached standard error. */
    synchronized String text() {
        return text.toString();
    }

    @Override
    protected synchronized void append(ILoggingEvent event) {
        text.append(new String(encoder.encode(event), StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        attached.forEach(logger -> logger.detachAppender(this));
        stop();
    }
}
