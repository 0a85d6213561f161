package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/commonroom/commonroom/internal/server"
)

// MustLimitedServer returns the handler of a server whose API rate limit is
// limit per 5 minutes, with /api/v1/ping, /oauth/token and /other routes
// that answer 200, trusting proxies in 10.0.0.0/8.
func MustLimitedServer(tb testing.TB, limit int) http.Handler {
	tb.Helper()
	s, err := server.New(server.Options{
		TrustedProxies: server.TrustedProxies{netip.MustParsePrefix("10.0.0.0/8")},
		APIRateLimit:   limit,
		APIRateWindow:  5 * time.Minute,
		Routers: []server.Router{server.RouterFunc(func(r chi.Router) {
			ok := func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }
			r.Get("/api/v1/ping", ok)
			r.Post("/oauth/token", ok)
			r.Get("/other", ok)
		})},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s.Handler()
}

// do sends one request from remote (host:port) with the given headers.
func do(h http.Handler, method, path, remote string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = remote
	for k, vs := range header {
		r.Header[k] = vs
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// checkLimitHeaders checks the X-RateLimit-* headers of a response on a
// limited path: the limit, what remains, and a reset time in ISO 8601.
func checkLimitHeaders(tb testing.TB, w *httptest.ResponseRecorder, limit, remaining int) {
	tb.Helper()
	h := w.Header()
	if got := h.Get("X-RateLimit-Limit"); got != strconv.Itoa(limit) {
		tb.Errorf("X-RateLimit-Limit = %q, want %d", got, limit)
	}
	if got := h.Get("X-RateLimit-Remaining"); got != strconv.Itoa(remaining) {
		tb.Errorf("X-RateLimit-Remaining = %q, want %d", got, remaining)
	}
	reset, err := time.Parse(time.RFC3339, h.Get("X-RateLimit-Reset"))
	if err != nil {
		tb.Errorf("X-RateLimit-Reset = %q, not an ISO 8601 time: %v", h.Get("X-RateLimit-Reset"), err)
	} else if until := time.Until(reset); until <= 0 || until > 5*time.Minute+time.Second {
		tb.Errorf("X-RateLimit-Reset = %s, %s from now; want within the 5-minute window", reset, until)
	}
}

// checkLimited checks a 429 answer: Retry-After in seconds, within the
// window, and the headers with nothing remaining.
func checkLimited(tb testing.TB, w *httptest.ResponseRecorder, limit int) {
	tb.Helper()
	if w.Code != http.StatusTooManyRequests {
		tb.Fatalf("status %d, want 429", w.Code)
	}
	sec, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || sec < 1 || sec > 300 {
		tb.Errorf("Retry-After = %q, want 1-300 seconds", w.Header().Get("Retry-After"))
	}
	checkLimitHeaders(tb, w, limit, 0)
}

// TestSecurity31_APIRateLimitPerIP: the 301st unauthenticated API request
// in 5 minutes from one IP, or one IPv6 /64, gets 429 with the X-RateLimit
// headers; another /64 is unaffected.
func TestSecurity31_APIRateLimitPerIP(t *testing.T) {
	const limit = 300
	t.Run("IPv4", func(t *testing.T) {
		h := MustLimitedServer(t, limit)
		for i := 1; i <= limit; i++ {
			w := do(h, http.MethodGet, "/api/v1/ping", "203.0.113.5:4000", nil)
			if w.Code != http.StatusOK {
				t.Fatalf("request %d: status %d, want 200", i, w.Code)
			}
			checkLimitHeaders(t, w, limit, limit-i)
		}
		checkLimited(t, do(h, http.MethodGet, "/api/v1/ping", "203.0.113.5:4001", nil), limit)
		// /oauth/token shares the budget.
		checkLimited(t, do(h, http.MethodPost, "/oauth/token", "203.0.113.5:4002", nil), limit)
		// Another address is unaffected, and so are paths outside the API.
		if w := do(h, http.MethodGet, "/api/v1/ping", "203.0.113.6:4000", nil); w.Code != http.StatusOK {
			t.Errorf("another IPv4 address: status %d, want 200", w.Code)
		}
		if w := do(h, http.MethodGet, "/other", "203.0.113.5:4000", nil); w.Code != http.StatusOK || w.Header().Get("X-RateLimit-Limit") != "" {
			t.Errorf("/other: status %d, X-RateLimit-Limit %q; want 200 and no limit headers", w.Code, w.Header().Get("X-RateLimit-Limit"))
		}
		// A spoofed X-Forwarded-For from an untrusted peer changes nothing.
		spoof := http.Header{"X-Forwarded-For": {"198.51.100.77"}}
		checkLimited(t, do(h, http.MethodGet, "/api/v1/ping", "203.0.113.5:4003", spoof), limit)
	})
	t.Run("IPv6 /64", func(t *testing.T) {
		h := MustLimitedServer(t, limit)
		for i := 1; i <= limit; i++ {
			// Every request from a different address of one /64.
			remote := "[2001:db8:1:2::" + strconv.FormatInt(int64(i), 16) + "]:443"
			if w := do(h, http.MethodGet, "/api/v1/ping", remote, nil); w.Code != http.StatusOK {
				t.Fatalf("request %d from %s: status %d, want 200", i, remote, w.Code)
			}
		}
		checkLimited(t, do(h, http.MethodGet, "/api/v1/ping", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:443", nil), limit)
		w := do(h, http.MethodGet, "/api/v1/ping", "[2001:db8:1:3::1]:443", nil)
		if w.Code != http.StatusOK {
			t.Errorf("a different /64: status %d, want 200", w.Code)
		}
		checkLimitHeaders(t, w, limit, limit-1)
	})
	t.Run("behind a trusted proxy", func(t *testing.T) {
		h := MustLimitedServer(t, 2)
		from := func(client string) http.Header { return http.Header{"X-Forwarded-For": {client}} }
		for range 2 {
			if w := do(h, http.MethodGet, "/api/v1/ping", "10.0.0.1:5000", from("198.51.100.1")); w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", w.Code)
			}
		}
		checkLimited(t, do(h, http.MethodGet, "/api/v1/ping", "10.0.0.1:5000", from("198.51.100.1")), 2)
		// Another client behind the same proxy has its own budget.
		if w := do(h, http.MethodGet, "/api/v1/ping", "10.0.0.1:5000", from("198.51.100.2")); w.Code != http.StatusOK {
			t.Errorf("another client behind the proxy: status %d, want 200", w.Code)
		}
	})
}

// TestSecurity31_APIRateLimitPerToken: the same limit per bearer token,
// whatever address it comes from; other tokens and anonymous requests from
// the same address keep their own budgets.
func TestSecurity31_APIRateLimitPerToken(t *testing.T) {
	const limit = 300
	h := MustLimitedServer(t, limit)
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	for i := 1; i <= limit; i++ {
		// The token moves between addresses: it is still one budget.
		remote := "198.51.100." + strconv.Itoa(i%200+1) + ":443"
		w := do(h, http.MethodGet, "/api/v1/ping", remote, bearer("token-a"))
		if w.Code != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i, w.Code)
		}
		checkLimitHeaders(t, w, limit, limit-i)
	}
	checkLimited(t, do(h, http.MethodGet, "/api/v1/ping", "203.0.113.9:443", bearer("token-a")), limit)
	// The scheme is case-insensitive: "bearer" is the same token.
	checkLimited(t, do(h, http.MethodGet, "/api/v1/ping", "203.0.113.9:443", http.Header{"Authorization": {"bearer token-a"}}), limit)

	w := do(h, http.MethodGet, "/api/v1/ping", "198.51.100.1:443", bearer("token-b"))
	if w.Code != http.StatusOK {
		t.Errorf("another token: status %d, want 200", w.Code)
	}
	checkLimitHeaders(t, w, limit, limit-1)
	if w := do(h, http.MethodGet, "/api/v1/ping", "198.51.100.1:443", nil); w.Code != http.StatusOK {
		t.Errorf("anonymous request from an address the token used: status %d, want 200", w.Code)
	}
}

// TestSecurity31_APIRateLimitFakeTokens: the limiter does not validate
// tokens, so a client that invents a new token for every request must still
// meet a per-IP budget (server.TokenIPFactor times the limit), while other
// addresses keep theirs.
func TestSecurity31_APIRateLimitFakeTokens(t *testing.T) {
	const limit = 5
	h := MustLimitedServer(t, limit)
	bearer := func(i int) http.Header {
		return http.Header{"Authorization": {"Bearer made-up-" + strconv.Itoa(i)}}
	}
	budget := limit * server.TokenIPFactor
	for i := 1; i <= budget; i++ {
		w := do(h, http.MethodGet, "/api/v1/ping", "203.0.113.7:443", bearer(i))
		if w.Code != http.StatusOK {
			t.Fatalf("request %d with a new token: status %d, want 200", i, w.Code)
		}
		// Each made-up token has its own, untouched budget.
		checkLimitHeaders(t, w, limit, limit-1)
	}
	checkLimited(t, do(h, http.MethodGet, "/api/v1/ping", "203.0.113.7:443", bearer(budget+1)), limit)

	if w := do(h, http.MethodGet, "/api/v1/ping", "203.0.113.8:443", bearer(budget+2)); w.Code != http.StatusOK {
		t.Errorf("a new token from another address: status %d, want 200", w.Code)
	}
	// Requests without a token keep their own per-IP budget.
	if w := do(h, http.MethodGet, "/api/v1/ping", "203.0.113.7:443", nil); w.Code != http.StatusOK {
		t.Errorf("anonymous request from the flooding address: status %d, want 200", w.Code)
	}
}

func TestAPIRateLimitOff(t *testing.T) {
	h := MustLimitedServer(t, 0)
	for i := range 500 {
		w := do(h, http.MethodGet, "/api/v1/ping", "203.0.113.5:4000", nil)
		if w.Code != http.StatusOK || w.Header().Get("X-RateLimit-Limit") != "" {
			t.Fatalf("request %d with the limit off: status %d, X-RateLimit-Limit %q", i, w.Code, w.Header().Get("X-RateLimit-Limit"))
		}
	}
}
