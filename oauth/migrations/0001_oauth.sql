-- OAuth 2 provider state: registered apps, authorization codes, tokens,
-- browser sessions, invite codes and account standing. Every secret (client
-- secret, code, access and refresh token, session id, invite code) is stored
-- only as the hex SHA-256 of its value, so a copy of the database does not
-- hold a usable credential.
--
-- account_id columns are not foreign keys: accounts live behind the oauth
-- package's Accounts interface (internal/users today, actors later).

CREATE TABLE oauth_apps (
	id BIGINT PRIMARY KEY,
	client_id VARCHAR(64) NOT NULL,
	secret_hash CHAR(64) NOT NULL,
	name VARCHAR(200) NOT NULL,
	website VARCHAR(2000) NOT NULL DEFAULT '',
	redirect_uris TEXT NOT NULL,
	scopes VARCHAR(2000) NOT NULL,
	-- built_in names an app the server made for itself (such as "cli");
	-- NULL for apps registered through the API.
	built_in VARCHAR(32),
	created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX oauth_apps_client_id_key ON oauth_apps (client_id);
CREATE UNIQUE INDEX oauth_apps_built_in_key ON oauth_apps (built_in);

CREATE TABLE oauth_codes (
	id BIGINT PRIMARY KEY,
	code_hash CHAR(64) NOT NULL,
	app_id BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
	account_id BIGINT NOT NULL,
	redirect_uri TEXT NOT NULL,
	scopes VARCHAR(2000) NOT NULL,
	code_challenge VARCHAR(128) NOT NULL DEFAULT '',
	code_challenge_method VARCHAR(8) NOT NULL DEFAULT ''
		CONSTRAINT oauth_codes_method_check CHECK (code_challenge_method IN ('', 'S256')),
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX oauth_codes_code_hash_key ON oauth_codes (code_hash);
CREATE INDEX oauth_codes_account_id_idx ON oauth_codes (account_id);

CREATE TABLE oauth_tokens (
	id BIGINT PRIMARY KEY,
	access_hash CHAR(64) NOT NULL,
	refresh_hash CHAR(64),
	app_id BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
	-- 0 for app tokens (client_credentials), which act for no account.
	account_id BIGINT NOT NULL DEFAULT 0,
	scopes VARCHAR(2000) NOT NULL,
	redirect_uri TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	-- NULL: the access token does not expire (the default, as in Mastodon).
	expires_at TIMESTAMPTZ,
	refresh_expires_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX oauth_tokens_access_hash_key ON oauth_tokens (access_hash);
CREATE UNIQUE INDEX oauth_tokens_refresh_hash_key ON oauth_tokens (refresh_hash);
CREATE INDEX oauth_tokens_account_id_idx ON oauth_tokens (account_id);
CREATE INDEX oauth_tokens_app_id_idx ON oauth_tokens (app_id);

CREATE TABLE oauth_sessions (
	id BIGINT PRIMARY KEY,
	token_hash CHAR(64) NOT NULL,
	account_id BIGINT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX oauth_sessions_token_hash_key ON oauth_sessions (token_hash);
CREATE INDEX oauth_sessions_account_id_idx ON oauth_sessions (account_id);

CREATE TABLE oauth_invites (
	id BIGINT PRIMARY KEY,
	code_hash CHAR(64) NOT NULL,
	max_uses INTEGER NOT NULL CONSTRAINT oauth_invites_max_uses_check CHECK (max_uses > 0),
	uses INTEGER NOT NULL DEFAULT 0 CONSTRAINT oauth_invites_uses_check CHECK (uses >= 0 AND uses <= max_uses),
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX oauth_invites_code_hash_key ON oauth_invites (code_hash);

-- Standing of local accounts that are not simply active: awaiting approval
-- (registration mode "approval") or suspended. No row means active.
CREATE TABLE oauth_account_standing (
	account_id BIGINT PRIMARY KEY,
	state VARCHAR(16) NOT NULL
		CONSTRAINT oauth_account_standing_state_check CHECK (state IN ('pending', 'suspended')),
	updated_at TIMESTAMPTZ NOT NULL
);
