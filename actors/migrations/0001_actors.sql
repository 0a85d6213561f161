-- People and groups, local and remote, in one table (DESIGN.md, Storage).
-- A local actor has domain '' and, for a person, links to its sign-in
-- account in users; a remote actor has the normalized host[:port] of its IRI.
CREATE TABLE actors (
	id BIGINT PRIMARY KEY,
	kind VARCHAR(16) NOT NULL
		CONSTRAINT actors_kind_check CHECK (kind IN ('person', 'group', 'service', 'application')),
	username VARCHAR(255) NOT NULL
		CONSTRAINT actors_username_check CHECK (username <> ''),
	domain VARCHAR(255) NOT NULL DEFAULT '',
	user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
	iri VARCHAR(2048) NOT NULL,
	url VARCHAR(2048) NOT NULL DEFAULT '',
	inbox VARCHAR(2048) NOT NULL DEFAULT '',
	shared_inbox VARCHAR(2048) NOT NULL DEFAULT '',
	outbox VARCHAR(2048) NOT NULL DEFAULT '',
	followers VARCHAR(2048) NOT NULL DEFAULT '',
	following VARCHAR(2048) NOT NULL DEFAULT '',
	featured VARCHAR(2048) NOT NULL DEFAULT '',
	display_name VARCHAR(2048) NOT NULL DEFAULT '',
	note TEXT NOT NULL DEFAULT '',
	avatar_url VARCHAR(2048) NOT NULL DEFAULT '',
	header_url VARCHAR(2048) NOT NULL DEFAULT '',
	fields TEXT NOT NULL DEFAULT '[]',
	also_known_as TEXT NOT NULL DEFAULT '[]',
	bot BOOLEAN NOT NULL DEFAULT FALSE,
	locked BOOLEAN NOT NULL DEFAULT FALSE,
	discoverable BOOLEAN NOT NULL DEFAULT FALSE,
	silenced_at TIMESTAMPTZ,
	suspended_at TIMESTAMPTZ,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	fetched_at TIMESTAMPTZ,
	last_status_at TIMESTAMPTZ,
	-- Only local people sign in.
	CONSTRAINT actors_user_local_check CHECK (user_id IS NULL OR domain = '')
);

CREATE UNIQUE INDEX actors_iri_key ON actors (iri);
-- Names are unique per domain without regard to case, across people and
-- groups alike: "Ada" and "ada" are one name.
CREATE UNIQUE INDEX actors_name_key ON actors (lower(username), domain);
CREATE UNIQUE INDEX actors_user_id_key ON actors (user_id);
CREATE INDEX actors_domain_idx ON actors (domain);
