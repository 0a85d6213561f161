-- Activities forwarded by a third server are recorded with the key id that
-- signed them, and fetched from their origin before they are processed.
ALTER TABLE pub_inbound ADD COLUMN forwarded_by TEXT NOT NULL DEFAULT '';
