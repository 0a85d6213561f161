// Package actors holds people, local and remote: their accounts and
// profiles, the social graph between them (follows and follow requests,
// blocks, mutes, per-person domain blocks), the documents that describe
// them to other servers (AS2 actor documents, WebFinger) and to browsers.
//
// One [Service] does all of it over one database. It is concrete: adapters
// (the Mastodon API, GraphQL, the server's routes) call its methods. Where
// the package needs something from its host it names a small interface:
// [Fetcher] to dereference remote documents (pub.Engine), [KeyStore] for
// local actors' key pairs (pub.Keys), and [Publisher] to hand outgoing
// activities to the federation engine.
//
// Every method returns errors carrying an internal/errkind kind: Invalid for
// bad input (nothing is stored), NotFound, Conflict for duplicates the
// database refused, Forbidden for what the caller may not do. Uniqueness and
// references are enforced by the database; [Migrations] creates the tables
// and must run after the users migrations (actors.user_id references
// users.id).
package actors
