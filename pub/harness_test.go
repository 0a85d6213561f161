package pub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/streams"
)

// loopback is the transport allow-list the federation tests use.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// exampleResolver resolves every *.example name to 127.0.0.1 and nothing
// else, so tests can give loopback servers distinct host names.
type exampleResolver struct{}

func (exampleResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if strings.HasSuffix(h, ".example") {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// peer is a remote server on loopback that serves documents and counts every
// request it gets.
type peer struct {
	t    testing.TB
	srv  *httptest.Server
	base string

	mu       sync.Mutex
	handlers map[string]http.HandlerFunc
	hits     map[string]int
	signers  map[string]int // key id of each request's signature ("" unsigned)
	total    atomic.Int64
}

// newPeer starts a peer reachable as http://name:port (name must end in
// .example, see exampleResolver).
func newPeer(t testing.TB, name string) *peer {
	t.Helper()
	p := &peer{t: t, handlers: map[string]http.HandlerFunc{}, hits: map[string]int{}, signers: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	_, port, _ := net.SplitHostPort(p.srv.Listener.Addr().String())
	p.base = "http://" + name + ":" + port
	return p
}

func (p *peer) serve(w http.ResponseWriter, r *http.Request) {
	p.total.Add(1)
	keyID := ""
	if sig, err := httpsig.NewVerifier(httpsig.Config{}).Parse(r); err == nil {
		keyID = sig.KeyID
	}
	p.mu.Lock()
	p.hits[r.URL.Path]++
	p.signers[keyID]++
	h := p.handlers[r.URL.Path]
	p.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

func (p *peer) url(path string) string { return p.base + path }

func (p *peer) handle(path string, h http.HandlerFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers[path] = h
}

// serveJSON serves body at path as application/activity+json.
func (p *peer) serveJSON(path string, body []byte) {
	p.handle(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", pub.ContentTypeActivityJSON)
		_, _ = w.Write(body)
	})
}

func (p *peer) serveStatus(path string, code int) {
	p.handle(path, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
}

func (p *peer) requests() int { return int(p.total.Load()) }

// signedBy returns how many requests were signed with each key id ("" for
// unsigned ones).
func (p *peer) signedBy() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.signers))
	for k, v := range p.signers {
		out[k] = v
	}
	return out
}

func (p *peer) hitsOf(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

// remoteActor is an actor of a peer, with real keys from the test pool.
type remoteActor struct {
	peer  *peer
	path  string
	id    string
	keys  *pub.ActorKeys
	clock pub.Clock
}

// newActor creates an actor at /users/name on p and serves its document.
func (p *peer) newActor(name string, clock pub.Clock) *remoteActor {
	p.t.Helper()
	path := "/users/" + name
	a := &remoteActor{peer: p, path: path, id: p.url(path), clock: clock}
	keys, err := pub.NewActorKeys(context.Background(), newPoolSource(p.t), a.id, clock.Now())
	if err != nil {
		p.t.Fatal(err)
	}
	a.keys = keys
	a.publish()
	return a
}

// rotate gives the actor a new RSA key without publishing it.
func (a *remoteActor) rotate(src *poolSource) {
	a.peer.t.Helper()
	k, err := pub.NewActorKeys(context.Background(), src, a.id, a.clock.Now())
	if err != nil {
		a.peer.t.Fatal(err)
	}
	a.keys = k
}

// document returns the actor document with its current keys.
func (a *remoteActor) document() *streams.Object {
	a.peer.t.Helper()
	doc := streams.NewObject("Person")
	doc.SetID(a.id)
	for name, v := range map[string]string{
		"preferredUsername": a.path[strings.LastIndexByte(a.path, '/')+1:],
		"inbox":             a.id + "/inbox",
		"outbox":            a.id + "/outbox",
	} {
		if err := doc.Set(name, streams.String(v)); err != nil {
			a.peer.t.Fatal(err)
		}
	}
	if err := pub.PublishKeys(doc, a.keys); err != nil {
		a.peer.t.Fatal(err)
	}
	return doc
}

// publish serves the actor document with the current keys.
func (a *remoteActor) publish() {
	a.peer.t.Helper()
	data, err := streams.Marshal(a.document())
	if err != nil {
		a.peer.t.Fatal(err)
	}
	a.peer.serveJSON(a.path, data)
}

// keyID is the RSA key id.
func (a *remoteActor) keyID() string { return a.keys.RSAKeyID() }

// sign signs req with the actor's RSA key under scheme.
func (a *remoteActor) sign(scheme httpsig.Scheme) func(*http.Request, []byte) {
	return signWith(a.keys.RSA, a.keyID(), a.clock, scheme)
}

func signWith(key pub.PrivateKey, keyID string, clock pub.Clock, scheme httpsig.Scheme) func(*http.Request, []byte) {
	return func(req *http.Request, body []byte) {
		s, err := httpsig.NewSigner(key.Signer(), keyID, clock.Now)
		if err != nil {
			panic(err)
		}
		if err := s.Sign(req, body, scheme); err != nil {
			panic(err)
		}
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// delivery is what the inbox handler behind the middleware received.
type delivery struct {
	signer pub.VerifiedSigner
	act    *streams.Object
	check  pub.ActivityCheck
	body   []byte
}

// home is our server: an Engine on loopback with an inbox behind
// Authenticator.Inbox that records what gets through.
type home struct {
	t        testing.TB
	engine   *pub.Engine
	srv      *httptest.Server
	base     string
	store    *pub.MemoryKeyStore
	clock    *fakeClock
	logs     *syncBuffer
	mu       sync.Mutex
	received []delivery
	// after, when set, runs in the inbox handler for each delivery, with the
	// request's context (which carries the fetch budget).
	after func(ctx context.Context, d delivery) int
}

// newHome starts our server. opts adjust the engine config.
func newHome(t testing.TB, clock *fakeClock, opts ...func(*pub.Config)) *home {
	t.Helper()
	h := &home{t: t, store: pub.NewMemoryKeyStore(), clock: clock, logs: &syncBuffer{}}
	h.srv = httptest.NewUnstartedServer(nil)
	h.base = "http://" + h.srv.Listener.Addr().String()
	cfg := pub.DefaultConfig()
	cfg.BaseURL = h.base
	cfg.LocalKeys, cfg.RemoteKeys = h.store, h.store
	cfg.KeySource = newPoolSource(t)
	cfg.Clock = clock
	cfg.Logger = slog.New(slog.NewJSONHandler(h.logs, nil))
	cfg.Transport.AllowHTTP = true
	cfg.Transport.AllowPrefixes = loopback
	cfg.Transport.Resolver = exampleResolver{}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := pub.NewEngine(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.engine = e
	mux := http.NewServeMux()
	e.Routes(mux)
	inbox := e.Authenticator().Inbox(http.HandlerFunc(h.record))
	mux.Handle("/users/{name}/inbox", inbox)
	mux.Handle("/inbox", inbox)
	mux.Handle("GET /users/{name}", e.Protect(http.HandlerFunc(h.serveActor)))
	h.srv.Config.Handler = mux
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	return h
}

func (h *home) record(w http.ResponseWriter, r *http.Request) {
	signer, ok := pub.SignerFromContext(r.Context())
	act, check, ok2 := pub.ActivityFromContext(r.Context())
	if !ok || !ok2 {
		http.Error(w, "no signer in context", http.StatusInternalServerError)
		return
	}
	body, _ := io.ReadAll(r.Body)
	d := delivery{signer: signer, act: act, check: check, body: body}
	h.mu.Lock()
	h.received = append(h.received, d)
	after := h.after
	h.mu.Unlock()
	status := http.StatusAccepted
	if after != nil {
		status = after(r.Context(), d)
	}
	w.WriteHeader(status)
}

// serveActor serves local actors' documents, creating their keys on first
// use.
func (h *home) serveActor(w http.ResponseWriter, r *http.Request) {
	id := h.base + r.URL.Path
	keys, err := h.engine.Keys().EnsureLocal(r.Context(), id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	doc := streams.NewObject("Person")
	doc.SetID(id)
	_ = doc.Set("inbox", streams.IRI(id+"/inbox"))
	if err := pub.PublishKeys(doc, keys); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	data, _ := streams.Marshal(doc)
	w.Header().Set("Content-Type", pub.ContentTypeActivityJSON)
	_, _ = w.Write(data)
}

func (h *home) deliveries() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]delivery(nil), h.received...)
}

// post sends body to path on our server, signed by sign (nil: unsigned),
// and returns the status.
func (h *home) post(path string, body []byte, sign func(*http.Request, []byte)) int {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.base+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", pub.ContentTypeActivityJSON)
	if sign != nil {
		sign(req, body)
	}
	return h.do(req)
}

func (h *home) do(req *http.Request) int {
	h.t.Helper()
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// activity builds an activity document.
func activity(id, typ, actor string, object any) []byte {
	m := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id,
		"type":     typ,
		"actor":    actor,
	}
	if object != nil {
		m["object"] = object
	}
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return data
}

// note returns a Note map for embedding.
func note(id, attributedTo string) map[string]any {
	return map[string]any{"id": id, "type": "Note", "attributedTo": attributedTo, "content": "hello"}
}
