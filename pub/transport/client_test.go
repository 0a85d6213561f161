package transport_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/transport"
)

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	cfg := transport.DefaultConfig()
	if cfg.ConnectTimeout != 5*time.Second || cfg.ReadTimeout != 10*time.Second || cfg.TotalTimeout != 30*time.Second {
		t.Errorf("timeouts %v/%v/%v, want 5s/10s/30s", cfg.ConnectTimeout, cfg.ReadTimeout, cfg.TotalTimeout)
	}
	if cfg.MaxBodyBytes != 1<<20 || cfg.MaxRedirects != 3 || cfg.MaxIdleConnsPerHost < 16 {
		t.Errorf("limits %d/%d/%d", cfg.MaxBodyBytes, cfg.MaxRedirects, cfg.MaxIdleConnsPerHost)
	}
	if cfg.AllowHTTP || len(cfg.AllowPrefixes) != 0 {
		t.Error("the defaults must refuse plain http and private addresses")
	}
	if got := transport.UserAgent("0.1", "https://school.example/"); got != "Commonroom/0.1 (+https://school.example/)" {
		t.Errorf("UserAgent = %q", got)
	}
}

func TestHTTPS(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var inbox []byte
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/users/alice":
			serveDoc(transport.ContentTypeActivityJSON, "https://example.com:"+portOf(srv.Listener)+"/users/alice")(rw, r)
		case "/inbox":
			mu.Lock()
			inbox, _ = io.ReadAll(r.Body)
			mu.Unlock()
			rw.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	c := mustClient(t, tlsConfig(t, srv))
	base := "https://example.com:" + portOf(srv.Listener)
	doc, err := c.Dereference(t.Context(), base+"/users/alice")
	assertErr(t, err, nil)
	if doc.URL != base+"/users/alice" {
		t.Errorf("doc.URL = %q", doc.URL)
	}
	res, err := c.Deliver(t.Context(), base+"/inbox", []byte(`{"type":"Like"}`))
	assertErr(t, err, nil)
	mu.Lock()
	defer mu.Unlock()
	if res.StatusCode != http.StatusAccepted || string(inbox) != `{"type":"Like"}` {
		t.Errorf("delivery: %+v, inbox got %q", res, inbox)
	}
}

