package pub_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/streams"
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
	if got := good.signedBy(); got[h.engine.InstanceActor().KeyID()] != 1 || len(got) != 1 {
		t.Errorf("key fetch signers = %v, want the instance actor", got)
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

func TestSecurity02_WeakSignatureRefused(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock, func(c *pub.Config) { c.AuthorizedFetch = true })
	good := newPeer(t, "good.example")
	alice := good.newActor("alice", clock)
	body := activity(alice.id+"/a/2", "Follow", alice.id, h.base+"/users/bob")
	now := clock.Now()
	for _, tc := range []struct {
		name   string
		method string
		sign   func(*http.Request, []byte)
		want   int
	}{
		{"control: cavage with everything", http.MethodPost, func(r *http.Request, b []byte) {
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now, "(request-target)", "host", "date", "digest")
		}, http.StatusAccepted},
		{"cavage POST without digest", http.MethodPost, func(r *http.Request, b []byte) {
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now, "(request-target)", "host", "date")
		}, http.StatusUnauthorized},
		{"cavage POST without date or (created)", http.MethodPost, func(r *http.Request, b []byte) {
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now, "(request-target)", "host", "digest")
		}, http.StatusUnauthorized},
		{"cavage GET without host", http.MethodGet, func(r *http.Request, b []byte) {
			cavageSign(r, nil, alice.keys.RSA, alice.keyID(), now, "(request-target)", "date")
		}, http.StatusUnauthorized},
		{"control: cavage GET with host", http.MethodGet, func(r *http.Request, b []byte) {
			cavageSign(r, nil, alice.keys.RSA, alice.keyID(), now, "(request-target)", "host", "date")
		}, http.StatusOK},
		{"control: rfc9421 with everything", http.MethodPost, func(r *http.Request, b []byte) {
			rfc9421Sign(r, b, alice.keys.RSA, alice.keyID(), now, "@method", "@target-uri", "content-digest")
		}, http.StatusAccepted},
		{"rfc9421 POST without created", http.MethodPost, func(r *http.Request, b []byte) {
			rfc9421Sign(r, b, alice.keys.RSA, alice.keyID(), time.Time{}, "@method", "@target-uri", "content-digest")
		}, http.StatusUnauthorized},
		{"rfc9421 POST without @method", http.MethodPost, func(r *http.Request, b []byte) {
			rfc9421Sign(r, b, alice.keys.RSA, alice.keyID(), now, "@target-uri", "content-digest")
		}, http.StatusUnauthorized},
		{"rfc9421 POST without @target-uri", http.MethodPost, func(r *http.Request, b []byte) {
			rfc9421Sign(r, b, alice.keys.RSA, alice.keyID(), now, "@method", "content-digest")
		}, http.StatusUnauthorized},
		{"rfc9421 POST without content-digest", http.MethodPost, func(r *http.Request, b []byte) {
			rfc9421Sign(r, b, alice.keys.RSA, alice.keyID(), now, "@method", "@target-uri")
		}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.deliveries())
			var (
				req *http.Request
				err error
			)
			if tc.method == http.MethodGet {
				req, err = http.NewRequest(http.MethodGet, h.base+"/users/bob", nil)
			} else {
				req, err = http.NewRequest(http.MethodPost, h.base+"/users/bob/inbox", bytes.NewReader(body))
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.sign(req, body)
			if got := h.do(req); got != tc.want {
				t.Fatalf("status %d, want %d; logs:\n%s", got, tc.want, h.logs)
			}
			if tc.want == http.StatusUnauthorized && len(h.deliveries()) != before {
				t.Error("a refused request reached the inbox handler")
			}
		})
	}
	// Only the control requests ever needed the key: one fetch.
	if n := good.hitsOf(alice.path); n != 1 {
		t.Errorf("actor fetched %d times, want 1", n)
	}
}

