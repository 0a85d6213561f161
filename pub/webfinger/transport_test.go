package webfinger_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/pub/webfinger"
)

// mustTransport returns the engine's client set up as the loopback tests and
// --insecure-http demos set it, with edit applied.
func mustTransport(tb testing.TB, edit func(*transport.Config)) *transport.Client {
	tb.Helper()
	cfg := transport.DefaultConfig()
	cfg.AllowHTTP = true
	cfg.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	if edit != nil {
		edit(&cfg)
	}
	tc, err := transport.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(tc.CloseIdleConnections)
	return tc
}

// TestResolveThroughTransport runs the client over pub/transport's safe
// client, as the engine wires it.
func TestResolveThroughTransport(t *testing.T) {
	srv := mustServer(t, webfinger.Config{})
	acct, web := splitDomain(t, false)
	missing := mustRaw(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	big := mustRaw(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"a":"`+strings.Repeat(" ", 4<<10)+`"}`)
	})

	t.Run("direct", func(t *testing.T) {
		c := &webfinger.Client{HTTP: mustTransport(t, nil), Scheme: "http"}
		res, err := c.Resolve(context.Background(), "alice@"+hostOf(t, srv))
		if err != nil || res.Actor != srv.URL+"/users/alice" {
			t.Fatalf("Resolve = %+v, %v", res, err)
		}
	})
	t.Run("split domain through a redirect", func(t *testing.T) {
		c := &webfinger.Client{HTTP: mustTransport(t, nil), Scheme: "http"}
		res, err := c.Resolve(context.Background(), "alice@"+hostOf(t, acct))
		if err != nil || res.Actor != web.URL+"/users/alice" {
			t.Fatalf("Resolve = %+v, %v", res, err)
		}
	})
	t.Run("404 reported as a status error", func(t *testing.T) {
		c := &webfinger.Client{HTTP: mustTransport(t, nil), Scheme: "http"}
		if _, err := c.Resolve(context.Background(), "alice@"+hostOf(t, missing)); !errors.Is(err, webfinger.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("transport's body cap", func(t *testing.T) {
		c := &webfinger.Client{HTTP: mustTransport(t, func(cfg *transport.Config) { cfg.MaxBodyBytes = 1 << 10 }), Scheme: "http"}
		if _, err := c.Resolve(context.Background(), "alice@"+hostOf(t, big)); !errors.Is(err, webfinger.ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
	t.Run("loopback refused without the allow-list", func(t *testing.T) {
		c := &webfinger.Client{HTTP: mustTransport(t, func(cfg *transport.Config) { cfg.AllowPrefixes = nil }), Scheme: "http"}
		_, err := c.Resolve(context.Background(), "alice@"+hostOf(t, srv))
		if !errors.Is(err, transport.ErrBlockedAddress) {
			t.Fatalf("err = %v, want transport.ErrBlockedAddress", err)
		}
	})
}
