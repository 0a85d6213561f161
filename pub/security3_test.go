package pub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/streams"
)

// inboxFixture is a node with local actor ana, processing by hand, and a
// remote peer with actor rex.
type inboxFixture struct {
	n    *node
	ana  pub.LocalActor
	peer *peer
	rex  *remoteActor
}

func newInboxFixture(t *testing.T, opts nodeOptions) *inboxFixture {
	t.Helper()
	opts.noRun = true
	n := newNode(t, "home", opts)
	dumpLogs(t, n)
	p := newPeer(t, "remote.example")
	return &inboxFixture{n: n, ana: n.actor("ana", false), peer: p, rex: p.newActor("rex", pub.SystemClock{})}
}

// post signs body as a and POSTs it to path on the node.
func (f *inboxFixture) post(a *remoteActor, path string, body []byte) int {
	return postTo(f.n.t, f.n.base+path, body, a.sign(httpsig.Cavage))
}

// process runs the node's background processing to completion.
func (f *inboxFixture) process(t *testing.T) {
	t.Helper()
	if _, err := f.n.fed.ProcessPending(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *inboxFixture) inboundCount(t *testing.T) int {
	t.Helper()
	m, ok := f.n.store.(*pub.MemoryStore)
	if !ok {
		t.Fatal("not a MemoryStore")
	}
	return m.InboundCount()
}

func asDoc(t testing.TB, m map[string]any) []byte {
	t.Helper()
	if _, ok := m["@context"]; !ok {
		m["@context"] = streams.ASContextURL
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func createNote(t testing.TB, a *remoteActor, n int, to ...string) (activity []byte, noteID string) {
	noteID = fmt.Sprintf("%s/statuses/%d", a.id, n)
	return asDoc(t, map[string]any{
		"id": noteID + "/activity", "type": "Create", "actor": a.id, "to": to,
		"object": map[string]any{
			"id": noteID, "type": "Note", "attributedTo": a.id, "to": to,
			"content": "original", "published": "2026-11-21T10:00:00Z",
		},
	}), noteID
}

// TestSecurity21_DuplicateDelivery: the same activity POSTed twice, and in
// parallel to a personal inbox and the shared inbox, is stored and handled
// once; every request gets a 2xx.
func TestSecurity21_DuplicateDelivery(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts nodeOptions
	}{
		{"memory", nodeOptions{}},
		{"sqlite", nodeOptions{sqliteStore: true}},
		{"postgres", nodeOptions{postgres: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newInboxFixture(t, tc.opts)
			first, firstID := createNote(t, f.rex, 1, f.ana.ID)
			for i := range 2 {
				if got := f.post(f.rex, "/inbox", first); got != http.StatusAccepted {
					t.Fatalf("POST %d = %d, want 202", i+1, got)
				}
			}
			second, secondID := createNote(t, f.rex, 2, f.ana.ID)
			var wg sync.WaitGroup
			statuses := make([]int, 16)
			for i := range statuses {
				path := "/inbox"
				if i%2 == 1 {
					path = "/users/ana/inbox"
				}
				wg.Go(func() { statuses[i] = f.post(f.rex, path, second) })
			}
			wg.Wait()
			for i, s := range statuses {
				if s < 200 || s > 299 {
					t.Errorf("parallel POST %d = %d, want 2xx", i, s)
				}
			}
			// Two workers processing at once must not double the effects.
			var pw sync.WaitGroup
			for range 3 {
				pw.Go(func() { f.process(t) })
			}
			pw.Wait()
			if got := f.n.hooks.count("Create"); got != 2 {
				t.Errorf("Create hook ran %d times for 2 activities", got)
			}
			for _, id := range []string{firstID, secondID} {
				if _, ok := f.n.object(id); !ok {
					t.Errorf("%s not stored", id)
				}
			}
			for _, id := range []string{firstID + "/activity", secondID + "/activity"} {
				a, err := f.n.store.Inbound(context.Background(), id)
				if err != nil || a.ProcessedAt.IsZero() || a.Result != "ok" {
					t.Errorf("inbound %s: %+v, %v", id, a.Result, err)
				}
			}
			var rows int
			if err := f.n.db.NewRaw("SELECT COUNT(*) FROM pub_inbound").Scan(context.Background(), &rows); err != nil {
				t.Fatal(err)
			}
			if tc.name == "memory" {
				rows = f.inboundCount(t)
			}
			if rows != 2 {
				t.Errorf("%d inbound records, want 2", rows)
			}
		})
	}
}

// TestSecurity22_DeleteBeforeCreate: a Delete of an object we never saw
// leaves a tombstone, so a later Create, or an Announce that would fetch
// it, never makes it visible.
func TestSecurity22_DeleteBeforeCreate(t *testing.T) {
	f := newInboxFixture(t, nodeOptions{sqliteStore: true})
	create, noteID := createNote(t, f.rex, 7, streams.PublicIRI)
	del := asDoc(t, map[string]any{"id": noteID + "#delete", "type": "Delete", "actor": f.rex.id, "object": noteID, "to": []string{streams.PublicIRI}})
	if got := f.post(f.rex, "/inbox", del); got != http.StatusAccepted {
		t.Fatalf("Delete: %d", got)
	}
	f.process(t)
	if got := f.post(f.rex, "/inbox", create); got != http.StatusAccepted {
		t.Fatalf("Create: %d", got)
	}
	f.process(t)
	// The origin serves the note: a boost by someone else must not fetch it back to life.
	noteDoc, _ := json.Marshal(map[string]any{"@context": streams.ASContextURL, "id": noteID, "type": "Note", "attributedTo": f.rex.id, "content": "original", "to": []string{streams.PublicIRI}})
	f.peer.serveJSON(strings.TrimPrefix(noteID, f.peer.base), noteDoc)
	other := f.peer.newActor("otto", pub.SystemClock{})
	boost := asDoc(t, map[string]any{"id": other.id + "/boosts/1", "type": "Announce", "actor": other.id, "object": noteID, "to": []string{streams.PublicIRI}})
	if got := f.post(other, "/inbox", boost); got != http.StatusAccepted {
		t.Fatalf("Announce: %d", got)
	}
	f.process(t)
	o, ok := f.n.object(noteID)
	if !ok || o.Deleted.IsZero() || o.Body != nil {
		t.Fatalf("object after Delete, Create, Announce: %+v (found %v), want a tombstone", o, ok)
	}
	if got := f.n.hooks.count("Create"); got != 0 {
		t.Errorf("Create hook ran %d times for a deleted object", got)
	}
	if got := f.n.hooks.count("Delete"); got != 1 {
		t.Errorf("Delete hook ran %d times", got)
	}
	rec, err := f.n.store.Inbound(context.Background(), noteID+"/activity")
	if err != nil || !strings.Contains(rec.Result, "gone") {
		t.Errorf("Create recorded with result %q (%v), want a rejection for a gone object", rec.Result, err)
	}
}

// TestSecurity23_IllegalUpdates: an Update of a Note by someone other than
// its author, or one changing attributedTo or published, is rejected and
// leaves the original unchanged; the author's own edit goes through.
func TestSecurity23_IllegalUpdates(t *testing.T) {
	f := newInboxFixture(t, nodeOptions{})
	create, noteID := createNote(t, f.rex, 3, streams.PublicIRI)
	if got := f.post(f.rex, "/inbox", create); got != http.StatusAccepted {
		t.Fatalf("Create: %d", got)
	}
	f.process(t)
	noteDoc, _ := json.Marshal(map[string]any{"@context": streams.ASContextURL, "id": noteID, "type": "Note", "attributedTo": f.rex.id, "content": "original", "published": "2026-11-21T10:00:00Z"})
	f.peer.serveJSON(strings.TrimPrefix(noteID, f.peer.base), noteDoc)
	mallory := f.peer.newActor("mallory", pub.SystemClock{})
	evil := newPeer(t, "evil.example")
	eve := evil.newActor("eve", pub.SystemClock{})
	update := func(by *remoteActor, n int, obj map[string]any) []byte {
		return asDoc(t, map[string]any{"id": fmt.Sprintf("%s/updates/%d", by.id, n), "type": "Update", "actor": by.id, "object": obj, "to": []string{streams.PublicIRI}})
	}
	edited := func(changes map[string]any) map[string]any {
		m := map[string]any{"id": noteID, "type": "Note", "attributedTo": f.rex.id, "content": "edited", "published": "2026-11-21T10:00:00Z"}
		for k, v := range changes {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name string
		by   *remoteActor
		body []byte
	}{
		{"by another actor on the author's host", mallory, update(mallory, 1, edited(nil))},
		{"by an actor on another host", eve, update(eve, 1, edited(nil))},
		{"changing attributedTo", f.rex, update(f.rex, 1, edited(map[string]any{"attributedTo": mallory.id}))},
		{"changing published", f.rex, update(f.rex, 2, edited(map[string]any{"published": "2020-01-01T00:00:00Z"}))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.post(tc.by, "/inbox", tc.body); got != http.StatusAccepted {
				t.Fatalf("POST = %d", got)
			}
			f.process(t)
			o, _ := f.n.object(noteID)
			if !strings.Contains(string(o.Body), `"original"`) || strings.Contains(string(o.Body), "edited") {
				t.Errorf("note changed by an illegal update: %s", o.Body)
			}
			if got := f.n.hooks.count("Update"); got != 0 {
				t.Errorf("Update hook ran %d times", got)
			}
		})
	}
	if got := f.post(f.rex, "/inbox", update(f.rex, 3, edited(nil))); got != http.StatusAccepted {
		t.Fatalf("legal update: %d", got)
	}
	f.process(t)
	if o, _ := f.n.object(noteID); !strings.Contains(string(o.Body), "edited") {
		t.Errorf("the author's own edit was not applied: %s", o.Body)
	}
}

// TestSecurity08_InboxForeignActivityID: an activity whose id is on another
// host than its actor is refused at the inbox (403) and nothing is stored.
func TestSecurity08_InboxForeignActivityID(t *testing.T) {
	f := newInboxFixture(t, nodeOptions{})
	body := asDoc(t, map[string]any{"id": "http://other.example/activities/1", "type": "Like", "actor": f.rex.id, "object": f.ana.ID})
	if got := f.post(f.rex, "/inbox", body); got != http.StatusForbidden {
		t.Fatalf("POST = %d, want 403", got)
	}
	f.process(t)
	if f.inboundCount(t) != 0 || f.n.hooks.count("Like") != 0 {
		t.Error("a refused activity was stored or handled")
	}
}

// TestSecurity09_InboxLocalActorClaimed: a remote request whose activity
// claims one of our actors is refused (401), logged, and nothing is stored.
func TestSecurity09_InboxLocalActorClaimed(t *testing.T) {
	f := newInboxFixture(t, nodeOptions{})
	body := asDoc(t, map[string]any{"id": f.ana.ID + "/follows/1", "type": "Follow", "actor": f.ana.ID, "object": f.rex.id})
	if got := f.post(f.rex, "/users/ana/inbox", body); got != http.StatusUnauthorized {
		t.Fatalf("POST = %d, want 401", got)
	}
	f.process(t)
	if f.inboundCount(t) != 0 || f.n.hooks.count("Follow") != 0 {
		t.Error("a refused activity was stored or handled")
	}
	if _, ok := f.n.follow(f.ana.ID, f.rex.id); ok {
		t.Error("a follow was recorded")
	}
	if !strings.Contains(f.n.logs.String(), "local_actor_claimed") {
		t.Error("no security log entry")
	}
}

// TestSecurity10_InboxBlockedDomainNoFetch: a blocked domain's activity is
// refused with 403 before its key is fetched; nothing is stored.
func TestSecurity10_InboxBlockedDomainNoFetch(t *testing.T) {
	blocks, err := pub.NewBlocklist("REMOTE.example.")
	if err != nil {
		t.Fatal(err)
	}
	f := newInboxFixture(t, nodeOptions{engine: func(c *pub.Config) { c.Blocker = blocks }})
	create, _ := createNote(t, f.rex, 1, f.ana.ID)
	for _, path := range []string{"/inbox", "/users/ana/inbox"} {
		if got := f.post(f.rex, path, create); got != http.StatusForbidden {
			t.Fatalf("POST %s = %d, want 403", path, got)
		}
	}
	f.process(t)
	if n := f.peer.requests(); n != 0 {
		t.Errorf("%d requests to the blocked domain", n)
	}
	if f.inboundCount(t) != 0 || f.n.hooks.count("Create") != 0 {
		t.Error("a refused activity was stored or handled")
	}
}

// TestSecurity11_InboxRefetchesForeignObject: an embedded object whose id
// and author are on another host than the activity's actor is not stored as
// sent: it is refetched from its origin and stored as the origin serves it,
// or dropped when the origin does not confirm it.
func TestSecurity11_InboxRefetchesForeignObject(t *testing.T) {
	f := newInboxFixture(t, nodeOptions{})
	origin := newPeer(t, "origin.example")
	olga := origin.newActor("olga", pub.SystemClock{})
	genuine := olga.id + "/statuses/1"
	genuineDoc, _ := json.Marshal(map[string]any{"@context": streams.ASContextURL, "id": genuine, "type": "Note", "attributedTo": olga.id, "content": "genuine", "to": []string{streams.PublicIRI}})
	origin.serveJSON("/users/olga/statuses/1", genuineDoc)
	missing := olga.id + "/statuses/2"
	forged := func(id string) map[string]any {
		return map[string]any{"id": id, "type": "Note", "attributedTo": olga.id, "content": "forged", "to": []string{streams.PublicIRI}}
	}
	for i, tc := range []struct {
		name, object string
		stored       bool
	}{
		{"origin confirms", genuine, true},
		{"origin does not have it", missing, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			boost := asDoc(t, map[string]any{"id": fmt.Sprintf("%s/boosts/%d", f.rex.id, i), "type": "Announce", "actor": f.rex.id, "object": forged(tc.object), "to": []string{streams.PublicIRI}})
			if got := f.post(f.rex, "/inbox", boost); got != http.StatusAccepted {
				t.Fatalf("POST = %d", got)
			}
			f.process(t)
			o, ok := f.n.object(tc.object)
			if ok != tc.stored {
				t.Fatalf("stored = %v, want %v", ok, tc.stored)
			}
			if ok && (!strings.Contains(string(o.Body), "genuine") || strings.Contains(string(o.Body), "forged")) {
				t.Errorf("stored the embedded copy, not the origin's: %s", o.Body)
			}
		})
	}
	// A Create by rex of olga's note is never taken as olga's.
	create := asDoc(t, map[string]any{"id": f.rex.id + "/creates/9", "type": "Create", "actor": f.rex.id, "object": forged(olga.id + "/statuses/3"), "to": []string{streams.PublicIRI}})
	if got := f.post(f.rex, "/inbox", create); got != http.StatusAccepted {
		t.Fatalf("POST = %d", got)
	}
	f.process(t)
	if _, ok := f.n.object(olga.id + "/statuses/3"); ok {
		t.Error("a Create of another host's object was stored")
	}
	if got := f.n.hooks.count("Create"); got != 0 {
		t.Errorf("Create hook ran %d times", got)
	}
}

// TestSecurity11_InboxGroupAnnounceRefetches: a group relaying a member's
// Create (FEP-1b12) embeds an object from another origin; it is fetched
// from that origin and stored only as the origin serves it, and only when
// it is attributed to the relayed activity's actor.
func TestSecurity11_InboxGroupAnnounceRefetches(t *testing.T) {
	f := newInboxFixture(t, nodeOptions{})
	groups := newPeer(t, "groups.example")
	club := groups.newActor("club", pub.SystemClock{})
	origin := newPeer(t, "origin.example")
	olga := origin.newActor("olga", pub.SystemClock{})
	serve := func(n int, by string) string {
		id := fmt.Sprintf("%s/statuses/%d", olga.id, n)
		doc, _ := json.Marshal(map[string]any{"@context": streams.ASContextURL, "id": id, "type": "Note", "attributedTo": by, "content": "genuine"})
		origin.serveJSON(strings.TrimPrefix(id, origin.base), doc)
		return id
	}
	genuine, missing, misattributed := serve(1, olga.id), olga.id+"/statuses/2", serve(3, olga.id+"x")
	for i, tc := range []struct {
		name, object string
		stored       bool
	}{
		{"origin confirms", genuine, true},
		{"origin does not have it", missing, false},
		{"origin attributes it to someone else", misattributed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relay := asDoc(t, map[string]any{
				"id": fmt.Sprintf("%s/announces/%d", club.id, i), "type": "Announce", "actor": club.id,
				"to": []string{streams.PublicIRI}, "object": map[string]any{
					"id": tc.object + "/activity", "type": "Create", "actor": olga.id,
					"object": map[string]any{"id": tc.object, "type": "Note", "attributedTo": olga.id, "content": "forged"},
				},
			})
			if got := f.post(club, "/inbox", relay); got != http.StatusAccepted {
				t.Fatalf("POST = %d", got)
			}
			f.process(t)
			o, ok := f.n.object(tc.object)
			if ok != tc.stored {
				t.Fatalf("stored = %v, want %v", ok, tc.stored)
			}
			if ok && !strings.Contains(string(o.Body), "genuine") {
				t.Errorf("stored the relayed copy, not the origin's: %s", o.Body)
			}
		})
	}
}