func TestSecurity03_TamperedBodyRefused(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	good := newPeer(t, "good.example")
	alice := good.newActor("alice", clock)
	original := activity(alice.id+"/a/3", "Create", alice.id, note(alice.id+"/n/3", alice.id))
	tampered := activity(alice.id+"/a/3", "Create", alice.id, note(alice.id+"/n/3-evil", alice.id))
	sum512 := sha512.Sum512(original)
	now := clock.Now()
	for _, tc := range []struct {
		name string
		body []byte
		sign func(*http.Request, []byte)
	}{
		{"valid cavage signature over the original digest", tampered, func(r *http.Request, _ []byte) {
			r.Header.Set("Digest", httpsig.DigestHeader(original))
			cavageSign(r, original, alice.keys.RSA, alice.keyID(), now, "(request-target)", "host", "date", "digest")
		}},
		{"valid rfc9421 signature over the original digest", tampered, func(r *http.Request, _ []byte) {
			r.Header.Set("Content-Digest", httpsig.ContentDigestHeader(original))
			rfc9421Sign(r, original, alice.keys.RSA, alice.keyID(), now, "@method", "@target-uri", "content-digest")
		}},
		{"SHA-512 digest only", original, func(r *http.Request, b []byte) {
			r.Header.Set("Digest", "SHA-512="+base64.StdEncoding.EncodeToString(sum512[:]))
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now, "(request-target)", "host", "date", "digest")
		}},
		{"MD5 digest only", original, func(r *http.Request, b []byte) {
			r.Header.Set("Digest", "MD5=AAAAAAAAAAAAAAAAAAAAAA==")
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now, "(request-target)", "host", "date", "digest")
		}},
		{"digest in bad base64", original, func(r *http.Request, b []byte) {
			r.Header.Set("Digest", "SHA-256=%%%not-base64%%%")
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now, "(request-target)", "host", "date", "digest")
		}},
		{"content-digest in bad base64", original, func(r *http.Request, b []byte) {
			r.Header.Set("Content-Digest", "sha-256=:%%%:")
			rfc9421Sign(r, b, alice.keys.RSA, alice.keyID(), now, "@method", "@target-uri", "content-digest")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.post("/users/bob/inbox", tc.body, tc.sign); got != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", got)
			}
		})
	}
	h.assertNothingDelivered(t)
	h.assertNoKeys(t)
	if n := good.requests(); n != 0 {
		t.Errorf("%d outbound requests for bodies that fail their digest, want 0", n)
	}
}

func TestSecurity04_StaleOrFutureSignatureRefused(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	good := newPeer(t, "good.example")
	alice := good.newActor("alice", clock)
	now := clock.Now()
	for i, tc := range []struct {
		name string
		sign func(*http.Request, []byte)
		want int
	}{
		{"Date 2 h in the past", func(r *http.Request, b []byte) {
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now.Add(-2*time.Hour), "(request-target)", "host", "date", "digest")
		}, http.StatusUnauthorized},
		{"Date 2 h in the future", func(r *http.Request, b []byte) {
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now.Add(2*time.Hour), "(request-target)", "host", "date", "digest")
		}, http.StatusUnauthorized},
		{"created 2 h in the past", func(r *http.Request, b []byte) {
			rfc9421Sign(r, b, alice.keys.RSA, alice.keyID(), now.Add(-2*time.Hour), "@method", "@target-uri", "content-digest")
		}, http.StatusUnauthorized},
		{"created 2 h in the future", func(r *http.Request, b []byte) {
			rfc9421Sign(r, b, alice.keys.RSA, alice.keyID(), now.Add(2*time.Hour), "@method", "@target-uri", "content-digest")
		}, http.StatusUnauthorized},
		{"unparsable Date", func(r *http.Request, b []byte) {
			r.Header.Set("Date", "yesterday-ish")
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now, "(request-target)", "host", "date", "digest")
		}, http.StatusUnauthorized},
		{"Date 10 min old", func(r *http.Request, b []byte) {
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now.Add(-10*time.Minute), "(request-target)", "host", "date", "digest")
		}, http.StatusAccepted},
		{"created 10 min old", func(r *http.Request, b []byte) {
			rfc9421Sign(r, b, alice.keys.RSA, alice.keyID(), now.Add(-10*time.Minute), "@method", "@target-uri", "content-digest")
		}, http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.deliveries())
			body := activity(fmt.Sprintf("%s/a/4-%d", alice.id, i), "Follow", alice.id, h.base+"/users/bob")
			if got := h.post("/users/bob/inbox", body, tc.sign); got != tc.want {
				t.Fatalf("status %d, want %d; logs:\n%s", got, tc.want, h.logs)
			}
			delivered := len(h.deliveries()) - before
			if (tc.want == http.StatusAccepted) != (delivered == 1) {
				t.Errorf("%d deliveries for status %d", delivered, tc.want)
			}
		})
	}
	if n := good.hitsOf(alice.path); n != 1 {
		t.Errorf("actor fetched %d times, want 1 (only for the accepted requests)", n)
	}
}

