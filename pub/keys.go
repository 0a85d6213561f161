package pub

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// DocumentFetcher dereferences a remote ActivityPub document, signed as the
// instance actor, with the transport's origin and content-type rules.
// [Fetcher] implements it. A 410 Gone answer must come back as an error
// wrapping a *transport.StatusError (or ErrKeyGone) so that keys can be
// tombstoned.
type DocumentFetcher interface {
	FetchDocument(ctx context.Context, iri string) (*streams.Object, error)
}

// VerifiedSigner is who signed a request whose signature verified: the key id
// and the actor the key is bound to. Handlers read it with
// [SignerFromContext].
type VerifiedSigner struct {
	// KeyID is the key id the request named (keyId or keyid).
	KeyID string
	// Owner is the IRI of the actor the key is bound to.
	Owner string
	// Local is true when the key is one of this server's own keys.
	Local bool
}

// KeysConfig configures [NewKeys]. Start from [DefaultKeysConfig].
type KeysConfig struct {
	// LocalOrigin is this server's base URL (for example
	// "https://commonroom.example"). Keys on this origin are never fetched:
	// they are ours, or the request is an impersonation (SECURITY rule 9).
	LocalOrigin string
	// Local stores local actors' key pairs.
	Local LocalKeyStore
	// Remote caches remote public keys and key tombstones.
	Remote RemoteKeyStore
	// Source makes new local keys.
	Source KeySource
	// Documents fetches key and actor documents (a Fetcher signing as the
	// instance actor). Nil means remote keys are only ever taken from
	// Remote: nothing is fetched.
	Documents DocumentFetcher
	// Clock reads the time for lifetimes and cool-offs.
	Clock Clock
	// Logger receives security events (level Warn, attribute
	// "security_event"). Nil discards them.
	Logger *slog.Logger
	// Lifetime is how long a fetched key is trusted before it is refetched.
	// Only a key past its lifetime (or marked expired) is replaced by a plain
	// refetch that finds a different key.
	Lifetime time.Duration
	// RefetchCoolOff bounds refetches after a verification failure: at most
	// one per key host per RefetchCoolOff. It also holds back a retry of a
	// key fetch that failed.
	RefetchCoolOff time.Duration
}

// DefaultKeysConfig returns the defaults: a fresh MemoryKeyStore for both
// stores, generated keys, the system clock, a 24 h key lifetime and a 5 min
// refetch cool-off (Mastodon's: one refetch, then 5 minutes). LocalOrigin
// and Documents must still be set.
func DefaultKeysConfig() KeysConfig {
	m := NewMemoryKeyStore()
	return KeysConfig{
		Local:          m,
		Remote:         m,
		Source:         GeneratingKeySource{},
		Clock:          SystemClock{},
		Lifetime:       24 * time.Hour,
		RefetchCoolOff: 5 * time.Minute,
	}
}

// Keys owns local actors' key pairs and resolves remote public keys: fetched
// through the DocumentFetcher, checked for key-owner binding, cached for the
// configured lifetime, refetched at most once per host per cool-off after a
// verification failure, rotated only by a signed actor Update, and
// tombstoned when gone. A Keys is safe for concurrent use.
type Keys struct {
	cfg    KeysConfig
	origin transport.Origin
	log    *slog.Logger

	createMu sync.Mutex // serializes creation of local keys

	mu        sync.Mutex
	lastPrune time.Time
	hostTry   map[string]time.Time // key host → last refetch after a failure
	failed    map[string]time.Time // key id → last failed fetch
	inflight  map[string]*keyCall  // key id → fetch under way
}

type keyCall struct {
	done chan struct{}
	key  RemoteKey
	err  error
}

