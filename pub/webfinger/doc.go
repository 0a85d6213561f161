// Package webfinger serves and resolves account addresses for the
// fediverse: WebFinger (RFC 7033) for acct:user@host and actor URLs, and
// host-meta (RFC 6415), which tells older clients where WebFinger lives.
//
// Handler answers /.well-known/webfinger for the local accounts a Resolver
// (implemented by the host) knows, people and groups alike, with the JRD
// Mastodon and Lemmy expect: subject acct:user@domain, aliases, a self link
// to the ActivityPub actor, a profile-page link and an optional subscribe
// template. It also serves /.well-known/host-meta and host-meta.json.
//
// Client resolves @user@host to an actor IRI and checks, as Mastodon does,
// that the hosts involved vouch for each other, so that a server can name
// only its own accounts, or accounts of a domain that delegates to it.
//
// ParseHandle and NormalizeHost are the strict parsers both sides share.
// They accept less than pub/transport (no "127.1"), but the canonical host
// they return is pub/transport's: IDNA ASCII form, lowercased, without a
// trailing dot. A handle's host keeps its port; hosts in URLs compare by
// pub/transport's origin rule (transport.Origin.HostPort), the default port
// dropped.
package webfinger