// TestSecurity19_InboxOversizedNothingStored: a body over 1 MiB is refused
// with 413 at both inboxes before it is parsed; nothing is recorded.
func TestSecurity19_InboxOversizedNothingStored(t *testing.T) {
	f := newInboxFixture(t, nodeOptions{})
	big := asDoc(t, map[string]any{"id": f.rex.id + "/big", "type": "Create", "actor": f.rex.id,
		"object": map[string]any{"id": f.rex.id + "/n/big", "type": "Note", "attributedTo": f.rex.id, "content": strings.Repeat("a", 1<<20)}})
	for _, path := range []string{"/inbox", "/users/ana/inbox"} {
		if got := f.post(f.rex, path, big); got != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s = %d, want 413", path, got)
		}
	}
	deep := []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))
	if got := f.post(f.rex, "/inbox", deep); got != http.StatusBadRequest {
		t.Errorf("deeply nested body = %d, want 400", got)
	}
	f.process(t)
	if f.inboundCount(t) != 0 || f.peer.requests() != 0 {
		t.Errorf("%d recorded, %d key fetches", f.inboundCount(t), f.peer.requests())
	}
}

// TestSecurity25_InboxUnknownActorDeleteNothingStored: a self-Delete of an
// actor we never saw is answered 202 with no fetch, nothing recorded and no
// hook; a known actor's self-Delete removes its follows.
func TestSecurity25_InboxUnknownActorDeleteNothingStored(t *testing.T) {
	f := newInboxFixture(t, nodeOptions{})
	del := asDoc(t, map[string]any{"id": f.rex.id + "#delete", "type": "Delete", "actor": f.rex.id, "object": f.rex.id, "to": []string{streams.PublicIRI}})
	if got := f.post(f.rex, "/inbox", del); got != http.StatusAccepted {
		t.Fatalf("POST = %d, want 202", got)
	}
	f.process(t)
	if f.inboundCount(t) != 0 || f.peer.requests() != 0 || f.n.hooks.count("Delete") != 0 {
		t.Fatalf("recorded %d, fetched %d, hooks %d", f.inboundCount(t), f.peer.requests(), f.n.hooks.count("Delete"))
	}
	// Known now: rex follows ana, then deletes himself.
	follow := asDoc(t, map[string]any{"id": f.rex.id + "/follows/1", "type": "Follow", "actor": f.rex.id, "object": f.ana.ID})
	if got := f.post(f.rex, "/inbox", follow); got != http.StatusAccepted {
		t.Fatalf("follow = %d", got)
	}
	f.process(t)
	if _, ok := f.n.follow(f.rex.id, f.ana.ID); !ok {
		t.Fatal("follow not recorded")
	}
	if got := f.post(f.rex, "/inbox", del); got != http.StatusAccepted {
		t.Fatalf("POST = %d, want 202", got)
	}
	f.process(t)
	if _, ok := f.n.follow(f.rex.id, f.ana.ID); ok {
		t.Error("a deleted actor's follow survived")
	}
	if f.n.hooks.count("Delete") != 1 {
		t.Errorf("Delete hook ran %d times", f.n.hooks.count("Delete"))
	}
}
