package main

// These tests run the real binary (this test executable, re-executed as
// main) and stop it with a real SIGINT, the way an operator does. They are
// an internal test only because a main package cannot be imported.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

const envRunMain = "COMMONROOM_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type process struct {
	cmd  *exec.Cmd
	url  string
	logs *strings.Builder
	done chan struct{} // closed when stderr reaches EOF
}

var servingAddr = regexp.MustCompile(`msg=serving addr=(\S+)`)

// MustStart starts the binary with args and waits until it serves.
func MustStart(tb testing.TB, dir string, args ...string) *process {
	tb.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p := &process{cmd: cmd, logs: &strings.Builder{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.WriteString(line + "\n")
			if m := servingAddr.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		p.url = "http://" + a
	case <-p.done:
		tb.Fatalf("commonroom %v exited before serving:\n%s", args, p.logs)
	case <-time.After(time.Minute):
		tb.Fatalf("commonroom %v not serving after a minute", args)
	}
	return p
}

// MustInterrupt sends SIGINT and waits for a clean exit.
func (p *process) MustInterrupt(tb testing.TB) string {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		tb.Fatal(err)
	}
	<-p.done
	if err := p.cmd.Wait(); err != nil {
		tb.Fatalf("exit after SIGINT: %v\n%s", err, p.logs)
	}
	return p.logs.String()
}

func get(tb testing.TB, url string) (int, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestServeStopsOnSIGINTAndKeepsData(t *testing.T) {
	dir := t.TempDir()
	first := MustStart(t, dir, "serve", "--addr", "127.0.0.1:0")
	if code, body := get(t, first.url+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, first.url+"/metrics"); code != http.StatusOK || !strings.Contains(body, "# TYPE commonroom_http_requests_total counter") {
		t.Errorf("/metrics = %d, no request counter", code)
	}
	logs := first.MustInterrupt(t)
	for _, want := range []string{"applied migrations", "server stopped", "database closed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("first run's logs lack %q:\n%s", want, logs)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "commonroom.db")); err != nil {
		t.Fatalf("no database under ./data: %v", err)
	}

	second := MustStart(t, dir, "serve", "--addr", "127.0.0.1:0")
	if code, _ := get(t, second.url+"/healthz"); code != http.StatusOK {
		t.Errorf("second run /healthz = %d", code)
	}
	if logs := second.MustInterrupt(t); strings.Contains(logs, "applied migrations") {
		t.Errorf("second run migrated again instead of reusing the data:\n%s", logs)
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"serve", "--addr", "foo"}, 1, `config: addr "foo": missing port`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], tt.args...)
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), envRunMain+"=1")
			out, err := cmd.CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || !strings.Contains(string(out), tt.want) {
				t.Errorf("exit %d, output %q; want %d and %q", code, out, tt.code, tt.want)
			}
		})
	}
}
