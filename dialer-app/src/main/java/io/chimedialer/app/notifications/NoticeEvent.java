package io.chimedialer.app.notifications;

/** What a completion notice tells: its {@code event} field and the {@code event} tag of its metric. */
public enum NoticeEvent {
    /** Every contact of the campaign reached a final state. */
    COMPLETED("completed"),
    /** An operator cancelled the campaign and its last live call ended. */
    CANCELLED("cancelled"),
    /** The campaign paused by itself on an error no contact caused (e.g. every Region failed). */
    PAUSED_ON_ERROR("paused-on-error"),
    /** The campaign reached its scheduled {@code end} (its last live call ended); undialed contacts stay dialable. */
    ENDED("ended");

    private final String wireName;

    NoticeEvent(String wireName) {
        this.wireName = wireName;
    }

    /** The name in the JSON body and the metric, e.g. {@code paused-on-error}. */
    public String wireName() {
        return wireName;
    }
}
