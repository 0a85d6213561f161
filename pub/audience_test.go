package pub_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/streams"
)

// received is one POST a peer's inbox got.
type received struct {
	path, keyID string
	body        []byte
}

// inboxes records the POSTs to a peer's inboxes.
type inboxes struct {
	mu  sync.Mutex
	got []received
}

// serveInboxes makes p answer POSTs to /inbox and to each actor's inbox
// with 202, recording them.
func serveInboxes(p *peer, actors ...*remoteActor) *inboxes {
	in := &inboxes{}
	h := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		keyID := ""
		if sig, err := httpsig.NewVerifier(httpsig.Config{}).Parse(r); err == nil {
			keyID = sig.KeyID
		}
		in.mu.Lock()
		in.got = append(in.got, received{path: r.URL.Path, keyID: keyID, body: body})
		in.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}
	p.handle("/inbox", h)
	for _, a := range actors {
		p.handle(a.path+"/inbox", h)
	}
	return in
}

// of returns the POSTs whose body has this activity id.
func (in *inboxes) of(id string) []received {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []received
	for _, r := range in.got {
		if strings.Contains(string(r.body), `"id":"`+id+`"`) {
			out = append(out, r)
		}
	}
	return out
}

// withSharedInbox serves a's document with endpoints.sharedInbox set to
// its peer's /inbox.
func withSharedInbox(t testing.TB, a *remoteActor) {
	t.Helper()
	doc := a.document()
	ep := streams.NewObject("")
	_ = ep.Set("sharedInbox", streams.IRI(a.peer.url("/inbox")))
	if err := doc.Set("endpoints", streams.ObjectValue(ep)); err != nil {
		t.Fatal(err)
	}
	data, err := streams.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	a.peer.serveJSON(a.path, data)
}

// followFrom makes remote actor a follow local actor target through the
// node's inbox and waits until the follow is accepted.
func followFrom(t *testing.T, n *node, a *remoteActor, target pub.LocalActor) {
	t.Helper()
	body := asDoc(t, map[string]any{"id": a.id + "/follows/" + strings.TrimPrefix(target.ID, n.base+"/users/"), "type": "Follow", "actor": a.id, "object": target.ID})
	if got := postTo(t, target.Inbox(), body, a.sign(httpsig.Cavage)); got != http.StatusAccepted {
		t.Fatalf("follow by %s: %d", a.id, got)
	}
	eventually(t, a.id+" follows "+target.ID, func() bool {
		f, ok := n.follow(a.id, target.ID)
		return ok && f.State == pub.FollowAccepted
	})
}

// TestPublishAudience: Publish resolves the audience to one delivery per
// shared inbox, sends bto/bcc recipients to their personal inbox, never
// delivers to the public collection, and strips bto and bcc from what it
// delivers and stores.
func TestPublishAudience(t *testing.T) {
	n := newNode(t, "home", nodeOptions{})
	dumpLogs(t, n)
	ana := n.actor("ana", false)
	p1, p2, p3 := newPeer(t, "one.example"), newPeer(t, "two.example"), newPeer(t, "three.example")
	a1, a2, a3 := p1.newActor("a1", pub.SystemClock{}), p1.newActor("a2", pub.SystemClock{}), p1.newActor("a3", pub.SystemClock{})
	b1, b2 := p2.newActor("b1", pub.SystemClock{}), p2.newActor("b2", pub.SystemClock{})
	c1 := p3.newActor("c1", pub.SystemClock{}) // no shared inbox
	for _, a := range []*remoteActor{a1, a2, a3, b1, b2} {
		withSharedInbox(t, a)
	}
	in1, in2, in3 := serveInboxes(p1, a1, a2, a3), serveInboxes(p2, b1, b2), serveInboxes(p3, c1)
	for _, a := range []*remoteActor{a1, a2, b1} {
		followFrom(t, n, a, ana)
	}
	act := n.publish(ana.ID, fmt.Sprintf(`{"type":"Note","content":"Field trip on Friday",
		"to":[%q,%q],"cc":[%q],"bto":[%q],"bcc":[%q]}`,
		"as:Public", ana.Followers(), a3.id, b2.id, c1.id))
	id := act.ID()
	eventually(t, "deliveries sent", func() bool { return n.idle() })
	check := func(name string, in *inboxes, wantPaths ...string) {
		t.Helper()
		got := in.of(id)
		var paths []string
		for _, r := range got {
			paths = append(paths, r.path)
			if r.keyID != ana.Keys.RSAKeyID() {
				t.Errorf("%s: delivery signed by %q, want %q", name, r.keyID, ana.Keys.RSAKeyID())
			}
			for _, key := range []string{`"bto"`, `"bcc"`, b2.id, c1.id} {
				if strings.Contains(string(r.body), key) {
					t.Errorf("%s: delivered body contains %s: %s", name, key, r.body)
				}
			}
		}
		if strings.Join(paths, " ") != strings.Join(wantPaths, " ") {
			t.Errorf("%s: deliveries to %v, want %v", name, paths, wantPaths)
		}
	}
	check("one.example (two followers and a cc on one shared inbox)", in1, "/inbox")
	check("two.example (a follower, and a bto recipient)", in2, sortPaths("/inbox", "/users/b2/inbox", in2.of(id))...)
	check("three.example (bcc, no shared inbox)", in3, "/users/c1/inbox")
	so, err := n.store.Object(context.Background(), id)
	if err != nil || strings.Contains(string(so.Body), "bcc") || !so.Public {
		t.Errorf("stored activity: public %v, body %s, %v", so.Public, so.Body, err)
	}
	if !strings.Contains(strings.Join(so.Audience, " "), c1.id) {
		t.Error("the stored audience forgot the bcc recipient (visibility needs it)")
	}
	note, err := n.store.Object(context.Background(), act.Object("object").ID())
	if err != nil || strings.Contains(string(note.Body), "bcc") || !strings.Contains(strings.Join(note.Audience, " "), c1.id) {
		t.Errorf("stored note: audience %v, body %s, %v", note.Audience, note.Body, err)
	}
}

// sortPaths returns a and b in the order they were received, so that the
// comparison checks the set, not the order of two concurrent deliveries.
func sortPaths(a, b string, got []received) []string {
	if len(got) > 0 && got[0].path == b {
		return []string{b, a}
	}
	return []string{a, b}
}
