package httpsig

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Scheme names one of the two HTTP signature standards.
type Scheme uint8

const (
	// Cavage is draft-cavage-http-signatures-12: a "Signature" (or
	// "Authorization: Signature") header with keyId, algorithm, headers and
	// signature parameters. What Mastodon, GoToSocial, Akkoma and Misskey send.
	Cavage Scheme = iota + 1
	// RFC9421 is RFC 9421 HTTP Message Signatures: "Signature-Input" and
	// "Signature" structured-field dictionaries.
	RFC9421
)

// String returns "draft-cavage-12" or "rfc9421".
func (s Scheme) String() string {
	switch s {
	case Cavage:
		return "draft-cavage-12"
	case RFC9421:
		return "rfc9421"
	}
	return "unknown(" + strconv.Itoa(int(s)) + ")"
}

// HostSchemes remembers, per host, which signature scheme to sign with
// first. Most of the fediverse reads only draft-cavage, so that is the
// default; a host that advertised RFC 9421 or accepted an RFC 9421 request is
// signed for with RFC 9421 first. A refusal is remembered for a cool-off
// period, after which the host is tried again as before.
//
// The delivery code asks [HostSchemes.Preferred] before sending (or
// [HostSchemes.Order], to have the fallback too) and reports the outcome
// with [HostSchemes.Accepted] or [HostSchemes.Rejected] (a refusal is a 401
// that names the signature, not any failure). All methods are safe for
// concurrent use.
//
// Hosts are keys: pass the host as pub/transport's origin rule writes it
// (transport.Origin.HostPort, which pub/delivery's HostOf returns and which
// requests sent through a transport.Client carry as their Host), with its
// port when it is not the scheme's default. HostSchemes imports only the
// standard library, so it does not apply the IDNA mapping or read numeric
// IPv4 forms itself; it folds case and one trailing dot, which leaves every
// such key unchanged, so two keys share a memory exactly when pub/transport
// calls their hosts the same.
type HostSchemes struct {
	now     func() time.Time
	coolOff time.Duration
	max     int

	mu    sync.Mutex
	hosts map[string]*hostScheme
}

type hostScheme struct {
	advertised     bool
	accepted9421   bool
	rejected9421   time.Time
	rejectedCavage time.Time
}

// DefaultSchemeCoolOff is how long a host's refusal of a scheme is
// remembered by default.
const DefaultSchemeCoolOff = 24 * time.Hour

// defaultMaxHosts bounds the memory a HostSchemes uses.
const defaultMaxHosts = 100_000

// NewHostSchemes returns an empty memory. now is the clock (nil: time.Now);
// coolOff is how long a refusal is remembered (zero: DefaultSchemeCoolOff).
func NewHostSchemes(now func() time.Time, coolOff time.Duration) *HostSchemes {
	if now == nil {
		now = time.Now
	}
	if coolOff <= 0 {
		coolOff = DefaultSchemeCoolOff
	}
	return &HostSchemes{now: now, coolOff: coolOff, max: defaultMaxHosts, hosts: map[string]*hostScheme{}}
}

// normalizeHost folds a host key's case and one trailing dot. On keys in
// pub/transport's canonical form it is the identity (pub/transport's
// origin_agree_test.go checks that on its shared table); it is a safeguard
// for callers that pass a Host header as received.
func normalizeHost(host string) string {
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// entry returns the state for host, creating it if create is set. The caller
// holds h.mu.
func (h *HostSchemes) entry(host string, create bool) *hostScheme {
	host = normalizeHost(host)
	e := h.hosts[host]
	if e == nil && create {
		if len(h.hosts) >= h.max {
			for k := range h.hosts { // evict an arbitrary host
				delete(h.hosts, k)
				break
			}
		}
		e = &hostScheme{}
		h.hosts[host] = e
	}
	return e
}

// Preferred returns the scheme to sign with first for host.
func (h *HostSchemes) Preferred(host string) Scheme {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.entry(host, false)
	if e == nil {
		return Cavage
	}
	now := h.now()
	fresh := func(t time.Time) bool { return !t.IsZero() && now.Sub(t) < h.coolOff }
	switch {
	case fresh(e.rejected9421):
		return Cavage
	case e.accepted9421 || e.advertised:
		return RFC9421
	case fresh(e.rejectedCavage):
		return RFC9421
	}
	return Cavage
}

// Order returns the preferred scheme for host and the one to fall back to.
func (h *HostSchemes) Order(host string) [2]Scheme {
	if h.Preferred(host) == RFC9421 {
		return [2]Scheme{RFC9421, Cavage}
	}
	return [2]Scheme{Cavage, RFC9421}
}

// Advertised records that host says it accepts RFC 9421 (for example through
// an Accept-Signature header or its metadata).
func (h *HostSchemes) Advertised(host string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.entry(host, true).advertised = true
}

// Accepted records that host accepted a request signed with scheme.
func (h *HostSchemes) Accepted(host string, scheme Scheme) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.entry(host, true)
	switch scheme {
	case RFC9421:
		e.accepted9421 = true
		e.rejected9421 = time.Time{}
	case Cavage:
		e.rejectedCavage = time.Time{}
	}
}

// Rejected records that host refused a request signed with scheme.
func (h *HostSchemes) Rejected(host string, scheme Scheme) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.entry(host, true)
	switch scheme {
	case RFC9421:
		e.accepted9421 = false
		e.rejected9421 = h.now()
	case Cavage:
		e.rejectedCavage = h.now()
	}
}

// AdvertisesRFC9421 reports whether a response's headers ask for RFC 9421
// signatures: an Accept-Signature field (RFC 9421 section 5) that parses as
// a dictionary with at least one member. The delivery and fetch code call
// [HostSchemes.Advertised] when it does.
func AdvertisesRFC9421(h http.Header) bool {
	v, ok, err := headerValue(h, "Accept-Signature")
	if !ok || err != nil {
		return false
	}
	members, err := parseDictionary(v)
	return err == nil && len(members) > 0
}
