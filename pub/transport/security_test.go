package transport_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/transport"
)

// Rule 12: a fetched document must carry an ActivityPub content type.
func TestSecurity12_WrongContentType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		contentType string // "-" sends no Content-Type at all
		wantErr     error
	}{
		{"activity+json", "application/activity+json", nil},
		{"activity+json with charset", "application/activity+json; charset=utf-8", nil},
		{"ld+json with AS profile", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, nil},
		{"ld+json with profile list", `application/ld+json; profile="https://example.org/p https://www.w3.org/ns/activitystreams"`, nil},
		{"upper-case type", "Application/Activity+JSON", nil},
		{"application/json", "application/json", transport.ErrContentType},
		{"text/html", "text/html; charset=utf-8", transport.ErrContentType},
		{"image/png", "image/png", transport.ErrContentType},
		{"ld+json without profile", "application/ld+json", transport.ErrContentType},
		{"ld+json with other profile", `application/ld+json; profile="https://example.org/p"`, transport.ErrContentType},
		{"ld+json with http profile", `application/ld+json; profile="http://www.w3.org/ns/activitystreams"`, transport.ErrContentType},
		{"activity+json as suffix", "text/application/activity+json", transport.ErrContentType},
		{"no content type", "-", transport.ErrContentType},
		{"malformed", "application/activity+json; ===", transport.ErrContentType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			id := w.url("a.example", "/notes/1")
			w.handle("a.example", "/notes/1", func(rw http.ResponseWriter, r *http.Request) {
				if tt.contentType == "-" {
					rw.Header()["Content-Type"] = nil // no sniffing either
				} else {
					rw.Header().Set("Content-Type", tt.contentType)
				}
				fmt.Fprintf(rw, `{"id":%q,"type":"Note"}`, id)
			})
			c := mustClient(t, w.config())
			doc, err := c.Dereference(t.Context(), id)
			assertErr(t, err, tt.wantErr)
			if tt.wantErr == nil && doc.ID != id {
				t.Errorf("doc.ID = %q, want %q", doc.ID, id)
			}
			if tt.wantErr != nil && doc != nil {
				t.Errorf("got a document despite %v", err)
			}
		})
	}
}

