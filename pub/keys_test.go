package pub_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// fakeDocs is a DocumentFetcher whose behaviour each test sets.
type fakeDocs struct {
	fetch func(ctx context.Context, iri string) (*streams.Object, error)
	calls atomic.Int64
}

var _ pub.DocumentFetcher = (*fakeDocs)(nil)

func (f *fakeDocs) FetchDocument(ctx context.Context, iri string) (*streams.Object, error) {
	f.calls.Add(1)
	return f.fetch(ctx, iri)
}

const localOrigin = "https://school.example"

func newTestKeys(t *testing.T, docs pub.DocumentFetcher, clock pub.Clock) (*pub.Keys, *pub.MemoryKeyStore) {
	t.Helper()
	st := pub.NewMemoryKeyStore()
	cfg := pub.DefaultKeysConfig()
	cfg.LocalOrigin = localOrigin
	cfg.Local, cfg.Remote = st, st
	cfg.Source = newPoolSource(t)
	cfg.Documents = docs
	cfg.Clock = clock
	k, err := pub.NewKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k, st
}

// actorDoc returns a remote actor document publishing keys.
func actorDoc(t testing.TB, keys *pub.ActorKeys) *streams.Object {
	t.Helper()
	doc := streams.NewObject("Person")
	doc.SetID(keys.ActorID)
	if err := pub.PublishKeys(doc, keys); err != nil {
		t.Fatal(err)
	}
	return doc
}

// verifiesWith returns a check that accepts exactly want.
func verifiesWith(want crypto.PublicKey) func(crypto.PublicKey) error {
	return func(got crypto.PublicKey) error {
		if e, ok := got.(interface{ Equal(crypto.PublicKey) bool }); ok && e.Equal(want) {
			return nil
		}
		return errors.New("signature does not verify")
	}
}