// NewKeys checks cfg and returns a Keys.
func NewKeys(cfg KeysConfig) (*Keys, error) {
	if cfg.Local == nil || cfg.Remote == nil || cfg.Source == nil || cfg.Clock == nil {
		return nil, errors.New("pub: keys: Local, Remote, Source and Clock are required")
	}
	if cfg.Lifetime <= 0 || cfg.RefetchCoolOff <= 0 {
		return nil, errors.New("pub: keys: Lifetime and RefetchCoolOff must be positive")
	}
	o, err := transport.ParseOrigin(cfg.LocalOrigin)
	if err != nil {
		return nil, fmt.Errorf("pub: keys: local origin: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Keys{
		cfg:      cfg,
		origin:   o,
		log:      log,
		hostTry:  make(map[string]time.Time),
		failed:   make(map[string]time.Time),
		inflight: make(map[string]*keyCall),
	}, nil
}

// Local returns a local actor's keys, or an error wrapping ErrNotFound.
func (k *Keys) Local(ctx context.Context, actorID string) (*ActorKeys, error) {
	ak, err := k.cfg.Local.LocalKeys(ctx, actorID)
	if err != nil {
		return nil, fmt.Errorf("pub: keys of %s: %w", actorID, err)
	}
	return ak, nil
}

// EnsureLocal returns a local actor's keys, creating and storing an RSA-2048
// and an Ed25519 key from the KeySource when it has none. actorID must be on
// the local origin. Concurrent calls for one actor create its keys once.
func (k *Keys) EnsureLocal(ctx context.Context, actorID string) (*ActorKeys, error) {
	if !k.isLocal(actorID) {
		return nil, fmt.Errorf("pub: ensure keys: %s is not on %s: %w", actorID, k.origin, ErrNotFound)
	}
	if ak, err := k.cfg.Local.LocalKeys(ctx, actorID); err == nil {
		return ak, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("pub: keys of %s: %w", actorID, err)
	}
	k.createMu.Lock()
	defer k.createMu.Unlock()
	return EnsureLocalKeys(ctx, k.cfg.Local, k.cfg.Source, actorID, k.cfg.Clock.Now())
}

// EnsureLocalKeys returns the keys store holds for actorID, or makes them
// from src (see NewActorKeys) and stores them. It does not serialize
// concurrent calls; Keys.EnsureLocal does.
func EnsureLocalKeys(ctx context.Context, store LocalKeyStore, src KeySource, actorID string, now time.Time) (*ActorKeys, error) {
	ak, err := store.LocalKeys(ctx, actorID)
	if err == nil {
		return ak, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("pub: keys of %s: %w", actorID, err)
	}
	ak, err = NewActorKeys(ctx, src, actorID, now)
	if err != nil {
		return nil, err
	}
	if err := store.PutLocalKeys(ctx, ak); err != nil {
		return nil, fmt.Errorf("pub: store keys of %s: %w", actorID, err)
	}
	return ak, nil
}

// NewActorKeys makes an RSA and an Ed25519 key for actorID from src.
func NewActorKeys(ctx context.Context, src KeySource, actorID string, now time.Time) (*ActorKeys, error) {
	rk, err := src.RSAKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("pub: RSA key for %s: %w", actorID, err)
	}
	rsaKey, err := NewPrivateKey(rk)
	if err != nil {
		return nil, fmt.Errorf("pub: RSA key for %s: %w", actorID, err)
	}
	ek, err := src.Ed25519Key(ctx)
	if err != nil {
		return nil, fmt.Errorf("pub: Ed25519 key for %s: %w", actorID, err)
	}
	edKey, err := NewPrivateKey(ek)
	if err != nil {
		return nil, fmt.Errorf("pub: Ed25519 key for %s: %w", actorID, err)
	}
	return &ActorKeys{ActorID: actorID, RSA: rsaKey, Ed25519: edKey, CreatedAt: now}, nil
}

// IsLocal reports whether iri is on this server's origin.
func (k *Keys) IsLocal(iri string) bool { return k.isLocal(iri) }

func (k *Keys) isLocal(iri string) bool {
	o, err := transport.ParseOrigin(iri)
	return err == nil && o == k.origin
}