// Rule 13: the id must name the URL; a same-origin mismatch earns exactly
// one refetch from the id; anything else is rejected.
func TestSecurity13_IDMismatch(t *testing.T) {
	t.Parallel()
	type served struct{ host, path, id string } // id "" : the path's own URL
	tests := []struct {
		name     string
		serve    func(w *world) []served
		wantErr  error
		wantID   string // host/path of the returned document
		wantHits map[string]int
	}{
		{
			name:     "id equals URL",
			serve:    func(w *world) []served { return []served{{"a.example", "/x", ""}} },
			wantID:   "a.example/x",
			wantHits: map[string]int{"a.example/x": 1},
		},
		{
			name: "id differs only in host case and trailing dot",
			serve: func(w *world) []served {
				return []served{{"a.example", "/x", "http://A.EXAMPLE.:" + w.port + "/x"}}
			},
			wantID:   "a.example/x",
			wantHits: map[string]int{"a.example/x": 1},
		},
		{
			name: "same origin, refetch matches",
			serve: func(w *world) []served {
				return []served{{"a.example", "/x", w.url("a.example", "/y")}, {"a.example", "/y", ""}}
			},
			wantID:   "a.example/y",
			wantHits: map[string]int{"a.example/x": 1, "a.example/y": 1},
		},
		{
			name: "same origin, refetch mismatches again",
			serve: func(w *world) []served {
				return []served{
					{"a.example", "/x", w.url("a.example", "/y")},
					{"a.example", "/y", w.url("a.example", "/z")},
					{"a.example", "/z", ""},
				}
			},
			wantErr:  transport.ErrIDMismatch,
			wantHits: map[string]int{"a.example/x": 1, "a.example/y": 1, "a.example/z": 0},
		},
		{
			name: "same origin, refetch points back (A to B to A)",
			serve: func(w *world) []served {
				return []served{
					{"a.example", "/x", w.url("a.example", "/y")},
					{"a.example", "/y", w.url("a.example", "/x")},
				}
			},
			wantErr:  transport.ErrIDMismatch,
			wantHits: map[string]int{"a.example/x": 1, "a.example/y": 1},
		},
		{
			name: "id with a fragment",
			serve: func(w *world) []served {
				return []served{{"a.example", "/x", w.url("a.example", "/x#main-key")}}
			},
			wantErr:  transport.ErrIDMismatch,
			wantHits: map[string]int{"a.example/x": 2},
		},
		{
			name: "different host",
			serve: func(w *world) []served {
				return []served{{"a.example", "/x", w.url("b.example", "/x")}, {"b.example", "/x", ""}}
			},
			wantErr:  transport.ErrIDMismatch,
			wantHits: map[string]int{"a.example/x": 1, "b.example/x": 0},
		},
		{
			name: "look-alike host",
			serve: func(w *world) []served {
				return []served{{"a.example", "/x", "http://a.example.evil:" + w.port + "/x"}}
			},
			wantErr:  transport.ErrIDMismatch,
			wantHits: map[string]int{"a.example/x": 1},
		},
		{
			name: "same host, different port",
			serve: func(w *world) []served {
				return []served{{"a.example", "/x", "http://a.example:1/x"}}
			},
			wantErr:  transport.ErrIDMismatch,
			wantHits: map[string]int{"a.example/x": 1},
		},
		{
			name: "same host, other scheme",
			serve: func(w *world) []served {
				return []served{{"a.example", "/x", "https://a.example:" + w.port + "/x"}}
			},
			wantErr:  transport.ErrIDMismatch,
			wantHits: map[string]int{"a.example/x": 1},
		},
		{
			name: "no id",
			serve: func(w *world) []served {
				return []served{{"a.example", "/x", "-"}}
			},
			wantErr:  transport.ErrInvalidDocument,
			wantHits: map[string]int{"a.example/x": 1},
		},
		{
			name: "relative id",
			serve: func(w *world) []served {
				return []served{{"a.example", "/x", "/x"}}
			},
			wantErr:  transport.ErrInvalidDocument,
			wantHits: map[string]int{"a.example/x": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			for _, s := range tt.serve(w) {
				switch s.id {
				case "":
					w.doc(s.host, s.path, w.url(s.host, s.path))
				case "-":
					w.handle(s.host, s.path, func(rw http.ResponseWriter, r *http.Request) {
						rw.Header().Set("Content-Type", transport.ContentTypeActivityJSON)
						io.WriteString(rw, `{"type":"Note"}`)
					})
				default:
					w.doc(s.host, s.path, s.id)
				}
			}
			c := mustClient(t, w.config())
			doc, err := c.Dereference(t.Context(), w.url("a.example", "/x"))
			assertErr(t, err, tt.wantErr)
			if tt.wantErr == nil {
				host, path, _ := strings.Cut(tt.wantID, "/")
				if want := w.url(host, "/"+path); doc.URL != want {
					t.Errorf("doc.URL = %q, want %q", doc.URL, want)
				}
				if !transport.SameOrigin(doc.ID, doc.URL) {
					t.Errorf("doc.ID %q not on the origin of %q", doc.ID, doc.URL)
				}
			}
			for k, want := range tt.wantHits {
				host, path, _ := strings.Cut(k, "/")
				if got := w.hitsOf(host, "/"+path); got != want {
					t.Errorf("requests to %s = %d, want %d", k, got, want)
				}
			}
		})
	}
}

