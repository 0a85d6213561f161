package delivery_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/bunstore/bunstoretest"
	"github.com/commonroom/commonroom/pub/delivery"
)

// retryCase is one row of the rule 28 table: it gets a fresh database.
type retryCase struct {
	name string
	run  func(t *testing.T, d bunstoretest.Database)
}

// wantCounts checks the Pool's outcome counters and the queue's depth.
func wantCounts(t *testing.T, h *harness, want map[delivery.Outcome]int64, pending int64) {
	t.Helper()
	s := h.stats(t)
	for o := delivery.Delivered; o <= delivery.Skipped; o++ {
		if got := s.Count(o); got != want[o] {
			t.Errorf("%s: %d, want %d", o, got, want[o])
		}
	}
	if s.Queue.Pending != pending {
		t.Errorf("pending jobs %d, want %d", s.Queue.Pending, pending)
	}
}

// wantStep runs one Step and checks how many jobs it claimed.
func wantStep(t *testing.T, h *harness, claimed int) {
	t.Helper()
	if n := h.step(t); n != claimed {
		t.Fatalf("step at %v claimed %d jobs, want %d", h.clk.Now(), n, claimed)
	}
}

// retriedThenDelivered: the receiver answers first, then 200; the job is
// due again after the minimum back-off (jitter pinned to 0) and delivered.
func retriedThenDelivered(first reply) func(t *testing.T, d bunstoretest.Database) {
	return func(t *testing.T, d bunstoretest.Database) {
		clk := newClock(t0)
		cfg := testConfig(clk)
		h := newHarness(t, d, cfg, clk, 0)
		rcv := newReceiver(t, func(n int) reply {
			if n == 1 {
				return first
			}
			return reply{status: http.StatusOK}
		})
		h.enqueue(t, mustJob(t, rcv.inbox(), 1))
		wantStep(t, h, 1)
		wantCounts(t, h, map[delivery.Outcome]int64{delivery.Retried: 1}, 1)
		clk.Advance(cfg.BackoffMin - time.Millisecond)
		wantStep(t, h, 0)
		clk.Advance(time.Millisecond)
		wantStep(t, h, 1)
		wantCounts(t, h, map[delivery.Outcome]int64{delivery.Retried: 1, delivery.Delivered: 1}, 0)
		hits, got, unsigned := rcv.counts()
		if hits != 2 || got[activityID(1)] != 1 || unsigned != 0 {
			t.Fatalf("receiver: %d requests, %v delivered, %d unsigned", hits, got, unsigned)
		}
	}
}

// droppedAtOnce: a final status drops the job after one attempt.
func droppedAtOnce(status int) func(t *testing.T, d bunstoretest.Database) {
	return func(t *testing.T, d bunstoretest.Database) {
		clk := newClock(t0)
		h := newHarness(t, d, testConfig(clk), clk, 0)
		rcv := newReceiver(t, always(status))
		h.enqueue(t, mustJob(t, rcv.inbox(), 1))
		wantStep(t, h, 1)
		wantCounts(t, h, map[delivery.Outcome]int64{delivery.Rejected: 1}, 0)
		clk.Advance(72 * time.Hour)
		wantStep(t, h, 0)
		if hits, _, _ := rcv.counts(); hits != 1 {
			t.Fatalf("receiver got %d requests, want 1", hits)
		}
	}
}

// retryAfter: a 429 with Retry-After holds the next attempt back exactly
// that long, up to the cap.
func retryAfter(header string, wait func(cfg delivery.Config) time.Duration) func(t *testing.T, d bunstoretest.Database) {
	return func(t *testing.T, d bunstoretest.Database) {
		clk := newClock(t0)
		cfg := testConfig(clk)
		h := newHarness(t, d, cfg, clk, 0)
		rcv := newReceiver(t, func(n int) reply {
			if n == 1 {
				return reply{status: http.StatusTooManyRequests, retryAfter: header}
			}
			return reply{status: http.StatusOK}
		})
		h.enqueue(t, mustJob(t, rcv.inbox(), 1))
		wantStep(t, h, 1)
		w := wait(cfg)
		clk.Set(t0.Add(w - time.Millisecond))
		wantStep(t, h, 0)
		clk.Set(t0.Add(w))
		wantStep(t, h, 1)
		wantCounts(t, h, map[delivery.Outcome]int64{delivery.Retried: 1, delivery.Delivered: 1}, 0)
	}
}

