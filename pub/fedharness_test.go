package pub_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/bunstore/bunstoretest"
	pubdelivery "github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/streams"
)

// node is one federating server on loopback: an Engine, a Federation over
// a store (memory or bunstore SQLite) and a bunstore SQLite delivery queue,
// an ActorDirectory, and Run in the background.
type node struct {
	t      testing.TB
	name   string
	base   string
	srv    *httptest.Server
	engine *pub.Engine
	fed    *pub.Federation
	dir    *pub.ActorDirectory
	store  pub.Store
	queue  *bunstore.Store
	db     *bun.DB
	logs   *syncBuffer
	hooks  *hookLog
	cancel context.CancelFunc
	done   chan struct{}
}

// hookLog records the hook calls of a node.
type hookLog struct {
	mu    sync.Mutex
	calls map[string][]*pub.Inbound
}

func (h *hookLog) hook(ctx context.Context, in *pub.Inbound) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	typ := in.Activity.Type()
	h.calls[typ] = append(h.calls[typ], in)
	return nil
}

func (h *hookLog) count(typ string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls[typ])
}

func (h *hookLog) last(typ string) *pub.Inbound {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.calls[typ]
	if len(c) == 0 {
		return nil
	}
	return c[len(c)-1]
}

type nodeOptions struct {
	sqliteStore bool
	// postgres puts the store and the queue in a fresh PostgreSQL schema
	// (COMMONROOM_TEST_POSTGRES; skipped without it).
	postgres bool
	noRun    bool
	engine   func(*pub.Config)
	fed      func(*pub.FederationConfig)
}

// newNode starts a node. Its Run stops when the test ends.
func newNode(t testing.TB, name string, opts nodeOptions) *node {
	t.Helper()
	ctx := context.Background()
	n := &node{t: t, name: name, logs: &syncBuffer{}, hooks: &hookLog{calls: map[string][]*pub.Inbound{}}}
	n.srv = httptest.NewUnstartedServer(nil)
	n.base = "http://" + n.srv.Listener.Addr().String()
	cfg := pub.DefaultConfig()
	cfg.BaseURL = n.base
	cfg.KeySource = newPoolSource(t)
	cfg.Logger = slog.New(slog.NewJSONHandler(n.logs, nil))
	cfg.Transport.AllowHTTP = true
	cfg.Transport.AllowPrefixes = loopback
	cfg.Transport.Resolver = exampleResolver{}
	if opts.engine != nil {
		opts.engine(&cfg)
	}
	e, err := pub.NewEngine(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.engine = e
	var db *bun.DB
	if opts.postgres {
		db = bunstoretest.Postgres(t).Open(t)
	} else {
		db, err = bunstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), name+".db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if err := bunstore.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	n.db = db
	n.queue = bunstore.New(db)
	if opts.sqliteStore || opts.postgres {
		n.store = bunstore.NewFederationStore(db)
	} else {
		n.store = pub.NewMemoryStore()
	}
	n.dir = pub.NewActorDirectory(e)
	dc := pubdelivery.DefaultConfig()
	dc.PollInterval = 20 * time.Millisecond
	dc.BackoffMin, dc.BackoffBase = 50*time.Millisecond, 50*time.Millisecond
	dc.Logger = cfg.Logger
	fc := pub.FederationConfig{
		Store: n.store, Actors: n.dir, Queue: n.queue, Delivery: dc,
		PollInterval: 20 * time.Millisecond,
		Hooks: pub.Hooks{
			On:       map[string]pub.Hook{},
			Fallback: n.hooks.hook,
		},
	}
	for _, typ := range []string{"Create", "Update", "Delete", "Follow", "Accept", "Reject", "Undo", "Like", "Announce", "Block", "Flag", "Add", "Remove", "Move"} {
		fc.Hooks.On[typ] = n.hooks.hook
	}
	if opts.fed != nil {
		opts.fed(&fc)
	}
	f, err := pub.NewFederation(e, fc)
	if err != nil {
		t.Fatal(err)
	}
	n.fed = f
	mux := http.NewServeMux()
	f.Routes(mux)
	n.srv.Config.Handler = mux
	n.srv.Start()
	t.Cleanup(n.srv.Close)
	if !opts.noRun {
		n.run()
	}
	return n
}

// run starts the node's Run in the background until the test ends.
func (n *node) run() {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan struct{})
	go func() {
		defer close(n.done)
		_ = n.fed.Run(ctx)
	}()
	n.t.Cleanup(n.stop)
}

// stop stops Run and waits for it.
func (n *node) stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	<-n.done
	n.cancel = nil
}

// actor adds a local actor.
func (n *node) actor(name string, manual bool) pub.LocalActor {
	n.t.Helper()
	a, err := n.dir.Add(context.Background(), pub.ActorSpec{Name: name, ManuallyApprovesFollowers: manual})
	if err != nil {
		n.t.Fatal(err)
	}
	return a
}

// publish publishes a document (JSON) as actor.
func (n *node) publish(actor string, doc string) *streams.Object {
	n.t.Helper()
	obj, err := streams.Parse([]byte(doc))
	if err != nil {
		n.t.Fatal(err)
	}
	out, err := n.fed.Publish(context.Background(), actor, obj)
	if err != nil {
		n.t.Fatal(err)
	}
	return out
}

// get fetches path on the node, signed by sign when not nil, and returns
// the status and body.
func (n *node) get(url string, sign func(*http.Request, []byte)) (int, []byte) {
	n.t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Accept", pub.ContentTypeActivityJSON)
	if sign != nil {
		sign(req, nil)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// post sends a signed body to url and returns the status.
func postTo(t testing.TB, url string, body []byte, sign func(*http.Request, []byte)) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", pub.ContentTypeActivityJSON)
	if sign != nil {
		sign(req, body)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// follow returns the relation follower → followee in n's store, and
// whether it exists.
func (n *node) follow(follower, followee string) (pub.Follow, bool) {
	f, err := n.store.GetFollow(context.Background(), follower, followee)
	return f, err == nil
}

func (n *node) hasItem(collection, item string) bool {
	ok, err := n.store.HasItem(context.Background(), collection, item)
	if err != nil {
		n.t.Fatal(err)
	}
	return ok
}

func (n *node) object(id string) (pub.StoredObject, bool) {
	o, err := n.store.Object(context.Background(), id)
	return o, err == nil
}

// idle reports whether the node's delivery queue is empty.
func (n *node) idle() bool {
	st, err := n.queue.Stats(context.Background(), time.Now())
	return err == nil && st.Pending == 0
}

// dumpLogs logs the nodes' logs when the test failed.
func dumpLogs(t testing.TB, nodes ...*node) {
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range nodes {
				t.Logf("%s logs:\n%s", n.name, n.logs.String())
			}
		}
	})
}