// Rule 15: a document reached through a redirect is the final URL's; at
// most 3 hops; every hop signed again and checked again.
func TestSecurity15_CrossHostRedirect(t *testing.T) {
	t.Parallel()
	t.Run("document is the final host's", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.redirect("a.example", "/x", http.StatusFound, w.url("b.example", "/y"))
		w.doc("b.example", "/y", w.url("b.example", "/y"))
		doc, err := mustClient(t, w.config()).Dereference(t.Context(), w.url("a.example", "/x"))
		assertErr(t, err, nil)
		if want := w.url("b.example", "/y"); doc.URL != want || doc.ID != want {
			t.Errorf("doc URL, ID = %q, %q; want both %q", doc.URL, doc.ID, want)
		}
		if _, bad := w.requests(); bad != 0 {
			t.Errorf("%d requests with a bad signature", bad)
		}
	})
	t.Run("final host claiming the first host's id", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.redirect("a.example", "/x", http.StatusFound, w.url("b.example", "/y"))
		w.doc("b.example", "/y", w.url("a.example", "/x"))
		_, err := mustClient(t, w.config()).Dereference(t.Context(), w.url("a.example", "/x"))
		assertErr(t, err, transport.ErrIDMismatch)
		if a, b := w.hitsOf("a.example", "/x"), w.hitsOf("b.example", "/y"); a != 1 || b != 1 {
			t.Errorf("hits a=%d b=%d, want 1 and 1 (no refetch across origins)", a, b)
		}
	})
	t.Run("redirect statuses", func(t *testing.T) {
		t.Parallel()
		for _, code := range []int{301, 302, 303, 307, 308} {
			w := newWorld(t)
			w.redirect("a.example", "/x", code, w.url("b.example", "/y"))
			w.doc("b.example", "/y", w.url("b.example", "/y"))
			doc, err := mustClient(t, w.config()).Dereference(t.Context(), w.url("a.example", "/x"))
			if err != nil || doc.URL != w.url("b.example", "/y") {
				t.Errorf("status %d: doc %+v, err %v", code, doc, err)
			}
		}
	})
	hops := []struct {
		name      string
		hops      int
		wantErr   error
		wantTotal int
	}{
		{"one hop", 1, nil, 2},
		{"three hops", 3, nil, 4},
		{"four hops", 4, transport.ErrTooManyRedirects, 4},
		{"ten hops", 10, transport.ErrTooManyRedirects, 4},
	}
	for _, tt := range hops {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			hosts := []string{"a.example", "b.example", "c.example"}
			for i := range tt.hops {
				from := hosts[i%3]
				to := hosts[(i+1)%3]
				w.redirect(from, "/"+strconv.Itoa(i), http.StatusFound, w.url(to, "/"+strconv.Itoa(i+1)))
			}
			last := hosts[tt.hops%3]
			w.doc(last, "/"+strconv.Itoa(tt.hops), w.url(last, "/"+strconv.Itoa(tt.hops)))
			cfg := w.config()
			signer := cfg.Signer.(*hmacSigner)
			_, err := mustClient(t, cfg).Dereference(t.Context(), w.url("a.example", "/0"))
			assertErr(t, err, tt.wantErr)
			total, bad := w.requests()
			if total != tt.wantTotal {
				t.Errorf("requests = %d, want %d", total, tt.wantTotal)
			}
			if bad != 0 || signer.n.Load() != int64(total) {
				t.Errorf("%d requests, %d signatures made, %d bad: every hop must be signed for its own URL", total, signer.n.Load(), bad)
			}
		})
	}
	t.Run("redirect without Location", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.handle("a.example", "/x", func(rw http.ResponseWriter, r *http.Request) { rw.WriteHeader(http.StatusFound) })
		_, err := mustClient(t, w.config()).Dereference(t.Context(), w.url("a.example", "/x"))
		assertErr(t, err, transport.ErrTooManyRedirects)
	})
	t.Run("https redirect to plain http", func(t *testing.T) {
		t.Parallel()
		plain := listenCounting(t, "127.0.0.1:0")
		srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			http.Redirect(rw, r, "http://example.com:"+portOf(plain)+"/y", http.StatusFound)
		}))
		t.Cleanup(srv.Close)
		cfg := tlsConfig(t, srv)
		_, err := mustClient(t, cfg).Dereference(t.Context(), "https://example.com:"+portOf(srv.Listener)+"/x")
		assertErr(t, err, transport.ErrScheme)
		if n := plain.n.Load(); n != 0 {
			t.Errorf("%d connections to the plain http server", n)
		}
	})
	t.Run("signer failure sends nothing", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.doc("a.example", "/x", w.url("a.example", "/x"))
		cfg := w.config()
		cfg.Signer = &hmacSigner{} // no key: refuses
		_, err := mustClient(t, cfg).Dereference(t.Context(), w.url("a.example", "/x"))
		assertErr(t, err, transport.ErrSign)
		if total, _ := w.requests(); total != 0 {
			t.Errorf("%d requests sent unsigned", total)
		}
	})
}

