package pub_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/streams"
)

// TestInboxForwarding: a reply from a remote actor to a local note,
// addressed to the local author's followers, is forwarded (ActivityPub
// 7.1.2) with its original body, signed by the author, once per inbox, to
// followers on other hosts than the sender's, and never again when it
// arrives a second time.
func TestInboxForwarding(t *testing.T) {
	n := newNode(t, "home", nodeOptions{sqliteStore: true})
	dumpLogs(t, n)
	ana := n.actor("ana", false)
	p1, p2, p3 := newPeer(t, "one.example"), newPeer(t, "two.example"), newPeer(t, "three.example")
	rex, sam := p1.newActor("rex", pub.SystemClock{}), p1.newActor("sam", pub.SystemClock{})
	b1, b2 := p2.newActor("b1", pub.SystemClock{}), p2.newActor("b2", pub.SystemClock{})
	c1 := p3.newActor("c1", pub.SystemClock{})
	for _, a := range []*remoteActor{rex, sam, b1, b2} {
		withSharedInbox(t, a)
	}
	in1, in2, in3 := serveInboxes(p1, rex, sam), serveInboxes(p2, b1, b2), serveInboxes(p3, c1)
	for _, a := range []*remoteActor{sam, b1, b2, c1} {
		followFrom(t, n, a, ana)
	}
	note := n.publish(ana.ID, fmt.Sprintf(`{"type":"Note","content":"Question of the day","to":[%q,%q]}`, streams.PublicIRI, ana.Followers()))
	noteID := note.Object("object").ID()

	replyID := rex.id + "/statuses/99"
	reply := asDoc(t, map[string]any{
		"id": replyID + "/activity", "type": "Create", "actor": rex.id,
		"to": []string{streams.PublicIRI, ana.ID, ana.Followers()},
		"object": map[string]any{"id": replyID, "type": "Note", "attributedTo": rex.id, "inReplyTo": noteID,
			"content": "42", "to": []string{streams.PublicIRI, ana.ID, ana.Followers()}},
	})
	for i := range 2 {
		if got := postTo(t, ana.Inbox(), reply, rex.sign(httpsig.Cavage)); got != http.StatusAccepted {
			t.Fatalf("POST %d = %d", i, got)
		}
	}
	eventually(t, "reply processed and forwarded", func() bool {
		_, ok := n.object(replyID)
		return ok && len(in2.of(replyID+"/activity")) > 0 && len(in3.of(replyID+"/activity")) > 0 && n.idle()
	})
	// Another arrival through the shared inbox, after the fact.
	if got := postTo(t, n.base+"/inbox", reply, rex.sign(httpsig.Cavage)); got != http.StatusAccepted {
		t.Fatalf("shared inbox POST = %d", got)
	}
	eventually(t, "queue drained", n.idle)
	for _, tc := range []struct {
		host string
		in   *inboxes
		want []string
	}{
		{"two.example (shared inbox, two followers)", in2, []string{"/inbox"}},
		{"three.example (personal inbox)", in3, []string{"/users/c1/inbox"}},
		{"one.example (the sender's host)", in1, nil},
	} {
		got := tc.in.of(replyID + "/activity")
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d forwarded copies, want %d", tc.host, len(got), len(tc.want))
			continue
		}
		for i, r := range got {
			if r.path != tc.want[i] || !bytes.Equal(r.body, reply) || r.keyID != ana.Keys.RSAKeyID() {
				t.Errorf("%s: copy to %s signed by %s, same body %v", tc.host, r.path, r.keyID, bytes.Equal(r.body, reply))
			}
		}
	}
	if !n.hasItem(pub.Replies(noteID), replyID) {
		t.Error("the reply is not filed under the note")
	}

	// A remote activity that touches no local object is not forwarded.
	other := asDoc(t, map[string]any{
		"id": rex.id + "/statuses/100/activity", "type": "Create", "actor": rex.id, "to": []string{ana.Followers()},
		"object": map[string]any{"id": rex.id + "/statuses/100", "type": "Note", "attributedTo": rex.id, "content": "unrelated"},
	})
	if got := postTo(t, n.base+"/inbox", other, rex.sign(httpsig.Cavage)); got != http.StatusAccepted {
		t.Fatalf("POST = %d", got)
	}
	eventually(t, "processed", func() bool { _, ok := n.object(rex.id + "/statuses/100"); return ok && n.idle() })
	if len(in2.of(rex.id+"/statuses/100/activity")) != 0 {
		t.Error("an activity not about a local object was forwarded")
	}
}
