package cli_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/internal/apptest"
)

// post sends POST /oauth/token to inst with the given X-Forwarded-For (none
// if empty) and returns the status and X-RateLimit-Remaining.
func postToken(tb testing.TB, inst *apptest.Instance, xff string) (int, string) {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, inst.URL+"/oauth/token",
		strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining")
}

// TestServeAPIRateLimit: rate_limit_api and trusted_proxies reach the
// running server: over the limit /oauth/token answers 429 with
// Retry-After; X-Forwarded-For splits clients only from a trusted proxy.
func TestServeAPIRateLimit(t *testing.T) {
	t.Run("untrusted", func(t *testing.T) {
		inst := apptest.Start(t, apptest.Options{Args: []string{"--rate-limit-api", "3/5m"}})
		for i, want := range []string{"2", "1", "0"} {
			// A client choosing its own address gains nothing.
			status, remaining := postToken(t, inst, "198.51.100."+string(rune('1'+i)))
			if status == http.StatusTooManyRequests || remaining != want {
				t.Fatalf("request %d: status %d, X-RateLimit-Remaining %q, want not 429 and %s", i+1, status, remaining, want)
			}
		}
		if status, _ := postToken(t, inst, "198.51.100.9"); status != http.StatusTooManyRequests {
			t.Errorf("4th request: status %d, want 429", status)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		inst := apptest.Start(t, apptest.Options{Args: []string{"--rate-limit-api", "3/5m", "--trusted-proxies", "127.0.0.0/8"}})
		for range 3 {
			if status, _ := postToken(t, inst, "198.51.100.1"); status == http.StatusTooManyRequests {
				t.Fatalf("status 429 within the limit")
			}
		}
		if status, _ := postToken(t, inst, "198.51.100.1"); status != http.StatusTooManyRequests {
			t.Errorf("4th request from one forwarded client: status %d, want 429", status)
		}
		if status, remaining := postToken(t, inst, "198.51.100.2"); status == http.StatusTooManyRequests || remaining != "2" {
			t.Errorf("another forwarded client: status %d, remaining %q; want its own budget", status, remaining)
		}
		if !inst.Logs.Contains("client_ip=198.51.100.2") {
			t.Errorf("access log does not name the forwarded client:\n%s", inst.Logs)
		}
	})
	t.Run("off", func(t *testing.T) {
		inst := apptest.Start(t, apptest.Options{Args: []string{"--rate-limit-api", "off"}})
		for range 5 {
			if status, remaining := postToken(t, inst, ""); status == http.StatusTooManyRequests || remaining != "" {
				t.Fatalf("limit off: status %d, X-RateLimit-Remaining %q", status, remaining)
			}
		}
	})
}
