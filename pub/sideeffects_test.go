package pub_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/streams"
)

// TestInboxSideEffects runs inbound activities from a remote actor through
// a node's inbox and checks the engine's side effects, the hook calls, and
// the recorded result of each.
func TestInboxSideEffects(t *testing.T) {
	f := newInboxFixture(t, nodeOptions{sqliteStore: true})
	ctx := context.Background()
	note := f.n.publish(f.ana.ID, fmt.Sprintf(`{"type":"Note","content":"hello","to":[%q]}`, streams.PublicIRI))
	noteID := note.Object("object").ID()
	follow := f.n.publish(f.ana.ID, fmt.Sprintf(`{"type":"Follow","object":%q}`, f.rex.id))
	newer := f.peer.newActor("rex2", pub.SystemClock{})
	movedDoc := newer.document()
	_ = movedDoc.Set("alsoKnownAs", streams.IRIList(f.rex.id))
	moved, _ := streams.Marshal(movedDoc)
	f.peer.serveJSON(newer.path, moved)
	stranger := f.peer.newActor("stranger", pub.SystemClock{})

	act := func(id, typ string, extra map[string]any) []byte {
		m := map[string]any{"id": f.rex.id + "/a/" + id, "type": typ, "actor": f.rex.id}
		for k, v := range extra {
			m[k] = v
		}
		return asDoc(t, m)
	}
	steps := []struct {
		name   string
		body   []byte
		status int    // inbox answer
		result string // substring of the recorded result; "" when not recorded
		hook   string // hook expected to run
		check  func() error
	}{
		{"missing object", act("1", "Like", nil), 400, "", "", nil},
		{"Add without target", act("2", "Add", map[string]any{"object": noteID}), 400, "", "", nil},
		{"Like of a local note", act("3", "Like", map[string]any{"object": noteID}), 202, "ok", "Like", func() error {
			if !f.n.hasItem(pub.Likes(noteID), f.rex.id) {
				return errors.New("like not counted")
			}
			return nil
		}},
		{"Announce of a local note", act("4", "Announce", map[string]any{"object": noteID}), 202, "ok", "Announce", func() error {
			if !f.n.hasItem(pub.Shares(noteID), f.rex.id) {
				return errors.New("boost not counted")
			}
			return nil
		}},
		{"Undo of the Announce by IRI", act("5", "Undo", map[string]any{"object": f.rex.id + "/a/4"}), 202, "ok", "Undo", func() error {
			if f.n.hasItem(pub.Shares(noteID), f.rex.id) {
				return errors.New("boost still counted")
			}
			return nil
		}},
		{"Undo of someone else's Like", act("6", "Undo", map[string]any{"object": map[string]any{"id": stranger.id + "/l/1", "type": "Like", "actor": stranger.id, "object": noteID}}), 202, "rejected", "", nil},
		{"Accept of ana's Follow", act("7", "Accept", map[string]any{"object": follow.ID()}), 202, "ok", "Accept", func() error {
			if fl, ok := f.n.follow(f.ana.ID, f.rex.id); !ok || fl.State != pub.FollowAccepted {
				return fmt.Errorf("follow %+v", fl)
			}
			return nil
		}},
		{"Reject of ana's Follow, embedded", act("8", "Reject", map[string]any{"object": map[string]any{"type": "Follow", "id": follow.ID(), "actor": f.ana.ID, "object": f.rex.id}}), 202, "ok", "Reject", func() error {
			if _, ok := f.n.follow(f.ana.ID, f.rex.id); ok {
				return errors.New("follow still there")
			}
			return nil
		}},
		{"Add to a local collection", act("9", "Add", map[string]any{"object": noteID, "target": f.ana.Featured()}), 202, "rejected", "", nil},
		{"Add to the actor's own collection", act("10", "Add", map[string]any{"object": f.rex.id + "/n/1", "target": f.rex.id + "/featured"}), 202, "ok", "Add", nil},
		{"Flag", act("11", "Flag", map[string]any{"object": []string{f.ana.ID, noteID}, "content": "spam"}), 202, "ok", "Flag", nil},
		{"Move to an account that does not name rex", act("12", "Move", map[string]any{"object": f.rex.id, "target": stranger.id}), 202, "alsoKnownAs", "", nil},
		{"Move to an account that names rex", act("13", "Move", map[string]any{"object": f.rex.id, "target": newer.id}), 202, "ok", "Move", nil},
		{"an unknown type reaches the fallback", act("14", "EmojiReact", map[string]any{"object": noteID, "content": "🍎"}), 202, "ok", "EmojiReact", nil},
		{"Follow of ana", act("15", "Follow", map[string]any{"object": f.ana.ID}), 202, "ok", "Follow", func() error {
			if fl, ok := f.n.follow(f.rex.id, f.ana.ID); !ok || fl.State != pub.FollowAccepted {
				return fmt.Errorf("follow %+v", fl)
			}
			return nil
		}},
		{"Block of ana", act("16", "Block", map[string]any{"object": f.ana.ID}), 202, "ok", "Block", func() error {
			if _, ok := f.n.follow(f.rex.id, f.ana.ID); ok {
				return errors.New("follow survived the block")
			}
			return nil
		}},
		{"Follow after the Block", act("17", "Follow", map[string]any{"object": f.ana.ID}), 202, "blocked", "", nil},
		{"Undo of the Block", act("18", "Undo", map[string]any{"object": f.rex.id + "/a/16"}), 202, "ok", "Undo", nil},
		{"Follow after the Undo", act("19", "Follow", map[string]any{"object": f.ana.ID}), 202, "ok", "Follow", nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := map[string]int{}
			if s.hook != "" {
				before[s.hook] = f.n.hooks.count(s.hook)
			}
			total := func() int {
				n := 0
				for _, typ := range []string{"Like", "Announce", "Undo", "Accept", "Reject", "Add", "Flag", "Move", "EmojiReact", "Follow", "Block"} {
					n += f.n.hooks.count(typ)
				}
				return n
			}
			all := total()
			if got := f.post(f.rex, "/inbox", s.body); got != s.status {
				t.Fatalf("POST = %d, want %d", got, s.status)
			}
			f.process(t)
			id, _ := streams.Parse(s.body)
			rec, err := f.n.store.Inbound(ctx, id.ID())
			switch {
			case s.result == "" && err == nil:
				t.Fatalf("refused activity recorded: %+v", rec)
			case s.result != "" && (err != nil || !strings.Contains(rec.Result, s.result)):
				t.Fatalf("result %q (%v), want %q", rec.Result, err, s.result)
			}
			if s.hook != "" && f.n.hooks.count(s.hook) != before[s.hook]+1 {
				t.Errorf("%s hook not called once", s.hook)
			}
			if s.hook == "" && total() != all {
				t.Error("a hook ran for a refused activity")
			}
			if s.check != nil {
				if err := s.check(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestPublishRules: what Publish refuses, and local recipients handled
// without HTTP (a local actor following another).
func TestPublishRules(t *testing.T) {
	n := newNode(t, "home", nodeOptions{})
	dumpLogs(t, n)
	ana, ben := n.actor("ana", false), n.actor("ben", true)
	ctx := context.Background()
	note := n.publish(ana.ID, fmt.Sprintf(`{"type":"Note","content":"mine","to":[%q]}`, streams.PublicIRI))
	noteID := note.Object("object").ID()
	for _, tc := range []struct {
		name, as, doc string
	}{
		{"another actor", ana.ID, fmt.Sprintf(`{"type":"Like","actor":%q,"object":%q}`, ben.ID, noteID)},
		{"update of someone else's note", ben.ID, fmt.Sprintf(`{"type":"Update","object":{"id":%q,"type":"Note","attributedTo":%q,"content":"x"}}`, noteID, ben.ID)},
		{"delete of someone else's note", ben.ID, fmt.Sprintf(`{"type":"Delete","object":%q}`, noteID)},
		{"foreign id", ana.ID, `{"type":"Like","id":"https://elsewhere.example/1","object":"https://elsewhere.example/n"}`},
		{"Create without object", ana.ID, `{"type":"Create"}`},
		{"unknown actor", n.base + "/users/nobody", `{"type":"Note","content":"x"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := streams.Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := n.fed.Publish(ctx, tc.as, obj); err == nil {
				t.Error("published")
			}
		})
	}
	if o, _ := n.object(noteID); !strings.Contains(string(o.Body), "mine") || !o.Deleted.IsZero() {
		t.Errorf("the note changed: %+v", o)
	}
	// ana follows ben, who approves by hand: all within one server.
	n.publish(ana.ID, fmt.Sprintf(`{"type":"Follow","object":%q}`, ben.ID))
	eventually(t, "ben has a pending follower", func() bool {
		p, err := n.fed.PendingFollowers(ctx, ben.ID)
		return err == nil && len(p) == 1 && p[0].Follower == ana.ID
	})
	if err := n.fed.RejectFollow(ctx, ben.ID, ana.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the follow is gone", func() bool { _, ok := n.follow(ana.ID, ben.ID); return !ok })
	if err := n.fed.AcceptFollow(ctx, ben.ID, ana.ID); !errors.Is(err, pub.ErrNotFound) {
		t.Errorf("accepting a rejected follow: %v", err)
	}
	// ben follows ana (accepted at once) and receives her followers-only note.
	n.publish(ben.ID, fmt.Sprintf(`{"type":"Follow","object":%q}`, ana.ID))
	eventually(t, "ben follows ana", func() bool { fl, ok := n.follow(ben.ID, ana.ID); return ok && fl.State == pub.FollowAccepted })
	n.publish(ana.ID, fmt.Sprintf(`{"type":"Note","content":"for followers","to":[%q]}`, ana.Followers()))
	eventually(t, "ben's Create hook", func() bool {
		in := n.hooks.last("Create")
		return in != nil && in.Object != nil && in.Object.String("content") == "for followers" && strings.Join(in.Recipients, " ") == ben.ID
	})
	if status, _ := n.get(n.base+"/activities/nothing", nil); status != http.StatusNotFound {
		t.Errorf("unknown activity: %d", status)
	}
}

// TestInboxGroupMembersRecipients: an activity addressed to a local
// collection the host resolves (a group's members) concerns each member;
// one addressed to an unknown local collection concerns nobody there.
func TestInboxGroupMembersRecipients(t *testing.T) {
	var members []string
	f := newInboxFixture(t, nodeOptions{fed: func(c *pub.FederationConfig) {
		c.Hooks.GroupMembers = func(ctx context.Context, iri string) ([]string, bool, error) {
			if strings.HasSuffix(iri, "/groups/club/members") {
				return members, true, nil
			}
			return nil, false, nil
		}
	}})
	ben := f.n.actor("ben", false)
	members = []string{f.ana.ID, ben.ID}
	for i, tc := range []struct {
		to   string
		want []string
	}{
		{f.n.base + "/groups/club/members", []string{f.ana.ID, ben.ID}},
		{f.n.base + "/groups/other/members", nil},
		{ben.ID, []string{ben.ID}},
	} {
		body, _ := createNote(t, f.rex, 50+i, tc.to)
		if got := f.post(f.rex, "/inbox", body); got != http.StatusAccepted {
			t.Fatalf("POST = %d", got)
		}
		f.process(t)
		in := f.n.hooks.last("Create")
		if in == nil || strings.Join(in.Recipients, " ") != strings.Join(tc.want, " ") {
			t.Errorf("to %s: recipients %v, want %v", tc.to, in.Recipients, tc.want)
		}
	}
}
