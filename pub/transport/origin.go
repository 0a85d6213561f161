package transport

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Origin is a normalized web origin: scheme, host and port. Two URLs are
// same-origin exactly when their Origins are equal (==), so Origin is the one
// value every same-origin rule in the server compares.
//
// Normalization (see [ParseOrigin]):
//   - Scheme is "http" or "https", lowercased.
//   - Host is the ASCII (IDNA/punycode) form of the host name, lowercased, with
//     one trailing dot removed; IP literals are in canonical form, IPv6
//     without brackets.
//   - Port is the decimal port, or "" when it is the scheme's default (443 for
//     https, 80 for http), so https://a.example and https://a.example:443 are
//     the same origin.
type Origin struct {
	Scheme string
	Host   string
	Port   string
}

// String returns the origin in URL form, for example "https://a.example" or
// "http://127.0.0.1:8080", with IPv6 hosts in brackets.
func (o Origin) String() string {
	if o.Scheme == "" {
		return ""
	}
	return o.Scheme + "://" + o.HostPort()
}

// HostPort returns the origin's authority as a URL carries it: the host, in
// brackets when it is an IPv6 address, and ":port" when the port is not the
// scheme's default, for example "a.example", "127.0.0.1:8080" or "[::1]".
// It is the one host key of the pub packages: two URLs with the same scheme
// have equal HostPorts exactly when they are same-origin. pub/delivery keys
// hosts by it, pub/webfinger and pub/nodeinfo compare hosts with it, and the
// requests a [Client] sends carry it as their Host.
func (o Origin) HostPort() string {
	host := o.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if o.Port == "" {
		return host
	}
	return host + ":" + o.Port
}

// ParseOrigin parses rawURL and returns its normalized [Origin]. It fails with
// an error wrapping [ErrInvalidURL] when rawURL is not an absolute http or
// https URL with a valid host.
func ParseOrigin(rawURL string) (Origin, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Origin{}, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	return OriginOf(u)
}

// OriginOf returns the normalized [Origin] of u. It fails with an error
// wrapping [ErrInvalidURL] when u is not an absolute http or https URL with a
// valid host.
func OriginOf(u *url.URL) (Origin, error) {
	scheme := strings.ToLower(u.Scheme)
	var defaultPort string
	switch scheme {
	case "https":
		defaultPort = "443"
	case "http":
		defaultPort = "80"
	default:
		return Origin{}, fmt.Errorf("%w: scheme %q is not http or https", ErrInvalidURL, u.Scheme)
	}
	if u.Opaque != "" {
		return Origin{}, fmt.Errorf("%w: %q has no authority", ErrInvalidURL, u.String())
	}
	host, err := NormalizeHost(u.Hostname())
	if err != nil {
		return Origin{}, err
	}
	port := u.Port()
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return Origin{}, fmt.Errorf("%w: bad port %q", ErrInvalidURL, port)
		}
		port = strconv.FormatUint(n, 10)
		if port == defaultPort {
			port = ""
		}
	}
	return Origin{Scheme: scheme, Host: host, Port: port}, nil
}

// SameOrigin reports whether a and b are absolute http(s) URLs with the same
// normalized [Origin]. Unparsable URLs are never same-origin with anything.
func SameOrigin(a, b string) bool {
	oa, err := ParseOrigin(a)
	if err != nil {
		return false
	}
	ob, err := ParseOrigin(b)
	if err != nil {
		return false
	}
	return oa == ob
}

// hostProfile maps host names as a browser's URL parser would for lookup:
// Unicode case folding and width mapping, NFC, punycode, STD3 rules (which
// refuse '/', '@', ':' and other characters that could smuggle another host)
// and DNS lengths (no empty labels, at most 63 bytes a label, 253 a name).
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.ValidateLabels(true),
	idna.StrictDomainName(true),
	idna.VerifyDNSLength(true),
)

// NormalizeHost returns the canonical form of a host name or IP literal as it
// appears in an [Origin]: IDNA ASCII form, lowercased, one trailing dot
// removed; IP addresses in canonical text form (IPv6 brackets optional on
// input, absent on output; IPv4 also from the short, decimal, octal and hex
// forms browsers accept, so "127.1" and "0x7f.0.0.1" are "127.0.0.1").
// "EVIL.example." and "evil.example" normalize equally; "mastodon.so/cial" is
// refused, never equal to "mastodon.social".
// Errors wrap [ErrInvalidURL].
func NormalizeHost(host string) (string, error) {
	if host == "" {
		return "", fmt.Errorf("%w: empty host", ErrInvalidURL)
	}
	literal := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(literal); err == nil {
		if ip.Zone() != "" {
			return "", fmt.Errorf("%w: zoned address %q", ErrInvalidURL, host)
		}
		return ip.String(), nil
	}
	name := strings.TrimSuffix(host, ".")
	if name == "" || strings.HasSuffix(name, ".") {
		return "", fmt.Errorf("%w: bad host %q", ErrInvalidURL, host)
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: host %q is not UTF-8", ErrInvalidURL, host)
	}
	ascii, err := hostProfile.ToASCII(name)
	if err != nil {
		return "", fmt.Errorf("%w: host %q: %w", ErrInvalidURL, host, err)
	}
	ascii = strings.ToLower(ascii)
	// The ASCII form must map onto itself, or two spellings of one host
	// could compare unequal later.
	if again, err := hostProfile.ToASCII(ascii); err != nil || again != ascii {
		return "", fmt.Errorf("%w: host %q has no stable IDNA form", ErrInvalidURL, host)
	}
	// A name ending in a number is an IPv4 address in one of the forms
	// browsers and inet_aton accept ("127.1", "2130706433", "0x7f.0.0.1",
	// "0177.0.0.1", or "１２７.０.０.１" after mapping), as the WHATWG URL
	// standard has it: it becomes the canonical literal, or is refused.
	if endsInNumber(ascii) {
		ip, ok := parseIPv4(ascii)
		if !ok {
			return "", fmt.Errorf("%w: host %q is neither a name nor an IPv4 address", ErrInvalidURL, host)
		}
		return ip.String(), nil
	}
	return ascii, nil
}

// endsInNumber reports whether the last label of a host is a number (all
// decimal digits, or 0x followed by hex digits), which makes the host an
// IPv4 address in the WHATWG URL standard.
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := ipv4Number(last)
	return ok && (strings.HasPrefix(last, "0x") || strings.HasPrefix(last, "0X"))
}

// parseIPv4 parses 1 to 4 dot-separated numbers, each decimal, octal
// (leading 0) or hex (0x), the last filling the remaining bytes.
func parseIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := ipv4Number(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(5-len(parts))) {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// ipv4Number parses one part of an IPv4 address: decimal, octal with a
// leading 0, or hex with 0x; "0x" alone is 0. Values past 2^32 fail.
func ipv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
		if s == "" {
			return 0, true
		}
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil || n > 1<<32-1 {
		return 0, false
	}
	return n, true
}
