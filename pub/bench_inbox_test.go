package pub_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/streams"
)

// BenchmarkInboxThroughput measures the shared inbox: signed Create{Note}
// POSTs from 100 senders on loopback (one server, keys already cached,
// requests signed before the timer starts), each verified, checked,
// deduplicated, recorded and answered 202. It reports accepted/s, and then,
// untimed by the benchmark clock but timed on its own, how fast Run
// processes what was recorded (processed/s: store the note, resolve
// recipients, check forwarding, mark done).
//
//	go test -run '^$' -bench InboxThroughput -benchtime 4000x ./pub/
//
// The sqlite case runs bunstore on SQLite in WAL mode with
// synchronous=NORMAL; the postgres case needs COMMONROOM_TEST_POSTGRES.
func BenchmarkInboxThroughput(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchInbox(b, nodeOptions{sqliteStore: true, noRun: true}) })
	b.Run("postgres", func(b *testing.B) { benchInbox(b, nodeOptions{postgres: true, noRun: true}) })
}

func benchInbox(b *testing.B, opts nodeOptions) {
	if b.N+100 >= 10_000 {
		// Processing waits until every POST is answered, so the backlog
		// grows to b.N: past MaxInboxBacklog's default, lift it (below,
		// the defaults are what is measured).
		opts.fed = func(c *pub.FederationConfig) { c.MaxInboxBacklog = b.N + 200 }
	}
	n := newNode(b, "home", opts)
	n.actor("ana", false)
	p := newPeer(b, "senders.example")
	senders := make([]*remoteActor, 100)
	for i := range senders {
		senders[i] = p.newActor(fmt.Sprintf("s%d", i), pub.SystemClock{})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}}
	defer client.CloseIdleConnections()
	send := func(req *http.Request) int {
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	var seq atomic.Int64
	build := func(a *remoteActor) *http.Request {
		k := seq.Add(1)
		noteID := fmt.Sprintf("%s/statuses/%d", a.id, k)
		body := asDoc(b, map[string]any{
			"id": noteID + "/activity", "type": "Create", "actor": a.id, "published": "2026-11-21T10:00:00Z",
			"to": []string{streams.PublicIRI}, "cc": []string{a.id + "/followers"},
			"object": map[string]any{
				"id": noteID, "type": "Note", "attributedTo": a.id, "published": "2026-11-21T10:00:00Z",
				"to": []string{streams.PublicIRI}, "cc": []string{a.id + "/followers"}, "sensitive": false,
				"content": "<p>Today we measured the schoolyard with a trundle wheel: 84 metres along the fence, " +
					"61 across. Next week: area, and why the corners are not quite square.</p>",
			},
		})
		req, err := http.NewRequest(http.MethodPost, n.base+"/inbox", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", pub.ContentTypeActivityJSON)
		a.sign(httpsig.Cavage)(req, body)
		return req
	}
	// Warm up: every sender's key is fetched and cached.
	for _, a := range senders {
		if got := send(build(a)); got != http.StatusAccepted {
			b.Fatalf("warm-up POST = %d", got)
		}
	}
	reqs := make([]*http.Request, b.N)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < b.N; i += 8 {
				reqs[i] = build(senders[i%len(senders)])
			}
		})
	}
	wg.Wait()
	next := atomic.Int64{}
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var cw sync.WaitGroup
	for range len(senders) {
		cw.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(reqs) {
					return
				}
				if send(reqs[i]) != http.StatusAccepted {
					failed.Add(1)
				}
			}
		})
	}
	cw.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d of %d POSTs not accepted", failed.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "accepted/s")

	// Background processing of everything recorded, timed on its own.
	total := b.N + len(senders)
	pstart := time.Now()
	n.run()
	ctx := context.Background()
	for {
		var pending int
		if err := n.db.NewRaw("SELECT COUNT(*) FROM pub_inbound WHERE processed_at IS NULL").Scan(ctx, &pending); err != nil {
			b.Fatal(err)
		}
		if pending == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(float64(total)/time.Since(pstart).Seconds(), "processed/s")
	n.stop()
	var bad int
	if err := n.db.NewRaw("SELECT COUNT(*) FROM pub_inbound WHERE result <> 'ok'").Scan(ctx, &bad); err != nil || bad != 0 {
		b.Fatalf("%d activities not processed ok (%v)", bad, err)
	}
}
