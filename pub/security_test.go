package pub_test

import (
	"net/http"
	"testing"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// assertNothing checks that nothing reached the inbox handler and, when
// wantStored is false, that no key was cached.
func (h *home) assertNothingDelivered(t *testing.T) {
	t.Helper()
	if d := h.deliveries(); len(d) != 0 {
		t.Errorf("%d activities reached the inbox handler, want 0", len(d))
	}
}

func (h *home) assertNoKeys(t *testing.T) {
	t.Helper()
	if n := h.store.Len(); n != 0 {
		t.Errorf("%d remote keys stored, want 0", n)
	}
}

func TestSignedDeliveryAccepted(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	good := newPeer(t, "good.example")
	alice := good.newActor("alice", clock)
	for _, scheme := range []httpsig.Scheme{httpsig.Cavage, httpsig.RFC9421} {
		t.Run(scheme.String(), func(t *testing.T) {
			body := activity(alice.id+"/activities/"+scheme.String(), "Follow", alice.id, h.base+"/users/bob")
			if got := h.post("/users/bob/inbox", body, alice.sign(scheme)); got != http.StatusAccepted {
				t.Fatalf("status %d, want 202; logs:\n%s", got, h.logs)
			}
		})
	}
	d := h.deliveries()
	if len(d) != 2 {
		t.Fatalf("%d deliveries, want 2", len(d))
	}
	if d[0].signer.Owner != alice.id || d[0].signer.KeyID != alice.keyID() {
		t.Errorf("signer = %+v", d[0].signer)
	}
	if good.hitsOf(alice.path) != 1 {
		t.Errorf("actor fetched %d times, want 1 (then cached)", good.hitsOf(alice.path))
	}
}

func TestSecurity01_UnsignedInboxPost(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	good := newPeer(t, "good.example")
	alice := good.newActor("alice", clock)
	body := activity(alice.id+"/a/1", "Create", alice.id, note(alice.id+"/n/1", alice.id))
	for _, path := range []string{"/users/bob/inbox", "/inbox"} {
		if got := h.post(path, body, nil); got != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", path, got)
		}
	}
	h.assertNothingDelivered(t)
	h.assertNoKeys(t)
	if n := good.requests(); n != 0 {
		t.Errorf("%d outbound requests, want 0", n)
	}
}
