// Package apptest starts a whole Commonroom server, through the same
// cli.Main.Run path as the binary, on a random loopback port, for end-to-end
// tests.
package apptest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/cli"
	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/federation"
	"github.com/commonroom/commonroom/internal/server"
	"github.com/commonroom/commonroom/oauth"
)

// Options configure Start. The zero value runs a server on a fresh SQLite
// file.
type Options struct {
	// DSN is the database; empty means a new SQLite file in a temporary
	// directory. Use dbtest.PostgresDSN for PostgreSQL.
	DSN string
	// Args are extra serve flags, such as --insecure-http.
	Args []string
	// Env is the environment the server sees (nothing else of the test
	// process's environment leaks in).
	Env map[string]string
	// Routers are mounted after the built-in routes.
	Routers []server.Router
}

// TestRateLimitAPI is the rate_limit_api Start gives servers unless
// Options.Args sets another: far above what any test sends.
const TestRateLimitAPI = "1000000/5m"

// Instance is a running server.
type Instance struct {
	// URL is the server's base URL, such as http://127.0.0.1:41234.
	URL string
	// Host is the public host the server was given: 127.0.0.1:PORT.
	Host string
	// DSN is the database the server uses.
	DSN string
	// Logs holds everything the server logged.
	Logs *LogBuffer
	// Federation is the server's federation layer: its engine (keys,
	// instance actor, signing fetcher), inboxes and delivery pool.
	Federation *federation.Federation
	// Actors is the server's people service: tests follow, post and read
	// timelines through it, as the client APIs will.
	Actors *actors.Service
	// Moderator moderates accounts on every transport, as the admin APIs
	// will.
	Moderator *federation.Moderator
	// OAuth is the server's OAuth provider: tests issue, inspect and
	// revoke tokens through it, as the admin CLI and clients would.
	OAuth *oauth.Service

	cancel  context.CancelFunc
	done    chan struct{}
	err     error
	stopped atomic.Bool
}

// Start runs a server until the test ends (or Stop is called). It fails the
// test if the server does not start.
func Start(tb testing.TB, opts Options) *Instance {
	tb.Helper()
	if opts.DSN == "" {
		opts.DSN = dbtest.SQLiteDSN(tb)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("apptest: listen: %v", err)
	}
	host := ln.Addr().String()
	inst := &Instance{
		URL:  "http://" + host,
		Host: host,
		DSN:  opts.DSN,
		Logs: &LogBuffer{},
		done: make(chan struct{}),
	}
	ready := make(chan struct{})
	m := &cli.Main{
		Stdout:   inst.Logs,
		Stderr:   inst.Logs,
		Getenv:   func(k string) string { return opts.Env[k] },
		Listener: ln,
		Ready:    func(net.Addr) { close(ready) },
		Routers:  opts.Routers,
		// Set before Ready, so it is in place when Start returns.
		Federation: func(f *federation.Federation) { inst.Federation, inst.Actors = f, f.Actors() },
		Moderator:  func(m *federation.Moderator) { inst.Moderator = m },
		OAuth:      func(s *oauth.Service) { inst.OAuth = s },
	}
	// A high API rate limit, so that tests making many requests do not trip
	// it; a test of the limit sets its own in Args, which come later and win.
	args := append([]string{"serve", "--host", host, "--db", opts.DSN, "--log-level", "debug",
		"--rate-limit-api", TestRateLimitAPI}, opts.Args...)
	ctx, cancel := context.WithCancel(context.Background())
	inst.cancel = cancel
	go func() {
		defer close(inst.done)
		inst.err = m.Run(ctx, args)
		_ = ln.Close() // in case Run failed before serving
	}()
	tb.Cleanup(func() {
		// A test that called Stop itself has seen the error already.
		alreadyStopped := inst.stopped.Load()
		if err := inst.Stop(); err != nil && !alreadyStopped {
			tb.Errorf("apptest: server stopped with %v\nlogs:\n%s", err, inst.Logs)
		}
	})
	select {
	case <-ready:
	case <-inst.done:
		tb.Fatalf("apptest: server did not start: %v\nlogs:\n%s", inst.err, inst.Logs)
	case <-time.After(time.Minute):
		tb.Fatalf("apptest: server not ready after a minute\nlogs:\n%s", inst.Logs)
	}
	return inst
}

// Stop cancels the server's context, as SIGINT does, and waits for Run to
// return. It returns Run's error; calling it again returns the same.
func (i *Instance) Stop() error {
	i.stopped.Store(true)
	i.cancel()
	<-i.done
	return i.err
}

// Done is closed when the server's Run has returned.
func (i *Instance) Done() <-chan struct{} { return i.done }

// Get fetches path from the server with the default client.
func (i *Instance) Get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, i.URL+path, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}

// LogBuffer collects a server's output; it is safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Contains reports whether the output so far contains s.
func (b *LogBuffer) Contains(s string) bool { return strings.Contains(b.String(), s) }
