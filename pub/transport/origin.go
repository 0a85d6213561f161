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
	host := o.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if o.Port == "" {
		return o.Scheme + "://" + host
	}
	return o.Scheme + "://" + host + ":" + o.Port
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
// input, absent on output). "EVIL.example." and "evil.example" normalize
// equally; "mastodon.so/cial" is refused, never equal to "mastodon.social".
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
	// A name that maps onto an IPv4 literal ("１２７.０.０.１") is treated as
	// that literal, so it compares equal to it.
	if ip, err := netip.ParseAddr(ascii); err == nil {
		return ip.String(), nil
	}
	return ascii, nil
}
