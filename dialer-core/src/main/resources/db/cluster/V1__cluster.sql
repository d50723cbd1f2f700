-- Scale-out (io.chimedialer.core.cluster): several dialer nodes sharing campaigns through the ledger's PostgreSQL
-- database. Until the cluster owned its migrations this was the ledger's V2__cluster.sql. Times are epoch
-- milliseconds (UTC) from the nodes' clocks, like the ledger's.

-- Membership: one row per node id, refreshed by its heartbeat; live = last_seen within the node timeout.
CREATE TABLE cluster_nodes (
    node_id     VARCHAR(200) NOT NULL PRIMARY KEY,
    url         VARCHAR(1000),
    started_at  BIGINT       NOT NULL,
    last_seen   BIGINT       NOT NULL,
    left_at     BIGINT,
    members     TEXT,
    shares      TEXT
);

-- One row per campaign whose list was imported: the importer that finished it, and when.
CREATE TABLE cluster_imports (
    campaign_id    VARCHAR(200) NOT NULL PRIMARY KEY,
    source         VARCHAR(1000),
    imported_by    VARCHAR(200),
    rows_read      BIGINT       NOT NULL,
    rows_inserted  BIGINT       NOT NULL,
    completed_at   BIGINT       NOT NULL
);

-- The shared work list: one row per contact of a campaign, claimed by one node at a time.
-- kind: VALID (dialable), REJECTED (a bad row, emitted so that the engine records it), DUPLICATE (settled at import).
-- state: PENDING -> CLAIMED (claimed_by, lease_until) -> DONE; a claim whose lease expired after its intent was
-- written becomes ORPHANED (the attempt stays UNKNOWN, never dialed again).
CREATE TABLE cluster_contacts (
    campaign_id   VARCHAR(200) NOT NULL,
    contact_key   VARCHAR(200) NOT NULL,
    seq           BIGINT       NOT NULL,
    kind          VARCHAR(16)  NOT NULL,
    line          BIGINT       NOT NULL,
    number        VARCHAR(64)  NOT NULL,
    name          TEXT,
    timezone      VARCHAR(64),
    variables     TEXT,
    reason        TEXT,
    reject_kind   VARCHAR(32),
    state         VARCHAR(16)  NOT NULL,
    claimed_by    VARCHAR(200),
    claimed_at    BIGINT,
    lease_until   BIGINT,
    claims        INTEGER      NOT NULL DEFAULT 0,
    done_at       BIGINT,
    PRIMARY KEY (campaign_id, contact_key)
);

CREATE INDEX cluster_contacts_pending ON cluster_contacts (campaign_id, seq) WHERE state = 'PENDING';
CREATE INDEX cluster_contacts_claimed ON cluster_contacts (campaign_id, claimed_by, lease_until) WHERE state = 'CLAIMED';
CREATE INDEX cluster_contacts_orphaned ON cluster_contacts (campaign_id) WHERE state = 'ORPHANED';

-- Control events (pause, resume, cancel, rate): every node applies them in seq order. A NOTIFY on the
-- channel dialer_control carries the seq so that listeners wake at once; polling the table is the fallback.
CREATE TABLE campaign_control (
    seq          BIGINT       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id  VARCHAR(200),
    command      VARCHAR(16)  NOT NULL,
    region       VARCHAR(64),
    value        DOUBLE PRECISION,
    issued_by    VARCHAR(200) NOT NULL,
    issued_at    BIGINT       NOT NULL
);