// Verify resolves keyID and calls check with its public key; it returns the
// verified signer when check returns nil. check must be a pure verification
// of the request against the key (it may be called twice: once with the
// cached key and, after a failure, once with a refetched one).
//
// Resolution order:
//   - a key id on the local origin is looked up among local keys, never
//     fetched; one that is not ours fails with ErrLocalImpersonation and is
//     logged as a security event (rule 9);
//   - a tombstoned key id fails with ErrKeyGone or ErrKeyRevoked, with no
//     fetch (rule 25);
//   - a cached key within its lifetime is used; when check fails, the key is
//     refetched at most once per key host per cool-off, and a different key
//     found that way does NOT replace the cached one (rule 24: only a signed
//     Update rotates keys); the request fails with ErrBadSignature;
//   - a key past its lifetime, or marked expired, is refetched and replaced;
//     if the refetch fails for a reason other than 410 (network, binding, a
//     failure still cooling off) the cached key is used;
//   - an unknown key is fetched (unless a fetch of it failed within the
//     cool-off), its binding to its owner is checked (rule 7), and it is
//     cached. A 410 Gone tombstones the key id (ErrKeyGone).
func (k *Keys) Verify(ctx context.Context, keyID string, check func(crypto.PublicKey) error) (VerifiedSigner, error) {
	if k.isLocal(keyID) {
		return k.verifyLocal(ctx, keyID, check)
	}
	if _, err := transport.ParseOrigin(keyID); err != nil {
		return VerifiedSigner{}, fmt.Errorf("key id %q: %w: %w", keyID, ErrKeyUnavailable, err)
	}
	now := k.cfg.Clock.Now()
	cached, err := k.cfg.Remote.RemoteKey(ctx, keyID)
	switch {
	case errors.Is(err, ErrNotFound):
		key, err := k.fetch(ctx, keyID, true)
		if err != nil {
			return VerifiedSigner{}, err
		}
		return k.check(key, check)
	case err != nil:
		return VerifiedSigner{}, fmt.Errorf("pub: cached key %s: %w", keyID, err)
	}
	switch cached.State {
	case KeyGone:
		return VerifiedSigner{}, fmt.Errorf("key %s: %w", keyID, ErrKeyGone)
	case KeyRevoked:
		return VerifiedSigner{}, fmt.Errorf("key %s: %w", keyID, ErrKeyRevoked)
	}
	if cached.Expired || now.Sub(cached.FetchedAt) >= k.cfg.Lifetime {
		fresh, err := k.fetch(ctx, keyID, false)
		switch {
		case err == nil:
			return k.check(fresh, check)
		case errors.Is(err, ErrKeyGone):
			return VerifiedSigner{}, err
		default:
			k.log.InfoContext(ctx, "pub: refreshing a stale key failed; using the cached one",
				slog.String("key_id", keyID), slog.Any("error", err))
		}
	}
	signer, verr := k.check(cached, check)
	if verr == nil {
		return signer, nil
	}
	if !k.mayRefetch(keyID) {
		return VerifiedSigner{}, verr
	}
	fresh, err := k.fetchUncached(ctx, keyID)
	if err != nil {
		if errors.Is(err, ErrKeyGone) {
			return VerifiedSigner{}, err
		}
		return VerifiedSigner{}, fmt.Errorf("%w (refetch: %v)", verr, err)
	}
	if sameKey(fresh.PublicKey, cached.PublicKey) {
		return VerifiedSigner{}, verr
	}
	// The peer now publishes a different key with no signed Update. Keep
	// the cached one until it is past its lifetime (GoToSocial #3198).
	k.security(ctx, "key_changed_without_update",
		slog.String("key_id", keyID), slog.String("owner", cached.Owner))
	return VerifiedSigner{}, verr
}

