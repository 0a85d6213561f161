//go:build unix

package pub_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	pubdelivery "github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/streams"
)

// Fan-out shape of the target: 10,000 followers, 5 on each of
// 2,000 remote hosts.
const (
	fanOutHosts           = 2000
	fanOutFollowersByHost = 5
)

// BenchmarkPublishFanOut measures one public Note published by a local
// actor with 10,000 followers on 2,000 remote hosts (hostN.example, all
// answered by one loopback server through the test resolver and the
// transport's loopback allow-list), end to end: Federation.Publish
// (audience resolution from the follow store, storing, enqueueing one job
// per shared inbox) until every shared inbox has received its POST, each
// signed with the actor's RSA-2048 key when it is sent by the delivery
// Pool that Federation.Run runs with delivery's default settings. The
// followers are recorded as the inbox's Follow handling records them, with
// their inbox and shared inbox, so Publish fetches nothing. It fails unless
// every shared inbox got exactly one POST and nothing else was requested.
//
//	go test -run '^$' -bench PublishFanOut -benchtime 1x -count 3 ./pub/
//
// The sqlite case runs bunstore on SQLite in WAL mode; the postgres case
// needs COMMONROOM_TEST_POSTGRES. cpu-s is the whole process's CPU time
// (user+system) over the timed span, the receiving server's included.
func BenchmarkPublishFanOut(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchPublishFanOut(b, nodeOptions{sqliteStore: true}) })
	b.Run("postgres", func(b *testing.B) { benchPublishFanOut(b, nodeOptions{postgres: true}) })
}

func benchPublishFanOut(b *testing.B, opts nodeOptions) {
	var failed atomic.Int64
	opts.fed = func(fc *pub.FederationConfig) {
		// The server's settings, not the harness's short polls and back-offs.
		fc.PollInterval = 0
		fc.Delivery = pubdelivery.DefaultConfig()
		fc.Delivery.Logger = nil // the engine's
		fc.Delivery.Observer = pubdelivery.ObserverFunc(func(e pubdelivery.Event) {
			if e.Outcome != pubdelivery.Delivered {
				failed.Add(1)
			}
		})
	}
	n := newNode(b, "home", opts)
	ana := n.actor("ana", false)
	rcv := newFanOutReceiver(b)
	mustFollowers(b, n.store, ana.ID, rcv.port)
	ctx := context.Background()

	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		done := rcv.reset(fanOutHosts)
		note, err := streams.Parse(fmt.Appendf(nil, `{"@context": "https://www.w3.org/ns/activitystreams", "type": "Note",
			"to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [%q],
			"content": "<p>Fan-out %d: the schoolyard is 84 metres along the fence and 61 across.</p>"}`, ana.Followers(), i))
		if err != nil {
			b.Fatal(err)
		}
		failed.Store(0)
		cpu0 := processCPU(b)
		start := time.Now()
		b.StartTimer()
		if _, err := n.fed.Publish(ctx, ana.ID, note); err != nil {
			b.Fatal(err)
		}
		published := time.Since(start)
		select {
		case <-done:
		case <-time.After(5 * time.Minute):
			b.Fatalf("timed out: %d of %d shared inboxes reached, %d deliveries failed", rcv.sharedInboxes(), fanOutHosts, failed.Load())
		}
		b.StopTimer()
		elapsed := time.Since(start)
		cpu := processCPU(b) - cpu0

		// Wait for the queue to record every outcome, then check that no
		// inbox got a second POST and nothing else was asked for.
		eventually(b, "delivery queue drained", n.idle)
		if f := failed.Load(); f != 0 {
			b.Fatalf("%d deliveries did not succeed", f)
		}
		if err := rcv.check(ana.Keys.RSAKeyID()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(elapsed.Seconds(), "deliver-all-s")
		b.ReportMetric(float64(fanOutHosts)/elapsed.Seconds(), "deliveries/s")
		b.ReportMetric(cpu.Seconds(), "cpu-s")
		b.ReportMetric(float64(published.Microseconds())/1000, "publish-ms")
	}
}

