-- Local sign-in accounts. Profiles and federation identities live elsewhere;
-- this table holds only what signing in needs.
CREATE TABLE users (
	id BIGINT PRIMARY KEY,
	username VARCHAR(30) NOT NULL,
	email VARCHAR(254) NOT NULL,
	password_hash VARCHAR(255) NOT NULL,
	role VARCHAR(16) NOT NULL DEFAULT 'user'
		CONSTRAINT users_role_check CHECK (role IN ('user', 'moderator', 'admin')),
	created_at TIMESTAMPTZ NOT NULL
);

-- Case-insensitive uniqueness: "Ada" and "ada" are the same person.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