// VerifyCached is Verify without any fetch: keyID must be a local key or a
// cached, active remote key, used even past its lifetime. The inbox uses it
// for an actor's self-Delete, whose documents are already gone, so that a
// known actor's deletion is honoured with the key we have (rule 25).
func (k *Keys) VerifyCached(ctx context.Context, keyID string, check func(crypto.PublicKey) error) (VerifiedSigner, error) {
	if k.isLocal(keyID) {
		return k.verifyLocal(ctx, keyID, check)
	}
	cached, err := k.cfg.Remote.RemoteKey(ctx, keyID)
	switch {
	case errors.Is(err, ErrNotFound):
		return VerifiedSigner{}, fmt.Errorf("key %s not cached: %w", keyID, ErrKeyUnavailable)
	case err != nil:
		return VerifiedSigner{}, fmt.Errorf("pub: cached key %s: %w", keyID, err)
	case cached.State == KeyGone:
		return VerifiedSigner{}, fmt.Errorf("key %s: %w", keyID, ErrKeyGone)
	case cached.State == KeyRevoked:
		return VerifiedSigner{}, fmt.Errorf("key %s: %w", keyID, ErrKeyRevoked)
	}
	return k.check(cached, check)
}

func (k *Keys) check(key RemoteKey, check func(crypto.PublicKey) error) (VerifiedSigner, error) {
	if err := check(key.PublicKey); err != nil {
		return VerifiedSigner{}, fmt.Errorf("key %s: %w: %w", key.ID, ErrBadSignature, err)
	}
	return VerifiedSigner{KeyID: key.ID, Owner: key.Owner}, nil
}

func (k *Keys) verifyLocal(ctx context.Context, keyID string, check func(crypto.PublicKey) error) (VerifiedSigner, error) {
	actorID, _, _ := strings.Cut(keyID, "#")
	ak, err := k.cfg.Local.LocalKeys(ctx, actorID)
	var priv PrivateKey
	ok := false
	if err == nil {
		priv, ok = ak.Key(keyID)
	} else if !errors.Is(err, ErrNotFound) {
		return VerifiedSigner{}, fmt.Errorf("pub: local key %s: %w", keyID, err)
	}
	if !ok {
		k.security(ctx, "local_impersonation", slog.String("key_id", keyID))
		return VerifiedSigner{}, fmt.Errorf("key %s: %w", keyID, ErrLocalImpersonation)
	}
	if err := check(priv.Public()); err != nil {
		return VerifiedSigner{}, fmt.Errorf("key %s: %w: %w", keyID, ErrBadSignature, err)
	}
	return VerifiedSigner{KeyID: keyID, Owner: actorID, Local: true}, nil
}

// security logs a security event.
func (k *Keys) security(ctx context.Context, event string, attrs ...slog.Attr) {
	k.log.LogAttrs(ctx, slog.LevelWarn, "pub: security event",
		append([]slog.Attr{slog.String("security_event", event)}, attrs...)...)
}

// mayRefetch reports whether a refetch of keyID after a verification
// failure is allowed now, and if so records it, so that at most one happens
// per key host per cool-off.
func (k *Keys) mayRefetch(keyID string) bool {
	o, err := transport.ParseOrigin(keyID)
	if err != nil {
		return false
	}
	now := k.cfg.Clock.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.prune(now)
	if last, ok := k.hostTry[o.Host]; ok && now.Sub(last) < k.cfg.RefetchCoolOff {
		return false
	}
	k.hostTry[o.Host] = now
	return true
}

// Bounds on the cool-off records: above pruneAbove entries, expired ones
// are dropped (at most once per pruneEvery); above maxRecords the negative
// cache is cleared, which only costs fetches to whoever filled it.
const (
	pruneAbove = 1024
	pruneEvery = time.Minute
	maxRecords = 1 << 16
)

// prune drops cool-off records that have run out; k.mu must be held.
func (k *Keys) prune(now time.Time) {
	if len(k.hostTry)+len(k.failed) < pruneAbove || now.Sub(k.lastPrune) < pruneEvery {
		return
	}
	k.lastPrune = now
	for h, t := range k.hostTry {
		if now.Sub(t) >= k.cfg.RefetchCoolOff {
			delete(k.hostTry, h)
		}
	}
	for id, t := range k.failed {
		if now.Sub(t) >= k.cfg.RefetchCoolOff {
			delete(k.failed, id)
		}
	}
	if len(k.failed) > maxRecords {
		clear(k.failed)
	}
	if len(k.hostTry) > maxRecords {
		clear(k.hostTry)
	}
}

