package pub

import (
	"context"
	"crypto"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// Key id fragments of local actors: the RSA key is actor#main-key (what
// Mastodon and most servers expect), the Ed25519 key actor#ed25519-key.
const (
	RSAKeyFragment     = "main-key"
	Ed25519KeyFragment = "ed25519-key"
)

// ActorKeys is a local actor's key pairs. Its private keys redact themselves
// when printed or marshalled (see [PrivateKey]).
type ActorKeys struct {
	// ActorID is the actor's IRI; key ids are derived from it.
	ActorID string
	// RSA is the RSA-2048 key, published in publicKey and used to sign
	// draft-cavage and RFC 9421 requests.
	RSA PrivateKey
	// Ed25519 is published as a FEP-521a Multikey in assertionMethod.
	Ed25519 PrivateKey
	// CreatedAt is when the keys were made.
	CreatedAt time.Time
}

// RSAKeyID returns the id of the RSA key: ActorID#main-key.
func (k *ActorKeys) RSAKeyID() string { return k.ActorID + "#" + RSAKeyFragment }

// Ed25519KeyID returns the id of the Ed25519 key: ActorID#ed25519-key.
func (k *ActorKeys) Ed25519KeyID() string { return k.ActorID + "#" + Ed25519KeyFragment }

// Key returns the private key with the given key id, if it is one of k's.
func (k *ActorKeys) Key(keyID string) (PrivateKey, bool) {
	switch keyID {
	case k.RSAKeyID():
		return k.RSA, !k.RSA.IsZero()
	case k.Ed25519KeyID():
		return k.Ed25519, !k.Ed25519.IsZero()
	}
	return PrivateKey{}, false
}

// RequestSigner returns an httpsig.Signer for the actor's RSA key (key id
// ActorID#main-key), the key every peer can verify. now is the clock; nil
// means time.Now.
func (k *ActorKeys) RequestSigner(now func() time.Time) (*httpsig.Signer, error) {
	if k.RSA.IsZero() {
		return nil, fmt.Errorf("pub: %s has no RSA key", k.ActorID)
	}
	s, err := httpsig.NewSigner(k.RSA.Signer(), k.RSAKeyID(), now)
	if err != nil {
		return nil, fmt.Errorf("pub: signer for %s: %w", k.ActorID, err)
	}
	return s, nil
}

// KeyState says whether a cached remote key may verify signatures.
type KeyState uint8

const (
	// KeyActive keys verify signatures.
	KeyActive KeyState = iota
	// KeyRevoked keys were replaced by a signed actor Update; they never
	// verify again and are never refetched.
	KeyRevoked
	// KeyGone keys answered 410 Gone or belong to an actor that deleted
	// itself; they never verify again and are never refetched.
	KeyGone
)

// String returns "active", "revoked" or "gone".
func (s KeyState) String() string {
	switch s {
	case KeyActive:
		return "active"
	case KeyRevoked:
		return "revoked"
	case KeyGone:
		return "gone"
	}
	return fmt.Sprintf("KeyState(%d)", uint8(s))
}

// RemoteKey is a remote actor's public key as cached, or the tombstone of
// one (State KeyRevoked or KeyGone, PublicKey nil).
type RemoteKey struct {
	// ID is the key id, as signers name it in keyId or keyid.
	ID string
	// Owner is the IRI of the actor the key is bound to ("" for a tombstone
	// whose owner was never learnt).
	Owner string
	// PublicKey is an *rsa.PublicKey or ed25519.PublicKey (nil for tombstones).
	PublicKey crypto.PublicKey
	// State says whether the key may verify.
	State KeyState
	// FetchedAt is when the key was last fetched or rotated in; the cache
	// lifetime counts from it.
	FetchedAt time.Time
	// Expired marks the key for replacement: the next use refetches it and
	// takes whatever key the owner now publishes (an operator's tool when a
	// peer reinstalled and lost its keys).
	Expired bool
}

// LocalKeyStore keeps local actors' key pairs. Implementations must be safe
// for concurrent use and must keep private keys off logs.
type LocalKeyStore interface {
	// LocalKeys returns the keys of a local actor, or an error wrapping
	// ErrNotFound.
	LocalKeys(ctx context.Context, actorID string) (*ActorKeys, error)
	// PutLocalKeys stores keys, replacing any for the same ActorID.
	PutLocalKeys(ctx context.Context, keys *ActorKeys) error
}

// RemoteKeyStore keeps remote public keys and key tombstones.
// Implementations must be safe for concurrent use.
type RemoteKeyStore interface {
	// RemoteKey returns the key (or tombstone) with that id, or an error
	// wrapping ErrNotFound.
	RemoteKey(ctx context.Context, keyID string) (RemoteKey, error)
	// OwnerKeys returns every key and tombstone bound to an owner, in no
	// particular order; none is not an error.
	OwnerKeys(ctx context.Context, owner string) ([]RemoteKey, error)
	// PutRemoteKey stores k, replacing any key with the same ID.
	PutRemoteKey(ctx context.Context, k RemoteKey) error
}

// MemoryKeyStore is an in-memory LocalKeyStore and RemoteKeyStore, safe for
// concurrent use. Embedders that need nothing durable can use it as it is;
// its contents are lost when the process ends. The zero value is not usable;
// call NewMemoryKeyStore.
type MemoryKeyStore struct {
	mu      sync.RWMutex
	local   map[string]*ActorKeys
	remote  map[string]RemoteKey
	byOwner map[string]map[string]struct{}
}

var (
	_ LocalKeyStore  = (*MemoryKeyStore)(nil)
	_ RemoteKeyStore = (*MemoryKeyStore)(nil)
)

// NewMemoryKeyStore returns an empty store.
func NewMemoryKeyStore() *MemoryKeyStore {
	return &MemoryKeyStore{
		local:   make(map[string]*ActorKeys),
		remote:  make(map[string]RemoteKey),
		byOwner: make(map[string]map[string]struct{}),
	}
}

// LocalKeys returns a copy of the actor's keys.
func (m *MemoryKeyStore) LocalKeys(ctx context.Context, actorID string) (*ActorKeys, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, ok := m.local[actorID]
	if !ok {
		return nil, fmt.Errorf("local keys of %q: %w", actorID, ErrNotFound)
	}
	c := *k
	return &c, nil
}

// PutLocalKeys stores a copy of keys.
func (m *MemoryKeyStore) PutLocalKeys(ctx context.Context, keys *ActorKeys) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if keys == nil || keys.ActorID == "" {
		return fmt.Errorf("pub: put local keys: missing actor id")
	}
	c := *keys
	m.mu.Lock()
	defer m.mu.Unlock()
	m.local[c.ActorID] = &c
	return nil
}

