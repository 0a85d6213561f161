-- What people publish: statuses (notes, replies, boosts), their edit
-- history, mentions and hashtags; favourites, bookmarks and pins; and the
-- tombstones of deleted objects, which may never be re-created.
CREATE TABLE statuses (
	id BIGINT PRIMARY KEY,
	iri VARCHAR(2048) NOT NULL,
	url VARCHAR(2048) NOT NULL DEFAULT '',
	actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	local BOOLEAN NOT NULL,
	visibility VARCHAR(16) NOT NULL
		CONSTRAINT statuses_visibility_check CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
	in_reply_to_id BIGINT REFERENCES statuses (id) ON DELETE SET NULL,
	in_reply_to_iri VARCHAR(2048) NOT NULL DEFAULT '',
	in_reply_to_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
	reblog_of_id BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
	conversation VARCHAR(2048) NOT NULL DEFAULT '',
	content TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',
	spoiler_text TEXT NOT NULL DEFAULT '',
	sensitive BOOLEAN NOT NULL DEFAULT FALSE,
	language VARCHAR(35) NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	edited_at TIMESTAMPTZ,
	-- A boost carries no text of its own.
	CONSTRAINT statuses_reblog_check CHECK (reblog_of_id IS NULL OR (content = '' AND in_reply_to_id IS NULL))
);
CREATE UNIQUE INDEX statuses_iri_key ON statuses (iri);
-- One boost per person per status.
CREATE UNIQUE INDEX statuses_reblog_key ON statuses (actor_id, reblog_of_id);
CREATE INDEX statuses_actor_idx ON statuses (actor_id, id);
CREATE INDEX statuses_reply_idx ON statuses (in_reply_to_id);
CREATE INDEX statuses_public_idx ON statuses (visibility, local, id);

CREATE TABLE status_edits (
	id BIGINT PRIMARY KEY,
	status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
	content TEXT NOT NULL,
	spoiler_text TEXT NOT NULL DEFAULT '',
	sensitive BOOLEAN NOT NULL DEFAULT FALSE,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX status_edits_status_idx ON status_edits (status_id, id);

CREATE TABLE status_mentions (
	status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
	actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	PRIMARY KEY (status_id, actor_id)
);
CREATE INDEX status_mentions_actor_idx ON status_mentions (actor_id, status_id);

CREATE TABLE status_tags (
	status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
	tag VARCHAR(100) NOT NULL
		CONSTRAINT status_tags_tag_check CHECK (tag <> '' AND tag = lower(tag)),
	PRIMARY KEY (status_id, tag)
);
CREATE INDEX status_tags_tag_idx ON status_tags (tag, status_id);

CREATE TABLE favourites (
	id BIGINT PRIMARY KEY,
	actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
	iri VARCHAR(2048) NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX favourites_pair_key ON favourites (actor_id, status_id);
CREATE UNIQUE INDEX favourites_iri_key ON favourites (iri);
CREATE INDEX favourites_status_idx ON favourites (status_id);

CREATE TABLE bookmarks (
	actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (actor_id, status_id)
);

CREATE TABLE pins (
	actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (actor_id, status_id)
);

CREATE TABLE tombstones (
	iri VARCHAR(2048) PRIMARY KEY,
	deleted_at TIMESTAMPTZ NOT NULL
);