func TestSecurity28_DeliveryRetrySemantics(t *testing.T) {
	cases := []retryCase{
		{"500 then 200 is delivered on the second attempt", retriedThenDelivered(reply{status: 500})},
		{"503 then 200 is delivered", retriedThenDelivered(reply{status: 503})},
		{"401 is retried", retriedThenDelivered(reply{status: 401})},
		{"408 is retried", retriedThenDelivered(reply{status: 408})},
		{"429 is retried", retriedThenDelivered(reply{status: 429})},
		{"429 Retry-After 120 waits 120 s", retryAfter("120", func(delivery.Config) time.Duration { return 120 * time.Second })},
		{"Retry-After as an HTTP date", retryAfter(t0.Add(time.Hour).Format(http.TimeFormat), func(delivery.Config) time.Duration { return time.Hour })},
		{"absurd Retry-After is capped", retryAfter("999999999999", func(c delivery.Config) time.Duration { return c.MaxRetryAfter })},
		{"400 is dropped after one attempt", droppedAtOnce(400)},
		{"403 is dropped after one attempt", droppedAtOnce(403)},
		{"404 is dropped after one attempt", droppedAtOnce(404)},
		{"410 is dropped after one attempt", droppedAtOnce(410)},
		{"timeout is retried", func(t *testing.T, d bunstoretest.Database) {
			clk := newClock(t0)
			cfg := testConfig(clk)
			h := newHarness(t, d, cfg, clk, 150*time.Millisecond)
			rcv := newReceiver(t, func(n int) reply {
				if n == 1 {
					return reply{status: 200, delay: 2 * time.Second}
				}
				return reply{status: 200}
			})
			h.enqueue(t, mustJob(t, rcv.inbox(), 1))
			wantStep(t, h, 1)
			wantCounts(t, h, map[delivery.Outcome]int64{delivery.Retried: 1}, 1)
			clk.Advance(cfg.BackoffMin)
			wantStep(t, h, 1)
			wantCounts(t, h, map[delivery.Outcome]int64{delivery.Retried: 1, delivery.Delivered: 1}, 0)
		}},
		{"connection refused is retried", func(t *testing.T, d bunstoretest.Database) {
			clk := newClock(t0)
			cfg := testConfig(clk)
			h := newHarness(t, d, cfg, clk, 0)
			rcv := newReceiver(t, nil)
			inbox := rcv.inbox()
			rcv.srv.Close() // nothing listens there any more
			h.enqueue(t, mustJob(t, inbox, 1))
			wantStep(t, h, 1)
			wantCounts(t, h, map[delivery.Outcome]int64{delivery.Retried: 1}, 1)
		}},
		{"max attempts drops and counts", func(t *testing.T, d bunstoretest.Database) {
			clk := newClock(t0)
			cfg := testConfig(clk)
			cfg.MaxAttempts = 4
			h := newHarness(t, d, cfg, clk, 0)
			rcv := newReceiver(t, always(500))
			h.enqueue(t, mustJob(t, rcv.inbox(), 1))
			for i := range 4 {
				wantStep(t, h, 1)
				clk.Advance(cfg.BackoffCeiling(i + 1))
			}
			wantStep(t, h, 0)
			wantCounts(t, h, map[delivery.Outcome]int64{delivery.Retried: 3, delivery.Expired: 1}, 0)
			if hits, _, _ := rcv.counts(); hits != 4 {
				t.Fatalf("receiver got %d requests, want 4", hits)
			}
		}},
		{"a key that is gone drops the job unsent", func(t *testing.T, d bunstoretest.Database) {
			clk := newClock(t0)
			h := newHarness(t, d, testConfig(clk), clk, 0)
			rcv := newReceiver(t, nil)
			j := mustJob(t, rcv.inbox(), 1)
			j.KeyID = "https://local.example/users/deleted#main-key"
			h.enqueue(t, j)
			wantStep(t, h, 1)
			wantCounts(t, h, map[delivery.Outcome]int64{delivery.Rejected: 1}, 0)
			if hits, _, _ := rcv.counts(); hits != 0 {
				t.Fatalf("receiver got %d requests", hits)
			}
		}},
		{"7 distinct failure days make a host unavailable", sevenDays},
		{"killed mid-queue, delivered after restart", killedMidQueue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bunstoretest.ForEach(t, c.run)
		})
	}
}

// failDays fails a delivery to rcv on each of 7 distinct days (several times
// a day) and checks the host becomes unavailable on the 7th.
func failDays(t *testing.T, h *harness, rcv *receiver, first int) {
	t.Helper()
	rcv.setScript(always(500))
	for day := range 7 {
		for i := range 2 {
			h.enqueue(t, mustJob(t, rcv.inbox(), first+day*10+i))
			h.step(t) // earlier jobs may be due again, too
			h.clk.Advance(time.Hour)
		}
		st, err := h.store.Hosts(context.Background(), []string{mustHost(t, rcv.inbox())})
		if err != nil {
			t.Fatal(err)
		}
		hs := st[mustHost(t, rcv.inbox())]
		if hs.FailureDays != day+1 || hs.Unavailable != (day == 6) {
			t.Fatalf("after day %d: %+v", day+1, hs)
		}
		if day < 6 {
			h.clk.Advance(22 * time.Hour)
		}
	}
}