// tlsConfig is a client config for an httptest TLS server answering as
// example.com (its certificate's name) on loopback; plain http is refused.
func tlsConfig(t testing.TB, srv *httptest.Server) transport.Config {
	t.Helper()
	cfg := transport.DefaultConfig()
	cfg.Resolver = newResolver().to(loopback, "example.com")
	cfg.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.TLSConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
	cfg.Signer = &hmacSigner{key: testKey}
	cfg.TotalTimeout = 5 * time.Second
	return cfg
}

func portOf(ln net.Listener) string {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// Rule 16: no connection to a refused address, whatever the route to it.
func TestSecurity16_SSRF(t *testing.T) {
	t.Parallel()
	refused := []string{
		"127.0.0.1", "127.255.255.254", "::1",
		"10.0.0.1", "10.255.255.255",
		"172.16.0.1", "172.31.255.254",
		"192.168.0.1", "192.168.255.255",
		"169.254.169.254", "169.254.0.1",
		"100.64.0.1", "100.127.255.254",
		"fc00::1", "fd12:3456::1", "fe80::1", "fec0::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
		"::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
		"0.0.0.0", "0.1.2.3", "::",
		"224.0.0.1", "239.255.255.250", "ff02::1", "ff05::2",
		"240.0.0.1", "255.255.255.255",
		"192.0.0.8", "192.0.2.1", "198.51.100.1", "203.0.113.1", "198.18.0.1", "192.88.99.1",
		"2001:db8::1", "3fff::1", "2001::1", "2002:7f00:1::1", "100::1",
	}
	// A loopback listener stands where each refused address would be: the
	// resolver returns the refused address, the allow-list is off, and
	// neither the dialer nor the listener may see a connection.
	target := listenCounting(t, "127.0.0.1:0")
	t.Cleanup(func() { // after every subtest below
		if n := target.n.Load(); n != 0 {
			t.Errorf("%d TCP connections reached the listener standing in for refused addresses", n)
		}
	})
	for _, ip := range refused {
		t.Run("resolves to "+ip, func(t *testing.T) {
			t.Parallel()
			dialer := &countingDialer{}
			cfg := transport.DefaultConfig()
			cfg.AllowHTTP = true
			cfg.Resolver = newResolver().set("evil.example", addrs(ip))
			cfg.Dialer = dialer
			c := mustClient(t, cfg)
			u := "http://evil.example:" + portOf(target) + "/x"
			_, err := c.Dereference(t.Context(), u)
			assertBlocked(t, err, ip)
			_, err = c.Deliver(t.Context(), u, []byte(`{}`))
			assertBlocked(t, err, ip)
			_, err = c.Get(t.Context(), u, "application/jrd+json")
			assertBlocked(t, err, ip)
			if n := dialer.n.Load(); n != 0 {
				t.Errorf("dialer called %d times: %v", n, dialer.addrs)
			}
		})
	}
	t.Run("IP literals", func(t *testing.T) {
		t.Parallel()
		for _, host := range []string{"127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "localhost", "127.1", "2130706433", "0x7f.1", "0177.0.0.1", "0"} {
			dialer := &countingDialer{}
			cfg := transport.DefaultConfig()
			cfg.AllowHTTP = true
			cfg.Dialer = dialer
			cfg.Resolver = newResolver().to(addrs("127.0.0.1", "::1"), "localhost")
			_, err := mustClient(t, cfg).Dereference(t.Context(), "http://"+host+":"+portOf(target)+"/x")
			if !errors.Is(err, transport.ErrBlockedAddress) {
				t.Errorf("%s: error = %v, want ErrBlockedAddress", host, err)
			}
			if n := dialer.n.Load(); n != 0 {
				t.Errorf("%s: dialer called %d times", host, n)
			}
		}
	})
	t.Run("one private answer among public ones", func(t *testing.T) {
		t.Parallel()
		dialer := &countingDialer{}
		cfg := transport.DefaultConfig()
		cfg.AllowHTTP = true
		cfg.Dialer = dialer
		cfg.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} // "public"
		cfg.Resolver = newResolver().set("mixed.example", addrs("127.0.0.1", "10.0.0.1"))
		_, err := mustClient(t, cfg).Dereference(t.Context(), "http://mixed.example:"+portOf(target)+"/x")
		assertBlocked(t, err, "10.0.0.1")
		if n := dialer.n.Load(); n != 0 {
			t.Errorf("dialer called %d times", n)
		}
	})
	// The allow-list holds only 127.0.0.1, which stands for the public
	// internet here; 127.0.0.2 is "internal" and has its own listener.
	t.Run("DNS answer changes between connections (rebinding)", func(t *testing.T) {
		t.Parallel()
		internal := listenCounting(t, "127.0.0.2:0")
		public := newPublicServer(t, portOf(internal))
		res := newResolver().set("rebind.example", addrs("127.0.0.1"), addrs("127.0.0.2"))
		cfg := transport.DefaultConfig()
		cfg.AllowHTTP = true
		cfg.Resolver = res
		cfg.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c := mustClient(t, cfg)
		u := "http://rebind.example:" + portOf(internal) + "/x"
		doc, err := c.Dereference(t.Context(), u)
		assertErr(t, err, nil)
		if doc.ID != u || public.n.Load() != 1 {
			t.Fatalf("first fetch: doc %+v, %d connections to the public server", doc, public.n.Load())
		}
		if got := res.callCount("rebind.example"); got != 1 {
			t.Errorf("resolved %d times for one connection; the checked answer must be the dialled one", got)
		}
		c.CloseIdleConnections()
		_, err = c.Dereference(t.Context(), u)
		assertBlocked(t, err, "127.0.0.2")
		if n := internal.n.Load(); n != 0 {
			t.Errorf("%d connections to the internal address", n)
		}
	})
	t.Run("redirect to an internal host", func(t *testing.T) {
		t.Parallel()
		internal := listenCounting(t, "127.0.0.2:0")
		public := newPublicServer(t, portOf(internal))
		public.redirectTo = "http://metadata.example:" + portOf(internal) + "/latest/meta-data/"
		cfg := transport.DefaultConfig()
		cfg.AllowHTTP = true
		cfg.Resolver = newResolver().set("good.example", addrs("127.0.0.1")).set("metadata.example", addrs("127.0.0.2"))
		cfg.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		_, err := mustClient(t, cfg).Dereference(t.Context(), "http://good.example:"+portOf(internal)+"/x")
		assertBlocked(t, err, "127.0.0.2")
		if public.n.Load() != 1 || internal.n.Load() != 0 {
			t.Errorf("connections: public %d (want 1), internal %d (want 0)", public.n.Load(), internal.n.Load())
		}
	})
	t.Run("plain http refused unless allowed", func(t *testing.T) {
		t.Parallel()
		dialer := &countingDialer{}
		cfg := transport.DefaultConfig()
		cfg.Dialer = dialer
		cfg.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		cfg.Resolver = newResolver().set("good.example", addrs("127.0.0.1"))
		_, err := mustClient(t, cfg).Dereference(t.Context(), "http://good.example:"+portOf(target)+"/x")
		assertErr(t, err, transport.ErrScheme)
		if dialer.n.Load() != 0 {
			t.Errorf("dialled for a plain http URL")
		}
	})
}

