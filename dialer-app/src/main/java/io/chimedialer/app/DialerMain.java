package io.chimedialer.app;

/** Entry point of the runnable {@code dialer}. */
public final class DialerMain {
    private DialerMain() {
    }

    public static void main(String[] args) {
        System.out.println("dialer: not yet wired");
    }
}
