package io.chimedialer.testkit;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;

/**
 * The stacks of every thread of this JVM, for a test to print when something it waited for did not happen (a
 * request timed out): which thread was stuck, and where, is then in the report instead of a guess.
 */
public final class ThreadDump {
    private ThreadDump() {
    }

    /** Every live thread's state, lock and whole stack. */
    public static String all() {
        StringBuilder out = new StringBuilder("thread dump:\n");
        for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
            out.append('"').append(info.getThreadName()).append("\" ").append(info.getThreadState());
            if (info.getLockName() != null) {
                out.append(" on ").append(info.getLockName());
            }
            if (info.getLockOwnerName() != null) {
                out.append(" owned by \"").append(info.getLockOwnerName()).append('"');
            }
            out.append('\n');
            for (StackTraceElement frame : info.getStackTrace()) {
                out.append("\tat ").append(frame).append('\n');
            }
        }
        return out.toString();
    }
}