func mustHost(t *testing.T, u string) string {
	t.Helper()
	h, err := delivery.HostOf(u)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func sevenDays(t *testing.T, d bunstoretest.Database) {
	ctx := context.Background()
	clk := newClock(t0)
	cfg := testConfig(clk)
	cfg.MaxAttempts = 100
	cfg.BackoffMax = time.Hour // every job is due again within the day
	var unavailableEvents atomic.Int64
	cfg.Observer = delivery.ObserverFunc(func(e delivery.Event) {
		if e.HostUnavailable {
			unavailableEvents.Add(1)
		}
	})
	h := newHarness(t, d, cfg, clk, 0)
	rcv := newReceiver(t, always(500))
	failDays(t, h, rcv, 0)
	if n := unavailableEvents.Load(); n != 1 {
		t.Fatalf("%d host-unavailable events, want 1", n)
	}

	// Same day: every job for the host is skipped, nothing is sent.
	before, _, _ := rcv.counts()
	h.enqueue(t, mustJob(t, rcv.inbox(), 1000))
	h.drain(t)
	if after, _, _ := rcv.counts(); after != before {
		t.Fatalf("unavailable host got %d requests", after-before)
	}
	if s := h.stats(t); s.Queue.Pending != 0 || s.Count(delivery.Skipped) == 0 || s.Queue.UnavailableHosts != 1 {
		t.Fatalf("after skipping: %+v", s)
	}

	// The host sends us something: deliveries resume at once.
	rcv.setScript(always(202))
	if err := h.pool.MarkReachable(ctx, rcv.srv.URL+"/users/bob"); err != nil {
		t.Fatal(err)
	}
	h.enqueue(t, mustJob(t, rcv.inbox(), 1001))
	wantStep(t, h, 1)
	if _, got, _ := rcv.counts(); got[activityID(1001)] != 1 {
		t.Fatalf("not delivered after MarkReachable: %v", got)
	}

	// Unavailable again; the next day's first job is a probe, and its
	// success re-enables the host.
	failDays(t, h, rcv, 2000)
	clk.Advance(24 * time.Hour)
	rcv.setScript(always(200))
	h.enqueue(t, mustJob(t, rcv.inbox(), 3000))
	before, _, _ = rcv.counts()
	h.step(t) // the day's first claim goes out (the oldest due jobs)
	if after, _, _ := rcv.counts(); after == before {
		t.Fatal("no probe on a new day")
	}
	st, _ := h.store.Hosts(ctx, []string{mustHost(t, rcv.inbox())})
	if hs := st[mustHost(t, rcv.inbox())]; hs.Unavailable || hs.FailureDays != 0 {
		t.Fatalf("after a successful probe: %+v", hs)
	}
	h.drain(t)
	if _, got, _ := rcv.counts(); got[activityID(3000)] != 1 {
		t.Fatalf("not delivered after the probe: %v", got)
	}
}

// blockingSender stands for a process that dies mid-send: it reports each
// job it is handed, then never returns until released, and never sends.
type blockingSender struct {
	started chan string
	release chan struct{}
}

func (b *blockingSender) Send(ctx context.Context, inboxURL string, body []byte, signer delivery.Signer) (delivery.Response, error) {
	b.started <- inboxURL
	<-b.release
	return delivery.Response{}, errors.New("process died")
}

func killedMidQueue(t *testing.T, d bunstoretest.Database) {
	const jobs = 40
	clk := newClock(t0)
	cfg := testConfig(clk)
	cfg.Concurrency = 8
	rcv := newReceiver(t, always(202))

	// The first process claims a batch and dies mid-send.
	dying := &blockingSender{started: make(chan string, jobs), release: make(chan struct{})}
	crashCfg := cfg
	crashCfg.Owner = "crashed"
	crashed, err := delivery.New(crashCfg, bunstore.New(d.Open(t)), dying, httpsigSource(t, clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	var all []delivery.Job
	for i := range jobs {
		all = append(all, mustJob(t, rcv.inbox(), i))
	}
	if err := crashed.Enqueue(context.Background(), all...); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = crashed.Step(context.Background()) })
	for range cfg.MaxPerHost { // one host: MaxPerHost jobs in flight
		<-dying.started
	}

	// A new process on the same database, once the leases have lapsed.
	restartCfg := cfg
	restartCfg.Owner = "restarted"
	h := newHarness(t, d, restartCfg, clk, 0)
	h.drain(t) // everything but the dead process's leased jobs
	if hits, _, _ := rcv.counts(); hits != jobs-cfg.MaxPerHost {
		t.Fatalf("before the leases lapse: %d delivered, want %d", hits, jobs-cfg.MaxPerHost)
	}
	clk.Advance(cfg.Lease)
	h.drain(t)
	hits, got, _ := rcv.counts()
	if hits != jobs || len(got) != jobs {
		t.Fatalf("delivered %d distinct of %d requests, want %d", len(got), hits, jobs)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	// The dead process's late outcomes do not touch the queue.
	close(dying.release)
	wg.Wait()
	if s := h.stats(t); s.Queue.Pending != 0 {
		t.Fatalf("pending %d", s.Queue.Pending)
	}
}
