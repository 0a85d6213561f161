package delivery_test

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/bunstore/bunstoretest"
	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/pub/httpsig"
)

// benchReceiver answers 202 to everything and counts requests.
func benchReceiver(tb testing.TB) (*receiver, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = r.Body.Read(make([]byte, 2048))
		n.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	tb.Cleanup(srv.Close)
	return &receiver{srv: srv}, &n
}

// countingObserver counts deliveries and closes done at want.
type countingObserver struct {
	delivered, other atomic.Int64
	want             int64
	done             chan struct{}
	once             sync.Once
}

func (o *countingObserver) ObserveDelivery(e delivery.Event) {
	if e.Outcome != delivery.Delivered {
		o.other.Add(1)
		return
	}
	if o.delivered.Add(1) == o.want {
		o.once.Do(func() { close(o.done) })
	}
}

func benchPool(b *testing.B, d bunstoretest.Database, key crypto.Signer, obs delivery.Observer) (*delivery.Pool, *bunstore.Store) {
	b.Helper()
	cfg := delivery.DefaultConfig()
	cfg.Owner = "bench"
	cfg.Logger = discardLogger()
	cfg.Observer = obs
	cfg.PollInterval = 10 * time.Millisecond
	store := bunstore.New(d.Open(b))
	signer, err := httpsig.NewSigner(key, testKeyID, nil)
	if err != nil {
		b.Fatal(err)
	}
	signers := delivery.SignerSourceFunc(func(ctx context.Context, keyID string) (delivery.Signer, error) {
		return delivery.NewHTTPSigSigner(signer, nil), nil
	})
	p, err := delivery.New(cfg, store, mustSender(b, time.Now, 0), signers)
	if err != nil {
		b.Fatal(err)
	}
	return p, store
}

// paddedActivity is an activity of about size bytes.
func paddedActivity(n, size int) []byte {
	body := activity(n)
	if pad := size - len(body); pad > 0 {
		s := string(body)
		s = strings.Replace(s, `"content":"hello"`, `"content":"`+strings.Repeat("x", pad)+`"`, 1)
		body = []byte(s)
	}
	return body
}

// BenchmarkFanOut measures draining one post's deliveries to 2,000 shared
// inboxes on 2,000 distinct hosts (one loopback server answering for every
// hostN.example), each request signed with RSA-2048 at send time. One
// operation is the whole drain.
func BenchmarkFanOut(b *testing.B) {
	const hosts = 2000
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			d := bunstoretest.SQLite(b)
			if dialect == "postgres" {
				d = bunstoretest.Postgres(b)
			}
			rcv, _ := benchReceiver(b)
			key := mustKey(b)
			body := paddedActivity(1, 1500)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				obs := &countingObserver{want: hosts, done: make(chan struct{})}
				p, _ := benchPool(b, d, key, obs)
				jobs := make([]delivery.Job, hosts)
				for i := range jobs {
					j, err := delivery.NewJob(hostInbox(b, rcv, i), testKeyID, activityID(1), body)
					if err != nil {
						b.Fatal(err)
					}
					jobs[i] = j
				}
				start := time.Now()
				if err := p.Enqueue(context.Background(), jobs...); err != nil {
					b.Fatal(err)
				}
				enqueue := time.Since(start)
				var cpu0 syscallTimes
				cpu0.read()
				b.StartTimer()
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- p.Run(ctx) }()
				select {
				case <-obs.done:
				case <-time.After(5 * time.Minute):
					b.Fatalf("drain timed out: %d delivered, %d other outcomes", obs.delivered.Load(), obs.other.Load())
				}
				b.StopTimer()
				elapsed := time.Since(start) - enqueue
				var cpu1 syscallTimes
				cpu1.read()
				cancel()
				if err := <-done; !errors.Is(err, context.Canceled) {
					b.Fatal(err)
				}
				if obs.other.Load() != 0 {
					b.Fatalf("%d deliveries did not succeed", obs.other.Load())
				}
				b.ReportMetric(float64(enqueue.Milliseconds()), "enqueue-ms")
				b.ReportMetric(float64(hosts)/elapsed.Seconds(), "deliveries/s")
				b.ReportMetric(cpu1.sub(cpu0).Seconds(), "cpu-s")
				b.StartTimer()
			}
		})
	}
}

// BenchmarkPendingMemory keeps 100,000 pending jobs (1 KiB bodies, 2,000
// hosts) in a SQLite queue while a Pool delivers 10,000 of them (Ed25519
// signatures, to keep the run short; the queue's memory does not depend on
// the key type), sampling the Go heap and the process's resident set.
func BenchmarkPendingMemory(b *testing.B) {
	const pending, drain, hosts = 100_000, 10_000, 2000
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		d := bunstoretest.SQLite(b)
		rcv, _ := benchReceiver(b)
		obs := &countingObserver{want: drain, done: make(chan struct{})}
		p, _ := benchPool(b, d, edKey, obs)

		runtime.GC()
		base := rssBytes()
		start := time.Now()
		const batch = 10_000
		for off := 0; off < pending; off += batch {
			jobs := make([]delivery.Job, 0, batch)
			for i := off; i < off+batch; i++ {
				j, err := delivery.NewJob(hostInbox(b, rcv, i%hosts), testKeyID, activityID(i), paddedActivity(i, 1024))
				if err != nil {
					b.Fatal(err)
				}
				jobs = append(jobs, j)
			}
			if err := p.Enqueue(context.Background(), jobs...); err != nil {
				b.Fatal(err)
			}
		}
		enqueue := time.Since(start)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heapAfterEnqueue := ms.HeapInuse

		var peakHeap, peakRSS atomic.Uint64
		stop := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Go(func() {
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peakHeap.Load() {
					peakHeap.Store(m.HeapInuse)
				}
				if r := rssBytes(); r > peakRSS.Load() {
					peakRSS.Store(r)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		drainStart := time.Now()
		go func() { done <- p.Run(ctx) }()
		select {
		case <-obs.done:
		case <-time.After(10 * time.Minute):
			b.Fatalf("drain timed out at %d", obs.delivered.Load())
		}
		drainTime := time.Since(drainStart)
		cancel()
		<-done
		close(stop)
		sampler.Wait()
		s, err := p.Stats(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if s.Queue.Pending < pending-drain-int64(delivery.DefaultConcurrency) {
			b.Fatalf("only %d pending", s.Queue.Pending)
		}
		const mb = 1 << 20
		b.ReportMetric(float64(heapAfterEnqueue)/mb, "heap-after-enqueue-MB")
		b.ReportMetric(float64(peakHeap.Load())/mb, "peak-heap-MB")
		b.ReportMetric(float64(peakRSS.Load())/mb, "peak-rss-MB")
		b.ReportMetric(float64(base)/mb, "start-rss-MB")
		b.ReportMetric(enqueue.Seconds(), "enqueue-100k-s")
		b.ReportMetric(float64(drain)/drainTime.Seconds(), "deliveries/s")
		if peakRSS.Load() > 200*mb {
			b.Errorf("resident set peaked at %d MB, over the 200 MB budget", peakRSS.Load()/mb)
		}
	}
}

// rssBytes reads the process's resident set from /proc (0 where there is
// none).
func rssBytes() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// syscallTimes is the process's user+system CPU time, read from /proc.
type syscallTimes struct{ d time.Duration }

func (s *syscallTimes) read() {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return
	}
	// Fields after the command name: utime and stime are the 12th and
	// 13th (1-based, counting from the state field as the 1st).
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	s.d = time.Duration(u+st) * time.Second / hz
}

func (s syscallTimes) sub(o syscallTimes) time.Duration { return s.d - o.d }
