package server_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/internal/server"
)

func TestClientIP(t *testing.T) {
	proxies := server.TrustedProxies{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("192.0.2.7/32"),
	}
	tests := []struct {
		name    string
		trusted server.TrustedProxies
		remote  string
		xff     []string // header lines
		want    string
	}{
		{"no proxies, no header", nil, "203.0.113.5:4711", nil, "203.0.113.5"},
		{"no proxies, spoofed header ignored", nil, "203.0.113.5:4711", []string{"198.51.100.1"}, "203.0.113.5"},
		{"untrusted peer, spoofed header ignored", proxies, "203.0.113.5:4711", []string{"198.51.100.1, 10.0.0.1"}, "203.0.113.5"},
		{"untrusted peer claiming to be a proxy address", proxies, "203.0.113.5:4711", []string{"10.0.0.1"}, "203.0.113.5"},
		{"trusted peer, one hop", proxies, "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted peer, client-sent prefix skipped", proxies, "10.1.2.3:5000", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"},
		{"trusted chain of proxies", proxies, "10.1.2.3:5000", []string{"1.1.1.1, 198.51.100.1, 192.0.2.7, 10.9.9.9"}, "198.51.100.1"},
		{"several header lines", proxies, "10.1.2.3:5000", []string{"6.6.6.6", "198.51.100.1, 10.0.0.9"}, "198.51.100.1"},
		{"trusted peer, no header", proxies, "10.1.2.3:5000", nil, "10.1.2.3"},
		{"trusted peer, all hops trusted", proxies, "10.1.2.3:5000", []string{"10.0.0.8, 10.0.0.9"}, "10.0.0.8"},
		{"trusted peer, garbled entry stops the walk", proxies, "10.1.2.3:5000", []string{"198.51.100.1, not-an-ip, 10.0.0.9"}, "10.0.0.9"},
		{"trusted peer, entry with port", proxies, "10.1.2.3:5000", []string{"198.51.100.1:1234"}, "198.51.100.1"},
		{"IPv6 peer untrusted", proxies, "[2001:db8::5]:443", []string{"198.51.100.1"}, "2001:db8::5"},
		{"IPv6 trusted proxy", proxies, "[fd00::1]:443", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv6 entry in brackets", proxies, "[fd00::1]:443", []string{"[2001:db8::7]:80"}, "2001:db8::7"},
		{"IPv4-mapped peer is IPv4", proxies, "[::ffff:10.1.2.3]:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped untrusted peer", nil, "[::ffff:203.0.113.5]:5000", nil, "203.0.113.5"},
		{"peer with zone", nil, "[fe80::1%eth0]:5000", nil, "fe80::1"},
		{"remote addr without a port", nil, "203.0.113.5", nil, "203.0.113.5"},
		{"remote addr not an address", proxies, "pipe", []string{"198.51.100.1"}, "pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, line := range tt.xff {
				r.Header.Add("X-Forwarded-For", line)
			}
			if got := tt.trusted.ClientIP(r); got != tt.want {
				t.Errorf("ClientIP(remote %s, X-Forwarded-For %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}

func TestAccessLogClientIP(t *testing.T) {
	logs := &logBuffer{}
	s, err := server.New(server.Options{
		Logger:         slog.New(slog.NewTextHandler(logs, nil)),
		TrustedProxies: server.TrustedProxies{netip.MustParsePrefix("10.0.0.0/8")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ remote, xff, want string }{
		{"10.0.0.2:1", "198.51.100.9", "client_ip=198.51.100.9"},
		{"203.0.113.5:1", "198.51.100.10", "client_ip=203.0.113.5"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		r.RemoteAddr = tt.remote
		r.Header.Set("X-Forwarded-For", tt.xff)
		s.Handler().ServeHTTP(httptest.NewRecorder(), r)
		if !strings.Contains(logs.String(), tt.want) {
			t.Errorf("access log lacks %s:\n%s", tt.want, logs)
		}
	}
	if strings.Contains(logs.String(), "198.51.100.10") {
		t.Errorf("access log believed a header from an untrusted peer:\n%s", logs)
	}
}