func TestKeysVerify(t *testing.T) {
	ctx := context.Background()
	src := newPoolSource(t)
	const remote = "https://peer.example/users/ann"
	ann, err := pub.NewActorKeys(ctx, src, remote, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	serveAnn := func(ctx context.Context, iri string) (*streams.Object, error) {
		if iri != remote {
			return nil, &transport.StatusError{URL: iri, StatusCode: http.StatusNotFound}
		}
		return actorDoc(t, ann), nil
	}

	t.Run("unknown key is fetched once, bound and cached", func(t *testing.T) {
		docs := &fakeDocs{fetch: serveAnn}
		k, st := newTestKeys(t, docs, newFakeClock())
		for range 3 {
			s, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(ann.RSA.Public()))
			if err != nil || s.Owner != remote || s.KeyID != ann.RSAKeyID() || s.Local {
				t.Fatalf("Verify = %+v, %v", s, err)
			}
		}
		if docs.calls.Load() != 1 || st.Len() != 1 {
			t.Errorf("%d fetches, %d keys stored; want 1 and 1", docs.calls.Load(), st.Len())
		}
		s, err := k.Verify(ctx, ann.Ed25519KeyID(), verifiesWith(ann.Ed25519.Public()))
		if err != nil || s.Owner != remote {
			t.Errorf("Ed25519 key from assertionMethod: %+v, %v", s, err)
		}
	})

	t.Run("concurrent first uses share one fetch", func(t *testing.T) {
		release := make(chan struct{})
		docs := &fakeDocs{fetch: func(ctx context.Context, iri string) (*streams.Object, error) {
			<-release
			return serveAnn(ctx, iri)
		}}
		k, _ := newTestKeys(t, docs, newFakeClock())
		var wg sync.WaitGroup
		var failures atomic.Int64
		for range 50 {
			wg.Go(func() {
				if _, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(ann.RSA.Public())); err != nil {
					failures.Add(1)
				}
			})
		}
		time.Sleep(20 * time.Millisecond) // let the goroutines pile up on the fetch
		close(release)
		wg.Wait()
		if docs.calls.Load() != 1 || failures.Load() != 0 {
			t.Errorf("%d fetches, %d failures; want 1 and 0", docs.calls.Load(), failures.Load())
		}
	})

	t.Run("failed fetch is not retried within the cool-off", func(t *testing.T) {
		clock := newFakeClock()
		docs := &fakeDocs{fetch: func(ctx context.Context, iri string) (*streams.Object, error) {
			return nil, &transport.StatusError{URL: iri, StatusCode: http.StatusNotFound}
		}}
		k, st := newTestKeys(t, docs, clock)
		for range 5 {
			if _, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(ann.RSA.Public())); !errors.Is(err, pub.ErrKeyUnavailable) {
				t.Fatalf("err = %v, want ErrKeyUnavailable", err)
			}
		}
		clock.Advance(5 * time.Minute)
		_, _ = k.Verify(ctx, ann.RSAKeyID(), verifiesWith(ann.RSA.Public()))
		if docs.calls.Load() != 2 || st.Len() != 0 {
			t.Errorf("%d fetches, %d keys; want 2 and 0", docs.calls.Load(), st.Len())
		}
	})

	t.Run("410 tombstones; no fetch afterwards, ever", func(t *testing.T) {
		clock := newFakeClock()
		docs := &fakeDocs{fetch: func(ctx context.Context, iri string) (*streams.Object, error) {
			return nil, fmt.Errorf("dereference: %w", &transport.StatusError{URL: iri, StatusCode: http.StatusGone})
		}}
		k, _ := newTestKeys(t, docs, clock)
		for range 3 {
			if _, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(ann.RSA.Public())); !errors.Is(err, pub.ErrKeyGone) {
				t.Fatalf("err = %v, want ErrKeyGone", err)
			}
			clock.Advance(48 * time.Hour)
		}
		if docs.calls.Load() != 1 {
			t.Errorf("%d fetches, want 1", docs.calls.Load())
		}
	})

	t.Run("stale key whose refresh fails is still used", func(t *testing.T) {
		clock := newFakeClock()
		fail := atomic.Bool{}
		docs := &fakeDocs{fetch: func(ctx context.Context, iri string) (*streams.Object, error) {
			if fail.Load() {
				return nil, errors.New("connection refused")
			}
			return serveAnn(ctx, iri)
		}}
		k, _ := newTestKeys(t, docs, clock)
		if _, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(ann.RSA.Public())); err != nil {
			t.Fatal(err)
		}
		fail.Store(true)
		clock.Advance(25 * time.Hour)
		if _, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(ann.RSA.Public())); err != nil {
			t.Errorf("stale key with a failing refresh: %v", err)
		}
		if docs.calls.Load() != 2 {
			t.Errorf("%d fetches, want 2", docs.calls.Load())
		}
	})

	for _, tc := range []struct {
		name string
		doc  func() *streams.Object
		want error
	}{
		{"document does not publish the key", func() *streams.Object {
			o := streams.NewObject("Person")
			o.SetID(remote)
			return o
		}, pub.ErrKeyUnavailable},
		{"key without owner", func() *streams.Object {
			return mustParse(t, jsonDoc(t, map[string]any{"id": remote, "type": "Person",
				"publicKey": keyJSON(t, ann.RSAKeyID(), "", ann.RSA)}))
		}, pub.ErrKeyNotBound},
		{"owner on another origin", func() *streams.Object {
			return mustParse(t, jsonDoc(t, map[string]any{"id": remote, "type": "Person",
				"publicKey": keyJSON(t, ann.RSAKeyID(), "https://other.example/users/ann", ann.RSA)}))
		}, pub.ErrKeyNotBound},
		{"owner on another port", func() *streams.Object {
			return mustParse(t, jsonDoc(t, map[string]any{"id": remote, "type": "Person",
				"publicKey": keyJSON(t, ann.RSAKeyID(), "https://peer.example:8443/users/ann", ann.RSA)}))
		}, pub.ErrKeyNotBound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := &fakeDocs{fetch: func(ctx context.Context, iri string) (*streams.Object, error) {
				if iri == remote {
					return tc.doc(), nil
				}
				return nil, &transport.StatusError{URL: iri, StatusCode: http.StatusNotFound}
			}}
			k, st := newTestKeys(t, docs, newFakeClock())
			if _, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(ann.RSA.Public())); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if st.Len() != 0 {
				t.Errorf("%d keys stored, want 0", st.Len())
			}
		})
	}

	t.Run("local key ids are never fetched", func(t *testing.T) {
		docs := &fakeDocs{fetch: serveAnn}
		k, _ := newTestKeys(t, docs, newFakeClock())
		me, err := k.EnsureLocal(ctx, localOrigin+"/users/me")
		if err != nil {
			t.Fatal(err)
		}
		s, err := k.Verify(ctx, me.RSAKeyID(), verifiesWith(me.RSA.Public()))
		if err != nil || !s.Local || s.Owner != me.ActorID {
			t.Errorf("own key: %+v, %v", s, err)
		}
		if _, err := k.Verify(ctx, localOrigin+"/users/nobody#main-key", verifiesWith(me.RSA.Public())); !errors.Is(err, pub.ErrLocalImpersonation) {
			t.Errorf("unknown local key: %v, want ErrLocalImpersonation", err)
		}
		if _, err := k.Verify(ctx, "acct:ann@peer.example", verifiesWith(ann.RSA.Public())); !errors.Is(err, pub.ErrKeyUnavailable) {
			t.Errorf("acct: key id: %v, want ErrKeyUnavailable", err)
		}
		if docs.calls.Load() != 0 {
			t.Errorf("%d fetches, want 0", docs.calls.Load())
		}
		if _, err := k.EnsureLocal(ctx, "https://peer.example/users/x"); err == nil {
			t.Error("EnsureLocal made keys for a remote actor")
		}
	})
}

