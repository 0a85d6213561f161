package pub_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

func TestSecurity19_OversizedOrHostileInboxBody(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	good := newPeer(t, "good.example")
	alice := good.newActor("alice", clock)
	big := []byte(`{"id":"` + alice.id + `/a/19","type":"Create","actor":"` + alice.id + `","content":"` + strings.Repeat("a", 1<<20) + `"}`)
	deep := []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))
	deep = append([]byte(`{"id":"`+alice.id+`/a/19d","type":"Create","actor":"`+alice.id+`","object":`), append(deep, '}')...)
	wide := []byte(`{"id":"` + alice.id + `/a/19w","type":"Create","actor":"` + alice.id + `","to":[` + strings.TrimSuffix(strings.Repeat(`"x",`, 100000), ",") + `]}`)
	for _, tc := range []struct {
		name    string
		body    []byte
		chunked bool
		want    int
	}{
		{"over 1 MiB with Content-Length", big, false, http.StatusRequestEntityTooLarge},
		{"over 1 MiB chunked", big, true, http.StatusRequestEntityTooLarge},
		{"nested 10 000 deep", deep, false, http.StatusBadRequest},
		{"array of 100 000 elements", wide, false, http.StatusBadRequest},
		{"not JSON", []byte(`{"id": `), false, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, h.base+"/inbox", strings.NewReader(string(tc.body)))
			alice.sign(httpsig.Cavage)(req, tc.body)
			if tc.chunked {
				req.ContentLength = -1
				req.Body = readerOnly{strings.NewReader(string(tc.body))}
				req.GetBody = nil
			}
			start := time.Now()
			if got := h.do(req); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
	h.assertNothingDelivered(t)
	h.assertNoKeys(t)
	if n := good.requests(); n != 0 {
		t.Errorf("%d outbound requests, want 0 (refused before the key fetch)", n)
	}
}

// readerOnly hides a reader's other methods, so net/http cannot learn its
// length and sends it chunked.
type readerOnly struct{ r *strings.Reader }

func (r readerOnly) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r readerOnly) Close() error               { return nil }

// noteChain serves /notes/{n} as a Note replying to next(n).
func noteChain(p *peer, next func(n int) int) {
	p.handle("/", nil)
	for i := range 300 {
		path := "/notes/" + strconv.Itoa(i)
		p.handle(path, func(w http.ResponseWriter, r *http.Request) {
			body := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Note","attributedTo":%q,"inReplyTo":%q,"content":"x"}`,
				p.url(path), p.url("/users/alice"), p.url("/notes/"+strconv.Itoa(next(i))))
			w.Header().Set("Content-Type", pub.ContentTypeActivityJSON)
			_, _ = w.Write([]byte(body))
		})
	}
}

func TestSecurity20_ReplyChainAndFetchBudget(t *testing.T) {
	clock := newFakeClock()
	h := newHome(t, clock)
	f := h.engine.Fetcher()
	ctx := context.Background()

	t.Run("endless chain stops after 100 ancestors", func(t *testing.T) {
		p := newPeer(t, "endless.example")
		noteChain(p, func(n int) int { return n + 1 })
		start := mustParse(t, []byte(`{"id":"`+p.url("/start")+`","type":"Note","inReplyTo":"`+p.url("/notes/0")+`"}`))
		got, err := f.Ancestors(ctx, start, 0)
		if !errors.Is(err, pub.ErrChainLimit) {
			t.Fatalf("err = %v, want ErrChainLimit", err)
		}
		if len(got) != 100 || p.requests() != 100 {
			t.Errorf("%d ancestors, %d requests; want 100 and 100", len(got), p.requests())
		}
	})
	t.Run("loop A→B→A stops", func(t *testing.T) {
		p := newPeer(t, "loop.example")
		noteChain(p, func(n int) int { return 1 - n }) // 0 → 1 → 0
		a := mustParse(t, []byte(`{"id":"`+p.url("/notes/0")+`","type":"Note","inReplyTo":"`+p.url("/notes/1")+`"}`))
		got, err := f.Ancestors(ctx, a, 0)
		if !errors.Is(err, pub.ErrChainLimit) {
			t.Fatalf("err = %v, want ErrChainLimit", err)
		}
		if len(got) != 1 || p.requests() != 1 {
			t.Errorf("%d ancestors, %d requests; want 1 and 1", len(got), p.requests())
		}
	})
	t.Run("one inbound activity makes at most 20 fetches", func(t *testing.T) {
		p := newPeer(t, "chatty.example")
		alice := p.newActor("alice", clock)
		noteChain(p, func(n int) int { return n + 1 })
		var walkErr error
		var walked int
		h.after = func(ctx context.Context, d delivery) int {
			got, err := f.Ancestors(ctx, d.act.Object("object"), 0)
			walked, walkErr = len(got), err
			return http.StatusAccepted
		}
		defer func() { h.after = nil }()
		n := map[string]any{"id": alice.id + "/n/20", "type": "Note", "attributedTo": alice.id, "inReplyTo": p.url("/notes/0")}
		body := activity(alice.id+"/a/20", "Create", alice.id, n)
		if got := h.post("/inbox", body, alice.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Fatalf("status %d, want 202", got)
		}
		if !errors.Is(walkErr, transport.ErrBudgetExhausted) {
			t.Errorf("walk error = %v, want ErrBudgetExhausted", walkErr)
		}
		if p.requests() != 20 || walked != 19 {
			t.Errorf("%d requests (key fetch + %d ancestors), want 20 (1 + 19)", p.requests(), walked)
		}
	})
}

