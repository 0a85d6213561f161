package delivery_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/delivery"
)

func TestHostOf(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "https://Mastodon.Social/inbox", want: "mastodon.social"},
		{in: "https://mastodon.social./inbox", want: "mastodon.social"},
		{in: "https://mastodon.social:443/inbox", want: "mastodon.social"},
		{in: "http://a.example:80/x", want: "a.example"},
		{in: "https://a.example:8443/x", want: "a.example:8443"},
		{in: "http://127.0.0.1:9000/inbox", want: "127.0.0.1:9000"},
		{in: "https://[::1]:9000/inbox", want: "[::1]:9000"},
		{in: "https://[::1]/inbox", want: "[::1]"},
		{in: "school.example", want: "school.example"},
		{in: "school.example:8080", want: "school.example:8080"},
		{in: "ftp://a.example/x", bad: true},
		{in: "https://user@a.example/x", bad: true},
		{in: "https:///x", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := delivery.HostOf(tt.in)
			if tt.bad {
				if !errors.Is(err, delivery.ErrInvalidJob) {
					t.Fatalf("HostOf(%q) = %q, %v; want ErrInvalidJob", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("HostOf(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNewJobRefuses(t *testing.T) {
	tests := []struct {
		name, inbox, key string
		body             []byte
	}{
		{"no key", "https://a.example/inbox", "", []byte("{}")},
		{"no body", "https://a.example/inbox", testKeyID, nil},
		{"bad inbox", "mailto:x@a.example", testKeyID, []byte("{}")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := delivery.NewJob(tt.inbox, tt.key, "", tt.body); !errors.Is(err, delivery.ErrInvalidJob) {
				t.Fatalf("err %v, want ErrInvalidJob", err)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	retry := []int{401, 408, 429, 500, 502, 503, 504, 599}
	final := []int{300, 301, 400, 403, 404, 405, 406, 410, 413, 422}
	for _, s := range retry {
		if !delivery.Retryable(s) {
			t.Errorf("%d not retryable", s)
		}
	}
	for _, s := range final {
		if delivery.Retryable(s) {
			t.Errorf("%d retryable", s)
		}
	}
}

// TestSchedule checks the default retry schedule: doubling from a minute to
// a 12 h cap, 16 attempts spanning at most about three days and about a day
// and a half on average with full jitter.
func TestSchedule(t *testing.T) {
	cfg := delivery.DefaultConfig()
	wantCeil := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute}
	for i, w := range wantCeil {
		if got := cfg.BackoffCeiling(i + 1); got != w {
			t.Errorf("ceiling after attempt %d: %v, want %v", i+1, got, w)
		}
	}
	if got := cfg.BackoffCeiling(11); got != 12*time.Hour {
		t.Errorf("ceiling after attempt 11: %v, want the 12 h cap", got)
	}
	if got := cfg.BackoffCeiling(1000); got != 12*time.Hour {
		t.Errorf("ceiling after attempt 1000: %v (overflow?)", got)
	}
	var total time.Duration
	for a := 1; a < cfg.MaxAttempts; a++ {
		total += cfg.BackoffCeiling(a)
	}
	if total < 60*time.Hour || total > 80*time.Hour {
		t.Errorf("longest schedule %v, want about three days", total)
	}
	t.Logf("longest schedule %v, mean about %v", total, total/2)
}

func TestConfigChecks(t *testing.T) {
	clk := newClock(t0)
	bad := []func(*delivery.Config){
		func(c *delivery.Config) { c.Lease = time.Second; c.SendTimeout = time.Minute },
		func(c *delivery.Config) { c.Concurrency = -1 },
		func(c *delivery.Config) { c.BackoffBase = -time.Second },
	}
	for i, mutate := range bad {
		cfg := testConfig(clk)
		mutate(&cfg)
		if _, err := delivery.New(cfg, nil, nil, nil); err == nil {
			t.Errorf("config %d accepted", i)
		}
	}
	if _, err := delivery.New(testConfig(clk), nil, nil, nil); err == nil {
		t.Error("New without a queue accepted")
	}
}

func TestContextSigner(t *testing.T) {
	var signedBy string
	sign := func(name string) delivery.Signer {
		return signerFunc(func(r *http.Request, _ []byte) error {
			signedBy = name
			r.Header.Set("Signature", name)
			return nil
		})
	}
	tests := []struct {
		name     string
		ctx      delivery.Signer
		fallback delivery.Signer
		want     string
		fails    bool
	}{
		{name: "context wins", ctx: sign("job"), fallback: sign("instance"), want: "job"},
		{name: "fallback", fallback: sign("instance"), want: "instance"},
		{name: "neither", fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signedBy = ""
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = delivery.WithSigner(ctx, tt.ctx)
			}
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, "https://a.example/inbox", nil)
			err := delivery.ContextSigner{Fallback: tt.fallback}.SignRequest(req, nil)
			if tt.fails != (err != nil) || signedBy != tt.want {
				t.Fatalf("err %v, signed by %q; want %q", err, signedBy, tt.want)
			}
		})
	}
}

type signerFunc func(*http.Request, []byte) error

func (f signerFunc) SignRequest(r *http.Request, b []byte) error { return f(r, b) }

func TestOutcomeNames(t *testing.T) {
	want := map[delivery.Outcome]string{
		delivery.Delivered: "delivered", delivery.Retried: "retried", delivery.Rejected: "rejected",
		delivery.Expired: "expired", delivery.Skipped: "skipped",
	}
	for o, name := range want {
		if o.String() != name {
			t.Errorf("%d: %q, want %q", o, o.String(), name)
		}
	}
}

func TestUTCDay(t *testing.T) {
	tests := []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(86399, 0), 0},
		{time.Unix(86400, 0), 1},
		{time.Unix(-1, 0), -1},
		{time.Date(2026, 11, 2, 23, 59, 0, 0, time.FixedZone("x", -3600)), delivery.UTCDay(time.Date(2026, 11, 3, 0, 59, 0, 0, time.UTC))},
	}
	for _, tt := range tests {
		if got := delivery.UTCDay(tt.t); got != tt.want {
			t.Errorf("UTCDay(%v) = %d, want %d", tt.t, got, tt.want)
		}
	}
}
