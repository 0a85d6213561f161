package pub_test

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/pub/transport"
)

// countRequests wraps h's server handler to count requests by path.
func countRequests(h *home) *peerCounter {
	c := &peerCounter{hits: map[string]int{}}
	next := h.srv.Config.Handler
	h.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.add(r.Method + " " + r.URL.Path)
		next.ServeHTTP(w, r)
	})
	return c
}

type peerCounter struct {
	mu   sync.Mutex
	hits map[string]int
}

func (c *peerCounter) add(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hits[k]++
}

func (c *peerCounter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits[k]
}

func TestAuthorizedFetchBetweenTwoEngines(t *testing.T) {
	clock := newFakeClock()
	authorized := func(c *pub.Config) { c.AuthorizedFetch = true }
	a := newHome(t, clock, authorized)
	b := newHome(t, clock, authorized)
	bCount := countRequests(b)
	aCount := countRequests(a)
	ctx := context.Background()

	// Unsigned GETs of actors are refused; the instance actor is exempt.
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/users/bob", http.StatusUnauthorized},
		{"/actor", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, b.base+tc.path, nil)
		if got := b.do(req); got != tc.want {
			t.Errorf("unsigned GET %s: %d, want %d", tc.path, got, tc.want)
		}
	}

	// A fetches B's actor signed as its instance actor; B verifies A by
	// fetching A's (exempt) instance actor: no loop.
	bob, err := a.engine.Fetch(ctx, b.base+"/users/bob")
	if err != nil {
		t.Fatalf("fetch: %v\nB logs:\n%s", err, b.logs)
	}
	if bob.ID() != b.base+"/users/bob" {
		t.Errorf("fetched id %q", bob.ID())
	}
	keys, err := pub.PublishedKeys(bob)
	if err != nil || len(keys) != 2 {
		t.Fatalf("bob's keys: %v, %v", keys, err)
	}
	if n := aCount.get("GET /actor"); n != 1 {
		t.Errorf("B fetched A's instance actor %d times, want 1", n)
	}
	if n := bCount.get("GET /actor"); n != 1 { // the unsigned check above
		t.Errorf("A fetched B's instance actor %d times, want 0 (plus our own unsigned GET)", n-1)
	}
	cached, err := b.engine.Keys().Cached(ctx, a.engine.InstanceActor().KeyID())
	if err != nil || cached.Owner != a.engine.InstanceActor().ID() {
		t.Errorf("B's cache of A's instance key: %+v, %v", cached, err)
	}

	// A second fetch is served from A's cache; after the TTL it goes out
	// again and B verifies with its cached key.
	if _, err := a.engine.Fetch(ctx, b.base+"/users/bob"); err != nil {
		t.Fatal(err)
	}
	if n := bCount.get("GET /users/bob"); n != 2 { // 1 unsigned + 1 signed
		t.Errorf("B served bob %d times, want 2", n)
	}
	clock.Advance(10 * time.Minute)
	if _, err := a.engine.Fetch(ctx, b.base+"/users/bob"); err != nil {
		t.Fatal(err)
	}
	if n := bCount.get("GET /users/bob"); n != 3 {
		t.Errorf("B served bob %d times after the cache TTL, want 3", n)
	}
	if n := aCount.get("GET /actor"); n != 1 {
		t.Errorf("B fetched A's instance actor %d times, want still 1", n)
	}

	// A person of A delivers to B: B verifies by fetching that person from
	// A, signed as B's instance actor.
	alice := a.base + "/users/alice"
	aliceKeys, err := a.engine.Keys().EnsureLocal(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	body := activity(alice+"/a/1", "Follow", alice, b.base+"/users/bob")
	res, err := a.engine.Client().Deliver(pub.SignAs(ctx, aliceKeys), b.base+"/users/bob/inbox", body)
	if err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery: %+v, %v\nB logs:\n%s", res, err, b.logs)
	}
	if d := b.deliveries(); len(d) != 1 || d[0].signer.Owner != alice {
		t.Errorf("B's deliveries: %+v", d)
	}
}

