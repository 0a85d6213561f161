-- pub's federation tables: inbound activities (deduplicated by id),
-- objects and tombstones, follows, and collections.
CREATE TABLE pub_inbound (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    recipient    TEXT NOT NULL DEFAULT '',
    body         BYTEA NOT NULL,
    received_at  BIGINT NOT NULL,
    lease_until  BIGINT NOT NULL DEFAULT 0,
    processed_at BIGINT,
    result       TEXT NOT NULL DEFAULT ''
);
-- Claims read pending activities oldest first, skipping the few leased ones.
CREATE INDEX pub_inbound_pending ON pub_inbound (received_at, id) WHERE processed_at IS NULL;

CREATE TABLE pub_objects (
    id            TEXT PRIMARY KEY,
    type          TEXT NOT NULL DEFAULT '',
    attributed_to TEXT NOT NULL DEFAULT '',
    published     BIGINT,
    audience      TEXT NOT NULL DEFAULT '[]',
    public        BOOLEAN NOT NULL DEFAULT FALSE,
    local         BOOLEAN NOT NULL DEFAULT FALSE,
    body          BYTEA,
    updated_at    BIGINT NOT NULL,
    deleted_at    BIGINT
);

CREATE TABLE pub_follows (
    seq          BIGSERIAL PRIMARY KEY,
    follower     TEXT NOT NULL,
    followee     TEXT NOT NULL,
    activity_id  TEXT NOT NULL DEFAULT '',
    state        SMALLINT NOT NULL CHECK (state IN (1, 2)),
    inbox        TEXT NOT NULL DEFAULT '',
    shared_inbox TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    UNIQUE (follower, followee)
);
CREATE INDEX pub_follows_followee ON pub_follows (followee, state, seq);
CREATE INDEX pub_follows_follower ON pub_follows (follower, state, seq);
CREATE INDEX pub_follows_activity ON pub_follows (activity_id);

CREATE TABLE pub_collection_items (
    seq        BIGSERIAL PRIMARY KEY,
    collection TEXT NOT NULL,
    item       TEXT NOT NULL,
    public     BOOLEAN NOT NULL DEFAULT FALSE,
    audience   TEXT NOT NULL DEFAULT '[]',
    added_at   BIGINT NOT NULL,
    UNIQUE (collection, item)
);
CREATE INDEX pub_collection_items_page ON pub_collection_items (collection, public, seq);