func TestSecurity05_ReplayedSignatureRefused(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock, func(c *pub.Config) { c.AuthorizedFetch = true })
	good := newPeer(t, "good.example")
	alice := good.newActor("alice", clock)
	body := activity(alice.id+"/a/5", "Follow", alice.id, h.base+"/users/a")
	for _, scheme := range []httpsig.Scheme{httpsig.Cavage, httpsig.RFC9421} {
		for _, tc := range []struct {
			name   string
			replay func(signed *http.Request) *http.Request
		}{
			{"to another path", func(s *http.Request) *http.Request {
				r, _ := http.NewRequest(http.MethodPost, h.base+"/users/b/inbox", bytes.NewReader(body))
				r.Header = s.Header.Clone()
				return r
			}},
			{"with another query", func(s *http.Request) *http.Request {
				r, _ := http.NewRequest(http.MethodPost, h.base+"/users/a/inbox?x=1", bytes.NewReader(body))
				r.Header = s.Header.Clone()
				return r
			}},
			{"to another host", func(s *http.Request) *http.Request {
				r, _ := http.NewRequest(http.MethodPost, h.base+"/users/a/inbox", bytes.NewReader(body))
				r.Header = s.Header.Clone()
				r.Host = "other.example"
				return r
			}},
		} {
			t.Run(scheme.String()+" "+tc.name, func(t *testing.T) {
				signed, _ := http.NewRequest(http.MethodPost, h.base+"/users/a/inbox", bytes.NewReader(body))
				alice.sign(scheme)(signed, body)
				if got := h.do(tc.replay(signed)); got != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401", got)
				}
			})
		}
		t.Run(scheme.String()+" GET replayed as POST", func(t *testing.T) {
			get, _ := http.NewRequest(http.MethodGet, h.base+"/users/a/inbox", nil)
			alice.sign(scheme)(get, nil)
			post, _ := http.NewRequest(http.MethodPost, h.base+"/users/a/inbox", bytes.NewReader(body))
			post.Header = get.Header.Clone()
			post.Header.Set("Digest", httpsig.DigestHeader(body))
			post.Header.Set("Content-Digest", httpsig.ContentDigestHeader(body))
			if got := h.do(post); got != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", got)
			}
		})
	}
	h.assertNothingDelivered(t)
	// Control: the same signed request sent where it was signed for passes.
	signed, _ := http.NewRequest(http.MethodPost, h.base+"/users/a/inbox", bytes.NewReader(body))
	alice.sign(httpsig.Cavage)(signed, body)
	if got := h.do(signed); got != http.StatusAccepted {
		t.Fatalf("control: status %d, want 202", got)
	}
}

