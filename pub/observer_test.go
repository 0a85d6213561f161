package pub_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
)

// inboxEvents records what a Federation's inbox observer reports.
type inboxEvents struct {
	mu  sync.Mutex
	evs []pub.InboxEvent
}

func (e *inboxEvents) observe(ev pub.InboxEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

// take returns the events reported since the last take.
func (e *inboxEvents) take() []pub.InboxEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	evs := e.evs
	e.evs = nil
	return evs
}

// TestInboxObserver: every inbox request is reported to the observer
// exactly once, with its outcome, and a rejection with its reason.
func TestInboxObserver(t *testing.T) {
	events := &inboxEvents{}
	bl, err := pub.NewBlocklist("blocked.example")
	if err != nil {
		t.Fatal(err)
	}
	n := newNode(t, "home", nodeOptions{
		noRun:  true,
		engine: func(c *pub.Config) { c.Blocker = bl },
		fed:    func(c *pub.FederationConfig) { c.Observer = events.observe },
	})
	dumpLogs(t, n)
	bob := n.actor("bob", false)
	clock := pub.SystemClock{}
	good := newPeer(t, "good.example")
	alice := good.newActor("alice", clock)
	carol := good.newActor("carol", clock) // never seen by n
	eve := newPeer(t, "evil.example").newActor("eve", clock)
	mallory := newPeer(t, "blocked.example").newActor("mallory", clock)
	follow := func(id string) []byte { return activity(alice.id+"/a/"+id, "Follow", alice.id, bob.ID) }
	now := time.Now()
	inbox := n.base + "/users/bob/inbox"

	for _, tt := range []struct {
		name    string
		url     string
		body    []byte
		sign    func(*http.Request, []byte)
		status  int
		outcome pub.InboxOutcome
		reason  pub.InboxReason
	}{
		{"accepted", inbox, follow("1"), alice.sign(httpsig.Cavage), http.StatusAccepted, pub.InboxAccepted, ""},
		{"duplicate", inbox, follow("1"), alice.sign(httpsig.Cavage), http.StatusAccepted, pub.InboxDuplicate, ""},
		{"duplicate at the shared inbox", n.base + "/inbox", follow("1"), alice.sign(httpsig.Cavage), http.StatusAccepted, pub.InboxDuplicate, ""},
		{"accepted at the shared inbox", n.base + "/inbox", follow("2"), alice.sign(httpsig.RFC9421), http.StatusAccepted, pub.InboxAccepted, ""},
		{"unsigned", inbox, follow("3"), nil, http.StatusUnauthorized, pub.InboxRejected, pub.InboxUnsigned},
		{"weak signature", inbox, follow("4"), func(r *http.Request, b []byte) {
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now, "(request-target)", "host", "date")
		}, http.StatusUnauthorized, pub.InboxRejected, pub.InboxSignature},
		{"signature by another key", inbox, follow("5"), signWith(eve.keys.RSA, alice.keyID(), clock, httpsig.Cavage),
			http.StatusUnauthorized, pub.InboxRejected, pub.InboxSignature},
		{"digest of another body", inbox, follow("6"), func(r *http.Request, b []byte) {
			r.Header.Set("Digest", httpsig.DigestHeader(follow("other")))
			cavageSign(r, follow("other"), alice.keys.RSA, alice.keyID(), now, "(request-target)", "host", "date", "digest")
		}, http.StatusUnauthorized, pub.InboxRejected, pub.InboxDigest},
		{"stale date", inbox, follow("7"), func(r *http.Request, b []byte) {
			cavageSign(r, b, alice.keys.RSA, alice.keyID(), now.Add(-2*time.Hour), "(request-target)", "host", "date", "digest")
		}, http.StatusUnauthorized, pub.InboxRejected, pub.InboxTimeWindow},
		{"key that cannot be fetched", inbox, activity(good.url("/users/ghost/a/1"), "Follow", good.url("/users/ghost"), bob.ID),
			signWith(alice.keys.RSA, good.url("/users/ghost#main-key"), clock, httpsig.Cavage),
			http.StatusUnauthorized, pub.InboxRejected, pub.InboxKey},
		{"blocked signer", inbox, activity(mallory.id+"/a/1", "Follow", mallory.id, bob.ID), mallory.sign(httpsig.Cavage),
			http.StatusForbidden, pub.InboxRejected, pub.InboxBlocked},
		{"local actor claimed", n.base + "/inbox", activity(bob.ID+"/a/1", "Like", bob.ID, alice.id), eve.sign(httpsig.Cavage),
			http.StatusUnauthorized, pub.InboxRejected, pub.InboxLocalActor},
		{"signer is not the actor", inbox, follow("8"), eve.sign(httpsig.Cavage),
			http.StatusUnauthorized, pub.InboxRejected, pub.InboxActorMismatch},
		{"activity id on another host", inbox, activity(eve.id+"/a/1", "Follow", alice.id, bob.ID), alice.sign(httpsig.Cavage),
			http.StatusForbidden, pub.InboxRejected, pub.InboxActorMismatch},
		{"not JSON", inbox, []byte(`{"type":`), alice.sign(httpsig.Cavage), http.StatusBadRequest, pub.InboxRejected, pub.InboxInvalid},
		{"Follow without object", inbox, activity(alice.id+"/a/9", "Follow", alice.id, nil), alice.sign(httpsig.Cavage),
			http.StatusBadRequest, pub.InboxRejected, pub.InboxInvalid},
		{"too large", inbox, bytes.Repeat([]byte(" "), 1<<20+1), alice.sign(httpsig.Cavage),
			http.StatusRequestEntityTooLarge, pub.InboxRejected, pub.InboxTooLarge},
		{"unknown recipient", n.base + "/users/nobody/inbox", follow("10"), alice.sign(httpsig.Cavage),
			http.StatusNotFound, pub.InboxRejected, pub.InboxUnknownRecipient},
		{"self-delete of an unknown actor", inbox, activity(carol.id+"#delete", "Delete", carol.id, carol.id), carol.sign(httpsig.Cavage),
			http.StatusAccepted, pub.InboxRejected, pub.InboxGone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := postTo(t, tt.url, tt.body, tt.sign); got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
			evs := events.take()
			if len(evs) != 1 {
				t.Fatalf("%d events, want exactly 1: %+v", len(evs), evs)
			}
			ev := evs[0]
			if ev.Outcome != tt.outcome || ev.Reason != tt.reason || ev.Status != tt.status {
				t.Errorf("event %s/%q/%d, want %s/%q/%d (err %v)", ev.Outcome, ev.Reason, ev.Status, tt.outcome, tt.reason, tt.status, ev.Err)
			}
			if (ev.Outcome == pub.InboxRejected) != (ev.Err != nil) {
				t.Errorf("event %s with error %v", ev.Outcome, ev.Err)
			}
			if strings.HasSuffix(tt.url, "/users/bob/inbox") && ev.Recipient != bob.ID && ev.Outcome != pub.InboxRejected {
				t.Errorf("recipient %q, want %q", ev.Recipient, bob.ID)
			}
			if ev.Outcome != pub.InboxRejected && (ev.ActivityID == "" || ev.Actor != alice.id) {
				t.Errorf("activity %q by %q, want one by %s", ev.ActivityID, ev.Actor, alice.id)
			}
		})
	}

	t.Run("method", func(t *testing.T) {
		for _, h := range []http.Handler{n.fed.SharedInbox(), n.fed.PersonalInbox()} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/inbox", nil))
			evs := events.take()
			if rec.Code != http.StatusMethodNotAllowed || len(evs) != 1 || evs[0].Outcome != pub.InboxRejected || evs[0].Reason != pub.InboxMethod {
				t.Errorf("GET: %d, events %+v", rec.Code, evs)
			}
		}
	})

	// Every reason is in the closed set.
	for _, r := range []pub.InboxReason{pub.InboxUnsigned, pub.InboxGone, pub.InboxInternal} {
		found := false
		for _, s := range pub.InboxReasons() {
			found = found || s == r
		}
		if !found {
			t.Errorf("InboxReasons lacks %q", r)
		}
	}
}
