package cli_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/commonroom/commonroom/internal/apptest"
	"github.com/commonroom/commonroom/internal/cli"
	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/internal/server"
	"github.com/commonroom/commonroom/internal/users"
)

// run runs a command line with the given environment and returns its output.
func run(args []string, env map[string]string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	m := &cli.Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
	err = m.Run(context.Background(), args)
	return out.String(), errOut.String(), err
}

// MustRun runs a command line that must succeed and returns its stdout.
func MustRun(tb testing.TB, args ...string) string {
	tb.Helper()
	out, errOut, err := run(args, nil)
	if err != nil {
		tb.Fatalf("commonroom %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

type response struct {
	status      int
	contentType string
	body        string
}

func MustGet(tb testing.TB, url string) response {
	tb.Helper()
	res, err := http.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{res.StatusCode, res.Header.Get("Content-Type"), string(b)}
}

func TestVersionAndUsage(t *testing.T) {
	if out := MustRun(t, "version"); !strings.HasPrefix(out, "commonroom "+cli.Version) {
		t.Errorf("version = %q", out)
	}
	for _, args := range [][]string{nil, {"frobnicate"}, {"admin", "user", "delete"}, {"serve", "extra"}, {"serve", "--no-such-flag"},
		{"serve", "--open-registrations"}, {"admin", "token"}, {"admin", "token", "--scopes", "read"}} {
		_, _, err := run(args, nil)
		if !errors.Is(err, cli.ErrUsage) {
			t.Errorf("commonroom %v = %v, want a usage error", args, err)
		}
	}
}

func TestServeAnswersHealthAndMetrics(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		inst := apptest.Start(t, apptest.Options{DSN: dsn})
		if r := MustGet(t, inst.URL+"/healthz"); r.status != http.StatusOK || r.body != "ok\n" {
			t.Errorf("/healthz = %d %q", r.status, r.body)
		}
		r := MustGet(t, inst.URL+"/metrics")
		if r.status != http.StatusOK || !strings.HasPrefix(r.contentType, "text/plain; version=0.0.4") {
			t.Errorf("/metrics = %d %s", r.status, r.contentType)
		}
		if !strings.Contains(r.body, `commonroom_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
			t.Errorf("/metrics does not count the /healthz request:\n%s", r.body)
		}
		if inst.Logs.Contains("insecure_http is on") {
			t.Error("warned about insecure_http without it")
		}
	})
}

func TestServeWarnsAboutInsecureHTTP(t *testing.T) {
	inst := apptest.Start(t, apptest.Options{Env: map[string]string{"COMMONROOM_INSECURE_HTTP": "true"}})
	if !inst.Logs.Contains("level=WARN") || !inst.Logs.Contains("insecure_http is on") {
		t.Errorf("no warning in the logs:\n%s", inst.Logs)
	}
	if !inst.Logs.Contains("public_url=http://" + inst.Host) {
		t.Errorf("public URL is not http://%s:\n%s", inst.Host, inst.Logs)
	}
}

func TestServeFailsOnBadConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad addr flag", []string{"serve", "--addr", "foo"}, nil, `config: addr "foo": missing port`},
		{"bad env", []string{"serve"}, map[string]string{"COMMONROOM_SHUTDOWN_TIMEOUT": "later"}, `config: shutdown_timeout "later" (env COMMONROOM_SHUTDOWN_TIMEOUT)`},
		{"bad db", []string{"serve", "--db", "oracle://x"}, nil, `config: db "oracle://x"`},
		{"bad delivery_per_host", []string{"serve", "--delivery-per-host", "0"}, nil, `config: delivery_per_host "0": must be from 1`},
		{"bad delivery_concurrency", []string{"serve"}, map[string]string{"COMMONROOM_DELIVERY_CONCURRENCY": "lots"}, `config: delivery_concurrency "lots" (env COMMONROOM_DELIVERY_CONCURRENCY)`},
		{"bad authorized_fetch", []string{"serve", "--authorized-fetch=perhaps"}, nil, `config: authorized_fetch "perhaps" (flag --authorized-fetch): want true or false`},
		{"removed open_registrations", []string{"serve"}, map[string]string{"COMMONROOM_OPEN_REGISTRATIONS": "true"}, `config: open_registrations "true" (env COMMONROOM_OPEN_REGISTRATIONS): removed: set registration = "open"`},
		{"bad registration", []string{"serve", "--registration", "anyone"}, nil, `config: registration "anyone": want open, approval, closed or invite`},
		{"bad oauth_password_grant", []string{"serve", "--oauth-password-grant=sometimes"}, nil, `config: oauth_password_grant "sometimes" (flag --oauth-password-grant): want true or false`},
		{"bad instance_name", []string{"serve", "--instance-name", "tab\there"}, nil, `config: instance_name "tab\there": contains a control character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--data-dir", filepath.Join(dir, tt.name))
			_, _, err := run(args, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dir, tt.name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the data directory was created despite the bad config")
			}
		})
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	started := make(chan struct{})
	inst := apptest.Start(t, apptest.Options{
		Routers: []server.Router{server.RouterFunc(func(r chi.Router) {
			r.Get("/slow", func(w http.ResponseWriter, r *http.Request) {
				close(started)
				time.Sleep(300 * time.Millisecond)
				_, _ = io.WriteString(w, "done")
			})
		})},
	})
	got := make(chan response, 1)
	go func() {
		res, err := http.Get(inst.URL + "/slow")
		if err != nil {
			got <- response{body: err.Error()}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		got <- response{status: res.StatusCode, body: string(b)}
	}()
	<-started
	if err := inst.Stop(); err != nil {
		t.Fatalf("Run returned %v after cancel", err)
	}
	// Run has returned, and the request it was serving completed first.
	select {
	case r := <-got:
		if r.status != http.StatusOK || r.body != "done" {
			t.Errorf("in-flight request got %d %q, want 200 done", r.status, r.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight request never completed")
	}
	for _, want := range []string{"shutting down", "server stopped", "database closed"} {
		if !inst.Logs.Contains(want) {
			t.Errorf("logs lack %q:\n%s", want, inst.Logs)
		}
	}
	if _, err := http.Get(inst.URL + "/healthz"); err == nil {
		t.Error("the server still answers after Run returned")
	}
}

func TestShutdownTimeoutIsConfigurable(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	started := make(chan struct{})
	inst := apptest.Start(t, apptest.Options{
		Args: []string{"--shutdown-timeout", "100ms"},
		Routers: []server.Router{server.RouterFunc(func(r chi.Router) {
			r.Get("/stuck", func(w http.ResponseWriter, r *http.Request) { close(started); <-block })
		})},
	})
	go func() {
		if res, err := http.Get(inst.URL + "/stuck"); err == nil {
			res.Body.Close()
		}
	}()
	<-started
	err := inst.Stop()
	if err == nil || !strings.Contains(err.Error(), "did not finish within 100ms") {
		t.Fatalf("Run = %v, want a shutdown timeout error", err)
	}
	if !inst.Logs.Contains("database closed") {
		t.Error("the database was not closed after a timed-out shutdown")
	}
}

func TestSecondStartReusesData(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"COMMONROOM_DATA_DIR": dir}
	first := apptest.Start(t, apptest.Options{DSN: "sqlite:" + filepath.Join(dir, "commonroom.db"), Env: env})
	if !first.Logs.Contains("applied migrations") {
		t.Errorf("first start applied no migrations:\n%s", first.Logs)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run([]string{"admin", "user", "create", "--username", "ada", "--email", "ada@example.org", "--password", "correct horse"}, env); err != nil {
		t.Fatal(err)
	}
	second := apptest.Start(t, apptest.Options{DSN: "sqlite:" + filepath.Join(dir, "commonroom.db"), Env: env})
	if second.Logs.Contains("applied migrations") {
		t.Errorf("second start applied migrations again:\n%s", second.Logs)
	}
	if r := MustGet(t, second.URL+"/healthz"); r.status != http.StatusOK {
		t.Errorf("/healthz = %d", r.status)
	}
	_, _, err := run([]string{"admin", "user", "create", "--username", "ADA", "--email", "x@example.org", "--password", "correct horse"}, env)
	if !errors.Is(err, errkind.Conflict) {
		t.Errorf("creating ada again after a restart = %v, want a conflict", err)
	}
}

func TestMigrateCommands(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		status := MustRun(t, "migrate", "status", "--db", dsn)
		if !regexp.MustCompile(`users +0001_users +pending`).MatchString(status) {
			t.Errorf("status before migrating:\n%s", status)
		}
		if out := MustRun(t, "migrate", "--db", dsn); !strings.Contains(out, "applied users/0001_users") || !strings.Contains(out, "applied pub/bunstore/0001_delivery_queue") {
			t.Errorf("migrate:\n%s", out)
		}
		if out := MustRun(t, "migrate", "--db", dsn); !strings.Contains(out, "nothing to apply") {
			t.Errorf("second migrate:\n%s", out)
		}
		if status := MustRun(t, "migrate", "status", "--db", dsn); !regexp.MustCompile(`users +0001_users +applied +20`).MatchString(status) {
			t.Errorf("status after migrating:\n%s", status)
		}
	})
}

func TestAdminUserCreate(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		create := func(extra ...string) (string, error) {
			out, _, err := run(append([]string{"admin", "user", "create", "--db", dsn}, extra...), nil)
			return out, err
		}
		out, err := create("--username", "Ada", "--email", "ada@example.org", "--password", "correct horse", "--role", "admin")
		if err != nil || !strings.Contains(out, "created user Ada") || !strings.Contains(out, "role admin") {
			t.Fatalf("create = %q, %v", out, err)
		}
		tests := []struct {
			name string
			args []string
			kind errkind.Kind
			msg  string
		}{
			{"duplicate username in another case", []string{"--username", "ada", "--email", "b@example.org", "--password", "correct horse"}, errkind.Conflict, "username is already taken"},
			{"duplicate email", []string{"--username", "bea", "--email", "ADA@example.org", "--password", "correct horse"}, errkind.Conflict, "email is already registered"},
			{"empty username", []string{"--email", "c@example.org", "--password", "correct horse"}, errkind.Invalid, "username is required"},
			{"too-long username", []string{"--username", strings.Repeat("u", 31), "--email", "c@example.org", "--password", "correct horse"}, errkind.Invalid, "longer than 30"},
			{"bad email", []string{"--username", "cy", "--email", "not-an-email", "--password", "correct horse"}, errkind.Invalid, "not a single plain address"},
			{"short password", []string{"--username", "cy", "--email", "c@example.org", "--password", "short"}, errkind.Invalid, "at least 8"},
			{"bad role", []string{"--username", "cy", "--email", "c@example.org", "--password", "correct horse", "--role", "owner"}, errkind.Invalid, "not one of"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := create(tt.args...)
				if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error = %v, want kind %v with %q", err, tt.kind, tt.msg)
				}
				if strings.Contains(err.Error(), "SQLSTATE") || strings.Contains(err.Error(), "constraint failed") {
					t.Errorf("error shows database detail: %v", err)
				}
			})
		}
		d, err := db.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		var stored []users.User
		if err := d.NewSelect().Model(&stored).Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1 || stored[0].Username != "Ada" || stored[0].Role != users.RoleAdmin {
			t.Errorf("stored users = %+v, want only Ada", stored)
		}
	})
}

