// Package pub is Commonroom's ActivityPub federation engine, importable on
// its own by any Go program.
//
// This part of the package covers who is speaking. [NewEngine] wires it
// together from one [Config] (only BaseURL is required); the parts can also
// be built on their own:
//
//   - [Keys] holds every local actor's key pair (RSA-2048 published as a PKIX
//     PEM in publicKey, Ed25519 published as a FEP-521a Multikey in
//     assertionMethod) and resolves, caches, refreshes, rotates and tombstones
//     remote actors' public keys.
//   - [Authenticator] verifies signed requests (draft-cavage-12 and RFC 9421)
//     before anything else looks at them, and hands the [VerifiedSigner] to the
//     next handler through the request context ([SignerFromContext]).
//     [CheckActivity] then checks that the signer may speak for an activity.
//   - [InstanceActor] is the server's own Application actor: it signs every
//     outbound fetch and is served as AS2 at a stable IRI.
//   - [Fetcher] dereferences remote documents signed as the instance actor,
//     answers our own IRIs locally, caches briefly and bounds reply-chain walks.
//
// On top of it, [Federation] is the inbox, outbox and side-effect layer: the
// per-actor and shared inboxes (verify, deduplicate by activity id, record,
// answer 202; under overload, 503 with Retry-After), background workers that apply the protocol's side effects
// and call the host's [Hooks], [Federation.Publish] with audience resolution
// and durable delivery (pub/delivery), paged collections, and inbox
// forwarding. Its storage is [Store] ([MemoryStore] here, a bun
// implementation in pub/bunstore); the host says which actors are local
// through [LocalActors] ([ActorDirectory] is a simple one).
//
// The numbered rules cited in comments are those of the project's
// SECURITY.md; the tests named TestSecurityNN_... check them one by one.
//
// Private keys never leave the server: [PrivateKey] redacts itself when
// printed, logged or marshalled. Time and key generation are injected
// ([Clock], [KeySource]) so that windows, lifetimes and cool-offs are tested
// without sleeping. Storage is behind small interfaces ([LocalKeyStore],
// [RemoteKeyStore]) with a concurrency-safe in-memory implementation,
// [MemoryKeyStore].
package pub