// RemoteKey returns the stored key or tombstone.
func (m *MemoryKeyStore) RemoteKey(ctx context.Context, keyID string) (RemoteKey, error) {
	if err := ctx.Err(); err != nil {
		return RemoteKey{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, ok := m.remote[keyID]
	if !ok {
		return RemoteKey{}, fmt.Errorf("remote key %q: %w", keyID, ErrNotFound)
	}
	return k, nil
}

// OwnerKeys returns the keys and tombstones bound to owner.
func (m *MemoryKeyStore) OwnerKeys(ctx context.Context, owner string) ([]RemoteKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []RemoteKey
	for id := range m.byOwner[owner] {
		out = append(out, m.remote[id])
	}
	return out, nil
}

// PutRemoteKey stores k, replacing the key with the same ID.
func (m *MemoryKeyStore) PutRemoteKey(ctx context.Context, k RemoteKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if strings.TrimSpace(k.ID) == "" {
		return fmt.Errorf("pub: put remote key: missing key id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.remote[k.ID]; ok && old.Owner != k.Owner {
		delete(m.byOwner[old.Owner], k.ID)
		if len(m.byOwner[old.Owner]) == 0 {
			delete(m.byOwner, old.Owner)
		}
	}
	m.remote[k.ID] = k
	if m.byOwner[k.Owner] == nil {
		m.byOwner[k.Owner] = make(map[string]struct{})
	}
	m.byOwner[k.Owner][k.ID] = struct{}{}
	return nil
}

// Len reports how many remote keys and tombstones are stored; tests use it to
// assert that nothing was stored.
func (m *MemoryKeyStore) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.remote)
}
