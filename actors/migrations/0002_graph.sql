-- The social graph: follows (pending requests and accepted ones), blocks,
-- mutes and per-person domain blocks.
CREATE TABLE follows (
	id BIGINT PRIMARY KEY,
	follower_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	target_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	iri VARCHAR(2048) NOT NULL,
	accepted BOOLEAN NOT NULL DEFAULT FALSE,
	created_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT follows_self_check CHECK (follower_id <> target_id)
);
CREATE UNIQUE INDEX follows_pair_key ON follows (follower_id, target_id);
CREATE UNIQUE INDEX follows_iri_key ON follows (iri);
CREATE INDEX follows_target_idx ON follows (target_id, accepted);

CREATE TABLE blocks (
	id BIGINT PRIMARY KEY,
	actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	target_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	iri VARCHAR(2048) NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT blocks_self_check CHECK (actor_id <> target_id)
);
CREATE UNIQUE INDEX blocks_pair_key ON blocks (actor_id, target_id);
CREATE UNIQUE INDEX blocks_iri_key ON blocks (iri);
CREATE INDEX blocks_target_idx ON blocks (target_id);

CREATE TABLE mutes (
	actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	target_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	notifications BOOLEAN NOT NULL DEFAULT TRUE,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (actor_id, target_id),
	CONSTRAINT mutes_self_check CHECK (actor_id <> target_id)
);

CREATE TABLE actor_domain_blocks (
	actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	domain VARCHAR(255) NOT NULL
		CONSTRAINT actor_domain_blocks_domain_check CHECK (domain <> ''),
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (actor_id, domain)
);