func TestFetchNeverFetchesOwnOrigin(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	count := countRequests(h)
	ctx := context.Background()
	_, err := h.engine.Fetch(ctx, h.base+"/users/nobody")
	if !errors.Is(err, pub.ErrNotFound) {
		t.Errorf("unknown local IRI: %v, want ErrNotFound", err)
	}
	inst, err := h.engine.Fetch(ctx, h.base+"/actor#main-key")
	if err != nil || inst.ID() != h.engine.InstanceActor().ID() || !inst.Is("Application") {
		t.Errorf("instance actor: %v, %v", inst, err)
	}
	if n := count.get("GET /users/nobody") + count.get("GET /actor"); n != 0 {
		t.Errorf("%d HTTP requests to our own server, want 0", n)
	}
	if _, err := h.store.LocalKeys(ctx, h.base+"/users/nobody"); !errors.Is(err, pub.ErrNotFound) {
		t.Errorf("a local lookup created keys: %v", err)
	}
	// The client refuses our origin even when asked directly.
	if _, err := h.engine.Client().Dereference(ctx, h.base+"/users/nobody"); !errors.Is(err, transport.ErrLocal) {
		t.Errorf("Dereference of our origin: %v, want ErrLocal", err)
	}
}

func TestInstanceActorDocument(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	ia := h.engine.InstanceActor()
	if ia.ID() != h.base+"/actor" || ia.KeyID() != h.base+"/actor#main-key" {
		t.Errorf("id %q key %q", ia.ID(), ia.KeyID())
	}
	resp, err := h.srv.Client().Get(ia.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !transport.IsActivityPubContentType(ct) {
		t.Errorf("Content-Type %q", ct)
	}
	doc := mustParse(t, ia.Document())
	if !doc.Is("Application") || doc.String("preferredUsername") == "" || doc.IRI("inbox") == "" {
		t.Errorf("document: %s", ia.Document())
	}
	keys, err := pub.PublishedKeys(doc)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	for _, secret := range []string{"PRIVATE", "redacted"} {
		if strings.Contains(string(ia.Document()), secret) {
			t.Errorf("document contains %q", secret)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, ia.ID(), strings.NewReader("{}"))
	if got := h.do(req); got != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", got)
	}
	// Restarting on the same store keeps the same keys.
	stored, err := h.engine.Keys().EnsureLocal(context.Background(), ia.ID())
	if err != nil {
		t.Fatal(err)
	}
	again, err := pub.NewInstanceActor(stored, pub.InstanceConfig{BaseURL: h.base})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.NewInstanceActor(stored, pub.InstanceConfig{BaseURL: h.base, Path: "/other"}); err == nil {
		t.Error("keys of another actor accepted")
	}
	if !again.Keys().RSA.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(ia.Keys().RSA.Public()) {
		t.Error("instance actor keys changed on restart")
	}
}

func TestBehindTLSTerminatingProxy(t *testing.T) {
	clock := newFakeClock()
	const public = "https://school.example"
	h := newHome(t, clock, func(c *pub.Config) { c.BaseURL = public })
	p := newPeer(t, "good.example")
	alice := p.newActor("alice", clock)
	for _, scheme := range []httpsig.Scheme{httpsig.Cavage, httpsig.RFC9421} {
		t.Run(scheme.String(), func(t *testing.T) {
			body := activity(alice.id+"/a/proxy-"+scheme.String(), "Follow", alice.id, public+"/users/bob")
			req, _ := http.NewRequest(http.MethodPost, public+"/users/bob/inbox", bytes.NewReader(body))
			alice.sign(scheme)(req, body)
			// The proxy forwards over plain HTTP, keeping the Host.
			loop, _ := url.Parse(h.base + "/users/bob/inbox")
			req.URL, req.Host = loop, "school.example"
			if got := h.do(req); got != http.StatusAccepted {
				t.Fatalf("status %d, want 202; logs:\n%s", got, h.logs)
			}
		})
	}
}
