package transport_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/transport"
)

var frozen = time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)

func TestDeliver(t *testing.T) {
	t.Parallel()
	activity := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://school.example/activities/1","type":"Create"}`)
	tests := []struct {
		name           string
		status         int
		retryAfter     string
		wantErr        bool
		wantRetryable  bool
		wantRetryAfter time.Duration
		wantHasRA      bool
	}{
		{name: "202 accepted", status: 202},
		{name: "200 ok", status: 200},
		{name: "204 no content", status: 204},
		{name: "400", status: 400, wantErr: true},
		{name: "403", status: 403, wantErr: true},
		{name: "404", status: 404, wantErr: true},
		{name: "410 gone", status: 410, wantErr: true},
		{name: "422", status: 422, wantErr: true},
		{name: "401 retried (key not fetched yet)", status: 401, wantErr: true, wantRetryable: true},
		{name: "408", status: 408, wantErr: true, wantRetryable: true},
		{name: "500", status: 500, wantErr: true, wantRetryable: true},
		{name: "502", status: 502, wantErr: true, wantRetryable: true},
		{name: "503 with seconds", status: 503, retryAfter: "120", wantErr: true, wantRetryable: true, wantRetryAfter: 2 * time.Minute, wantHasRA: true},
		{name: "429 with HTTP-date", status: 429, retryAfter: "Sat, 21 Nov 2026 07:05:30 GMT", wantErr: true, wantRetryable: true, wantRetryAfter: 5*time.Minute + 30*time.Second, wantHasRA: true},
		{name: "429 with past date", status: 429, retryAfter: "Sat, 21 Nov 2026 06:00:00 GMT", wantErr: true, wantRetryable: true, wantRetryAfter: 0, wantHasRA: true},
		{name: "429 with garbage", status: 429, retryAfter: "soon", wantErr: true, wantRetryable: true},
		{name: "302 not followed", status: 302, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			var got struct {
				method, contentType string
				body                []byte
			}
			w.handle("b.example", "/inbox", func(rw http.ResponseWriter, r *http.Request) {
				got.method, got.contentType = r.Method, r.Header.Get("Content-Type")
				got.body, _ = io.ReadAll(r.Body)
				if tt.retryAfter != "" {
					rw.Header().Set("Retry-After", tt.retryAfter)
				}
				if tt.status == 302 {
					rw.Header().Set("Location", "/elsewhere")
				}
				rw.WriteHeader(tt.status)
				io.WriteString(rw, "whatever the inbox says")
			})
			cfg := w.config()
			cfg.Now = func() time.Time { return frozen }
			res, err := mustClient(t, cfg).Deliver(t.Context(), w.url("b.example", "/inbox"), activity)
			if res == nil || res.StatusCode != tt.status {
				t.Fatalf("result %+v, err %v; want status %d", res, err, tt.status)
			}
			if got.method != http.MethodPost || got.contentType != transport.ContentTypeActivityJSON || !bytes.Equal(got.body, activity) {
				t.Errorf("server saw %s, %q, %q", got.method, got.contentType, got.body)
			}
			if _, bad := w.requests(); bad != 0 {
				t.Errorf("signature over the body did not verify")
			}
			if total, _ := w.requests(); total != 1 {
				t.Errorf("%d requests, want 1", total)
			}
			if !tt.wantErr {
				assertErr(t, err, nil)
				return
			}
			var se *transport.StatusError
			if !errors.As(err, &se) || se.StatusCode != tt.status {
				t.Fatalf("err = %v, want a StatusError %d", err, tt.status)
			}
			if transport.IsRetryable(err) != tt.wantRetryable || se.Retryable() != tt.wantRetryable {
				t.Errorf("retryable = %v, want %v", transport.IsRetryable(err), tt.wantRetryable)
			}
			if res.HasRetryAfter != tt.wantHasRA || res.RetryAfter != tt.wantRetryAfter ||
				se.HasRetryAfter != tt.wantHasRA || se.RetryAfter != tt.wantRetryAfter {
				t.Errorf("Retry-After = %v/%v (error %v/%v), want %v/%v",
					res.RetryAfter, res.HasRetryAfter, se.RetryAfter, se.HasRetryAfter, tt.wantRetryAfter, tt.wantHasRA)
			}
		})
	}
}

