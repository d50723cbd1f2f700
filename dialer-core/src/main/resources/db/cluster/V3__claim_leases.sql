-- Scale-out: a claim stays valid while the run that holds it renews its one lease row, instead of every claimed
-- row being rewritten every third of the lease (which left tens of thousands of dead tuples in cluster_contacts).
-- holder: one row per claiming run (a node's run of a campaign; a restarted node is a new holder, so its
-- predecessor's claims lapse). A CLAIMED row is valid while its own lease_until (set when claimed, extended by the
-- confirmation before its intent) or its holder's lease_until is not past; it lapses when both are.
CREATE TABLE cluster_leases (
    holder       VARCHAR(200) NOT NULL PRIMARY KEY,
    node_id      VARCHAR(200) NOT NULL,
    campaign_id  VARCHAR(200) NOT NULL,
    lease_until  BIGINT       NOT NULL
);

ALTER TABLE cluster_contacts ADD COLUMN holder VARCHAR(200);
