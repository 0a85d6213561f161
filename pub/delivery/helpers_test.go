package delivery_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/bunstore/bunstoretest"
	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/pub/transport"
)

const testKeyID = "https://local.example/users/alice#main-key"

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *clock { return &clock{now: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// mustKey returns an RSA-2048 key shared by the tests of this binary.
func mustKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

// httpsigSource returns a SignerSource that signs as testKeyID with
// draft-cavage, and refuses other key ids permanently (the actor is gone).
func httpsigSource(tb testing.TB, now func() time.Time) delivery.SignerSource {
	tb.Helper()
	s, err := httpsig.NewSigner(mustKey(tb), testKeyID, now)
	if err != nil {
		tb.Fatal(err)
	}
	return delivery.SignerSourceFunc(func(ctx context.Context, keyID string) (delivery.Signer, error) {
		if keyID != testKeyID {
			return nil, delivery.ErrPermanent
		}
		return delivery.NewHTTPSigSigner(s, nil), nil
	})
}

// reply is what the receiver answers to one request.
type reply struct {
	status     int
	retryAfter string
	delay      time.Duration
}

// receiver is a loopback inbox that answers from a script and counts what it
// receives per activity id.
type receiver struct {
	srv *httptest.Server

	mu          sync.Mutex
	script      func(n int) reply
	hits        int
	perActivity map[string]int
	unsigned    int
}

func newReceiver(tb testing.TB, script func(n int) reply) *receiver {
	tb.Helper()
	r := &receiver{script: script, perActivity: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var act struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &act)
	sig := req.Header.Get("Signature")
	r.mu.Lock()
	r.hits++
	n := r.hits
	script := r.script
	if !strings.Contains(sig, `keyId="`+testKeyID+`"`) || req.Header.Get("Digest") == "" {
		r.unsigned++
	}
	rep := reply{status: http.StatusAccepted}
	if script != nil {
		rep = script(n)
	}
	if rep.status >= 200 && rep.status <= 299 {
		r.perActivity[act.ID]++
	}
	r.mu.Unlock()
	if rep.delay > 0 {
		select {
		case <-time.After(rep.delay):
		case <-req.Context().Done():
			return
		}
	}
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	w.WriteHeader(rep.status)
}

func (r *receiver) setScript(f func(n int) reply) {
	r.mu.Lock()
	r.script = f
	r.mu.Unlock()
}

func (r *receiver) counts() (hits int, delivered map[string]int, unsigned int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]int, len(r.perActivity))
	for k, v := range r.perActivity {
		m[k] = v
	}
	return r.hits, m, r.unsigned
}

func (r *receiver) inbox() string { return r.srv.URL + "/inbox" }

func always(status int) func(int) reply {
	return func(int) reply { return reply{status: status} }
}

// loopbackResolver maps every name onto 127.0.0.1, as DNS would for a
// fleet of remote servers.
type loopbackResolver struct{}

func (loopbackResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

// mustSender returns the production sender, pub/transport, allowed to reach
// loopback and plain http.
func mustSender(tb testing.TB, now func() time.Time, total time.Duration) delivery.Sender {
	tb.Helper()
	cfg := transport.DefaultConfig()
	cfg.AllowHTTP = true
	cfg.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.Signer = delivery.ContextSigner{}
	cfg.Resolver = loopbackResolver{}
	cfg.Now = now
	cfg.MaxIdleConnsPerHost = 64
	if total > 0 {
		cfg.TotalTimeout = total
		cfg.ReadTimeout = total
	}
	c, err := transport.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.CloseIdleConnections)
	return delivery.TransportSender{Client: c}
}

// testConfig is a Config on clk with pinned jitter (always the minimum) and
// quiet logs.
func testConfig(clk *clock) delivery.Config {
	cfg := delivery.DefaultConfig()
	cfg.Now = clk.Now
	cfg.Jitter = func(time.Duration) time.Duration { return 0 }
	cfg.PollInterval = 5 * time.Millisecond
	cfg.Logger = discardLogger()
	return cfg
}

// harness is a queue on a fresh database with a Pool over it.
type harness struct {
	db    bunstoretest.Database
	store *bunstore.Store
	pool  *delivery.Pool
	clk   *clock
}

func newHarness(tb testing.TB, d bunstoretest.Database, cfg delivery.Config, clk *clock, total time.Duration) *harness {
	tb.Helper()
	store := bunstore.New(d.Open(tb))
	pool, err := delivery.New(cfg, store, mustSender(tb, clk.Now, total), httpsigSource(tb, clk.Now))
	if err != nil {
		tb.Fatal(err)
	}
	return &harness{db: d, store: store, pool: pool, clk: clk}
}

func activity(n int) []byte {
	b, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       activityID(n),
		"type":     "Create",
		"actor":    "https://local.example/users/alice",
		"object":   map[string]any{"type": "Note", "content": "hello"},
	})
	return b
}

func activityID(n int) string {
	return "https://local.example/activities/" + strconv.Itoa(n)
}

func mustJob(tb testing.TB, inbox string, n int) delivery.Job {
	tb.Helper()
	j, err := delivery.NewJob(inbox, testKeyID, activityID(n), activity(n))
	if err != nil {
		tb.Fatal(err)
	}
	return j
}

func (h *harness) enqueue(tb testing.TB, jobs ...delivery.Job) {
	tb.Helper()
	if err := h.pool.Enqueue(context.Background(), jobs...); err != nil {
		tb.Fatal(err)
	}
}

func (h *harness) step(tb testing.TB) int {
	tb.Helper()
	n, err := h.pool.Step(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func (h *harness) stats(tb testing.TB) delivery.Stats {
	tb.Helper()
	s, err := h.pool.Stats(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// drain steps until a step claims nothing.
func (h *harness) drain(tb testing.TB) {
	tb.Helper()
	for range 1000 {
		if h.step(tb) == 0 {
			return
		}
	}
	tb.Fatal("queue does not drain")
}
