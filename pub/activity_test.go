package pub_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/transport"
)

func TestCheckActivity(t *testing.T) {
	const (
		actor = "https://good.example/users/alice"
		key   = actor + "#main-key"
	)
	signer := pub.VerifiedSigner{KeyID: key, Owner: actor}
	for _, tc := range []struct {
		name   string
		signer pub.VerifiedSigner
		doc    string
		want   error
	}{
		{"own activity", signer, `{"id":"https://good.example/a/1","type":"Like","actor":"` + actor + `","object":"https://x.example/n/1"}`, nil},
		{"actor as embedded object", signer, `{"id":"https://good.example/a/1","type":"Like","actor":{"id":"` + actor + `","type":"Person"},"object":"https://x.example/n/1"}`, nil},
		{"no actor", signer, `{"id":"https://good.example/a/1","type":"Like"}`, pub.ErrInvalidActivity},
		{"two actors", signer, `{"id":"https://good.example/a/1","type":"Like","actor":["` + actor + `","https://good.example/users/bob"]}`, pub.ErrSignerNotActor},
		{"other actor on the same host", signer, `{"id":"https://good.example/a/1","type":"Like","actor":"https://good.example/users/bob"}`, pub.ErrSignerNotActor},
		{"actor spelled with another case of host", signer, `{"id":"https://GOOD.example/a/1","type":"Like","actor":"https://GOOD.example/users/alice"}`, pub.ErrSignerNotActor},
		{"acct: actor", pub.VerifiedSigner{KeyID: key, Owner: "acct:alice@good.example"}, `{"id":"https://good.example/a/1","type":"Like","actor":"acct:alice@good.example"}`, pub.ErrSignerNotActor},
		{"key on another host than its owner", pub.VerifiedSigner{KeyID: "https://evil.example/k", Owner: actor}, `{"id":"https://good.example/a/1","type":"Like","actor":"` + actor + `"}`, pub.ErrSignerNotActor},
		{"id on the actor's host but http", signer, `{"id":"http://good.example/a/1","type":"Like","actor":"` + actor + `"}`, pub.ErrForeignID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pub.CheckActivity(tc.signer, mustParse(t, []byte(tc.doc)))
			if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
				t.Errorf("CheckActivity = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := pub.CheckActivity(signer, nil); !errors.Is(err, pub.ErrInvalidActivity) {
		t.Errorf("nil activity: %v", err)
	}
}

func TestStatusFor(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, http.StatusOK},
		{fmt.Errorf("x: %w", pub.ErrUnsigned), http.StatusUnauthorized},
		{pub.ErrBadSignature, http.StatusUnauthorized},
		{pub.ErrLocalImpersonation, http.StatusUnauthorized},
		{pub.ErrKeyNotBound, http.StatusUnauthorized},
		{pub.ErrKeyUnavailable, http.StatusUnauthorized},
		{pub.ErrKeyRevoked, http.StatusUnauthorized},
		{pub.ErrSignerNotActor, http.StatusUnauthorized},
		{pub.ErrBlocked, http.StatusForbidden},
		{pub.ErrForeignID, http.StatusForbidden},
		{pub.ErrBodyTooLarge, http.StatusRequestEntityTooLarge},
		{pub.ErrInvalidActivity, http.StatusBadRequest},
		{pub.ErrKeyGone, http.StatusAccepted},
		{pub.ErrUnknownActorDeleted, http.StatusAccepted},
		{pub.ErrNotFound, http.StatusNotFound},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	} {
		if got := pub.StatusFor(tc.err); got != tc.want {
			t.Errorf("StatusFor(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestFetcherCache(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	p := newPeer(t, "cache.example")
	noteChain(p, func(n int) int { return n + 1 })
	client, err := transport.New(transport.Config{AllowHTTP: true, AllowPrefixes: loopback, Resolver: exampleResolver{}, Signer: h.engine.InstanceActor()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := pub.DefaultFetcherConfig()
	cfg.Client = client
	cfg.LocalOrigin = h.base
	cfg.CacheSize = 2
	cfg.Clock = clock
	f, err := pub.NewFetcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	get := func(n int) {
		t.Helper()
		if _, err := f.Fetch(ctx, p.url(fmt.Sprintf("/notes/%d#frag", n))); err != nil {
			t.Fatal(err)
		}
	}
	get(0)
	get(1)
	get(0) // cached
	if got := p.requests(); got != 2 {
		t.Fatalf("%d requests, want 2", got)
	}
	get(2) // evicts 1, the least recently used
	get(0) // still cached
	if got := p.requests(); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
	get(1) // was evicted
	if got := p.hitsOf("/notes/1"); got != 2 {
		t.Errorf("/notes/1 fetched %d times, want 2", got)
	}
	f.Forget(p.url("/notes/1"))
	get(1)
	if got := p.hitsOf("/notes/1"); got != 3 {
		t.Errorf("/notes/1 fetched %d times after Forget, want 3", got)
	}
	clock.Advance(6 * time.Minute)
	get(1)
	if got := p.hitsOf("/notes/1"); got != 4 {
		t.Errorf("/notes/1 fetched %d times after the TTL, want 4", got)
	}
	// FetchDocument never reads the cache.
	if _, err := f.FetchDocument(ctx, p.url("/notes/1")); err != nil {
		t.Fatal(err)
	}
	if got := p.hitsOf("/notes/1"); got != 5 {
		t.Errorf("/notes/1 fetched %d times by FetchDocument, want 5", got)
	}
	// Every request was signed as the instance actor.
	if got := p.signedBy(); len(got) != 1 || got[h.engine.InstanceActor().KeyID()] != 7 {
		t.Errorf("request signers = %v, want all 7 by %s", got, h.engine.InstanceActor().KeyID())
	}
	if !f.IsLocal(h.base+"/users/x") || f.IsLocal(p.url("/x")) {
		t.Error("IsLocal")
	}
}
