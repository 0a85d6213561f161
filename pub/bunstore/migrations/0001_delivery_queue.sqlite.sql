-- Durable delivery queue (pub/delivery). Times are Unix milliseconds in
-- BIGINT columns: the queue compares them on every claim, and integers sort
-- and compare the same way on SQLite and PostgreSQL whatever the connection's
-- time format.
CREATE TABLE delivery_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    inbox_url TEXT NOT NULL,
    host TEXT NOT NULL,
    key_id TEXT NOT NULL,
    activity_id TEXT NOT NULL DEFAULT '',
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- when the job is due; while leased, the lease's expiry
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    CONSTRAINT delivery_jobs_attempts_check CHECK (attempts >= 0)
);

-- Claiming reads due jobs oldest first.
CREATE INDEX delivery_jobs_due_idx ON delivery_jobs (next_attempt_at, id);

CREATE TABLE delivery_hosts (
    host TEXT PRIMARY KEY,
    -- distinct UTC days with a failure since the last success
    failure_days INTEGER NOT NULL DEFAULT 0,
    -- the latest of those days, in days since the Unix epoch
    last_failure_day BIGINT NOT NULL DEFAULT 0,
    unavailable BOOLEAN NOT NULL DEFAULT FALSE,
    unavailable_since BIGINT,
    last_success_at BIGINT
);