func TestKeysApplyActorUpdateAndDelete(t *testing.T) {
	ctx := context.Background()
	src := newPoolSource(t)
	const remote = "https://peer.example/users/ann"
	ann, _ := pub.NewActorKeys(ctx, src, remote, time.Now())
	next, _ := pub.NewActorKeys(ctx, src, remote, time.Now())
	docs := &fakeDocs{fetch: func(ctx context.Context, iri string) (*streams.Object, error) { return actorDoc(t, ann), nil }}
	k, _ := newTestKeys(t, docs, newFakeClock())
	signer, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(ann.RSA.Public()))
	if err != nil {
		t.Fatal(err)
	}
	// A document without keys changes nothing.
	bare := streams.NewObject("Person")
	bare.SetID(remote)
	if err := k.ApplyActorUpdate(ctx, signer, bare); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(ann.RSA.Public())); err != nil {
		t.Errorf("key lost after a keyless Update: %v", err)
	}
	// Keys of other actors in the document are ignored.
	other, _ := pub.NewActorKeys(ctx, src, "https://peer.example/users/bob", time.Now())
	mixed := mustParse(t, jsonDoc(t, map[string]any{"id": remote, "type": "Person",
		"publicKey": []any{keyJSON(t, other.RSAKeyID(), other.ActorID, other.RSA), keyJSON(t, "https://evil.example/k", remote, other.RSA)}}))
	if err := k.ApplyActorUpdate(ctx, signer, mixed); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Cached(ctx, other.RSAKeyID()); !errors.Is(err, pub.ErrNotFound) {
		t.Errorf("another actor's key was taken from the Update: %v", err)
	}
	// A real rotation.
	if err := k.ApplyActorUpdate(ctx, signer, actorDoc(t, next)); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(next.RSA.Public())); err != nil {
		t.Errorf("new key: %v", err)
	}
	if _, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(ann.RSA.Public())); !errors.Is(err, pub.ErrBadSignature) {
		t.Errorf("old key: %v, want ErrBadSignature", err)
	}
	// Deletion by someone else is refused; by the actor, tombstones.
	if err := k.ApplyActorDelete(ctx, pub.VerifiedSigner{KeyID: other.RSAKeyID(), Owner: other.ActorID}, remote); !errors.Is(err, pub.ErrSignerNotActor) {
		t.Errorf("foreign delete: %v", err)
	}
	if err := k.ApplyActorDelete(ctx, signer, remote); err != nil {
		t.Fatal(err)
	}
	calls := docs.calls.Load()
	if _, err := k.Verify(ctx, ann.RSAKeyID(), verifiesWith(next.RSA.Public())); !errors.Is(err, pub.ErrKeyGone) {
		t.Errorf("after delete: %v, want ErrKeyGone", err)
	}
	if known, _ := k.KnownActor(ctx, remote); known {
		t.Error("deleted actor still known")
	}
	if docs.calls.Load() != calls {
		t.Error("a deleted actor's key was fetched")
	}
}

func TestKeysRefetchCoolOffIsPerHost(t *testing.T) {
	ctx := context.Background()
	src := newPoolSource(t)
	clock := newFakeClock()
	var actors []*pub.ActorKeys
	for _, id := range []string{"https://a.example/users/x", "https://a.example/users/y", "https://b.example/users/z"} {
		k, _ := pub.NewActorKeys(ctx, src, id, clock.Now())
		actors = append(actors, k)
	}
	perIRI := map[string]int{}
	var mu sync.Mutex
	docs := &fakeDocs{fetch: func(ctx context.Context, iri string) (*streams.Object, error) {
		mu.Lock()
		perIRI[iri]++
		mu.Unlock()
		for _, a := range actors {
			if a.ActorID == iri {
				return actorDoc(t, a), nil
			}
		}
		return nil, &transport.StatusError{URL: iri, StatusCode: http.StatusNotFound}
	}}
	k, _ := newTestKeys(t, docs, clock)
	wrong := func(crypto.PublicKey) error { return errors.New("bad signature") }
	for _, a := range actors { // first use: one fetch each
		if _, err := k.Verify(ctx, a.RSAKeyID(), verifiesWith(a.RSA.Public())); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(6 * time.Minute)
	for range 10 {
		for _, a := range actors {
			if _, err := k.Verify(ctx, a.RSAKeyID(), wrong); !errors.Is(err, pub.ErrBadSignature) {
				t.Fatalf("err = %v, want ErrBadSignature", err)
			}
		}
	}
	// a.example gets one refetch (for whichever key failed first), b.example one.
	aRefetches := perIRI[actors[0].ActorID] + perIRI[actors[1].ActorID] - 2
	bRefetches := perIRI[actors[2].ActorID] - 1
	if aRefetches != 1 || bRefetches != 1 {
		t.Errorf("refetches: a.example %d, b.example %d; want 1 and 1 (%v)", aRefetches, bRefetches, perIRI)
	}
}