func TestDeliverFollowsOnlyMethodKeepingRedirects(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		w := newWorld(t)
		w.redirect("b.example", "/inbox", code, w.url("c.example", "/inbox"))
		var body []byte
		w.handle("c.example", "/inbox", func(rw http.ResponseWriter, r *http.Request) {
			body, _ = io.ReadAll(r.Body)
			rw.WriteHeader(http.StatusAccepted)
		})
		cfg := w.config()
		signer := cfg.Signer.(*hmacSigner)
		res, err := mustClient(t, cfg).Deliver(t.Context(), w.url("b.example", "/inbox"), []byte(`{"type":"Follow"}`))
		assertErr(t, err, nil)
		if res.URL != w.url("c.example", "/inbox") || string(body) != `{"type":"Follow"}` {
			t.Errorf("%d: delivered to %s with body %q", code, res.URL, body)
		}
		if total, bad := w.requests(); total != 2 || bad != 0 || signer.n.Load() != 2 {
			t.Errorf("%d: %d requests, %d bad signatures, %d signed; want 2, 0, 2", code, total, bad, signer.n.Load())
		}
	}
}

func TestDeliverNetworkErrorsAreRetryable(t *testing.T) {
	t.Parallel()
	// A port with nothing listening: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := portOf(ln)
	ln.Close()
	w := newWorld(t)
	res, err := mustClient(t, w.config()).Deliver(t.Context(), "http://b.example:"+port+"/inbox", []byte(`{}`))
	if res != nil || err == nil || !transport.IsRetryable(err) {
		t.Errorf("refused connection: result %+v, err %v; want nil and a retryable error", res, err)
	}
	res, err = mustClient(t, w.config()).Deliver(t.Context(), "http://unknown.example:"+port+"/inbox", []byte(`{}`))
	if res != nil || err == nil || !transport.IsRetryable(err) {
		t.Errorf("unknown host: result %+v, err %v; want nil and a retryable error", res, err)
	}
	// A server that never answers: a retryable timeout.
	stall := rawServer(t, func(conn net.Conn) { io.Copy(io.Discard, conn) })
	cfg := w.config()
	cfg.ReadTimeout = 200 * time.Millisecond
	_, err = mustClient(t, cfg).Deliver(t.Context(), "http://b.example:"+portOf(stall)+"/inbox", []byte(`{}`))
	if !errors.Is(err, transport.ErrTimeout) || !transport.IsRetryable(err) {
		t.Errorf("stalled inbox: %v; want a retryable ErrTimeout", err)
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	for status := 100; status < 600; status++ {
		want := status >= 500 || status == 429 || status == 408 || status == 401
		if got := transport.Retryable(status); got != want {
			t.Errorf("Retryable(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&transport.StatusError{StatusCode: 503}, true},
		{&transport.StatusError{StatusCode: 410}, false},
		{transport.ErrTimeout, true},
		{errors.New("connection reset by peer"), true},
		{transport.ErrBlockedAddress, false},
		{transport.ErrLocal, false},
		{transport.ErrBudgetExhausted, false},
		{transport.ErrInvalidURL, false},
		{transport.ErrScheme, false},
		{transport.ErrTooManyRedirects, false},
		{transport.ErrTooLarge, false},
	}
	for _, tt := range tests {
		if got := transport.IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 3600 ", time.Hour, true},
		{"99999999999999999999", time.Duration(1<<63 - 1), true},
		{"Sat, 21 Nov 2026 07:00:10 GMT", 10 * time.Second, true}, // RFC 1123
		{"Saturday, 21-Nov-26 08:00:00 GMT", time.Hour, true},     // RFC 850
		{"Sat Nov 21 07:01:00 2026", time.Minute, true},           // asctime
		{"Sat, 21 Nov 2026 06:00:00 GMT", 0, true},                // past
		{"-1", 0, false},
		{"1.5", 0, false},
		{"12abc", 0, false},
		{"", 0, false},
		{"tomorrow", 0, false},
		{"2026-11-21T07:00:10Z", 0, false},
	}
	for _, tt := range tests {
		got, ok := transport.ParseRetryAfter(tt.in, frozen)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}