// fetch fetches keyID once for all concurrent callers and stores the result:
// the key, or a tombstone on 410. A first fetch (first == true) also starts
// the host's refetch cool-off, so that the verification failure that may
// follow does not trigger a second fetch.
func (k *Keys) fetch(ctx context.Context, keyID string, first bool) (RemoteKey, error) {
	now := k.cfg.Clock.Now()
	k.mu.Lock()
	if t, ok := k.failed[keyID]; ok && now.Sub(t) < k.cfg.RefetchCoolOff {
		k.mu.Unlock()
		return RemoteKey{}, fmt.Errorf("key %s: a fetch failed %s ago: %w", keyID, now.Sub(t), ErrKeyUnavailable)
	}
	if c, ok := k.inflight[keyID]; ok {
		k.mu.Unlock()
		select {
		case <-c.done:
			return c.key, c.err
		case <-ctx.Done():
			return RemoteKey{}, fmt.Errorf("key %s: %w", keyID, ctx.Err())
		}
	}
	c := &keyCall{done: make(chan struct{})}
	k.inflight[keyID] = c
	if first {
		if o, err := transport.ParseOrigin(keyID); err == nil {
			k.hostTry[o.Host] = now
		}
	}
	k.mu.Unlock()

	c.key, c.err = k.fetchAndStore(ctx, keyID)

	k.mu.Lock()
	delete(k.inflight, keyID)
	if c.err != nil && !errors.Is(c.err, ErrKeyGone) {
		now := k.cfg.Clock.Now()
		k.prune(now)
		k.failed[keyID] = now
	}
	k.mu.Unlock()
	close(c.done)
	return c.key, c.err
}

func (k *Keys) fetchAndStore(ctx context.Context, keyID string) (RemoteKey, error) {
	key, err := k.fetchUncached(ctx, keyID)
	if err != nil {
		return RemoteKey{}, err
	}
	if err := k.cfg.Remote.PutRemoteKey(ctx, key); err != nil {
		return RemoteKey{}, fmt.Errorf("pub: store key %s: %w", keyID, err)
	}
	return key, nil
}

// fetchUncached fetches and binds keyID without consulting or filling the
// cache, except that a 410 Gone stores a tombstone.
func (k *Keys) fetchUncached(ctx context.Context, keyID string) (RemoteKey, error) {
	if k.cfg.Documents == nil {
		return RemoteKey{}, fmt.Errorf("key %s: no document fetcher: %w", keyID, ErrKeyUnavailable)
	}
	docIRI, _, _ := strings.Cut(keyID, "#")
	doc, err := k.cfg.Documents.FetchDocument(ctx, docIRI)
	if err != nil {
		if isGone(err) {
			k.tombstone(ctx, keyID)
			return RemoteKey{}, fmt.Errorf("key %s: %w: %w", keyID, ErrKeyGone, err)
		}
		return RemoteKey{}, fmt.Errorf("key %s: %w: %w", keyID, ErrKeyUnavailable, err)
	}
	found, err := k.findKey(doc, keyID)
	if err != nil {
		return RemoteKey{}, err
	}
	if err := k.checkBinding(ctx, doc, found); err != nil {
		return RemoteKey{}, err
	}
	return RemoteKey{
		ID:        keyID,
		Owner:     found.owner,
		PublicKey: found.pub,
		State:     KeyActive,
		FetchedAt: k.cfg.Clock.Now(),
	}, nil
}

// findKey picks keyID out of a fetched document.
func (k *Keys) findKey(doc *streams.Object, keyID string) (publishedKey, error) {
	keys, err := PublishedKeys(doc)
	if err != nil {
		return publishedKey{}, fmt.Errorf("key %s: %w: %w", keyID, ErrKeyUnavailable, err)
	}
	for _, pk := range keys {
		if pk.ID == keyID {
			return publishedKey{id: pk.ID, owner: pk.Owner, pub: pk.PublicKey, holder: docID(doc)}, nil
		}
	}
	return publishedKey{}, fmt.Errorf("key %s: not published in %s: %w", keyID, docID(doc), ErrKeyUnavailable)
}