func TestSecurity06_SignerIsNotActor(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	good := newPeer(t, "good.example")
	evil := newPeer(t, "evil.example")
	alice := good.newActor("alice", clock)
	eve := evil.newActor("eve", clock)
	for _, tc := range []struct {
		name string
		body []byte
		sign func(*http.Request, []byte)
	}{
		{"eve signs alice's activity", activity(alice.id+"/a/6", "Create", alice.id, note(alice.id+"/n/6", alice.id)), eve.sign(httpsig.Cavage)},
		{"eve signs alice's activity with an id on eve's host", activity(eve.id+"/a/6", "Create", alice.id, note(eve.id+"/n/6", alice.id)), eve.sign(httpsig.RFC9421)},
		{"acct: key id", activity(alice.id+"/a/6b", "Create", alice.id, note(alice.id+"/n/6b", alice.id)),
			signWith(eve.keys.RSA, "acct:alice@good.example", clock, httpsig.Cavage)},
		{"acct: key id naming the actor's host", activity(alice.id+"/a/6c", "Follow", alice.id, h.base+"/users/bob"),
			signWith(alice.keys.RSA, "acct:alice@"+strings.TrimPrefix(good.base, "http://"), clock, httpsig.Cavage)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.post("/users/bob/inbox", tc.body, tc.sign); got != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", got)
			}
		})
	}
	h.assertNothingDelivered(t)
	if n := good.requests(); n != 0 {
		t.Errorf("%d requests to alice's server, want 0", n)
	}
	// CheckActivity itself, for the inbox's other callers.
	signer := pub.VerifiedSigner{KeyID: eve.keyID(), Owner: eve.id}
	if _, err := pub.CheckActivity(signer, mustParse(t, activity(alice.id+"/a/6", "Create", alice.id, nil))); !errors.Is(err, pub.ErrSignerNotActor) {
		t.Errorf("CheckActivity = %v, want ErrSignerNotActor", err)
	}
	acct := pub.VerifiedSigner{KeyID: "acct:alice@good.example", Owner: alice.id}
	if _, err := pub.CheckActivity(acct, mustParse(t, activity(alice.id+"/a/6", "Create", alice.id, nil))); !errors.Is(err, pub.ErrSignerNotActor) {
		t.Errorf("CheckActivity with acct: key id = %v, want ErrSignerNotActor", err)
	}
}

func mustParse(t testing.TB, data []byte) *streams.Object {
	t.Helper()
	o, err := streams.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// keyJSON returns a publicKey object for a key.
func keyJSON(t testing.TB, id, owner string, k pub.PrivateKey) map[string]any {
	t.Helper()
	pemText, err := httpsig.EncodePublicKeyPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"id": id, "owner": owner, "publicKeyPem": pemText}
}

