package pub_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/streams"
)

// TestCollectionsPagingAndVisibility: the outbox, followers, following and
// liked collections are paged OrderedCollections; anonymous readers see
// public items only, a signed follower also sees followers-only items, and
// objects are served under the same rule.
func TestCollectionsPagingAndVisibility(t *testing.T) {
	for _, sqlite := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "sqlite"}[sqlite], func(t *testing.T) {
			testCollections(t, sqlite)
		})
	}
}

func testCollections(t *testing.T, sqlite bool) {
	n := newNode(t, "home", nodeOptions{sqliteStore: sqlite})
	dumpLogs(t, n)
	ana := n.actor("ana", false)
	p := newPeer(t, "remote.example")
	rex, mallory := p.newActor("rex", pub.SystemClock{}), p.newActor("mallory", pub.SystemClock{})
	serveInboxes(p, rex, mallory)
	followFrom(t, n, rex, ana)

	for i := range 23 {
		n.publish(ana.ID, fmt.Sprintf(`{"type":"Note","content":"public %d","to":[%q]}`, i, streams.PublicIRI))
	}
	private := n.publish(ana.ID, fmt.Sprintf(`{"type":"Note","content":"followers only","to":[%q]}`, ana.Followers()))
	privateNote := private.Object("object").ID()
	n.publish(ana.ID, fmt.Sprintf(`{"type":"Like","object":%q,"to":[%q]}`, rex.id+"/statuses/1", streams.PublicIRI))

	read := func(url string, sign func(*http.Request, []byte)) *streams.Object {
		t.Helper()
		status, body := n.get(url, sign)
		if status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", url, status, body)
		}
		o, err := streams.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	total := func(o *streams.Object) int64 { v, _ := o.Int("totalItems"); return v }
	outbox := ana.Outbox()

	c := read(outbox, nil)
	if !c.Is("OrderedCollection") || total(c) != 24 || c.IRI("first") != outbox+"?page=1" {
		t.Fatalf("anonymous outbox: %s total %d first %s", c.Type(), total(c), c.IRI("first"))
	}
	p1 := read(c.IRI("first"), nil)
	items1, _ := p1.Get("orderedItems")
	if !p1.Is("OrderedCollectionPage") || len(items1.Elems()) != 20 || p1.IRI("next") != outbox+"?page=2" || p1.Has("prev") || p1.IRI("partOf") != outbox {
		t.Fatalf("page 1: %d items, next %q, prev %v", len(items1.Elems()), p1.IRI("next"), p1.Has("prev"))
	}
	if first := items1.Elems()[0].Object(); first == nil || !first.Is("Like") {
		t.Errorf("the newest item first, embedded: %v", items1.Elems()[0])
	}
	p2 := read(p1.IRI("next"), nil)
	items2, _ := p2.Get("orderedItems")
	if len(items2.Elems()) != 4 || p2.Has("next") || p2.IRI("prev") != outbox+"?page=1" {
		t.Fatalf("page 2: %d items, next %q, prev %q", len(items2.Elems()), p2.IRI("next"), p2.IRI("prev"))
	}
	anonymous := string(mustGet(t, n, outbox+"?page=1", nil)) + string(mustGet(t, n, outbox+"?page=2", nil))
	if strings.Contains(anonymous, "followers only") {
		t.Error("anonymous reader sees a followers-only item")
	}
	signedRex := signWith(rex.keys.RSA, rex.keyID(), pub.SystemClock{}, httpsig.Cavage)
	signedMallory := signWith(mallory.keys.RSA, mallory.keyID(), pub.SystemClock{}, httpsig.Cavage)
	if !strings.Contains(string(mustGet(t, n, outbox+"?page=1", signedRex)), "followers only") {
		t.Error("a signed follower does not see the followers-only item")
	}
	if strings.Contains(string(mustGet(t, n, outbox+"?page=1", signedMallory)), "followers only") {
		t.Error("a signed non-follower sees the followers-only item")
	}
	for _, tc := range []struct {
		who  string
		sign func(*http.Request, []byte)
		want int
	}{{"anonymous", nil, 404}, {"non-follower", signedMallory, 404}, {"follower", signedRex, 200}} {
		if got, _ := n.get(privateNote, tc.sign); got != tc.want {
			t.Errorf("GET followers-only note as %s = %d, want %d", tc.who, got, tc.want)
		}
	}
	if got, _ := n.get(outbox+"?page=1", func(r *http.Request, b []byte) {
		signedRex(r, b)
		r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), `signature="`, `signature="AAAA`, 1))
	}); got != http.StatusUnauthorized {
		t.Errorf("GET with a bad signature = %d, want 401", got)
	}
	for _, bad := range []string{"0", "-1", "x"} {
		if got, _ := n.get(outbox+"?page="+bad, nil); got != http.StatusBadRequest {
			t.Errorf("page=%s: %d, want 400", bad, got)
		}
	}

	followers := read(ana.Followers(), nil)
	if total(followers) != 1 {
		t.Errorf("followers totalItems %d", total(followers))
	}
	fp := read(ana.Followers()+"?page=1", nil)
	if items, _ := fp.Get("orderedItems"); len(items.Elems()) != 1 || items.Elems()[0].Object() != nil {
		t.Errorf("followers page: %v", items)
	} else if s, _ := items.Elems()[0].Str(); s != rex.id {
		t.Errorf("followers page names %q", s)
	}
	if following := read(ana.Following(), nil); total(following) != 0 || following.Has("last") {
		t.Errorf("following: total %d", total(following))
	}
	if err := n.fed.Feature(t.Context(), ana.ID, privateNote); err != nil {
		t.Fatal(err)
	}
	if featured := read(ana.Featured(), nil); total(featured) != 0 {
		t.Errorf("anonymous featured shows a followers-only note: %d", total(featured))
	}
	if !strings.Contains(string(mustGet(t, n, ana.Featured()+"?page=1", signedRex)), privateNote) {
		t.Error("a follower does not see the featured followers-only note")
	}
	if err := n.fed.Feature(t.Context(), ana.ID, rex.id+"/statuses/1"); err == nil {
		t.Error("featured someone else's object")
	}
	if err := n.fed.Unfeature(t.Context(), ana.ID, privateNote); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mustGet(t, n, ana.Featured()+"?page=1", signedRex)), privateNote) {
		t.Error("unfeatured note still featured")
	}
	if liked := read(ana.Liked(), nil); total(liked) != 1 {
		t.Errorf("liked: total %d", total(liked))
	}
	if got, _ := n.get(n.base+"/users/nobody/outbox", nil); got != http.StatusNotFound {
		t.Errorf("outbox of an unknown actor: %d", got)
	}
	actor := read(ana.ID, nil)
	if actor.IRI("outbox") != outbox || actor.Object("endpoints").IRI("sharedInbox") != n.base+"/inbox" {
		t.Errorf("actor document: outbox %q, endpoints %v", actor.IRI("outbox"), actor.Object("endpoints"))
	}
}

func mustGet(t *testing.T, n *node, url string, sign func(*http.Request, []byte)) []byte {
	t.Helper()
	status, body := n.get(url, sign)
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d", url, status)
	}
	return body
}
