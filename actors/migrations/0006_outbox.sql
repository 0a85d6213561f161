-- Activities recorded in the same transaction as the change they announce,
-- handed to the federation engine after commit and deleted once it took
-- them; a failed hand-over stays here for FlushOutbox to retry.
CREATE TABLE actor_outbox (
	id BIGINT PRIMARY KEY,
	actor_iri VARCHAR(2048) NOT NULL,
	activity TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	claimed_at TIMESTAMPTZ,
	created_at TIMESTAMPTZ NOT NULL
);