// checkBinding enforces SECURITY rule 7: the owner is on the key id's
// origin, and the owner actor lists the key.
func (k *Keys) checkBinding(ctx context.Context, doc *streams.Object, found publishedKey) error {
	if found.owner == "" {
		return fmt.Errorf("key %s has no owner: %w", found.id, ErrKeyNotBound)
	}
	if !transport.SameOrigin(found.owner, found.id) {
		k.security(ctx, "key_owner_cross_origin", slog.String("key_id", found.id), slog.String("owner", found.owner))
		return fmt.Errorf("key %s: owner %s is on another origin: %w", found.id, found.owner, ErrKeyNotBound)
	}
	if found.owner == found.holder {
		// The key was found in its owner's own document.
		return nil
	}
	owner, err := k.cfg.Documents.FetchDocument(ctx, found.owner)
	if err != nil {
		return fmt.Errorf("key %s: fetch owner %s: %w: %w", found.id, found.owner, ErrKeyNotBound, err)
	}
	listed, err := PublishedKeys(owner)
	if err != nil {
		return fmt.Errorf("key %s: owner %s: %w: %w", found.id, found.owner, ErrKeyNotBound, err)
	}
	for _, pk := range listed {
		if pk.ID == found.id && sameKey(pk.PublicKey, found.pub) {
			return nil
		}
	}
	k.security(ctx, "key_not_listed_by_owner", slog.String("key_id", found.id), slog.String("owner", found.owner))
	return fmt.Errorf("key %s: owner %s does not list it: %w", found.id, found.owner, ErrKeyNotBound)
}

// tombstone records keyID as gone, keeping the owner when it is known.
func (k *Keys) tombstone(ctx context.Context, keyID string) {
	t := RemoteKey{ID: keyID, State: KeyGone, FetchedAt: k.cfg.Clock.Now()}
	if old, err := k.cfg.Remote.RemoteKey(ctx, keyID); err == nil {
		t.Owner = old.Owner
	}
	if err := k.cfg.Remote.PutRemoteKey(ctx, t); err != nil {
		k.log.ErrorContext(ctx, "pub: storing a key tombstone failed", slog.String("key_id", keyID), slog.Any("error", err))
	}
}

func isGone(err error) bool {
	var se *transport.StatusError
	return errors.Is(err, ErrKeyGone) || (errors.As(err, &se) && se.StatusCode == http.StatusGone)
}

// Cached returns the cached key or tombstone for keyID without fetching, or
// an error wrapping ErrNotFound.
func (k *Keys) Cached(ctx context.Context, keyID string) (RemoteKey, error) {
	rk, err := k.cfg.Remote.RemoteKey(ctx, keyID)
	if err != nil {
		return RemoteKey{}, fmt.Errorf("pub: cached key %s: %w", keyID, err)
	}
	return rk, nil
}

// KnownActor reports, without fetching anything, whether an active key of
// actorID is cached. Inboxes use it to drop a self-Delete of an actor never
// seen with zero fetches (rule 25).
func (k *Keys) KnownActor(ctx context.Context, actorID string) (bool, error) {
	keys, err := k.cfg.Remote.OwnerKeys(ctx, actorID)
	if err != nil {
		return false, fmt.Errorf("pub: keys of %s: %w", actorID, err)
	}
	for _, rk := range keys {
		if rk.State == KeyActive {
			return true, nil
		}
	}
	return false, nil
}

// Expire marks a cached key expired: the next request signed with it
// refetches the key and accepts whatever key its owner publishes then. It
// is the operator's remedy for a peer that reinstalled and lost its keys.
func (k *Keys) Expire(ctx context.Context, keyID string) error {
	rk, err := k.cfg.Remote.RemoteKey(ctx, keyID)
	if err != nil {
		return fmt.Errorf("pub: expire key %s: %w", keyID, err)
	}
	rk.Expired = true
	if err := k.cfg.Remote.PutRemoteKey(ctx, rk); err != nil {
		return fmt.Errorf("pub: expire key %s: %w", keyID, err)
	}
	return nil
}

