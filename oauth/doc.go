// Package oauth will hold the one OAuth2 provider of the server: Mastodon-style
// app registration, authorization code with PKCE, client credentials, refresh
// and revocation, scopes, the sign-in, sign-up and consent pages, and the
// middleware that turns a bearer token into an authenticated account for the
// mastoapi and graphql adapters.
package oauth
