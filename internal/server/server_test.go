package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/server"
)

// logBuffer collects log output from concurrent handlers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const secret = "s3cr3t-panic-value"

// testRoutes are the routes the tests need on top of the server's own.
func testRoutes(r chi.Router) {
	r.Get("/hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello "+chi.URLParam(r, "name"))
	})
	r.Get("/panic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Secret", secret)
		panic(secret)
	})
	r.Get("/flush", func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "no flusher", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "chunk")
		f.Flush()
	})
}

type testServer struct {
	*server.Server
	URL  string
	Logs *logBuffer
	DB   *db.DB
}

func MustServer(tb testing.TB) *testServer {
	tb.Helper()
	d, err := db.Open(context.Background(), db.MemoryDSN)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = d.Close() })
	logs := &logBuffer{}
	s, err := server.New(server.Options{
		Logger:  slog.New(slog.NewTextHandler(logs, nil)),
		DB:      d.DB.DB,
		Routers: []server.Router{server.RouterFunc(testRoutes)},
	})
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	tb.Cleanup(hs.Close)
	return &testServer{Server: s, URL: hs.URL, Logs: logs, DB: d}
}

type response struct {
	status int
	header http.Header
	body   string
}

func MustGet(tb testing.TB, url string, header http.Header) response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(body)}
}

