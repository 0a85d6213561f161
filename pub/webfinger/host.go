package webfinger

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/commonroom/commonroom/pub/transport"
)

// maxHostLength is the longest host name DNS can carry (RFC 1035 §2.3.4,
// written form without the trailing dot).
const maxHostLength = 253

// NormalizeHost returns the canonical form of a host with an optional port,
// for handles and other host[:port] input without a scheme. The host is the
// one pub/transport's [transport.NormalizeHost] returns, so that two hosts
// WebFinger accepts compare as they do everywhere in pub: IDNA ASCII form
// (UTS #46 lookup rules), lowercased, without a trailing dot; IPv4 literals
// in dotted-quad form; IPv6 literals in brackets, compressed and lowercased.
// The port, if any, is a decimal number in 1..65535; with no scheme there is
// no default port to drop, so "a.example:443" stays as it is.
//
// NormalizeHost accepts less than pub/transport, because it reads
// user-supplied handles: it rejects empty input, user information, paths,
// queries, fragments, whitespace and control characters, labels longer than
// 63 bytes, names longer than 253 bytes, IPv6 zones, IPv6 literals without
// brackets, and names whose last label is numeric but which are not
// dotted-quad IPv4 addresses (such as "127.1" or "2130706433", which
// pub/transport reads as 127.0.0.1). The error wraps ErrInvalidResource.
//
// NormalizeHost(NormalizeHost(h)) == NormalizeHost(h) for every accepted h.
func NormalizeHost(hostport string) (string, error) {
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return "", err
	}
	canon, err := normalizeName(host)
	if err != nil {
		return "", err
	}
	if port == "" {
		return canon, nil
	}
	return canon + ":" + port, nil
}

// splitHostPort separates a host and an optional port without resolving
// anything. The host of an IPv6 literal keeps its brackets.
func splitHostPort(s string) (host, port string, err error) {
	if s == "" {
		return "", "", invalidf("empty host")
	}
	for _, r := range s {
		switch {
		case r <= ' ' || r == 0x7f:
			return "", "", invalidf("host %q contains whitespace or control characters", s)
		case strings.ContainsRune("/?#@\\%", r):
			return "", "", invalidf("host %q contains %q", s, r)
		}
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", invalidf("host %q: unterminated IPv6 literal", s)
		}
		host, rest := s[:end+1], s[end+1:]
		if rest == "" {
			return host, "", nil
		}
		if !strings.HasPrefix(rest, ":") {
			return "", "", invalidf("host %q: junk after IPv6 literal", s)
		}
		port, err := normalizePort(rest[1:])
		return host, port, err
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "", nil
	}
	if strings.IndexByte(s[:i], ':') >= 0 {
		return "", "", invalidf("host %q: IPv6 literals need brackets", s)
	}
	port, err = normalizePort(s[i+1:])
	return s[:i], port, err
}

func normalizePort(p string) (string, error) {
	if p == "" || len(p) > 5 {
		return "", invalidf("invalid port %q", p)
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return "", invalidf("invalid port %q", p)
		}
	}
	n, _ := strconv.Atoi(p) // at most five digits: cannot fail
	if n < 1 || n > 65535 {
		return "", invalidf("port %q out of range", p)
	}
	return strconv.Itoa(n), nil
}

// normalizeName checks host against WebFinger's input rules (strictName)
// and returns pub/transport's canonical form of it, in brackets for IPv6.
func normalizeName(host string) (string, error) {
	if err := strictName(host); err != nil {
		return "", err
	}
	canon, err := transport.NormalizeHost(host)
	if err != nil {
		return "", invalidf("host %q: %v", host, err)
	}
	if strings.Contains(canon, ":") {
		return "[" + canon + "]", nil
	}
	return canon, nil
}

// strictName reports why WebFinger refuses host as input even where
// pub/transport might accept it; it decides acceptance only, never the
// canonical form.
func strictName(host string) error {
	if strings.HasPrefix(host, "[") {
		inner := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		addr, err := netip.ParseAddr(inner)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return invalidf("invalid IPv6 literal %q", host)
		}
		return nil
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if !addr.Is4() {
			return invalidf("IPv6 literal %q needs brackets", host)
		}
		return nil
	}
	name := strings.TrimSuffix(host, ".")
	if name == "" {
		return invalidf("empty host name")
	}
	if !utf8.ValidString(name) {
		return invalidf("host %q is not valid UTF-8", host)
	}
	ascii, err := idna.Lookup.ToASCII(name)
	if err != nil {
		return invalidf("host %q is not a valid domain name: %v", host, err)
	}
	ascii = strings.ToLower(ascii)
	if again, err := idna.Lookup.ToASCII(ascii); err != nil || again != ascii {
		// The canonical form must itself be accepted unchanged.
		return invalidf("host %q has no stable ASCII form", host)
	}
	if len(ascii) > maxHostLength {
		return invalidf("host %q is longer than %d bytes", host, maxHostLength)
	}
	if addr, err := netip.ParseAddr(ascii); err == nil && addr.Is4() {
		// A name that maps onto a dotted-quad IPv4 literal ("１２７.０.０.１")
		// is that literal.
		return nil
	}
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		if !validLabel(l) {
			return invalidf("host %q has an invalid label %q", host, l)
		}
	}
	if last := labels[len(labels)-1]; allDigits(last) || hexNumber(last) {
		// WHATWG URL parsers, and pub/transport, read such names as IPv4
		// numbers ("127.1" and "0x7f000001" are 127.0.0.1); a handle
		// should not need that reading, so refuse it.
		return invalidf("host %q looks like a malformed IPv4 address", host)
	}
	return nil
}

// validLabel reports whether l is an LDH label of 1..63 bytes that neither
// starts nor ends with a hyphen.
func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// hexNumber reports whether a lowercased label is "0x" followed by hex
// digits, a number in the WHATWG URL standard's IPv4 parser.
func hexNumber(s string) bool {
	if !strings.HasPrefix(s, "0x") {
		return false
	}
	return strings.Trim(s[2:], "0123456789abcdef") == ""
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidResource}, args...)...)
}

// originHost returns the host key of an absolute http(s) URL as
// pub/transport defines it ([transport.Origin.HostPort]): the canonical host,
// with the port unless it is the default of the URL's scheme. Two URLs with
// the same scheme have equal keys exactly when they are same-origin. The
// URL's host must also pass NormalizeHost, WebFinger's stricter input rule.
// Errors wrap ErrInvalidResource.
func originHost(u *url.URL) (string, error) {
	if _, err := NormalizeHost(u.Host); err != nil {
		return "", err
	}
	o, err := transport.OriginOf(u)
	if err != nil {
		return "", invalidf("%v", err)
	}
	return o.HostPort(), nil
}

// authorityKey returns the host key (see originHost) of the origin
// scheme://hostport, or "" when there is none.
func authorityKey(hostport, scheme string) string {
	k, err := originHost(&url.URL{Scheme: scheme, Host: hostport})
	if err != nil {
		return ""
	}
	return k
}
