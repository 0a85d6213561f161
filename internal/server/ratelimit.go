package server

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/httprate"
)

// Rate-limit response headers, with Mastodon's meaning: the limit, what is
// left of it, and when the window resets (an ISO 8601 time).
const (
	HeaderRateLimitLimit     = "X-RateLimit-Limit"
	HeaderRateLimitRemaining = "X-RateLimit-Remaining"
	HeaderRateLimitReset     = "X-RateLimit-Reset"
)

// TokenIPFactor is how many times the per-IP budget the requests that carry
// a bearer token get, counted by client IP on top of their per-token count.
const TokenIPFactor = 10

// APIRateLimit limits requests to the client API: /api/ and everything
// under it, and /oauth/token (SECURITY rule 31). A request with an
// Authorization: Bearer token counts against that token (keyed by a hash
// of it: the limiter neither stores nor validates tokens, which is the
// handlers' job); any other request counts against its client IP, from
// clientIP, with IPv6 addresses grouped by /64. Because tokens are not
// validated here, requests that carry one also count against their client
// IP with TokenIPFactor times the budget, so that inventing a new token for
// every request does not escape the per-IP limit, while many people behind
// one address, each with a token of their own, are not throttled as one.
// Each key may make limit
// requests per window (httprate's sliding window); the next gets 429 with
// Retry-After. Every response on a limited path carries X-RateLimit-Limit,
// X-RateLimit-Remaining and X-RateLimit-Reset (an ISO 8601 UTC time, as
// Mastodon sends it). Other paths pass untouched. A limit of zero or less
// returns a middleware that does nothing.
func APIRateLimit(limit int, window time.Duration, clientIP func(*http.Request) string) func(http.Handler) http.Handler {
	if limit <= 0 || window <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	if clientIP == nil {
		clientIP = TrustedProxies(nil).ClientIP
	}
	rl := httprate.NewRateLimiter(limit, window,
		httprate.WithResponseHeaders(httprate.ResponseHeaders{
			Limit:      HeaderRateLimitLimit,
			Remaining:  HeaderRateLimitRemaining,
			Reset:      HeaderRateLimitReset,
			RetryAfter: "Retry-After",
		}),
		// The in-memory counter never fails; should it, this middleware
		// answers rather than httprate's 428.
		httprate.WithErrorHandler(func(http.ResponseWriter, *http.Request, error) {}))
	// tokenIP counts token-bearing requests by client IP; it sets no
	// headers, so clients see their token's budget.
	tokenIP := httprate.NewRateLimiter(limit*TokenIPFactor, window,
		httprate.WithResponseHeaders(httprate.ResponseHeaders{}),
		httprate.WithErrorHandler(func(http.ResponseWriter, *http.Request, error) {}))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !apiPath(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			key, hasToken := rateLimitKey(r, clientIP)
			if hasToken && tokenIP.OnLimit(w, r, ipKey(r, clientIP)) {
				reset := time.Now().Add(window).UTC()
				w.Header().Set(HeaderRateLimitLimit, strconv.Itoa(limit))
				w.Header().Set(HeaderRateLimitRemaining, "0")
				w.Header().Set(HeaderRateLimitReset, reset.Format(isoResetLayout))
				tooManyRequests(w, reset)
				return
			}
			limited := rl.OnLimit(w, r, key)
			reset := isoReset(w.Header())
			if limited {
				tooManyRequests(w, reset)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// apiPath reports whether path is one APIRateLimit covers.
func apiPath(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/") || path == "/oauth/token"
}

// tooManyRequests writes the 429 answer, with Retry-After counting the
// seconds until reset (httprate would say a whole window).
func tooManyRequests(w http.ResponseWriter, reset time.Time) {
	if wait := int(math.Ceil(time.Until(reset).Seconds())); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(wait))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(`{"error":"Too many requests"}` + "\n"))
}

// rateLimitKey is "token:" and a hash of the bearer token if there is one
// (and then hasToken is true), else ipKey.
func rateLimitKey(r *http.Request, clientIP func(*http.Request) string) (key string, hasToken bool) {
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok &&
		strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != "" {
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		return "token:" + hex.EncodeToString(sum[:16]), true
	}
	return ipKey(r, clientIP), false
}

// ipKey is "ip:" and the client's address (IPv6 by /64).
func ipKey(r *http.Request, clientIP func(*http.Request) string) string {
	return "ip:" + httprate.CanonicalizeIP(clientIP(r))
}

// isoResetLayout is how X-RateLimit-Reset is written: ISO 8601 in UTC with
// milliseconds, as Mastodon sends it.
const isoResetLayout = "2006-01-02T15:04:05.000Z"

// isoReset rewrites httprate's X-RateLimit-Reset (Unix seconds) as an ISO
// 8601 time, which is what Mastodon clients parse, and returns it.
func isoReset(h http.Header) time.Time {
	sec, err := strconv.ParseInt(h.Get(HeaderRateLimitReset), 10, 64)
	if err != nil {
		return time.Time{}
	}
	reset := time.Unix(sec, 0).UTC()
	h.Set(HeaderRateLimitReset, reset.Format(isoResetLayout))
	return reset
}