func assertBlocked(t testing.TB, err error, ip string) {
	t.Helper()
	var be *transport.BlockedAddressError
	if !errors.Is(err, transport.ErrBlockedAddress) || !errors.As(err, &be) {
		t.Fatalf("error = %v, want a BlockedAddressError", err)
	}
	if want := netip.MustParseAddr(ip); be.Addr != want {
		t.Errorf("blocked address %v, want %v", be.Addr, want)
	}
	if transport.IsRetryable(err) {
		t.Errorf("a blocked address must not be retried")
	}
}

// publicServer is an AP server on 127.0.0.1:port, serving any path as a
// document whose id is its own URL, or redirecting when redirectTo is set.
type publicServer struct {
	*countingListener
	redirectTo string
}

func newPublicServer(t testing.TB, port string) *publicServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.1:%s beside 127.0.0.2: %v", port, err)
	}
	p := &publicServer{countingListener: &countingListener{Listener: ln}}
	srv := &httptest.Server{
		Listener: p.countingListener,
		Config: &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if p.redirectTo != "" {
				http.Redirect(rw, r, p.redirectTo, http.StatusFound)
				return
			}
			serveDoc(transport.ContentTypeActivityJSON, "http://"+r.Host+r.URL.Path)(rw, r)
		})},
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// Rule 17: the server's own origins are never fetched over HTTP.
func TestSecurity17_NeverFetchSelf(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.doc("school.example", "/users/alice", w.url("school.example", "/users/alice"))
	w.redirect("a.example", "/x", http.StatusTemporaryRedirect, w.url("school.example", "/users/alice"))
	tests := []struct {
		name string
		url  string
	}{
		{"exact", w.url("school.example", "/users/unknown")},
		{"known path", w.url("school.example", "/users/alice")},
		{"upper case, trailing dot", "http://SCHOOL.Example.:" + w.port + "/users/alice"},
		{"with fragment", w.url("school.example", "/users/alice#main-key")},
		{"redirected to", w.url("a.example", "/x")},
		{"https default port", "https://school.example:443/users/alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := w.config()
			cfg.LocalOrigins = []string{w.url("school.example", "/"), "https://school.example"}
			c := mustClient(t, cfg)
			ctx := transport.WithBudget(t.Context(), 5)
			_, err := c.Dereference(ctx, tt.url)
			assertErr(t, err, transport.ErrLocal)
			_, err = c.Deliver(ctx, tt.url, []byte(`{}`))
			assertErr(t, err, transport.ErrLocal)
			if got := w.hitsOf("school.example", "/users/alice") + w.hitsOf("school.example", "/users/unknown"); got != 0 {
				t.Errorf("%d HTTP requests to our own origin", got)
			}
		})
	}
	c := mustClient(t, func() transport.Config {
		cfg := w.config()
		cfg.LocalOrigins = []string{w.url("school.example", "/")}
		return cfg
	}())
	if !c.IsLocal("http://school.example.:" + w.port + "/x") {
		t.Error("IsLocal false for a local URL")
	}
	if c.IsLocal(w.url("school.example.evil", "/x")) || c.IsLocal("http://school.example:1/x") {
		t.Error("IsLocal true for another origin")
	}
	if _, err := transport.New(transport.Config{LocalOrigins: []string{"school.example"}}); !errors.Is(err, transport.ErrInvalidURL) {
		t.Errorf("New with a bare host as local origin: %v, want ErrInvalidURL", err)
	}
}

