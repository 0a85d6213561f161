-- Instance-wide domain blocks set by moderators. suspend: nothing from the
-- domain is accepted or shown and follows are severed; silence: its
-- accounts stay out of public timelines and only followers see them.
-- reject_media: its media is not stored.
CREATE TABLE domain_blocks (
	domain VARCHAR(255) PRIMARY KEY
		CONSTRAINT domain_blocks_domain_check CHECK (domain <> ''),
	severity VARCHAR(16) NOT NULL
		CONSTRAINT domain_blocks_severity_check CHECK (severity IN ('silence', 'suspend', 'noop')),
	reject_media BOOLEAN NOT NULL DEFAULT FALSE,
	comment TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL
);
