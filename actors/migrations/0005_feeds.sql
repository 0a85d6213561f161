-- What people receive: the home timeline, filled on write (one row per
-- local follower per status, so that reading is one indexed range scan),
-- notifications, and read markers.
CREATE TABLE home_feed (
	actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
	-- The status's own author (the booster, for a boost), so that an
	-- unfollow removes what came through the follow.
	author_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	PRIMARY KEY (actor_id, status_id)
);
CREATE INDEX home_feed_author_idx ON home_feed (actor_id, author_id);

CREATE TABLE notifications (
	id BIGINT PRIMARY KEY,
	actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	type VARCHAR(32) NOT NULL
		CONSTRAINT notifications_type_check CHECK (type IN ('mention', 'status', 'follow', 'follow_request', 'favourite', 'reblog', 'update')),
	from_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	status_id BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL
);
-- One notification per event: a duplicate delivery cannot notify twice.
CREATE UNIQUE INDEX notifications_event_key ON notifications (actor_id, type, from_actor_id, COALESCE(status_id, 0));
CREATE INDEX notifications_actor_idx ON notifications (actor_id, id);

CREATE TABLE markers (
	actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
	timeline VARCHAR(16) NOT NULL
		CONSTRAINT markers_timeline_check CHECK (timeline IN ('home', 'notifications')),
	last_read_id BIGINT NOT NULL,
	version BIGINT NOT NULL DEFAULT 0,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (actor_id, timeline)
);
