-- The moderators' report queue: reports by local people, and Flags sent
-- by other servers about local accounts.
CREATE TABLE reports (
	id BIGINT PRIMARY KEY,
	reporter_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	target_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	status_ids TEXT NOT NULL DEFAULT '[]',
	comment TEXT NOT NULL DEFAULT '',
	iri VARCHAR(2048),
	created_at TIMESTAMPTZ NOT NULL,
	resolved_at TIMESTAMPTZ,
	resolved_by BIGINT REFERENCES actors (id) ON DELETE SET NULL,
	CONSTRAINT reports_self_check CHECK (reporter_id <> target_id)
);
CREATE UNIQUE INDEX reports_iri_key ON reports (iri);
CREATE INDEX reports_open_idx ON reports (resolved_at, id);