// Rule 18: oversized bodies and slow responses are aborted.
func TestSecurity18_OversizedOrSlow(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	// padded returns a document of exactly n bytes whose id is id.
	padded := func(id string, n int) []byte {
		head := fmt.Sprintf(`{"id":%q,"content":"`, id)
		return []byte(head + strings.Repeat("a", n-len(head)-2) + `"}`)
	}
	sizes := []struct {
		name    string
		size    int
		length  bool // send Content-Length
		gzipped bool
		wantErr error
	}{
		{"exactly 1 MiB with length", limit, true, false, nil},
		{"exactly 1 MiB chunked", limit, false, false, nil},
		{"1 MiB + 1 with length", limit + 1, true, false, transport.ErrTooLarge},
		{"1 MiB + 1 chunked", limit + 1, false, false, transport.ErrTooLarge},
		{"8 MiB chunked", 8 * limit, false, false, transport.ErrTooLarge},
		{"8 MiB gzipped to a few KiB", 8 * limit, false, true, transport.ErrTooLarge},
	}
	for _, tt := range sizes {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			id := w.url("a.example", "/big")
			body := padded(id, tt.size)
			var zipped bytes.Buffer
			if tt.gzipped { // compressed up front: slow under the race detector
				zw := gzip.NewWriter(&zipped)
				zw.Write(body)
				zw.Close()
			}
			w.handle("a.example", "/big", func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", transport.ContentTypeActivityJSON)
				switch {
				case tt.gzipped:
					rw.Header().Set("Content-Encoding", "gzip")
					rw.Header().Set("Content-Length", strconv.Itoa(zipped.Len()))
					rw.Write(zipped.Bytes())
				case tt.length:
					rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
					rw.Write(body)
				default:
					for chunk := range slicesChunk(body, 64<<10) {
						if _, err := rw.Write(chunk); err != nil {
							return
						}
						rw.(http.Flusher).Flush()
					}
				}
			})
			cfg := w.config()
			cfg.MaxBodyBytes = limit
			doc, err := mustClient(t, cfg).Dereference(t.Context(), id)
			assertErr(t, err, tt.wantErr)
			if tt.wantErr == nil && len(doc.Body) != tt.size {
				t.Errorf("body %d bytes, want %d", len(doc.Body), tt.size)
			}
		})
	}

	slow := []struct {
		name             string
		serve            func(conn net.Conn)
		read, total      time.Duration
		wantMin, wantMax time.Duration
	}{
		{
			name: "body dribbling 1 byte/s, total deadline",
			serve: func(conn net.Conn) {
				io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nContent-Length: 100000\r\n\r\n")
				dribble(conn, `{"id":"http://a.example/x","content":"`+strings.Repeat("a", 1000))
			},
			read: 3 * time.Second, total: 1500 * time.Millisecond,
			wantMin: 1400 * time.Millisecond, wantMax: 2900 * time.Millisecond,
		},
		{
			name: "headers dribbling 1 byte/s, total deadline",
			serve: func(conn net.Conn) {
				dribble(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nX-Padding: "+strings.Repeat("a", 1000))
			},
			read: 3 * time.Second, total: 1500 * time.Millisecond,
			wantMin: 1400 * time.Millisecond, wantMax: 2900 * time.Millisecond,
		},
		{
			name: "body stalls, read timeout",
			serve: func(conn net.Conn) {
				io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nContent-Length: 100\r\n\r\n{")
				io.Copy(io.Discard, conn) // until the client hangs up
			},
			read: 300 * time.Millisecond, total: 10 * time.Second,
			wantMin: 250 * time.Millisecond, wantMax: 2 * time.Second,
		},
		{
			name:  "no response headers, read timeout",
			serve: func(conn net.Conn) { io.Copy(io.Discard, conn) },
			read:  300 * time.Millisecond, total: 10 * time.Second,
			wantMin: 250 * time.Millisecond, wantMax: 2 * time.Second,
		},
	}
	for _, tt := range slow {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ln := rawServer(t, tt.serve)
			w := newWorld(t)
			cfg := w.config()
			cfg.ReadTimeout, cfg.TotalTimeout = tt.read, tt.total
			start := time.Now()
			_, err := mustClient(t, cfg).Dereference(t.Context(), "http://a.example:"+portOf(ln)+"/x")
			elapsed := time.Since(start)
			assertErr(t, err, transport.ErrTimeout)
			if elapsed < tt.wantMin || elapsed > tt.wantMax {
				t.Errorf("aborted after %v, want between %v and %v", elapsed, tt.wantMin, tt.wantMax)
			}
			if !transport.IsRetryable(err) {
				t.Errorf("a timeout should be retryable")
			}
		})
	}
}

