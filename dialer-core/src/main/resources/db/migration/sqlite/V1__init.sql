-- SQLite: seq is the rowid, assigned in insertion order. The rest of the table is the same on both backends.

CREATE TABLE attempts (
    seq               INTEGER      PRIMARY KEY AUTOINCREMENT,
    attempt_id        VARCHAR(100) NOT NULL UNIQUE,
    campaign_id       VARCHAR(200) NOT NULL,
    contact_key       VARCHAR(200) NOT NULL,
    number            VARCHAR(64)  NOT NULL,
    attempt_number    INTEGER      NOT NULL,
    region            VARCHAR(64),
    from_number       VARCHAR(64),
    transaction_id    VARCHAR(100),
    intended_at       BIGINT       NOT NULL,
    placed_at         BIGINT,
    ended_at          BIGINT,
    disposition       VARCHAR(32),
    sip_code          INTEGER,
    ring_ms           BIGINT,
    talk_ms           BIGINT,
    digits            VARCHAR(200),
    invocations       INTEGER
);

CREATE INDEX attempts_campaign ON attempts (campaign_id, seq);
CREATE INDEX attempts_transaction ON attempts (transaction_id);
CREATE INDEX attempts_open ON attempts (campaign_id, seq) WHERE disposition IS NULL;
