-- Local actors' key pairs: the instance actor's and, as they get actor
-- documents, people's and groups'. Private keys are PKCS#8 in PEM form
-- ("PRIVATE KEY" blocks); they never leave the server and are never logged.
-- The RSA key signs requests and is published in publicKey; the Ed25519 key
-- is published as a FEP-521a Multikey in assertionMethod.
CREATE TABLE actor_keys (
	actor_id TEXT PRIMARY KEY,
	rsa_private_key TEXT NOT NULL,
	ed25519_private_key TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL
);
