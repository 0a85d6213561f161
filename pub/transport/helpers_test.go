package transport_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/transport"
)

// resolver maps names onto addresses. A name may have several successive
// answers (for DNS rebinding tests); the last one repeats.
type resolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	calls   map[string]int
}

func newResolver() *resolver {
	return &resolver{answers: map[string][][]netip.Addr{}, calls: map[string]int{}}
}

// set gives name one answer per call, in order.
func (r *resolver) set(name string, answers ...[]netip.Addr) *resolver {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[strings.ToLower(name)] = answers
	return r
}

// to maps each name to the given addresses.
func (r *resolver) to(addrs []netip.Addr, names ...string) *resolver {
	for _, n := range names {
		r.set(n, addrs)
	}
	return r
}

func (r *resolver) callCount(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[strings.ToLower(name)]
}

func (r *resolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	host = strings.ToLower(host)
	answers, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	i := min(r.calls[host], len(answers)-1)
	r.calls[host]++
	var out []netip.Addr
	for _, a := range answers[i] {
		if network == "ip" || (network == "ip4") == a.Unmap().Is4() {
			out = append(out, a)
		}
	}
	return out, nil
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

var loopback = addrs("127.0.0.1")

// countingDialer is a real net.Dialer that counts and records dials.
type countingDialer struct {
	d     net.Dialer
	n     atomic.Int64
	mu    sync.Mutex
	addrs []string
}

func (c *countingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c.n.Add(1)
	c.mu.Lock()
	c.addrs = append(c.addrs, address)
	c.mu.Unlock()
	return c.d.DialContext(ctx, network, address)
}

// countingListener counts accepted TCP connections.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// listen returns a counting listener on addr ("127.0.0.1:0"), closed at the
// end of the test; it accepts and immediately closes connections.
func listenCounting(t testing.TB, addr string) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	cl := &countingListener{Listener: ln}
	go func() {
		for {
			c, err := cl.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return cl
}

// hmacSigner is a real signer: it sets a Signature header holding an
// HMAC-SHA256 over method, URL and body digest, which servers verify.
type hmacSigner struct {
	key []byte
	n   atomic.Int64
}

var testKey = []byte("commonroom transport test key")

func (s *hmacSigner) SignRequest(req *http.Request, body []byte) error {
	if len(s.key) == 0 {
		return errors.New("no signing key")
	}
	s.n.Add(1)
	req.Header.Set("Signature", signature(s.key, req.Method, req.URL.String(), body))
	return nil
}

func signature(key []byte, method, url string, body []byte) string {
	digest := sha256.Sum256(body)
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s\n%s\n%x", method, url, digest)
	return hex.EncodeToString(mac.Sum(nil))
}

// world is one loopback HTTP server that answers for many host names: the
// resolver maps every name onto it, and the handler routes on Host.
type world struct {
	t      testing.TB
	srv    *httptest.Server
	conns  *countingListener // TCP connections accepted
	port   string
	res    *resolver
	mu     sync.Mutex
	routes map[string]http.HandlerFunc // "host/path"
	hits   map[string]int              // "host/path"
	total  int
	badSig int
	agents []string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{t: t, routes: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	w.srv = httptest.NewUnstartedServer(http.HandlerFunc(w.serve))
	w.conns = &countingListener{Listener: w.srv.Listener}
	w.srv.Listener = w.conns
	w.srv.Start()
	t.Cleanup(w.srv.Close)
	_, w.port, _ = net.SplitHostPort(w.srv.Listener.Addr().String())
	w.res = newResolver().to(loopback, "a.example", "b.example", "c.example", "good.example", "school.example")
	return w
}

func (w *world) serve(rw http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.Host)
	key := host + r.URL.Path
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	want := signature(testKey, r.Method, "http://"+r.Host+r.URL.RequestURI(), body)
	w.mu.Lock()
	w.hits[key]++
	w.total++
	if r.Header.Get("Signature") != want {
		w.badSig++
	}
	w.agents = append(w.agents, r.UserAgent())
	h := w.routes[key]
	w.mu.Unlock()
	if h == nil {
		http.NotFound(rw, r)
		return
	}
	h(rw, r)
}

// url is http://host:port/path on this world.
func (w *world) url(host, path string) string {
	return "http://" + host + ":" + w.port + path
}

func (w *world) handle(host, path string, h http.HandlerFunc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.routes[host+path] = h
}

// doc serves an ActivityPub document with the given id.
func (w *world) doc(host, path, id string) {
	w.handle(host, path, serveDoc(transport.ContentTypeActivityJSON, id))
}

// redirect answers host/path with code and Location to.
func (w *world) redirect(host, path string, code int, to string) {
	w.handle(host, path, func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, to, code)
	})
}

func (w *world) hitsOf(host, path string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hits[host+path]
}

func (w *world) requests() (total, badSignatures int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total, w.badSig
}

func serveDoc(contentType, id string) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", contentType)
		fmt.Fprintf(rw, `{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Note","content":"hello"}`, id)
	}
}

// config returns a client config for the world: its resolver, loopback
// allow-listed (standing in for the public internet), plain http allowed,
// the HMAC signer, short timeouts.
func (w *world) config() transport.Config {
	cfg := transport.DefaultConfig()
	cfg.Resolver = w.res
	cfg.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.AllowHTTP = true
	cfg.Signer = &hmacSigner{key: testKey}
	cfg.ConnectTimeout = 2 * time.Second
	cfg.ReadTimeout = 2 * time.Second
	cfg.TotalTimeout = 5 * time.Second
	cfg.UserAgent = transport.UserAgent("0.1", "http://school.example/")
	return cfg
}

func mustClient(t testing.TB, cfg transport.Config) *transport.Client {
	t.Helper()
	c, err := transport.New(cfg)
	if err != nil {
		t.Fatalf("transport.New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// assertErr fails unless err matches want (nil means success).
func assertErr(t testing.TB, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error = %v, want %v", err, want)
	}
}