func jsonDoc(t testing.TB, m map[string]any) []byte {
	t.Helper()
	m["@context"] = []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSecurity07_KeyNotBoundToOwner(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	good := newPeer(t, "good.example")
	evil := newPeer(t, "evil.example")
	src := newPoolSource(t)
	alice := good.newActor("alice", clock)
	carol := good.newActor("carol", clock)
	// A key document whose owner is on another host.
	mallory := evil.newActor("mallory", clock)
	evil.serveJSON(mallory.path, jsonDoc(t, map[string]any{
		"id": mallory.id, "type": "Person", "inbox": mallory.id + "/inbox",
		"publicKey": keyJSON(t, mallory.keyID(), alice.id, mallory.keys.RSA),
	}))
	// A standalone key document whose owner does not list it.
	stray, _ := pub.NewActorKeys(context.Background(), src, good.url("/keys/k1"), clock.Now())
	good.serveJSON("/keys/k1", jsonDoc(t, map[string]any{
		"id": good.url("/keys/k1"), "type": "Key", "owner": carol.id,
		"publicKeyPem": keyJSON(t, "", "", stray.RSA)["publicKeyPem"],
	}))
	// An actor embedding a key it says is owned by carol, who does not list it.
	dave := good.newActor("dave", clock)
	good.serveJSON(dave.path, jsonDoc(t, map[string]any{
		"id": dave.id, "type": "Person", "inbox": dave.id + "/inbox",
		"publicKey": keyJSON(t, dave.keyID(), carol.id, dave.keys.RSA),
	}))
	// Control: a standalone key document its owner does list.
	erin := good.newActor("erin", clock)
	good.serveJSON("/keys/k2", jsonDoc(t, map[string]any{
		"id": good.url("/keys/k2"), "type": "Key", "owner": erin.id,
		"publicKeyPem": keyJSON(t, "", "", erin.keys.RSA)["publicKeyPem"],
	}))
	good.serveJSON(erin.path, jsonDoc(t, map[string]any{
		"id": erin.id, "type": "Person", "inbox": erin.id + "/inbox",
		"publicKey": keyJSON(t, good.url("/keys/k2"), erin.id, erin.keys.RSA),
	}))

	for _, tc := range []struct {
		name  string
		actor string
		key   pub.PrivateKey
		keyID string
		want  int
	}{
		{"owner on another host", alice.id, mallory.keys.RSA, mallory.keyID(), http.StatusUnauthorized},
		{"owner on another host, claiming the key's own actor", mallory.id, mallory.keys.RSA, mallory.keyID(), http.StatusUnauthorized},
		{"key document's owner does not list it", carol.id, stray.RSA, good.url("/keys/k1"), http.StatusUnauthorized},
		{"embedded key owned by an actor that does not list it", carol.id, dave.keys.RSA, dave.keyID(), http.StatusUnauthorized},
		{"control: key document listed by its owner", erin.id, erin.keys.RSA, good.url("/keys/k2"), http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := activity(tc.actor+"/a/7", "Follow", tc.actor, h.base+"/users/bob")
			if got := h.post("/users/bob/inbox", body, signWith(tc.key, tc.keyID, clock, httpsig.Cavage)); got != tc.want {
				t.Fatalf("status %d, want %d; logs:\n%s", got, tc.want, h.logs)
			}
			if tc.want != http.StatusAccepted {
				if _, err := h.engine.Keys().Cached(context.Background(), tc.keyID); !errors.Is(err, pub.ErrNotFound) {
					t.Errorf("unbound key %s was cached (err %v)", tc.keyID, err)
				}
			}
		})
	}
	if d := h.deliveries(); len(d) != 1 || d[0].signer.Owner != erin.id {
		t.Errorf("deliveries = %+v, want only erin's", d)
	}
	if h.store.Len() != 1 {
		t.Errorf("%d keys stored, want 1 (the control's)", h.store.Len())
	}
}