func TestSecurity24_KeyRotation(t *testing.T) {
	ctx := context.Background()
	follow := func(a *remoteActor, n string, h *home) []byte {
		return activity(a.id+"/a/24-"+n, "Follow", a.id, h.base+"/users/bob")
	}

	t.Run("signed Update rotates; then only the new key verifies", func(t *testing.T) {
		clock := newFakeClock()
		h := newHome(t, clock)
		h.after = func(ctx context.Context, d delivery) int {
			if d.act.Is("Update") {
				if err := h.engine.Keys().ApplyActorUpdate(ctx, d.signer, d.act.Object("object")); err != nil {
					t.Errorf("ApplyActorUpdate: %v", err)
					return http.StatusBadRequest
				}
			}
			return http.StatusAccepted
		}
		p := newPeer(t, "good.example")
		alice := p.newActor("alice", clock)
		if got := h.post("/inbox", follow(alice, "1", h), alice.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Fatalf("first request: %d", got)
		}
		oldKey := alice.keys
		alice.rotate(newPoolSource(t))
		var upd map[string]any
		data, _ := streams.Marshal(alice.document())
		if err := jsonUnmarshal(data, &upd); err != nil {
			t.Fatal(err)
		}
		update := activity(alice.id+"/a/24-upd", "Update", alice.id, upd)
		if got := h.post("/inbox", update, signWith(oldKey.RSA, oldKey.RSAKeyID(), clock, httpsig.Cavage)); got != http.StatusAccepted {
			t.Fatalf("Update: %d; logs:\n%s", got, h.logs)
		}
		if got := h.post("/inbox", follow(alice, "2", h), signWith(oldKey.RSA, oldKey.RSAKeyID(), clock, httpsig.Cavage)); got != http.StatusUnauthorized {
			t.Errorf("old key after rotation: %d, want 401", got)
		}
		if got := h.post("/inbox", follow(alice, "3", h), alice.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Errorf("new key after rotation: %d, want 202", got)
		}
		if got := h.post("/inbox", follow(alice, "4", h), signWith(alice.keys.Ed25519, alice.keys.Ed25519KeyID(), clock, httpsig.RFC9421)); got != http.StatusAccepted {
			t.Errorf("new Ed25519 key after rotation: %d, want 202", got)
		}
		if n := p.hitsOf(alice.path); n != 1 {
			t.Errorf("actor fetched %d times, want 1: rotation needs no fetch", n)
		}
	})

	t.Run("Update moving to a new key id revokes the old one", func(t *testing.T) {
		clock := newFakeClock()
		h := newHome(t, clock)
		p := newPeer(t, "good.example")
		alice := p.newActor("alice", clock)
		if got := h.post("/inbox", follow(alice, "1", h), alice.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Fatalf("first request: %d", got)
		}
		signer := pub.VerifiedSigner{KeyID: alice.keyID(), Owner: alice.id}
		newKeys, _ := pub.NewActorKeys(ctx, newPoolSource(t), alice.id, clock.Now())
		doc := mustParse(t, jsonDoc(t, map[string]any{"id": alice.id, "type": "Person",
			"publicKey": keyJSON(t, alice.id+"#key-2", alice.id, newKeys.RSA)}))
		if err := h.engine.Keys().ApplyActorUpdate(ctx, signer, doc); err != nil {
			t.Fatal(err)
		}
		old, err := h.engine.Keys().Cached(ctx, alice.keyID())
		if err != nil || old.State != pub.KeyRevoked {
			t.Fatalf("old key = %+v, %v; want revoked", old, err)
		}
		clock.Advance(10 * time.Minute)
		if got := h.post("/inbox", follow(alice, "2", h), alice.sign(httpsig.Cavage)); got != http.StatusUnauthorized {
			t.Errorf("revoked key: %d, want 401", got)
		}
		if got := h.post("/inbox", follow(alice, "3", h), signWith(newKeys.RSA, alice.id+"#key-2", clock, httpsig.Cavage)); got != http.StatusAccepted {
			t.Errorf("new key: %d, want 202", got)
		}
		if n := p.hitsOf(alice.path); n != 1 {
			t.Errorf("actor fetched %d times, want 1", n)
		}
		// An Update signed by someone else rotates nothing.
		if err := h.engine.Keys().ApplyActorUpdate(ctx, pub.VerifiedSigner{KeyID: "https://evil.example/e#k", Owner: "https://evil.example/e"}, doc); !errors.Is(err, pub.ErrSignerNotActor) {
			t.Errorf("foreign Update: %v, want ErrSignerNotActor", err)
		}
	})

	t.Run("a plain refetch finding a different key does not replace it", func(t *testing.T) {
		clock := newFakeClock()
		h := newHome(t, clock)
		p := newPeer(t, "good.example")
		alice := p.newActor("alice", clock)
		if got := h.post("/inbox", follow(alice, "1", h), alice.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Fatalf("first request: %d", got)
		}
		oldKey := alice.keys
		alice.rotate(newPoolSource(t))
		alice.publish() // the peer now serves another key, with no signed Update
		clock.Advance(6 * time.Minute)
		if got := h.post("/inbox", follow(alice, "2", h), alice.sign(httpsig.Cavage)); got != http.StatusUnauthorized {
			t.Errorf("unannounced new key: %d, want 401", got)
		}
		if n := p.hitsOf(alice.path); n != 2 {
			t.Errorf("actor fetched %d times, want 2 (one refetch after the failure)", n)
		}
		if !strings.Contains(h.logs.String(), "key_changed_without_update") {
			t.Error("no security event for the changed key")
		}
		if got := h.post("/inbox", follow(alice, "3", h), signWith(oldKey.RSA, oldKey.RSAKeyID(), clock, httpsig.Cavage)); got != http.StatusAccepted {
			t.Errorf("cached key: %d, want 202 (still trusted)", got)
		}
		// Once the cached key is past its 24 h lifetime, the published key wins.
		clock.Advance(25 * time.Hour)
		if got := h.post("/inbox", follow(alice, "4", h), alice.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Errorf("new key after the lifetime: %d, want 202", got)
		}
		if got := h.post("/inbox", follow(alice, "5", h), signWith(oldKey.RSA, oldKey.RSAKeyID(), clock, httpsig.Cavage)); got != http.StatusUnauthorized {
			t.Errorf("old key after replacement: %d, want 401", got)
		}
	})

	t.Run("a key marked expired is replaced on next use", func(t *testing.T) {
		clock := newFakeClock()
		h := newHome(t, clock)
		p := newPeer(t, "good.example")
		alice := p.newActor("alice", clock)
		if got := h.post("/inbox", follow(alice, "1", h), alice.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Fatalf("first request: %d", got)
		}
		alice.rotate(newPoolSource(t))
		alice.publish()
		if err := h.engine.Keys().Expire(ctx, alice.keyID()); err != nil {
			t.Fatal(err)
		}
		if got := h.post("/inbox", follow(alice, "2", h), alice.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Errorf("new key after Expire: %d, want 202", got)
		}
	})

	t.Run("1000 bad signatures cause at most one fetch per cool-off", func(t *testing.T) {
		clock := newFakeClock()
		h := newHome(t, clock)
		p := newPeer(t, "good.example")
		alice := p.newActor("alice", clock)
		wrong, _ := pub.NewActorKeys(ctx, newPoolSource(t), alice.id, clock.Now())
		body := follow(alice, "bad", h)
		// One bad signature, sent 1000 times: signing is the costly part.
		signed, _ := http.NewRequest(http.MethodPost, h.base+"/inbox", nil)
		signWith(wrong.RSA, alice.keyID(), clock, httpsig.Cavage)(signed, body)
		reuse := func(r *http.Request, _ []byte) {
			for k, v := range signed.Header {
				r.Header[k] = v
			}
		}
		burst := func() {
			var wg sync.WaitGroup
			jobs := make(chan struct{})
			for range 8 {
				wg.Go(func() {
					for range jobs {
						if got := h.post("/inbox", body, reuse); got != http.StatusUnauthorized {
							t.Errorf("bad signature: %d, want 401", got)
						}
					}
				})
			}
			for range 1000 {
				jobs <- struct{}{}
			}
			close(jobs)
			wg.Wait()
		}
		burst()
		if n := p.hitsOf(alice.path); n != 1 {
			t.Errorf("%d fetches for 1000 bad signatures, want 1", n)
		}
		clock.Advance(6 * time.Minute)
		signed.Header.Del("Signature")
		signed.Header.Del("Date")
		signWith(wrong.RSA, alice.keyID(), clock, httpsig.Cavage)(signed, body)
		burst()
		if n := p.hitsOf(alice.path); n != 2 {
			t.Errorf("%d fetches after a second burst one cool-off later, want 2", n)
		}
		h.assertNothingDelivered(t)
	})
}