// dribble writes s one byte per second until the peer goes away.
func dribble(conn net.Conn, s string) {
	for i := range len(s) {
		if _, err := conn.Write([]byte{s[i]}); err != nil {
			return
		}
		time.Sleep(time.Second)
	}
}

// rawServer accepts connections on loopback and hands each to serve after
// reading the request head.
func rawServer(t testing.TB, serve func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				buf := make([]byte, 4096)
				conn.Read(buf)
				serve(conn)
			}()
		}
	}()
	return ln
}

func slicesChunk(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			k := min(n, len(b))
			if !yield(b[:k]) {
				return
			}
			b = b[k:]
		}
	}
}

// Rule 20: a fetch budget bounds the requests of one operation.
func TestSecurity20_FetchBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		budget    int
		setup     func(w *world) string // returns the URL to dereference
		wantErr   error
		wantTotal int
		wantLeft  int
	}{
		{
			name:   "plain fetch spends one",
			budget: 3,
			setup: func(w *world) string {
				w.doc("a.example", "/x", w.url("a.example", "/x"))
				return w.url("a.example", "/x")
			},
			wantTotal: 1, wantLeft: 2,
		},
		{
			name:   "redirect hops spend",
			budget: 1,
			setup: func(w *world) string {
				w.redirect("a.example", "/x", http.StatusFound, w.url("b.example", "/y"))
				w.doc("b.example", "/y", w.url("b.example", "/y"))
				return w.url("a.example", "/x")
			},
			wantErr: transport.ErrBudgetExhausted, wantTotal: 1, wantLeft: 0,
		},
		{
			name:   "refetch spends",
			budget: 1,
			setup: func(w *world) string {
				w.doc("a.example", "/x", w.url("a.example", "/y"))
				w.doc("a.example", "/y", w.url("a.example", "/y"))
				return w.url("a.example", "/x")
			},
			wantErr: transport.ErrBudgetExhausted, wantTotal: 1, wantLeft: 0,
		},
		{
			name:   "zero budget sends nothing",
			budget: 0,
			setup: func(w *world) string {
				w.doc("a.example", "/x", w.url("a.example", "/x"))
				return w.url("a.example", "/x")
			},
			wantErr: transport.ErrBudgetExhausted, wantTotal: 0, wantLeft: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			u := tt.setup(w)
			ctx := transport.WithBudget(t.Context(), tt.budget)
			_, err := mustClient(t, w.config()).Dereference(ctx, u)
			assertErr(t, err, tt.wantErr)
			if total, _ := w.requests(); total != tt.wantTotal {
				t.Errorf("requests = %d, want %d", total, tt.wantTotal)
			}
			if left, ok := transport.BudgetRemaining(ctx); !ok || left != tt.wantLeft {
				t.Errorf("remaining = %d, %v; want %d", left, ok, tt.wantLeft)
			}
			if errors.Is(err, transport.ErrBudgetExhausted) && transport.IsRetryable(err) {
				t.Error("an exhausted budget must not be retried")
			}
		})
	}
	t.Run("one inbound activity, at most 20 fetches, concurrently", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.doc("a.example", "/x", w.url("a.example", "/x"))
		c := mustClient(t, w.config())
		ctx := transport.WithBudget(t.Context(), 20)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, exhausted := 0, 0
		for range 50 {
			wg.Go(func() {
				_, err := c.Dereference(ctx, w.url("a.example", "/x"))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, transport.ErrBudgetExhausted):
					exhausted++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			})
		}
		wg.Wait()
		if total, _ := w.requests(); ok != 20 || exhausted != 30 || total != 20 {
			t.Errorf("ok %d, exhausted %d, requests %d; want 20, 30, 20", ok, exhausted, total)
		}
	})
	t.Run("an inner budget cannot exceed the outer one", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.doc("a.example", "/x", w.url("a.example", "/x"))
		c := mustClient(t, w.config())
		outer := transport.WithBudget(t.Context(), 2)
		inner := transport.WithBudget(outer, 10)
		if left, _ := transport.BudgetRemaining(inner); left != 2 {
			t.Errorf("inner remaining = %d, want 2", left)
		}
		var errs []error
		for range 3 {
			_, err := c.Dereference(inner, w.url("a.example", "/x"))
			errs = append(errs, err)
		}
		if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], transport.ErrBudgetExhausted) {
			t.Errorf("errors = %v; want nil, nil, exhausted", errs)
		}
		if _, err := c.Deliver(outer, w.url("a.example", "/inbox"), []byte(`{}`)); !errors.Is(err, transport.ErrBudgetExhausted) {
			t.Errorf("deliver on the spent outer budget: %v", err)
		}
	})
	t.Run("no budget, no limit", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.doc("a.example", "/x", w.url("a.example", "/x"))
		c := mustClient(t, w.config())
		for i := range 25 {
			if _, err := c.Dereference(t.Context(), w.url("a.example", "/x")); err != nil {
				t.Fatalf("fetch %d: %v", i, err)
			}
		}
		if _, ok := transport.BudgetRemaining(t.Context()); ok {
			t.Error("BudgetRemaining reports a budget on a plain context")
		}
	})
}