func TestSecurity08_ActivityIDOnAnotherHost(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	good := newPeer(t, "good.example")
	other := newPeer(t, "other.example")
	alice := good.newActor("alice", clock)
	body := activity(other.url("/a/1"), "Create", alice.id, note(alice.id+"/n/8", alice.id))
	if got := h.post("/users/bob/inbox", body, alice.sign(httpsig.Cavage)); got != http.StatusForbidden {
		t.Fatalf("status %d, want 403", got)
	}
	h.assertNothingDelivered(t)
	if n := other.requests(); n != 0 {
		t.Errorf("%d requests to the other host, want 0", n)
	}
	signer := pub.VerifiedSigner{KeyID: alice.keyID(), Owner: alice.id}
	for _, tc := range []struct {
		name string
		id   string
		want error
	}{
		{"other host", other.url("/a/1"), pub.ErrForeignID},
		{"same host, other port", strings.Replace(good.url("/a/1"), good.base, "http://good.example:1", 1), pub.ErrForeignID},
		{"not a URL", "urn:uuid:1", pub.ErrForeignID},
		{"missing", "", pub.ErrInvalidActivity},
		{"actor's host", alice.id + "/a/1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pub.CheckActivity(signer, mustParse(t, activity(tc.id, "Like", alice.id, other.url("/n/1"))))
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("CheckActivity = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSecurity09_RemoteRequestClaimsLocalActor(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	evil := newPeer(t, "evil.example")
	eve := evil.newActor("eve", clock)
	ghost := h.base + "/users/ghost"
	bob := h.base + "/users/bob"
	if _, err := h.engine.Keys().EnsureLocal(context.Background(), bob); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, event string
		body        []byte
		sign        func(*http.Request, []byte)
	}{
		{"key id of a local actor that does not exist", "local_impersonation",
			activity(ghost+"/a/9", "Create", ghost, note(ghost+"/n/9", ghost)),
			signWith(eve.keys.RSA, ghost+"#main-key", clock, httpsig.Cavage)},
		{"local key id that is not one of the actor's keys", "local_impersonation",
			activity(bob+"/a/9", "Create", bob, note(bob+"/n/9", bob)),
			signWith(eve.keys.RSA, bob+"#other-key", clock, httpsig.Cavage)},
		{"local actor in an activity signed by a remote key", "local_actor_claimed",
			activity(bob+"/a/9b", "Create", bob, note(bob+"/n/9b", bob)),
			eve.sign(httpsig.Cavage)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.post("/inbox", tc.body, tc.sign); got != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", got)
			}
			if !strings.Contains(h.logs.String(), `"security_event":"`+tc.event+`"`) {
				t.Errorf("no %s security event in the log:\n%s", tc.event, h.logs)
			}
		})
	}
	h.assertNothingDelivered(t)
	if _, err := h.store.LocalKeys(context.Background(), ghost); !errors.Is(err, pub.ErrNotFound) {
		t.Errorf("keys were made for %s: %v", ghost, err)
	}
	// Only the remote key of the last case was ever fetched.
	if n := evil.requests(); n != 1 {
		t.Errorf("%d outbound requests, want 1 (eve's key, last case)", n)
	}
}

func TestSecurity10_DomainBlockedSignerBeforeKeyFetch(t *testing.T) {
	clock := newFakeClock()
	bl, err := pub.NewBlocklist("EVIL.example.", "mastodon.social")
	if err != nil {
		t.Fatal(err)
	}
	h := newHome(t, clock, func(c *pub.Config) { c.Blocker = bl })
	evil := newPeer(t, "evil.example")
	eve := evil.newActor("eve", clock)
	_, port, _ := strings.Cut(strings.TrimPrefix(evil.base, "http://"), ":")
	for _, host := range []string{"evil.example", "EVIL.example", "evil.example.", "Evil.Example.", "sub.evil.example"} {
		t.Run(host, func(t *testing.T) {
			keyID := "http://" + host + ":" + port + eve.path + "#main-key"
			actor := "http://" + host + ":" + port + eve.path
			body := activity(actor+"/a/10", "Create", actor, note(actor+"/n/10", actor))
			if got := h.post("/inbox", body, signWith(eve.keys.RSA, keyID, clock, httpsig.Cavage)); got != http.StatusForbidden {
				t.Fatalf("status %d, want 403", got)
			}
		})
	}
	// A blocked domain refuses GETs in authorized-fetch mode too.
	t.Run("GET", func(t *testing.T) {
		h2 := newHome(t, clock, func(c *pub.Config) { c.Blocker = bl; c.AuthorizedFetch = true })
		req, _ := http.NewRequest(http.MethodGet, h2.base+"/users/bob", nil)
		eve.sign(httpsig.Cavage)(req, nil)
		if got := h2.do(req); got != http.StatusForbidden {
			t.Fatalf("status %d, want 403", got)
		}
	})
	// A key on an unblocked host speaking for a blocked actor.
	t.Run("blocked actor, unblocked key host", func(t *testing.T) {
		actor := "http://evil.example:" + port + eve.path
		keyID := "http://fine.example:" + port + eve.path + "#main-key"
		body := activity(actor+"/a/10b", "Create", actor, nil)
		if got := h.post("/inbox", body, signWith(eve.keys.RSA, keyID, clock, httpsig.Cavage)); got != http.StatusForbidden {
			t.Fatalf("status %d, want 403", got)
		}
	})
	h.assertNothingDelivered(t)
	h.assertNoKeys(t)
	if n := evil.requests(); n != 0 {
		t.Fatalf("%d requests to the blocked peer, want 0", n)
	}
	// mastodon.so/cial is not mastodon.social: not refused as blocked (it
	// fails later, as an unknown key).
	body := activity("https://mastodon.so/cial/a/1", "Create", "https://mastodon.so/cial/users/x", nil)
	if got := h.post("/inbox", body, signWith(eve.keys.RSA, "https://mastodon.so/cial/users/x#main-key", clock, httpsig.Cavage)); got != http.StatusUnauthorized {
		t.Errorf("mastodon.so/cial: status %d, want 401 (not blocked, key unavailable)", got)
	}
	// Control: the same peer under a name that is not blocked is fetched.
	good := "http://notevil.example:" + port
	body = activity(good+eve.path+"/a/10", "Follow", good+eve.path, h.base+"/users/bob")
	h.post("/inbox", body, signWith(eve.keys.RSA, good+eve.path+"#main-key", clock, httpsig.Cavage))
	if n := evil.requests(); n != 1 {
		t.Errorf("control: %d requests, want 1", n)
	}
}