func TestSecurity25_ActorDeletion(t *testing.T) {
	ctx := context.Background()
	t.Run("key fetch 410 tombstones the key id", func(t *testing.T) {
		clock := newFakeClock()
		h := newHome(t, clock)
		p := newPeer(t, "gone.example")
		ghost := p.newActor("ghost", clock)
		p.serveStatus(ghost.path, http.StatusGone)
		for i := range 3 {
			body := activity(fmt.Sprintf("%s/a/25-%d", ghost.id, i), "Create", ghost.id, note(ghost.id+"/n/25", ghost.id))
			if got := h.post("/inbox", body, ghost.sign(httpsig.Cavage)); got != http.StatusAccepted {
				t.Fatalf("request %d: %d, want 202", i, got)
			}
			clock.Advance(time.Hour) // past any cool-off: the tombstone alone stops fetches
		}
		if n := p.requests(); n != 1 {
			t.Errorf("%d fetches, want 1", n)
		}
		k, err := h.engine.Keys().Cached(ctx, ghost.keyID())
		if err != nil || k.State != pub.KeyGone {
			t.Errorf("key = %+v, %v; want a gone tombstone", k, err)
		}
		h.assertNothingDelivered(t)
	})
	t.Run("self-Delete of an unknown actor: 202, zero fetches, nothing stored", func(t *testing.T) {
		clock := newFakeClock()
		h := newHome(t, clock)
		p := newPeer(t, "gone.example")
		stranger := p.newActor("stranger", clock)
		for _, object := range []any{stranger.id, map[string]any{"id": stranger.id, "type": "Tombstone"}} {
			body := activity(stranger.id+"#delete", "Delete", stranger.id, object)
			if got := h.post("/inbox", body, stranger.sign(httpsig.Cavage)); got != http.StatusAccepted {
				t.Fatalf("status %d, want 202", got)
			}
		}
		if n := p.requests(); n != 0 {
			t.Errorf("%d fetches, want 0", n)
		}
		h.assertNothingDelivered(t)
		h.assertNoKeys(t)
		known, err := h.engine.Keys().KnownActor(ctx, stranger.id)
		if err != nil || known {
			t.Errorf("KnownActor = %v, %v; want false", known, err)
		}
	})
	t.Run("self-Delete of a known actor verifies with the cached key", func(t *testing.T) {
		clock := newFakeClock()
		h := newHome(t, clock)
		h.after = func(ctx context.Context, d delivery) int {
			if d.act.Is("Delete") {
				if err := h.engine.Keys().ApplyActorDelete(ctx, d.signer, d.act.IRI("object")); err != nil {
					t.Errorf("ApplyActorDelete: %v", err)
				}
			}
			return http.StatusAccepted
		}
		p := newPeer(t, "good.example")
		alice := p.newActor("alice", clock)
		if got := h.post("/inbox", activity(alice.id+"/a/1", "Follow", alice.id, h.base+"/users/bob"), alice.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Fatalf("first request: %d", got)
		}
		if known, _ := h.engine.Keys().KnownActor(ctx, alice.id); !known {
			t.Fatal("alice not known after a verified request")
		}
		p.serveStatus(alice.path, http.StatusGone)
		clock.Advance(25 * time.Hour) // the cached key is past its lifetime: still used, not refreshed
		if got := h.post("/inbox", activity(alice.id+"#delete", "Delete", alice.id, alice.id), alice.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Fatalf("Delete: %d", got)
		}
		if d := h.deliveries(); len(d) != 2 || !d[1].act.Is("Delete") {
			t.Fatalf("the Delete did not reach the handler: %d deliveries", len(d))
		}
		clock.Advance(time.Hour)
		if got := h.post("/inbox", activity(alice.id+"/a/2", "Follow", alice.id, h.base+"/users/bob"), alice.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Errorf("after the Delete: %d, want 202 (dropped)", got)
		}
		if len(h.deliveries()) != 2 {
			t.Error("a request signed with a deleted actor's key reached the handler")
		}
		if n := p.hitsOf(alice.path); n != 1 {
			t.Errorf("actor fetched %d times, want 1", n)
		}
	})
}
