package pub_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/streams"
)

// TestAuthorizedFetchCollectionsAndObjects: under authorized fetch every
// AS2 GET Federation.Routes serves (actors, collections, local objects and
// activities) needs a signed request, except the instance actor; without
// it they answer unsigned.
func TestAuthorizedFetchCollectionsAndObjects(t *testing.T) {
	for _, tt := range []struct {
		name       string
		authorized bool
		unsigned   int
	}{
		{"on", true, http.StatusUnauthorized},
		{"off", false, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newNode(t, "a", nodeOptions{})
			b := newNode(t, "b", nodeOptions{engine: func(c *pub.Config) { c.AuthorizedFetch = tt.authorized }})
			dumpLogs(t, a, b)
			bob := b.actor("bob", false)
			note := b.publish(bob.ID, `{"type":"Note","content":"hi","to":["https://www.w3.org/ns/activitystreams#Public"]}`)
			paths := []string{
				bob.ID,
				bob.ID + "/outbox", bob.ID + "/outbox?page=1",
				bob.ID + "/followers", bob.ID + "/following", bob.ID + "/liked", bob.ID + "/featured",
				note.ID(), note.Object("object").ID(),
				b.base + "/actor/outbox", b.base + "/actor/outbox?page=1",
			}
			signed := func(req *http.Request, body []byte) {
				if err := a.engine.InstanceActor().SignRequest(req, body); err != nil {
					t.Fatal(err)
				}
			}
			for _, url := range paths {
				if got, body := b.get(url, nil); got != tt.unsigned {
					t.Errorf("unsigned GET %s = %d, want %d\n%s", url, got, tt.unsigned, body)
				}
				if got, body := b.get(url, signed); got != http.StatusOK {
					t.Errorf("signed GET %s = %d, want 200\n%s", url, got, body)
				}
			}
			// A tombstone answers 410, to signed readers only.
			gone := b.publish(bob.ID, `{"type":"Note","content":"bye","to":["https://www.w3.org/ns/activitystreams#Public"]}`).Object("object").ID()
			b.publish(bob.ID, `{"type":"Delete","object":"`+gone+`","to":["https://www.w3.org/ns/activitystreams#Public"]}`)
			if tt.authorized {
				if got, _ := b.get(gone, nil); got != http.StatusUnauthorized {
					t.Errorf("unsigned GET of a tombstone = %d, want 401", got)
				}
			}
			if got, _ := b.get(gone, signed); got != http.StatusGone {
				t.Errorf("signed GET of a tombstone = %d, want 410", got)
			}
			if got, _ := b.get(b.base+"/actor", nil); got != http.StatusOK {
				t.Errorf("unsigned GET of the instance actor = %d, want 200", got)
			}
		})
	}
}

// TestInstanceActorOutbox: the outbox the instance actor's document
// advertises is a paged OrderedCollection, empty until something public is
// added to it.
func TestInstanceActorOutbox(t *testing.T) {
	n := newNode(t, "home", nodeOptions{})
	dumpLogs(t, n)
	doc, err := streams.Parse(n.engine.InstanceActor().Document())
	if err != nil {
		t.Fatal(err)
	}
	outbox := doc.IRI("outbox")
	if outbox != n.base+"/actor/outbox" {
		t.Fatalf("advertised outbox %q", outbox)
	}
	read := func(url string) *streams.Object {
		t.Helper()
		status, body := n.get(url, nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", url, status, body)
		}
		o, err := streams.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	c := read(outbox)
	if total, _ := c.Int("totalItems"); !c.Is("OrderedCollection") || c.ID() != outbox || total != 0 || c.IRI("first") != outbox+"?page=1" || c.Has("last") {
		t.Errorf("empty outbox: %s id %s total %d first %s", c.Type(), c.ID(), total, c.IRI("first"))
	}
	p := read(c.IRI("first"))
	items, _ := p.Get("orderedItems")
	if !p.Is("OrderedCollectionPage") || p.IRI("partOf") != outbox || len(items.Elems()) != 0 || p.Has("next") {
		t.Errorf("empty outbox page: %s partOf %s, %d items", p.Type(), p.IRI("partOf"), len(items.Elems()))
	}

	ctx := context.Background()
	for _, it := range []pub.CollectionItem{
		{Item: n.base + "/activities/1", Public: true, AddedAt: time.Now()},
		{Item: n.base + "/activities/2", Public: false, AddedAt: time.Now().Add(time.Second)},
	} {
		if _, err := n.store.AddItem(ctx, outbox, it); err != nil {
			t.Fatal(err)
		}
	}
	if total, _ := read(outbox).Int("totalItems"); total != 1 {
		t.Errorf("outbox totalItems = %d, want 1 (the public item)", total)
	}
	items, _ = read(outbox + "?page=1").Get("orderedItems")
	if len(items.Elems()) != 1 || func() bool { s, _ := items.Elems()[0].Str(); return s != n.base+"/activities/1" }() {
		t.Errorf("outbox page items = %v, want the public item", items)
	}
	if status, _ := n.get(outbox+"?page=0", nil); status != http.StatusBadRequest {
		t.Errorf("GET ?page=0 = %d, want 400", status)
	}
}
