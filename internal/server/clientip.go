package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the networks of the reverse proxies in front of the
// server, whose X-Forwarded-For header is believed. The zero value trusts
// no one: the client is always the connection's address.
type TrustedProxies []netip.Prefix

// ClientIP returns the address r comes from, without a port: the
// connection's address (r.RemoteAddr), unless that is a trusted proxy; then
// the right-most address of X-Forwarded-For that is not itself a trusted
// proxy, walking the header (all its lines, in order) from the right. The
// header is never read for a connection from an untrusted address, so a
// client cannot choose its own address by sending it. If every address in
// the header is trusted, the left-most one is the answer; if the header is
// missing or an entry is not an address, the last trusted address seen is.
// IPv4-mapped IPv6 addresses are returned as IPv4. It is safe for
// concurrent use and is the one place the server decides who a client is:
// access logs, sign-in throttles and rate limits all use it.
func (tp TrustedProxies) ClientIP(r *http.Request) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		// Not host:port (an embedder's custom listener): use it whole.
		return r.RemoteAddr
	}
	if !tp.trusts(peer) {
		return peer.String()
	}
	hops := forwardedFor(r.Header)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseAddr(hops[i])
		if !ok {
			// A garbled entry: what lies left of it cannot be trusted.
			return client.String()
		}
		client = a
		if !tp.trusts(a) {
			return a.String()
		}
	}
	return client.String()
}

func (tp TrustedProxies) trusts(a netip.Addr) bool {
	for _, p := range tp {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor returns the X-Forwarded-For entries, left to right, across
// every header line.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, line := range h.Values("X-Forwarded-For") {
		for _, item := range strings.Split(line, ",") {
			if item = strings.TrimSpace(item); item != "" {
				hops = append(hops, item)
			}
		}
	}
	return hops
}

// parseAddr reads an address with or without a port ("192.0.2.1",
// "192.0.2.1:443", "[2001:db8::1]:443", "2001:db8::1"), dropping any IPv6
// zone and unmapping IPv4-mapped IPv6.
func parseAddr(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}
