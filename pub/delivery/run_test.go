package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/bunstore/bunstoretest"
	"github.com/commonroom/commonroom/pub/delivery"
)

// hostInbox is an inbox on a made-up host name that the test resolver maps
// onto the receiver's loopback address.
func hostInbox(tb testing.TB, rcv *receiver, host int) string {
	tb.Helper()
	u, err := url.Parse(rcv.srv.URL)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("http://host%d.example:%s/inbox", host, u.Port())
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newRunPool(tb testing.TB, d bunstoretest.Database, owner string, mutate func(*delivery.Config)) (*delivery.Pool, *bunstore.Store) {
	tb.Helper()
	cfg := delivery.DefaultConfig()
	cfg.Owner = owner
	cfg.PollInterval = 5 * time.Millisecond
	cfg.Logger = discardLogger()
	if mutate != nil {
		mutate(&cfg)
	}
	store := bunstore.New(d.Open(tb))
	p, err := delivery.New(cfg, store, mustSender(tb, time.Now, 0), httpsigSource(tb, time.Now))
	if err != nil {
		tb.Fatal(err)
	}
	return p, store
}

// TestExactlyOnceAcrossPools runs two Pools, each with its own connection
// pool to one database (two processes, as far as the database can tell), over
// one queue, and checks every job reached the receiver exactly once.
func TestExactlyOnceAcrossPools(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		const jobs, hosts = 400, 25
		rcv := newReceiver(t, nil)
		small := func(c *delivery.Config) { c.Concurrency, c.MaxPerHost = 12, 2 }
		a, _ := newRunPool(t, d, "process-a", small)
		b, _ := newRunPool(t, d, "process-b", small)
		var all []delivery.Job
		for i := range jobs {
			all = append(all, mustJob(t, hostInbox(t, rcv, i%hosts), i))
		}
		if err := a.Enqueue(context.Background(), all...); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, p := range []*delivery.Pool{a, b} {
			wg.Go(func() {
				if err := p.Run(ctx); !errors.Is(err, context.Canceled) {
					t.Errorf("Run: %v", err)
				}
			})
		}
		waitFor(t, "every delivery", 120*time.Second, func() bool {
			_, got, _ := rcv.counts()
			return len(got) == jobs
		})
		cancel()
		wg.Wait()

		hits, got, unsigned := rcv.counts()
		if hits != jobs || unsigned != 0 {
			t.Errorf("%d requests (%d unsigned) for %d jobs", hits, unsigned, jobs)
		}
		for id, n := range got {
			if n != 1 {
				t.Errorf("%s delivered %d times", id, n)
			}
		}
		sa, err := a.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sb, _ := b.Stats(context.Background())
		if sa.Count(delivery.Delivered)+sb.Count(delivery.Delivered) != jobs {
			t.Errorf("pools counted %d + %d deliveries", sa.Count(delivery.Delivered), sb.Count(delivery.Delivered))
		}
		if sa.Count(delivery.Delivered) == 0 || sb.Count(delivery.Delivered) == 0 {
			t.Logf("one pool did all the work: %d / %d", sa.Count(delivery.Delivered), sb.Count(delivery.Delivered))
		}
		if sa.Queue.Pending != 0 {
			t.Errorf("pending %d", sa.Queue.Pending)
		}
	})
}

// TestGracefulStop stops a Pool while sends are in flight: they finish and
// are recorded, nothing stays leased, the rest stays queued, and the next
// Run delivers it.
func TestGracefulStop(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		const jobs = 24
		rcv := newReceiver(t, func(int) reply { return reply{status: 202, delay: 300 * time.Millisecond} })
		p, _ := newRunPool(t, d, "stopping", func(c *delivery.Config) { c.Concurrency = 4 })
		var all []delivery.Job
		for i := range jobs {
			all = append(all, mustJob(t, hostInbox(t, rcv, i), i))
		}
		if err := p.Enqueue(context.Background(), all...); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		waitFor(t, "a send in flight", 30*time.Second, func() bool {
			hits, _, _ := rcv.counts()
			return hits > 0
		})
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v", err)
		}
		s, err := p.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		hits, _, _ := rcv.counts()
		if s.InFlight != 0 || s.Queue.Leased != 0 {
			t.Fatalf("after stop: %d in flight, %d leased", s.InFlight, s.Queue.Leased)
		}
		if int(s.Count(delivery.Delivered)) != hits || s.Queue.Pending != int64(jobs-hits) {
			t.Fatalf("after stop: %d delivered, %d received, %d pending", s.Count(delivery.Delivered), hits, s.Queue.Pending)
		}
		if hits == jobs {
			t.Fatal("everything was delivered before the stop; the test proves nothing")
		}

		ctx, cancel = context.WithCancel(context.Background())
		go func() { done <- p.Run(ctx) }()
		waitFor(t, "the rest", 60*time.Second, func() bool {
			_, got, _ := rcv.counts()
			return len(got) == jobs
		})
		if err := p.Run(ctx); !errors.Is(err, delivery.ErrRunning) {
			t.Errorf("second Run: %v, want ErrRunning", err)
		}
		cancel()
		<-done
		if _, got, _ := rcv.counts(); len(got) != jobs {
			t.Fatalf("delivered %d of %d", len(got), jobs)
		}
	})
}

// TestRunSkipsUnavailableHost: a full batch of jobs for an unavailable host
// is skipped, and Run goes straight on to the next due jobs.
func TestRunSkipsUnavailableHost(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		live := newReceiver(t, nil)
		dead := newReceiver(t, nil)
		p, store := newRunPool(t, d, "skipper", func(c *delivery.Config) {
			c.Concurrency, c.MaxPerHost = 2, 2
			c.PollInterval = time.Hour // only a busy loop may find the live job
		})
		deadHost := mustHost(t, dead.inbox())
		now := time.Now()
		for day := 6; day >= 0; day-- {
			if _, _, err := store.RecordFailure(context.Background(), deadHost, now.Add(-time.Duration(day)*24*time.Hour), 7); err != nil {
				t.Fatal(err)
			}
		}
		var all []delivery.Job
		for i := range 9 {
			all = append(all, mustJob(t, dead.inbox(), i))
		}
		all = append(all, mustJob(t, live.inbox(), 100))
		if err := p.Enqueue(context.Background(), all...); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		waitFor(t, "the live host's delivery", 30*time.Second, func() bool {
			_, got, _ := live.counts()
			return got[activityID(100)] == 1
		})
		cancel()
		<-done
		if hits, _, _ := dead.counts(); hits != 0 {
			t.Fatalf("unavailable host got %d requests", hits)
		}
		s, err := p.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Count(delivery.Skipped) != 9 || s.Queue.Pending != 0 {
			t.Fatalf("skipped %d, pending %d", s.Count(delivery.Skipped), s.Queue.Pending)
		}
	})
}
