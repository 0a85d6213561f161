package pub_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
)

// benchRequest returns a signed inbox POST and its body, after one
// delivery has cached the signer's key.
func benchSetup(b *testing.B, scheme httpsig.Scheme, ed bool) (*home, *http.Request, []byte) {
	clock := newFakeClock()
	h := newHome(b, clock)
	p := newPeer(b, "good.example")
	alice := p.newActor("alice", clock)
	body := activity(alice.id+"/a/bench", "Create", alice.id, note(alice.id+"/n/bench", alice.id))
	sign := alice.sign(scheme)
	if ed {
		sign = signWith(alice.keys.Ed25519, alice.keys.Ed25519KeyID(), clock, scheme)
	}
	req := httptest.NewRequest(http.MethodPost, h.base+"/inbox", bytes.NewReader(body))
	sign(req, body)
	if _, err := h.engine.Authenticator().Authenticate(context.Background(), req, body); err != nil {
		b.Fatal(err)
	}
	return h, req, body
}

// BenchmarkAuthenticate measures verifying a signed inbox POST with a cached
// key: signature parsing, strength, window and digest checks, key lookup and
// the signature itself.
func BenchmarkAuthenticate(b *testing.B) {
	for _, bc := range []struct {
		name   string
		scheme httpsig.Scheme
		ed     bool
	}{
		{"cavage-rsa", httpsig.Cavage, false},
		{"rfc9421-rsa", httpsig.RFC9421, false},
		{"rfc9421-ed25519", httpsig.RFC9421, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h, req, body := benchSetup(b, bc.scheme, bc.ed)
			auth := h.engine.Authenticator()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := auth.Authenticate(ctx, req, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInboxMiddleware measures the whole Inbox middleware in process
// (body cap, signature, activity parse, CheckActivity) with a cached key.
func BenchmarkInboxMiddleware(b *testing.B) {
	h, signed, body := benchSetup(b, httpsig.Cavage, false)
	handler := h.engine.Authenticator().Inbox(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, h.base+"/inbox", bytes.NewReader(body))
		req.Header = signed.Header
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkBlockedSigner measures refusing a blocked domain, which needs
// no key and no fetch.
func BenchmarkBlockedSigner(b *testing.B) {
	clock := newFakeClock()
	bl, _ := pub.NewBlocklist("good.example")
	h := newHome(b, clock, func(c *pub.Config) { c.Blocker = bl })
	p := newPeer(b, "good.example")
	alice := p.newActor("alice", clock)
	body := activity(alice.id+"/a/b", "Create", alice.id, nil)
	req := httptest.NewRequest(http.MethodPost, h.base+"/inbox", bytes.NewReader(body))
	alice.sign(httpsig.Cavage)(req, body)
	auth := h.engine.Authenticator()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.Authenticate(context.Background(), req, body); err == nil {
			b.Fatal("blocked signer accepted")
		}
	}
}
