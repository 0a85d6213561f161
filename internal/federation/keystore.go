package federation

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/pub"
)

// KeyStore keeps local actors' key pairs in the actor_keys table: a durable
// pub.LocalKeyStore, so that the instance actor (and every local actor) signs
// with the same keys after a restart, and every process sharing the database
// signs with the same keys. Private keys are stored as PKCS#8 PEM and only
// ever leave the store as pub.PrivateKey values, which redact themselves.
// It is safe for concurrent use.
//
// It lives here for now; pub/bunstore should own it (as it owns the
// delivery queue), so that programs embedding pub get durable keys too.
type KeyStore struct {
	db bun.IDB
}

var _ pub.LocalKeyStore = (*KeyStore)(nil)

// NewKeyStore returns a KeyStore over d; this package's migrations must have
// run.
func NewKeyStore(d bun.IDB) *KeyStore { return &KeyStore{db: d} }

// keyRow is a row of actor_keys. It holds private key material: never log
// it or return it.
type keyRow struct {
	bun.BaseModel `bun:"table:actor_keys"`

	ActorID    string    `bun:"actor_id,pk"`
	RSAPEM     string    `bun:"rsa_private_key,notnull"`
	Ed25519PEM string    `bun:"ed25519_private_key,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
}

// LocalKeys returns the stored keys of actorID, or an error wrapping
// pub.ErrNotFound.
func (s *KeyStore) LocalKeys(ctx context.Context, actorID string) (*pub.ActorKeys, error) {
	row := new(keyRow)
	err := s.db.NewSelect().Model(row).Where("actor_id = ?", actorID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("federation: keys of %s: %w", actorID, pub.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("federation: keys of %s: %w", actorID, err)
	}
	return row.keys()
}

// PutLocalKeys stores keys, replacing any stored for the same actor.
func (s *KeyStore) PutLocalKeys(ctx context.Context, keys *pub.ActorKeys) error {
	row, err := newKeyRow(keys)
	if err != nil {
		return err
	}
	_, err = s.db.NewInsert().Model(row).
		On("CONFLICT (actor_id) DO UPDATE").
		Set("rsa_private_key = EXCLUDED.rsa_private_key").
		Set("ed25519_private_key = EXCLUDED.ed25519_private_key").
		Set("created_at = EXCLUDED.created_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("federation: store keys of %s: %w", keys.ActorID, err)
	}
	return nil
}

// CreateLocalKeys stores keys unless keys for the same actor are stored
// already, and returns the stored ones: when several processes make an
// actor's first keys at once, all of them end up with the same, the first
// stored.
func (s *KeyStore) CreateLocalKeys(ctx context.Context, keys *pub.ActorKeys) (*pub.ActorKeys, error) {
	row, err := newKeyRow(keys)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.NewInsert().Model(row).On("CONFLICT (actor_id) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("federation: store keys of %s: %w", keys.ActorID, err)
	}
	return s.LocalKeys(ctx, keys.ActorID)
}

// EnsureLocalKeys returns the stored keys of actorID, or makes them from src
// and stores them with CreateLocalKeys, so that concurrent first starts
// agree on one key pair.
func (s *KeyStore) EnsureLocalKeys(ctx context.Context, src pub.KeySource, actorID string, now time.Time) (*pub.ActorKeys, error) {
	ak, err := s.LocalKeys(ctx, actorID)
	if err == nil || !errors.Is(err, pub.ErrNotFound) {
		return ak, err
	}
	ak, err = pub.NewActorKeys(ctx, src, actorID, now)
	if err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}
	return s.CreateLocalKeys(ctx, ak)
}

func newKeyRow(keys *pub.ActorKeys) (*keyRow, error) {
	if keys == nil || keys.ActorID == "" {
		return nil, errors.New("federation: store keys: missing actor id")
	}
	if keys.RSA.IsZero() {
		return nil, fmt.Errorf("federation: store keys of %s: no RSA key", keys.ActorID)
	}
	row := &keyRow{ActorID: keys.ActorID, CreatedAt: keys.CreatedAt.UTC().Truncate(time.Microsecond)}
	var err error
	if row.RSAPEM, err = encodeKey(keys.RSA); err != nil {
		return nil, fmt.Errorf("federation: store keys of %s: RSA: %w", keys.ActorID, err)
	}
	if !keys.Ed25519.IsZero() {
		if row.Ed25519PEM, err = encodeKey(keys.Ed25519); err != nil {
			return nil, fmt.Errorf("federation: store keys of %s: Ed25519: %w", keys.ActorID, err)
		}
	}
	if row.CreatedAt.IsZero() {
		row.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	}
	return row, nil
}

func (r *keyRow) keys() (*pub.ActorKeys, error) {
	ak := &pub.ActorKeys{ActorID: r.ActorID, CreatedAt: r.CreatedAt}
	var err error
	if ak.RSA, err = decodeKey(r.RSAPEM, "rsa"); err != nil {
		return nil, fmt.Errorf("federation: keys of %s: RSA: %w", r.ActorID, err)
	}
	if r.Ed25519PEM != "" {
		if ak.Ed25519, err = decodeKey(r.Ed25519PEM, "ed25519"); err != nil {
			return nil, fmt.Errorf("federation: keys of %s: Ed25519: %w", r.ActorID, err)
		}
	}
	return ak, nil
}

// pemType is the PEM block type of PKCS#8 private keys.
const pemType = "PRIVATE KEY"

func encodeKey(k pub.PrivateKey) (string, error) {
	der, err := k.MarshalPKCS8()
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})), nil
}

// decodeKey parses a stored key and checks it is of the algorithm its column
// says. Errors never quote the stored text.
func decodeKey(text, algorithm string) (pub.PrivateKey, error) {
	block, rest := pem.Decode([]byte(text))
	if block == nil || block.Type != pemType || len(bytes.TrimSpace(rest)) != 0 {
		return pub.PrivateKey{}, errors.New("stored key is not one PKCS#8 PEM block")
	}
	k, err := pub.ParsePrivateKeyPKCS8(block.Bytes)
	if err != nil {
		return pub.PrivateKey{}, err
	}
	if k.Algorithm() != algorithm {
		return pub.PrivateKey{}, fmt.Errorf("stored key is %s, want %s", k.Algorithm(), algorithm)
	}
	return k, nil
}
