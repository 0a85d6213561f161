package pub_test

import (
	"fmt"
	"testing"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/streams"
)

// TestFederationEndToEnd runs three engines on loopback that talk over real
// signed HTTP: follow (one actor approves followers by hand), publish,
// reply, like, boost, undo, delete and unfollow, asserting each state change
// on both sides.
func TestFederationEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts nodeOptions
	}{
		{"memory", nodeOptions{}},
		{"sqlite", nodeOptions{sqliteStore: true}},
		{"postgres", nodeOptions{postgres: true}},
	} {
		t.Run(tc.name, func(t *testing.T) { testFederationEndToEnd(t, tc.opts) })
	}
}

func testFederationEndToEnd(t *testing.T, opts nodeOptions) {
	school := newNode(t, "school", opts)
	library := newNode(t, "library", opts)
	museum := newNode(t, "museum", opts)
	alice := school.actor("alice", false)
	bob := library.actor("bob", true) // approves followers by hand
	carol := museum.actor("carol", false)
	dumpLogs(t, school, library, museum)

	// alice follows bob: pending on both sides until bob approves.
	follow := school.publish(alice.ID, fmt.Sprintf(`{"type":"Follow","object":%q,"to":[%q]}`, bob.ID, bob.ID))
	eventually(t, "library records alice's follow request", func() bool {
		f, ok := library.follow(alice.ID, bob.ID)
		return ok && f.State == pub.FollowPending && f.ActivityID == follow.ID()
	})
	if f, _ := school.follow(alice.ID, bob.ID); f.State != pub.FollowPending {
		t.Fatalf("school: alice → bob is %v before approval", f.State)
	}
	pending, err := library.fed.PendingFollowers(t.Context(), bob.ID)
	if err != nil || len(pending) != 1 || pending[0].Follower != alice.ID {
		t.Fatalf("pending followers of bob = %v, %v", pending, err)
	}
	if err := library.fed.AcceptFollow(t.Context(), bob.ID, alice.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "school sees bob's Accept", func() bool {
		f, ok := school.follow(alice.ID, bob.ID)
		return ok && f.State == pub.FollowAccepted
	})
	if f, _ := library.follow(alice.ID, bob.ID); f.State != pub.FollowAccepted {
		t.Fatalf("library: alice → bob is %v after approval", f.State)
	}

	// carol follows alice: accepted at once.
	museum.publish(carol.ID, fmt.Sprintf(`{"type":"Follow","object":%q}`, alice.ID))
	eventually(t, "carol's follow of alice accepted on both sides", func() bool {
		a, ok1 := school.follow(carol.ID, alice.ID)
		b, ok2 := museum.follow(carol.ID, alice.ID)
		return ok1 && ok2 && a.State == pub.FollowAccepted && b.State == pub.FollowAccepted
	})

	// alice publishes a public note: carol (her follower) receives it.
	note := school.publish(alice.ID, fmt.Sprintf(`{"type":"Note","content":"Fractions worksheet","to":[%q],"cc":[%q]}`,
		streams.PublicIRI, alice.Followers()))
	noteID := note.Object("object").ID()
	eventually(t, "museum stores alice's note", func() bool {
		o, ok := museum.object(noteID)
		return ok && o.Deleted.IsZero() && o.AttributedTo == alice.ID
	})
	eventually(t, "museum's Create hook names carol", func() bool {
		in := museum.hooks.last("Create")
		return in != nil && len(in.Recipients) == 1 && in.Recipients[0] == carol.ID
	})
	if _, ok := library.object(noteID); ok {
		t.Error("library stored a note addressed to alice's followers; bob does not follow alice")
	}

	// bob publishes; alice follows him, so school stores it. alice replies.
	bobNote := library.publish(bob.ID, fmt.Sprintf(`{"type":"Note","content":"Reading list","to":[%q],"cc":[%q]}`,
		streams.PublicIRI, bob.Followers()))
	bobNoteID := bobNote.Object("object").ID()
	eventually(t, "school stores bob's note", func() bool { _, ok := school.object(bobNoteID); return ok })
	reply := school.publish(alice.ID, fmt.Sprintf(`{"type":"Note","content":"Thanks!","inReplyTo":%q,"to":[%q],"cc":[%q]}`,
		bobNoteID, streams.PublicIRI, bob.ID))
	replyID := reply.Object("object").ID()
	eventually(t, "library files alice's reply under bob's note", func() bool {
		_, ok := library.object(replyID)
		return ok && library.hasItem(pub.Replies(bobNoteID), replyID)
	})

	// carol likes and boosts alice's note, then undoes the like.
	like := museum.publish(carol.ID, fmt.Sprintf(`{"type":"Like","object":%q,"to":[%q]}`, noteID, alice.ID))
	museum.publish(carol.ID, fmt.Sprintf(`{"type":"Announce","object":%q,"to":[%q],"cc":[%q]}`, noteID, streams.PublicIRI, alice.ID))
	eventually(t, "school counts carol's like and boost", func() bool {
		return school.hasItem(pub.Likes(noteID), carol.ID) && school.hasItem(pub.Shares(noteID), carol.ID)
	})
	if !museum.hasItem(carol.ID+"/liked", noteID) {
		t.Error("carol's liked collection lacks the note")
	}
	museum.publish(carol.ID, fmt.Sprintf(`{"type":"Undo","object":%q,"to":[%q]}`, like.ID(), alice.ID))
	eventually(t, "school drops carol's like", func() bool { return !school.hasItem(pub.Likes(noteID), carol.ID) })
	if museum.hasItem(carol.ID+"/liked", noteID) {
		t.Error("carol's liked collection still has the note after Undo")
	}
	if !school.hasItem(pub.Shares(noteID), carol.ID) {
		t.Error("undoing the like removed the boost")
	}

	// alice deletes her note: tombstoned on both sides, 410 at its IRI.
	school.publish(alice.ID, fmt.Sprintf(`{"type":"Delete","object":%q,"to":[%q],"cc":[%q]}`, noteID, streams.PublicIRI, alice.Followers()))
	eventually(t, "museum tombstones alice's note", func() bool {
		o, ok := museum.object(noteID)
		return ok && !o.Deleted.IsZero()
	})
	if o, _ := school.object(noteID); o.Deleted.IsZero() {
		t.Error("school did not tombstone the note")
	}
	if status, _ := school.get(noteID, nil); status != 410 {
		t.Errorf("GET deleted note = %d, want 410", status)
	}

	// carol unfollows alice.
	museum.publish(carol.ID, fmt.Sprintf(`{"type":"Undo","object":{"type":"Follow","id":%q,"actor":%q,"object":%q},"to":[%q]}`,
		mustFollowID(t, museum, carol.ID, alice.ID), carol.ID, alice.ID, alice.ID))
	eventually(t, "carol's follow removed on both sides", func() bool {
		_, ok1 := school.follow(carol.ID, alice.ID)
		_, ok2 := museum.follow(carol.ID, alice.ID)
		return !ok1 && !ok2
	})
	eventually(t, "delivery queues drain", func() bool { return school.idle() && library.idle() && museum.idle() })
	for _, n := range []*node{school, library, museum} {
		if got := n.hooks.count("Create"); n == library && got != 1 {
			t.Errorf("%s: %d Create hook calls, want 1", n.name, got)
		}
	}
}

func mustFollowID(t *testing.T, n *node, follower, followee string) string {
	t.Helper()
	f, ok := n.follow(follower, followee)
	if !ok {
		t.Fatalf("no follow %s → %s on %s", follower, followee, n.name)
	}
	return f.ActivityID
}
