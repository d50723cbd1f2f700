-- Scale-out: control commands that carry data. LAUNCH carries the campaign's definition (YAML) when it was
-- started ad hoc (null when the shared configuration names it); DNC carries {"list": ..., "number": ...} of an
-- opt-out, so that every node's running runs refuse the number at once. Until the cluster owned its migrations
-- this was the ledger's V4__control_payload.sql.
ALTER TABLE campaign_control ADD COLUMN payload TEXT;