func TestHealthz(t *testing.T) {
	s := MustServer(t)
	if r := MustGet(t, s.URL+"/healthz", nil); r.status != http.StatusOK || r.body != "ok\n" {
		t.Errorf("healthz = %d %q, want 200 ok", r.status, r.body)
	}
	head, err := http.Head(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK {
		t.Errorf("HEAD /healthz = %d", head.StatusCode)
	}
	if err := s.DB.Close(); err != nil {
		t.Fatal(err)
	}
	if r := MustGet(t, s.URL+"/healthz", nil); r.status != http.StatusServiceUnavailable || strings.Contains(r.body, "closed") {
		t.Errorf("healthz with the database closed = %d %q, want 503 without detail", r.status, r.body)
	}
}

func TestMetrics(t *testing.T) {
	s := MustServer(t)
	MustGet(t, s.URL+"/hello/ada", nil)
	MustGet(t, s.URL+"/hello/grace", nil)
	MustGet(t, s.URL+"/nowhere/"+strings.Repeat("x", 10), nil)
	r := MustGet(t, s.URL+"/metrics", nil)
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics = %d %s", r.status, r.header.Get("Content-Type"))
	}
	for _, want := range []string{
		`commonroom_http_requests_total{method="GET",route="/hello/{name}",status="200"} 2`,
		`commonroom_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`commonroom_http_request_duration_seconds_bucket{method="GET",route="/hello/{name}",status="200",le="+Inf"} 2`,
		`go_sql_max_open_connections{db_name="commonroom"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(r.body, "/hello/ada") || strings.Contains(r.body, "xxxxxxxxxx") {
		t.Error("metrics are labelled with raw paths, not route patterns")
	}
}

func TestTwoServersKeepTheirOwnMetrics(t *testing.T) {
	a, b := MustServer(t), MustServer(t)
	MustGet(t, a.URL+"/hello/x", nil)
	if body := MustGet(t, b.URL+"/metrics", nil).body; strings.Contains(body, `route="/hello/{name}"`) {
		t.Error("server b counts server a's request")
	}
}

func TestRequestID(t *testing.T) {
	s := MustServer(t)
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"honoured", "req-123_abc.def:1", true},
		{"generated when absent", "", false},
		{"replaced when unsafe", "evil\" injected=1", false},
		{"replaced when too long", strings.Repeat("a", 200), false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.in != "" {
				h.Set(server.HeaderRequestID, tt.in)
			}
			got := MustGet(t, s.URL+"/hello/x", h).header.Get(server.HeaderRequestID)
			if tt.keep && got != tt.in {
				t.Errorf("request id %q, want %q echoed", got, tt.in)
			}
			if !tt.keep && (got == "" || got == tt.in || seen[got]) {
				t.Errorf("request id %q, want a fresh one", got)
			}
			seen[got] = true
			if !strings.Contains(s.Logs.String(), "request_id="+got) {
				t.Errorf("access log lacks request_id=%s", got)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	s := MustServer(t)
	MustGet(t, s.URL+"/hello/ada", http.Header{server.HeaderRequestID: {"log-test"}})
	logs := s.Logs.String()
	for _, want := range []string{"msg=request", "method=GET", "route=/hello/{name}", "path=/hello/ada", "status=200", "bytes=9", "duration=", "request_id=log-test"} {
		if !strings.Contains(logs, want) {
			t.Errorf("access log lacks %s:\n%s", want, logs)
		}
	}
}

func TestPanicRecovery(t *testing.T) {
	s := MustServer(t)
	r := MustGet(t, s.URL+"/panic", http.Header{server.HeaderRequestID: {"panic-1"}})
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", r.status)
	}
	if strings.Contains(r.body, secret) || strings.Contains(r.body, "goroutine") || strings.Contains(r.body, ".go:") {
		t.Errorf("response body leaks the panic: %q", r.body)
	}
	if r.header.Get("X-Secret") != "" {
		t.Error("headers set before the panic were sent")
	}
	if !strings.Contains(r.body, "panic-1") {
		t.Errorf("body %q does not give the request id", r.body)
	}
	logs := s.Logs.String()
	for _, want := range []string{"panic serving request", secret, "server_test.go", "request_id=panic-1", `status=500`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	// The server survives.
	if r := MustGet(t, s.URL+"/hello/after", nil); r.status != http.StatusOK {
		t.Errorf("after a panic, status %d", r.status)
	}
	metrics := MustGet(t, s.URL+"/metrics", nil).body
	if !strings.Contains(metrics, `commonroom_http_requests_total{method="GET",route="/panic",status="500"} 1`) {
		t.Error("the panic is not counted as a 500")
	}
}

func TestFlusherSurvivesMiddleware(t *testing.T) {
	s := MustServer(t)
	if r := MustGet(t, s.URL+"/flush", nil); r.status != http.StatusOK || r.body != "chunk" {
		t.Errorf("flush = %d %q", r.status, r.body)
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	s, err := server.New(server.Options{
		ShutdownTimeout: 10 * time.Second,
		Routers: []server.Router{server.RouterFunc(func(r chi.Router) {
			r.Get("/slow", func(w http.ResponseWriter, r *http.Request) {
				close(started)
				<-release
				_, _ = io.WriteString(w, "finished")
			})
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	got := make(chan response, 1)
	go func() {
		res, err := http.Get(url + "/slow")
		if err != nil {
			got <- response{body: err.Error()}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		got <- response{status: res.StatusCode, body: string(b)}
	}()
	<-started
	cancel()
	<-s.Stopping()
	// New connections are refused while the slow request is still running.
	waitRefused(t, ln.Addr().String())
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	default:
	}
	close(release)
	if r := <-got; r.status != http.StatusOK || r.body != "finished" {
		t.Errorf("in-flight request got %d %q, want 200 finished", r.status, r.body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after a clean shutdown", err)
	}
}

func TestServeGivesUpAfterTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	started := make(chan struct{})
	s, err := server.New(server.Options{
		ShutdownTimeout: 50 * time.Millisecond,
		Routers: []server.Router{server.RouterFunc(func(r chi.Router) {
			r.Get("/stuck", func(w http.ResponseWriter, r *http.Request) { close(started); <-block })
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	go func() {
		if res, err := http.Get("http://" + ln.Addr().String() + "/stuck"); err == nil {
			res.Body.Close()
		}
	}()
	<-started
	cancel()
	if err := <-served; err == nil || !strings.Contains(err.Error(), "did not finish within 50ms") {
		t.Errorf("Serve = %v, want a shutdown timeout error", err)
	}
}

// waitRefused waits until addr refuses connections, failing after a while.
func waitRefused(tb testing.TB, addr string) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("%s still accepts connections during shutdown", addr)
}
