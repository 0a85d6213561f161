package pub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/streams"
)

// TestSecurity06_InboxForwardedActivity: an activity signed by a server
// that is not its actor's (a forwarded copy) is refused with 401 by
// default. With AcceptForwarded it is answered 202 but never trusted as
// sent: it is processed only as its origin serves it, forgotten when the
// origin does not confirm it (so the actor's own copy still counts), and
// never allowed to claim a local actor, a foreign id, or the actor's keys.
func TestSecurity06_InboxForwardedActivity(t *testing.T) {
	origin := newPeer(t, "origin.example")
	rex := origin.newActor("rex", pub.SystemClock{})
	fwdPeer := newPeer(t, "forwarder.example")
	fwd := fwdPeer.newActor("fwd", pub.SystemClock{})
	create := func(n int, content string) (body []byte, noteID string) {
		noteID = fmt.Sprintf("%s/statuses/%d", rex.id, n)
		return asDoc(t, map[string]any{
			"id": noteID + "/activity", "type": "Create", "actor": rex.id, "to": []string{streams.PublicIRI},
			"object": map[string]any{"id": noteID, "type": "Note", "attributedTo": rex.id, "content": content, "to": []string{streams.PublicIRI}},
		}), noteID
	}
	serve := func(body []byte, id string) {
		origin.serveJSON(strings.TrimPrefix(id, origin.base), body)
	}

	t.Run("refused by default", func(t *testing.T) {
		f := newInboxFixture(t, nodeOptions{})
		body, noteID := create(1, "hello")
		if got := f.post(fwd, "/inbox", body); got != http.StatusUnauthorized {
			t.Fatalf("POST = %d, want 401", got)
		}
		f.process(t)
		if f.inboundCount(t) != 0 {
			t.Error("a forwarded activity was recorded")
		}
		if _, ok := f.n.object(noteID); ok {
			t.Error("a forwarded object was stored")
		}
	})

	accepting := nodeOptions{sqliteStore: true, fed: func(c *pub.FederationConfig) { c.AcceptForwarded = true }}
	t.Run("confirmed by the origin", func(t *testing.T) {
		f := newInboxFixture(t, accepting)
		forged, noteID := create(2, "forged")
		genuine, _ := create(2, "genuine")
		serve(genuine, noteID+"/activity")
		if got := f.post(fwd, "/inbox", forged); got != http.StatusAccepted {
			t.Fatalf("POST = %d, want 202", got)
		}
		f.process(t)
		o, ok := f.n.object(noteID)
		if !ok || !strings.Contains(string(o.Body), "genuine") || strings.Contains(string(o.Body), "forged") {
			t.Fatalf("stored %v: %s", ok, o.Body)
		}
		in := f.n.hooks.last("Create")
		if in == nil || in.Actor != rex.id || !strings.Contains(string(in.Body), "genuine") {
			t.Errorf("hook saw %+v", in)
		}
	})

	t.Run("not confirmed, then the actor's own copy", func(t *testing.T) {
		f := newInboxFixture(t, accepting)
		body, noteID := create(3, "hello")
		if got := f.post(fwd, "/users/ana/inbox", body); got != http.StatusAccepted {
			t.Fatalf("POST = %d, want 202", got)
		}
		f.process(t)
		if _, ok := f.n.object(noteID); ok {
			t.Fatal("an unconfirmed forwarded object was stored")
		}
		if _, err := f.n.store.Inbound(context.Background(), noteID+"/activity"); err == nil {
			t.Fatal("the unconfirmed forwarded activity is still recorded")
		}
		if got := postTo(t, f.n.base+"/inbox", body, rex.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Fatalf("direct POST = %d", got)
		}
		f.process(t)
		if _, ok := f.n.object(noteID); !ok {
			t.Error("the actor's own copy was swallowed by the forwarded one")
		}
	})

	t.Run("the actor's own copy replaces a pending forwarded one", func(t *testing.T) {
		f := newInboxFixture(t, accepting)
		body, noteID := create(4, "hello")
		for _, sign := range []func(*http.Request, []byte){fwd.sign(httpsig.Cavage), rex.sign(httpsig.Cavage)} {
			if got := postTo(t, f.n.base+"/inbox", body, sign); got != http.StatusAccepted {
				t.Fatalf("POST = %d", got)
			}
		}
		f.process(t)
		if _, ok := f.n.object(noteID); !ok {
			t.Error("not stored")
		}
		if got := f.n.hooks.count("Create"); got != 1 {
			t.Errorf("Create hook ran %d times", got)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		f := newInboxFixture(t, accepting)
		claimLocal := asDoc(t, map[string]any{"id": f.ana.ID + "/x", "type": "Like", "actor": f.ana.ID, "object": rex.id})
		foreignID := asDoc(t, map[string]any{"id": "http://else.example/x", "type": "Like", "actor": rex.id, "object": f.ana.ID})
		selfDelete := asDoc(t, map[string]any{"id": rex.id + "/delete", "type": "Delete", "actor": rex.id, "object": rex.id})
		serve(selfDelete, rex.id+"/delete")
		for _, tc := range []struct {
			name string
			body []byte
			want int
		}{{"claims a local actor", claimLocal, 401}, {"id on another host", foreignID, 403}, {"self-delete", selfDelete, 202}} {
			if got := f.post(fwd, "/inbox", tc.body); got != tc.want {
				t.Errorf("%s: POST = %d, want %d", tc.name, got, tc.want)
			}
		}
		f.process(t)
		if got := f.n.hooks.count("Delete"); got != 0 {
			t.Errorf("a forwarded self-delete ran the Delete hook %d times", got)
		}
		rec, err := f.n.store.Inbound(context.Background(), rex.id+"/delete")
		if err != nil || !strings.Contains(rec.Result, "forwarded Delete of actor") {
			t.Errorf("forwarded self-delete: result %q, %v", rec.Result, err)
		}
	})
}

// TestInboxForwardingBetweenEngines: a reply to a local note, addressed to
// the author's followers, is forwarded by the author's server and taken by
// another Commonroom server (AcceptForwarded), which confirms it at its
// origin.
func TestInboxForwardingBetweenEngines(t *testing.T) {
	a := newNode(t, "school", nodeOptions{sqliteStore: true})
	b := newNode(t, "library", nodeOptions{sqliteStore: true, fed: func(c *pub.FederationConfig) { c.AcceptForwarded = true }})
	dumpLogs(t, a, b)
	ana, bea := a.actor("ana", false), b.actor("bea", false)
	b.publish(bea.ID, fmt.Sprintf(`{"type":"Follow","object":%q}`, ana.ID))
	eventually(t, "bea follows ana", func() bool { fl, ok := b.follow(bea.ID, ana.ID); return ok && fl.State == pub.FollowAccepted })
	note := a.publish(ana.ID, fmt.Sprintf(`{"type":"Note","content":"Question","to":[%q,%q]}`, streams.PublicIRI, ana.Followers()))
	noteID := note.Object("object").ID()
	eventually(t, "library has ana's note", func() bool { _, ok := b.object(noteID); return ok })

	p := newPeer(t, "remote.example")
	rex := p.newActor("rex", pub.SystemClock{})
	replyID := rex.id + "/statuses/1"
	reply, _ := json.Marshal(map[string]any{
		"@context": streams.ASContextURL, "id": replyID + "/activity", "type": "Create", "actor": rex.id,
		"to":     []string{streams.PublicIRI, ana.ID, ana.Followers()},
		"object": map[string]any{"id": replyID, "type": "Note", "attributedTo": rex.id, "inReplyTo": noteID, "content": "42"},
	})
	p.serveJSON("/users/rex/statuses/1/activity", reply)
	if got := postTo(t, ana.Inbox(), reply, rex.sign(httpsig.Cavage)); got != http.StatusAccepted {
		t.Fatalf("POST = %d", got)
	}
	eventually(t, "the library stores the forwarded reply, confirmed at its origin", func() bool {
		_, ok := b.object(replyID)
		return ok && b.hasItem(pub.Replies(noteID), replyID)
	})
	// The activity's result is recorded after its side effects: wait for
	// processing to finish before reading the record.
	eventually(t, "the library finishes processing the forwarded activity", func() bool {
		rec, err := b.store.Inbound(context.Background(), replyID+"/activity")
		return err == nil && rec.Result != ""
	})
	rec, err := b.store.Inbound(context.Background(), replyID+"/activity")
	if err != nil || rec.ForwardedBy != ana.Keys.RSAKeyID() || rec.Result != "ok" {
		t.Errorf("library's record: forwarded by %q, result %q, %v", rec.ForwardedBy, rec.Result, err)
	}
}