// The per-host pool keeps 16 idle connections: a second burst of 16
// concurrent fetches to one host opens no new connection (Go's default of 2
// idle per host would open 14).
func TestConnectionPoolPerHost(t *testing.T) {
	t.Parallel()
	const burst = 16
	w := newWorld(t)
	var arrived sync.WaitGroup
	gate := make(chan struct{})
	w.handle("a.example", "/x", func(rw http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-gate // hold every request until the whole burst is in flight
		serveDoc(transport.ContentTypeActivityJSON, w.url("a.example", "/x"))(rw, r)
	})
	c := mustClient(t, w.config())
	for round := range 2 {
		arrived.Add(burst)
		gate = make(chan struct{})
		var done sync.WaitGroup
		for range burst {
			done.Go(func() {
				if _, err := c.Dereference(t.Context(), w.url("a.example", "/x")); err != nil {
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		arrived.Wait()
		close(gate)
		done.Wait()
	}
	if n := w.conns.n.Load(); n != burst {
		t.Errorf("%d connections for two bursts of %d, want %d", n, burst, burst)
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.handle("a.example", "/.well-known/webfinger", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/jrd+json")
		io.WriteString(rw, `{"subject":"acct:alice@a.example","accept":"`+r.Header.Get("Accept")+`"}`)
	})
	w.handle("a.example", "/big", func(rw http.ResponseWriter, r *http.Request) {
		io.WriteString(rw, strings.Repeat("x", 500))
		rw.(http.Flusher).Flush() // no Content-Length: the cap applies while reading
		io.WriteString(rw, strings.Repeat("x", 1500))
	})
	w.handle("a.example", "/gone", func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(http.StatusGone)
	})
	cfg := w.config()
	cfg.MaxBodyBytes = 1000
	c := mustClient(t, cfg)

	resp, err := c.Get(t.Context(), w.url("a.example", "/.well-known/webfinger"), "application/jrd+json")
	assertErr(t, err, nil)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.Contains(string(body), `"accept":"application/jrd+json"`) {
		t.Errorf("webfinger body %q, %v", body, err)
	}
	if resp.Body.Close() != nil {
		t.Error("a second Close failed")
	}

	resp, err = c.Get(t.Context(), w.url("a.example", "/big"), "")
	assertErr(t, err, nil)
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, transport.ErrTooLarge) || len(body) != 1000 {
		t.Errorf("oversized body: %d bytes, %v; want 1000 and ErrTooLarge", len(body), err)
	}

	_, err = c.Get(t.Context(), w.url("a.example", "/gone"), "")
	var se *transport.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusGone || se.Retryable() {
		t.Errorf("410: %v", err)
	}
}

func TestNoRedirectsWhenDisabled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.redirect("a.example", "/x", http.StatusFound, w.url("b.example", "/y"))
	w.doc("b.example", "/y", w.url("b.example", "/y"))
	cfg := w.config()
	cfg.MaxRedirects = -1
	_, err := mustClient(t, cfg).Dereference(t.Context(), w.url("a.example", "/x"))
	assertErr(t, err, transport.ErrTooManyRedirects)
	if total, _ := w.requests(); total != 1 {
		t.Errorf("%d requests, want 1", total)
	}
}

func TestCloseAbortsARead(t *testing.T) {
	t.Parallel()
	ln := rawServer(t, func(conn net.Conn) {
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
		io.Copy(io.Discard, conn) // until the client hangs up
	})
	w := newWorld(t)
	cfg := w.config()
	cfg.ReadTimeout, cfg.TotalTimeout = 10*time.Second, 20*time.Second
	resp, err := mustClient(t, cfg).Get(t.Context(), "http://a.example:"+portOf(ln)+"/x", "")
	assertErr(t, err, nil)
	time.AfterFunc(100*time.Millisecond, func() { resp.Body.Close() })
	start := time.Now()
	_, err = io.ReadAll(resp.Body)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("ReadAll returned %v after %v; want an error soon after Close", err, time.Since(start))
	}
}

// resolverFunc adapts a function to transport.Resolver.
type resolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

func (f resolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

// A name server that never answers is cut off by the connect timeout, which
// covers resolution as well as the TCP handshake.
func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cfg := w.config()
	cfg.ConnectTimeout = 200 * time.Millisecond
	cfg.Resolver = resolverFunc(func(ctx context.Context, _, _ string) ([]netip.Addr, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	start := time.Now()
	_, err := mustClient(t, cfg).Dereference(t.Context(), w.url("a.example", "/x"))
	assertErr(t, err, transport.ErrTimeout)
	if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
		t.Errorf("gave up after %v, want about 200ms", d)
	}
	if !transport.IsRetryable(err) {
		t.Error("a connect timeout should be retryable")
	}
}

// dialerFunc adapts a function to transport.Dialer.
type dialerFunc func(ctx context.Context, network, address string) (net.Conn, error)

func (f dialerFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

// A host whose first address swallows packets is still reached on its
// second address within the connect timeout: each address gets a share.
func TestConnectFallsBackToTheNextAddress(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.doc("a.example", "/x", w.url("a.example", "/x"))
	cfg := w.config()
	cfg.ConnectTimeout = time.Second
	cfg.Resolver = newResolver().set("a.example", addrs("127.0.0.2", "127.0.0.1"))
	var real net.Dialer
	var mu sync.Mutex
	var tried []string
	cfg.Dialer = dialerFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
		mu.Lock()
		tried = append(tried, address)
		mu.Unlock()
		if strings.HasPrefix(address, "127.0.0.2:") { // a black hole
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return real.DialContext(ctx, network, address)
	})
	start := time.Now()
	doc, err := mustClient(t, cfg).Dereference(t.Context(), w.url("a.example", "/x"))
	assertErr(t, err, nil)
	if d := time.Since(start); d < 400*time.Millisecond || d > 900*time.Millisecond {
		t.Errorf("took %v, want about half the 1s connect timeout", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(tried) != 2 || doc.URL != w.url("a.example", "/x") {
		t.Errorf("dialled %v", tried)
	}
}
