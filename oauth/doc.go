// Package oauth is the server's one OAuth 2 provider, shared by the
// Mastodon REST API (mastoapi) and the GraphQL API: Mastodon-style app
// registration (POST /api/v1/apps), the authorization-code flow with
// optional S256 PKCE, client credentials, refresh tokens, an optional
// password grant for legacy clients, revocation (RFC 7009), the RFC 8414
// metadata document, server-rendered sign-in, sign-up and consent pages,
// and the middleware that turns a bearer token into an authenticated
// account with scopes.
//
// It is built on github.com/go-oauth2/oauth2/v4 with its own bun-backed
// client and token stores, and overrides each of that library's defaults
// that Mastodon clients or SECURITY.md rule 30 disagree with: redirect
// URIs match byte for byte, there is no implicit flow and no plain PKCE,
// token requests may be JSON, access tokens do not expire unless
// configured, codes are single-use and live ten minutes. Secrets (client
// secrets, codes, tokens, session ids, invite codes) are stored only as
// SHA-256 hashes.
//
// Wiring: NewLocalAccounts (or another Accounts), NewService, NewHandler,
// then mount the Handler (it is a server.Router) and wrap the adapters'
// routes in Service.Middleware and RequireScope. Migrations must run after
// the users migrations.
package oauth
