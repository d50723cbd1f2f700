package io.chimedialer.app.cli;

import io.chimedialer.app.runtime.DialerRuntime;
import java.net.BindException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.netty.ChannelBindException;

/**
 * What a command prints when the dialer cannot start or its campaign cannot be launched (a port in use, a ledger
 * that cannot be opened, a contact list that cannot be read): one line on stderr naming the problem, with the
 * cause's own message, and exit code 2, since the fix is the operator's (another port, another ledger). The stack
 * trace goes to the log at DEBUG only: these are not the dialer's bugs.
 */
final class StartFailures {
    private static final Logger log = LoggerFactory.getLogger(StartFailures.class);

    /** The exit code of a command that could not start. */
    static final int EXIT = 2;

    private StartFailures() {
    }

    /**
     * Starts the runtime, or prints why it could not start ({@link #report}).
     *
     * @return the started runtime, or null after the one-line reason was printed
     */
    static DialerRuntime start(String command, DialerRuntime.Options options) {
        try {
            return DialerRuntime.start(options);
        } catch (RuntimeException e) {
            report(command, e);
            return null;
        }
    }

    /** Prints {@code dialer COMMAND: <the problem>} on stderr and logs the trace at DEBUG; returns {@link #EXIT}. */
    static int report(String command, Throwable failure) {
        System.err.println("dialer " + command + ": " + describe(failure));
        log.debug("dialer {} could not start", command, failure);
        return EXIT;
    }

    /** One line naming the problem: the port a server could not bind, else the failure's message with its cause's. */
    static String describe(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ChannelBindException bind) {
                return "cannot listen on " + bind.localHost() + ":" + bind.localPort() + ": "
                        + rootMessage(bind, "the address is in use") + " (choose another port with --port)";
            }
            if (t instanceof BindException bind) {
                return "cannot listen: " + rootMessage(bind, "the address is in use")
                        + " (choose another port with --port)";
            }
        }
        String message = failure.getMessage();
        if (message == null || message.isBlank()) {
            message = failure.getClass().getSimpleName();
        }
        Throwable cause = failure.getCause();
        if (cause != null && cause.getMessage() != null && !message.contains(cause.getMessage())) {
            message = message + " (" + cause.getMessage() + ")";
        }
        return message.replaceAll("\\s*\\R\\s*", " ");
    }

    private static String rootMessage(Throwable failure, String otherwise) {
        String message = null;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                message = t.getMessage();
            }
        }
        if (message == null) {
            return otherwise;
        }
        // Netty's native transport says "bind(..) failed: Address already in use"; the part after the colon is enough.
        int colon = message.lastIndexOf(": ");
        return colon >= 0 && message.startsWith("bind(") ? message.substring(colon + 2) : message;
    }
}
