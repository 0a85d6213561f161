-- Inbound activities are claimed in the order they were recorded: seq,
-- from a sequence. received_at alone has millisecond resolution.
ALTER TABLE pub_inbound ADD COLUMN seq BIGSERIAL;
DROP INDEX pub_inbound_pending;
CREATE INDEX pub_inbound_pending ON pub_inbound (seq) WHERE processed_at IS NULL;