// mustFollowers records 10,000 accepted followers of followee, 5 on each
// of the 2,000 hosts hostN.example:port, each with its own inbox and its
// host's shared inbox, as the inbox's Follow handling stores them.
func mustFollowers(tb testing.TB, store pub.Store, followee, port string) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for h := w; h < fanOutHosts; h += 8 {
				origin := fmt.Sprintf("http://host%d.example:%s", h, port)
				for k := range fanOutFollowersByHost {
					actor := fmt.Sprintf("%s/users/f%d", origin, k)
					if err := store.PutFollow(ctx, pub.Follow{
						Follower: actor, Followee: followee, ActivityID: actor + "/follows/1",
						State: pub.FollowAccepted, Inbox: actor + "/inbox", SharedInbox: origin + "/inbox",
						CreatedAt: now,
					}); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
	fs, total, err := store.Follows(ctx, pub.FollowQuery{Followee: followee, State: pub.FollowAccepted})
	if err != nil || total != fanOutHosts*fanOutFollowersByHost || len(fs) != total {
		tb.Fatalf("%d followers recorded (%v), want %d", total, err, fanOutHosts*fanOutFollowersByHost)
	}
}

// fanOutReceiver is one loopback server answering for every
// hostN.example: it answers 202 to every POST, counts POSTs per shared
// inbox (/inbox) and every other request apart, and closes done when the
// wanted number of distinct shared inboxes was reached.
type fanOutReceiver struct {
	port string

	mu     sync.Mutex
	shared map[string]int // shared inbox URL → POSTs
	other  map[string]int // any other method and URL → requests
	keyIDs map[string]int // keyId of each POST's signature
	want   int
	done   chan struct{}
}

func newFanOutReceiver(tb testing.TB) *fanOutReceiver {
	tb.Helper()
	r := &fanOutReceiver{}
	r.reset(0)
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(srv.Close)
	_, r.port, _ = net.SplitHostPort(srv.Listener.Addr().String())
	return r
}

// reset clears the counts and returns the channel closed when want
// distinct shared inboxes got a POST.
func (r *fanOutReceiver) reset(want int) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shared, r.other, r.keyIDs = map[string]int{}, map[string]int{}, map[string]int{}
	r.want, r.done = want, make(chan struct{})
	return r.done
}

func (r *fanOutReceiver) serve(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, req.Body)
	url := "http://" + req.Host + req.URL.Path
	keyID := ""
	if _, rest, ok := strings.Cut(req.Header.Get("Signature"), `keyId="`); ok {
		keyID, _, _ = strings.Cut(rest, `"`)
	}
	r.mu.Lock()
	if req.Method == http.MethodPost && req.URL.Path == "/inbox" {
		r.shared[url]++
		r.keyIDs[keyID]++
		if r.shared[url] == 1 && len(r.shared) == r.want {
			close(r.done)
		}
	} else {
		r.other[req.Method+" "+url]++
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (r *fanOutReceiver) sharedInboxes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.shared)
}

// check reports an error unless every one of the 2,000 shared inboxes got
// exactly one POST signed with keyID, and nothing else was requested.
func (r *fanOutReceiver) check(keyID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	posts := 0
	for url, c := range r.shared {
		posts += c
		if c != 1 {
			return fmt.Errorf("%s got %d POSTs, want 1", url, c)
		}
	}
	if len(r.shared) != fanOutHosts || posts != fanOutHosts {
		return fmt.Errorf("%d POSTs to %d shared inboxes, want %d to %d", posts, len(r.shared), fanOutHosts, fanOutHosts)
	}
	if len(r.other) != 0 {
		return fmt.Errorf("%d other URLs requested (personal inboxes or fetches), e.g. %v", len(r.other), firstKey(r.other))
	}
	if r.keyIDs[keyID] != fanOutHosts {
		return fmt.Errorf("signatures by key id: %v, want all %d by %s", r.keyIDs, fanOutHosts, keyID)
	}
	return nil
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}

// processCPU is the process's user+system CPU time so far.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
