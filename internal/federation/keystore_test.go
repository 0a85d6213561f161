package federation_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/federation"
	"github.com/commonroom/commonroom/pub"
)

// fixedKeys is a pub.KeySource handing out keys made once for the test
// binary: RSA generation is slow.
type fixedKeys struct {
	rsa *rsa.PrivateKey
	ed  ed25519.PrivateKey
}

func (k fixedKeys) RSAKey(context.Context) (*rsa.PrivateKey, error)        { return k.rsa, nil }
func (k fixedKeys) Ed25519Key(context.Context) (ed25519.PrivateKey, error) { return k.ed, nil }

var (
	keysOnce sync.Once
	keySet   [2]fixedKeys
)

// MustKeySources returns two key sources with different keys.
func MustKeySources(tb testing.TB) [2]fixedKeys {
	tb.Helper()
	keysOnce.Do(func() {
		for i := range keySet {
			src := pub.GeneratingKeySource{}
			r, err := src.RSAKey(context.Background())
			if err != nil {
				panic(err)
			}
			e, err := src.Ed25519Key(context.Background())
			if err != nil {
				panic(err)
			}
			keySet[i] = fixedKeys{r, e}
		}
	})
	return keySet
}

// MustActorKeys makes keys for actorID from src.
func MustActorKeys(tb testing.TB, src pub.KeySource, actorID string) *pub.ActorKeys {
	tb.Helper()
	k, err := pub.NewActorKeys(context.Background(), src, actorID, time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func samePublic(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

func TestKeyStore(t *testing.T) {
	srcs := MustKeySources(t)
	const ada = "https://school.example/users/ada"
	dbtest.ForEach(t, func(t *testing.T, d *bun.DB) {
		ctx := context.Background()
		store := federation.NewKeyStore(d)

		t.Run("unknown actor", func(t *testing.T) {
			_, err := store.LocalKeys(ctx, "https://school.example/users/nobody")
			if !errors.Is(err, pub.ErrNotFound) {
				t.Errorf("LocalKeys = %v, want ErrNotFound", err)
			}
		})

		t.Run("put and read back", func(t *testing.T) {
			want := MustActorKeys(t, srcs[0], ada)
			if err := store.PutLocalKeys(ctx, want); err != nil {
				t.Fatal(err)
			}
			got, err := store.LocalKeys(ctx, ada)
			if err != nil {
				t.Fatal(err)
			}
			if got.ActorID != ada || !got.CreatedAt.Equal(want.CreatedAt) ||
				!samePublic(got.RSA.Public(), want.RSA.Public()) || !samePublic(got.Ed25519.Public(), want.Ed25519.Public()) {
				t.Errorf("read back %+v, want %+v", got, want)
			}
			// The keys sign: the stored private halves are whole.
			s, err := got.RequestSigner(nil)
			if err != nil || s.KeyID() != ada+"#main-key" {
				t.Errorf("RequestSigner = %v, %v", s, err)
			}
		})

		t.Run("stored as PKCS#8 PEM", func(t *testing.T) {
			var rsaText, edText string
			err := d.NewSelect().Table("actor_keys").Column("rsa_private_key", "ed25519_private_key").
				Where("actor_id = ?", ada).Scan(ctx, &rsaText, &edText)
			if err != nil {
				t.Fatal(err)
			}
			for _, text := range []string{rsaText, edText} {
				if !strings.HasPrefix(text, "-----BEGIN PRIVATE KEY-----\n") {
					t.Errorf("stored key starts %.40q, want a PKCS#8 PEM block", text)
				}
			}
		})

		t.Run("put replaces", func(t *testing.T) {
			next := MustActorKeys(t, srcs[1], ada)
			if err := store.PutLocalKeys(ctx, next); err != nil {
				t.Fatal(err)
			}
			got, err := store.LocalKeys(ctx, ada)
			if err != nil {
				t.Fatal(err)
			}
			if !samePublic(got.RSA.Public(), next.RSA.Public()) {
				t.Error("PutLocalKeys did not replace the keys")
			}
		})

		t.Run("create keeps the first", func(t *testing.T) {
			const bea = "https://school.example/users/bea"
			first := MustActorKeys(t, srcs[0], bea)
			got, err := store.CreateLocalKeys(ctx, first)
			if err != nil || !samePublic(got.RSA.Public(), first.RSA.Public()) {
				t.Fatalf("first CreateLocalKeys = %v, %v", got, err)
			}
			got, err = store.CreateLocalKeys(ctx, MustActorKeys(t, srcs[1], bea))
			if err != nil {
				t.Fatal(err)
			}
			if !samePublic(got.RSA.Public(), first.RSA.Public()) {
				t.Error("a second CreateLocalKeys replaced the first keys")
			}
		})

		t.Run("concurrent first starts agree", func(t *testing.T) {
			const actor = "https://school.example/actor"
			var wg sync.WaitGroup
			got := make([]*pub.ActorKeys, 8)
			errs := make([]error, len(got))
			for i := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Each "process" has its own store over the database.
					got[i], errs[i] = federation.NewKeyStore(d).EnsureLocalKeys(ctx, srcs[i%2], actor, time.Now())
				}()
			}
			wg.Wait()
			for i := range got {
				if errs[i] != nil {
					t.Fatalf("EnsureLocalKeys %d: %v", i, errs[i])
				}
				if !samePublic(got[i].RSA.Public(), got[0].RSA.Public()) {
					t.Fatalf("start %d got other keys than start 0", i)
				}
			}
		})

		t.Run("bad input", func(t *testing.T) {
			for _, k := range []*pub.ActorKeys{nil, {}, {ActorID: "https://school.example/users/x"}} {
				if err := store.PutLocalKeys(ctx, k); err == nil {
					t.Errorf("PutLocalKeys(%+v) succeeded", k)
				}
			}
		})

		t.Run("corrupt row is an error that does not quote it", func(t *testing.T) {
			const secret = "not-a-key-but-secret-looking"
			_, err := d.NewRaw("INSERT INTO actor_keys (actor_id, rsa_private_key, created_at) VALUES (?, ?, ?)",
				"https://school.example/users/cy", secret, time.Now().UTC()).Exec(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = store.LocalKeys(ctx, "https://school.example/users/cy")
			if err == nil || strings.Contains(err.Error(), secret) || errors.Is(err, pub.ErrNotFound) {
				t.Errorf("LocalKeys of a corrupt row = %v", err)
			}
		})

		t.Run("keys never print", func(t *testing.T) {
			got, err := store.LocalKeys(ctx, ada)
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprintf("%+v %v", got, got.RSA); strings.Contains(s, "BEGIN") || !strings.Contains(s, "redacted") {
				t.Errorf("printed keys: %s", s)
			}
		})
	}, federation.Migrations())
}
