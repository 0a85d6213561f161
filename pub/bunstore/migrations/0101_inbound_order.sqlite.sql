-- Inbound activities are claimed in the order they were recorded: seq, set
-- on insert to one more than the largest so far (SQLite has one writer, so
-- the subquery cannot race). received_at alone has millisecond resolution.
ALTER TABLE pub_inbound ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE pub_inbound SET seq = rowid;
CREATE INDEX pub_inbound_seq ON pub_inbound (seq);
DROP INDEX pub_inbound_pending;
CREATE INDEX pub_inbound_pending ON pub_inbound (seq) WHERE processed_at IS NULL;