// ApplyActorUpdate rotates keys from a verified Update of an actor by that
// actor (rule 24). signer must be the verified signer of the Update and
// actor the updated actor document; signer.Owner must be actor's id. Every
// key the document publishes that is bound to the actor (owner or controller
// is the actor, on its origin) becomes the cached key; every previously
// cached key of the actor the document no longer lists is revoked, so only
// the new keys verify afterwards. A document that publishes no usable key
// leaves the keys as they are. Keys bound to other actors or on other
// origins are ignored.
func (k *Keys) ApplyActorUpdate(ctx context.Context, signer VerifiedSigner, actor *streams.Object) error {
	id := docID(actor)
	if id == "" || signer.Owner != id {
		return fmt.Errorf("pub: update of %q signed by %q: %w", id, signer.Owner, ErrSignerNotActor)
	}
	if signer.Local || k.isLocal(id) {
		return fmt.Errorf("pub: update of local actor %s: %w", id, ErrLocalImpersonation)
	}
	published, err := PublishedKeys(actor)
	if err != nil {
		// No usable key in the document: nothing to rotate to.
		k.log.DebugContext(ctx, "pub: actor update carries no usable key", slog.String("actor", id), slog.Any("error", err))
		return nil
	}
	now := k.cfg.Clock.Now()
	var fresh []RemoteKey
	for _, pk := range published {
		owner := pk.Owner
		if owner == "" {
			owner = id
		}
		if owner != id || !transport.SameOrigin(pk.ID, id) {
			continue
		}
		fresh = append(fresh, RemoteKey{ID: pk.ID, Owner: id, PublicKey: pk.PublicKey, State: KeyActive, FetchedAt: now})
	}
	if len(fresh) == 0 {
		return nil
	}
	old, err := k.cfg.Remote.OwnerKeys(ctx, id)
	if err != nil {
		return fmt.Errorf("pub: keys of %s: %w", id, err)
	}
	for _, o := range old {
		if o.State != KeyActive || containsKey(fresh, o.ID) {
			continue
		}
		o.State, o.PublicKey, o.FetchedAt = KeyRevoked, nil, now
		if err := k.cfg.Remote.PutRemoteKey(ctx, o); err != nil {
			return fmt.Errorf("pub: revoke key %s: %w", o.ID, err)
		}
	}
	for _, f := range fresh {
		if err := k.cfg.Remote.PutRemoteKey(ctx, f); err != nil {
			return fmt.Errorf("pub: store key %s: %w", f.ID, err)
		}
	}
	return nil
}

// ApplyActorDelete tombstones every cached key of actorID after a verified
// self-Delete (signer.Owner must be actorID): later requests signed with
// them fail with ErrKeyGone and cause no fetch (rule 25).
func (k *Keys) ApplyActorDelete(ctx context.Context, signer VerifiedSigner, actorID string) error {
	if signer.Owner != actorID {
		return fmt.Errorf("pub: delete of %q signed by %q: %w", actorID, signer.Owner, ErrSignerNotActor)
	}
	keys, err := k.cfg.Remote.OwnerKeys(ctx, actorID)
	if err != nil {
		return fmt.Errorf("pub: keys of %s: %w", actorID, err)
	}
	now := k.cfg.Clock.Now()
	for _, rk := range keys {
		if rk.State == KeyGone {
			continue
		}
		rk.State, rk.PublicKey, rk.FetchedAt = KeyGone, nil, now
		if err := k.cfg.Remote.PutRemoteKey(ctx, rk); err != nil {
			return fmt.Errorf("pub: tombstone key %s: %w", rk.ID, err)
		}
	}
	return nil
}

func containsKey(keys []RemoteKey, id string) bool {
	for _, k := range keys {
		if k.ID == id {
			return true
		}
	}
	return false
}

// publishedKey is a key found in a document, with the id of the document it
// was found in.
type publishedKey struct {
	id, owner, holder string
	pub               crypto.PublicKey
}

// sameKey reports whether two public keys are equal.
func sameKey(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && b != nil && ea.Equal(b)
}