func TestTwoServersSideBySide(t *testing.T) {
	a := apptest.Start(t, apptest.Options{DSN: db.MemoryDSN})
	b := apptest.Start(t, apptest.Options{DSN: db.MemoryDSN})
	for range 3 {
		MustGet(t, a.URL+"/healthz")
	}
	MustGet(t, b.URL+"/healthz")
	for _, tt := range []struct {
		inst *apptest.Instance
		want string
	}{
		{a, `route="/healthz",status="200"} 3`},
		{b, `route="/healthz",status="200"} 1`},
	} {
		if body := MustGet(t, tt.inst.URL+"/metrics").body; !strings.Contains(body, tt.want) {
			t.Errorf("%s metrics lack %s", tt.inst.URL, tt.want)
		}
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if r := MustGet(t, b.URL+"/healthz"); r.status != http.StatusOK {
		t.Errorf("stopping one server broke the other: %d", r.status)
	}
}

func TestAdminBackup(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "live.db")
	inst := apptest.Start(t, apptest.Options{DSN: dsn})
	MustRun(t, "admin", "user", "create", "--db", dsn, "--username", "ada", "--email", "ada@example.org", "--password", "correct horse")
	to := filepath.Join(dir, "copy.db")
	// The server keeps running while the copy is made.
	if out := MustRun(t, "admin", "backup", "--db", dsn, "--to", to); !strings.Contains(out, "backed up") {
		t.Errorf("backup output %q", out)
	}
	if r := MustGet(t, inst.URL+"/healthz"); r.status != http.StatusOK {
		t.Errorf("/healthz during backup = %d", r.status)
	}
	_, _, err := run([]string{"admin", "user", "create", "--db", "sqlite:" + to, "--username", "ADA", "--email", "x@example.org", "--password", "correct horse"}, nil)
	if !errors.Is(err, errkind.Conflict) {
		t.Errorf("the copy does not hold ada: %v", err)
	}
	if _, _, err := run([]string{"admin", "backup", "--db", dsn}, nil); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("backup without --to = %v, want a usage error", err)
	}
	if _, _, err := run([]string{"admin", "backup", "--db", dsn, "--to", to}, nil); !errors.Is(err, errkind.Conflict) {
		t.Errorf("backup over an existing file = %v, want Conflict", err)
	}
}
