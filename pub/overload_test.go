package pub_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
)

// postResp sends a signed body to url and returns the status and the
// Retry-After header.
func postResp(t testing.TB, url string, body []byte, sign func(*http.Request, []byte)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", pub.ContentTypeActivityJSON)
	sign(req, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// mustOverloaded checks a 503 answer with a Retry-After of 1 s to 1 min,
// and its report to the observer.
func mustOverloaded(t *testing.T, status int, retryAfter string, events *inboxEvents) {
	t.Helper()
	if status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", status)
	}
	if s, err := strconv.Atoi(retryAfter); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q, want 1 to 60 seconds", retryAfter)
	}
	evs := events.take()
	if len(evs) != 1 || evs[0].Outcome != pub.InboxRejected || evs[0].Reason != pub.InboxOverloaded ||
		evs[0].Status != http.StatusServiceUnavailable || !errors.Is(evs[0].Err, pub.ErrOverloaded) {
		t.Errorf("events %+v, want one rejected as overloaded with 503", evs)
	}
}

// mustNotStored checks that no activity with id was recorded.
func mustNotStored(t *testing.T, n *node, id string) {
	t.Helper()
	if _, err := n.store.Inbound(context.Background(), id); !errors.Is(err, pub.ErrNotFound) {
		t.Errorf("%s recorded (%v), want nothing stored", id, err)
	}
}

// TestSecurity31_InboxOverload: under overload the inboxes answer 503 with
// Retry-After before reading the body or verifying anything, and store
// nothing: when MaxInboxInFlight requests are already being handled, and
// when MaxInboxBacklog recorded activities wait for processing (counted
// across processes through the store). Each such request is reported to
// the observer as rejected, "overloaded".
func TestSecurity31_InboxOverload(t *testing.T) {
	if !containsReason(pub.InboxReasons(), pub.InboxOverloaded) {
		t.Errorf("InboxReasons lacks %q", pub.InboxOverloaded)
	}

	t.Run("in flight", func(t *testing.T) {
		events := &inboxEvents{}
		n := newNode(t, "home", nodeOptions{noRun: true, fed: func(c *pub.FederationConfig) {
			c.MaxInboxInFlight = 1
			c.Observer = events.observe
		}})
		dumpLogs(t, n)
		bob := n.actor("bob", false)
		clock := pub.SystemClock{}
		good := newPeer(t, "good.example")
		alice := good.newActor("alice", clock)
		slow := good.newActor("slow", clock)
		// The first request holds the only slot while its signer's key
		// is fetched, until release.
		good.mu.Lock()
		doc := good.handlers[slow.path]
		good.mu.Unlock()
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		good.handle(slow.path, func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(entered) })
			<-release
			doc(w, r)
		})
		first := make(chan int, 1)
		go func() {
			st, _ := postResp(t, n.base+"/users/bob/inbox", activity(slow.id+"/a/1", "Follow", slow.id, bob.ID), slow.sign(httpsig.Cavage))
			first <- st
		}()
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			close(release)
			t.Fatal("the first request never fetched its key")
		}

		id := alice.id + "/a/1"
		for _, url := range []string{n.base + "/users/bob/inbox", n.base + "/inbox"} {
			status, retry := postResp(t, url, activity(id, "Follow", alice.id, bob.ID), alice.sign(httpsig.Cavage))
			mustOverloaded(t, status, retry, events)
			mustNotStored(t, n, id)
		}
		if hits := good.hitsOf(alice.path); hits != 0 {
			t.Errorf("alice's key fetched %d times for refused requests", hits)
		}

		close(release)
		if st := <-first; st != http.StatusAccepted {
			t.Errorf("held request: %d, want 202", st)
		}
		events.take()
		// The slot is free again.
		if st, _ := postResp(t, n.base+"/users/bob/inbox", activity(id, "Follow", alice.id, bob.ID), alice.sign(httpsig.Cavage)); st != http.StatusAccepted {
			t.Errorf("after the held request: %d, want 202", st)
		}
		if _, err := n.store.Inbound(context.Background(), id); err != nil {
			t.Errorf("accepted activity not recorded: %v", err)
		}
		if evs := events.take(); len(evs) != 1 || evs[0].Outcome != pub.InboxAccepted {
			t.Errorf("events %+v, want one accepted", evs)
		}
	})

	for _, tt := range []struct {
		name string
		opts nodeOptions
	}{
		{"backlog, memory store", nodeOptions{}},
		{"backlog, bunstore", nodeOptions{sqliteStore: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			events := &inboxEvents{}
			clock := newFakeClock()
			opts := tt.opts
			opts.noRun = true // processing paused
			opts.engine = func(c *pub.Config) { c.Clock = clock }
			opts.fed = func(c *pub.FederationConfig) {
				c.MaxInboxBacklog = 2
				c.Observer = events.observe
			}
			n := newNode(t, "home", opts)
			dumpLogs(t, n)
			bob := n.actor("bob", false)
			alice := newPeer(t, "good.example").newActor("alice", clock)
			inbox := n.base + "/users/bob/inbox"
			post := func(id string) (int, string) {
				return postResp(t, inbox, activity(id, "Like", alice.id, bob.ID+"/statuses/1"), alice.sign(httpsig.Cavage))
			}
			ids := []string{alice.id + "/a/1", alice.id + "/a/2", alice.id + "/a/3", alice.id + "/a/4"}
			for _, id := range ids[:2] {
				if st, _ := post(id); st != http.StatusAccepted {
					t.Fatalf("POST %s below the backlog bound: %d", id, st)
				}
			}
			events.take()
			for _, id := range []string{ids[2], ids[0]} {
				status, retry := post(id)
				mustOverloaded(t, status, retry, events)
			}
			mustNotStored(t, n, ids[2])

			// Processing drains the backlog: accepted again.
			if done, err := n.fed.ProcessPending(context.Background()); err != nil || done != 2 {
				t.Fatalf("ProcessPending = %d, %v", done, err)
			}
			if st, _ := post(ids[2]); st != http.StatusAccepted {
				t.Fatalf("after processing: %d, want 202", st)
			}
			if _, err := n.store.Inbound(context.Background(), ids[2]); err != nil {
				t.Errorf("accepted activity not recorded: %v", err)
			}
			events.take()

			// Another process sharing the store records one: this
			// process's own count misses it, the store's count, taken
			// again after a second, does not.
			other := pub.InboundActivity{ID: alice.id + "/a/other", Type: "Like", Actor: alice.id, KeyID: alice.keyID(),
				Body: activity(alice.id+"/a/other", "Like", alice.id, bob.ID+"/statuses/1"), ReceivedAt: clock.Now()}
			if _, err := n.store.RecordInbound(context.Background(), other); err != nil {
				t.Fatal(err)
			}
			clock.Advance(1100 * time.Millisecond)
			status, retry := post(ids[3])
			mustOverloaded(t, status, retry, events)
			mustNotStored(t, n, ids[3])
		})
	}
}

func containsReason(rs []pub.InboxReason, r pub.InboxReason) bool {
	for _, s := range rs {
		if s == r {
			return true
		}
	}
	return false
}