func TestSecurity11_ForeignInlineObjectNotTrusted(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	good := newPeer(t, "good.example")
	other := newPeer(t, "other.example")
	alice := good.newActor("alice", clock)
	group := good.newActor("teachers", clock)
	cases := []struct {
		name      string
		body      []byte
		sign      func(*http.Request, []byte)
		untrusted []string
	}{
		{"object id on another host", activity(alice.id+"/a/11a", "Create", alice.id, note(other.url("/n/1"), alice.id)), alice.sign(httpsig.Cavage), []string{other.url("/n/1")}},
		{"attributedTo on another host", activity(alice.id+"/a/11b", "Create", alice.id, note(alice.id+"/n/11b", other.url("/users/x"))), alice.sign(httpsig.Cavage), []string{alice.id + "/n/11b"}},
		{"object without id", activity(alice.id+"/a/11c", "Create", alice.id, map[string]any{"type": "Note", "content": "x"}), alice.sign(httpsig.Cavage), []string{""}},
		{"group Announce of a foreign note", activity(group.id+"/a/11d", "Announce", group.id, note(other.url("/n/2"), other.url("/users/y"))), group.sign(httpsig.Cavage), []string{other.url("/n/2")}},
		{"group Announce of a Create embedding a foreign note", activity(group.id+"/a/11e", "Announce", group.id,
			map[string]any{"id": group.id + "/a/inner", "type": "Create", "actor": group.id, "object": note(other.url("/n/3"), group.id)}), group.sign(httpsig.Cavage), []string{other.url("/n/3")}},
		{"control: same-origin object", activity(alice.id+"/a/11f", "Create", alice.id, note(alice.id+"/n/11f", alice.id)), alice.sign(httpsig.Cavage), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.deliveries())
			if got := h.post("/inbox", tc.body, tc.sign); got != http.StatusAccepted {
				t.Fatalf("status %d, want 202; logs:\n%s", got, h.logs)
			}
			d := h.deliveries()[before]
			var got []string
			for _, u := range d.check.Untrusted {
				got = append(got, u.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.untrusted) {
				t.Errorf("untrusted = %q, want %q", got, tc.untrusted)
			}
			for _, id := range tc.untrusted {
				if d.check.Trusted(id) {
					t.Errorf("Trusted(%q) = true", id)
				}
			}
			if tc.untrusted == nil && !d.check.Trusted(alice.id+"/n/11f") {
				t.Error("same-origin object not trusted")
			}
		})
	}
	if n := other.requests(); n != 0 {
		t.Errorf("%d requests to the other host, want 0 (refetching is the caller's choice)", n)
	}
}
