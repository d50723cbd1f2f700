-- Shared by SQLite and PostgreSQL: the SMA invocations of each call, as the webhook saw them.

CREATE TABLE attempt_events (
    transaction_id  VARCHAR(100) NOT NULL,
    sequence        INTEGER      NOT NULL,
    attempt_id      VARCHAR(100),
    event_type      VARCHAR(64)  NOT NULL,
    occurred_at     BIGINT       NOT NULL,
    detail          TEXT,
    PRIMARY KEY (transaction_id, sequence)
);

CREATE INDEX attempt_events_attempt ON attempt_events (attempt_id);
