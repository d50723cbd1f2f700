-- Shared by SQLite and PostgreSQL. Times are epoch milliseconds (UTC); durations are milliseconds.

CREATE TABLE campaigns (
    campaign_id  VARCHAR(200) NOT NULL PRIMARY KEY,
    definition   TEXT,
    state        VARCHAR(16)  NOT NULL,
    created_at   BIGINT       NOT NULL,
    updated_at   BIGINT       NOT NULL
);

CREATE TABLE contact_progress (
    campaign_id      VARCHAR(200) NOT NULL,
    contact_key      VARCHAR(200) NOT NULL,
    number           VARCHAR(64)  NOT NULL,
    status           VARCHAR(32)  NOT NULL,
    reason           TEXT,
    attempts         INTEGER      NOT NULL,
    last_attempt_id  VARCHAR(100),
    updated_at       BIGINT       NOT NULL,
    PRIMARY KEY (campaign_id, contact_key)
);

CREATE TABLE dnc (
    list_name  VARCHAR(500) NOT NULL,
    number     VARCHAR(64)  NOT NULL,
    added_at   BIGINT       NOT NULL,
    PRIMARY KEY (list_name, number)
);

CREATE TABLE follow_ups (
    campaign_id     VARCHAR(200) NOT NULL,
    contact_key     VARCHAR(200) NOT NULL,
    attempt_number  INTEGER      NOT NULL,
    number          VARCHAR(64)  NOT NULL,
    due_at          BIGINT       NOT NULL,
    taken_at        BIGINT,
    created_at      BIGINT       NOT NULL,
    PRIMARY KEY (campaign_id, contact_key, attempt_number)
);

CREATE INDEX follow_ups_pending ON follow_ups (campaign_id, due_at) WHERE taken_at IS NULL;
