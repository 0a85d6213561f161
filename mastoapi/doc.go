// Package mastoapi will hold the Mastodon-compatible REST API (v1 and v2) over
// the actors and groups services, and its streaming API over WebSocket and
// server-sent events.
package mastoapi
