// Package config holds Commonroom's server configuration: a plain struct with
// defaults, read from a TOML or YAML file, COMMONROOM_* environment variables
// and command-line flags, in that order of increasing precedence.
//
// Every setting has one key, used in the file; the environment variable is
// COMMONROOM_ plus the key in upper case, and the flag is the key with
// dashes (addr → COMMONROOM_ADDR, --addr; insecure_http →
// COMMONROOM_INSECURE_HTTP, --insecure-http). [Fields] lists them all.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/commonroom/commonroom/internal/db"
)

// Config is the server configuration. The zero value is not valid; start
// from DefaultConfig.
type Config struct {
	// Addr is the TCP address the HTTP server listens on.
	Addr string
	// Host is the public host name (and port, if not the scheme's default)
	// that IRIs and WebFinger use, lower-cased.
	Host string
	// DataDir holds the SQLite database (unless DB says otherwise) and other
	// local files.
	DataDir string
	// DB is the database DSN: sqlite:PATH, sqlite::memory: or postgres://...;
	// empty means a SQLite file in DataDir (see DatabaseDSN).
	DB string
	// InsecureHTTP federates over plain http and lets peers be on loopback
	// and private addresses. For tests and local demos only.
	InsecureHTTP bool
	// ShutdownTimeout bounds how long a stopping server waits for in-flight
	// requests.
	ShutdownTimeout time.Duration
	// LogLevel is the lowest level logged.
	LogLevel slog.Level
	// LogFormat is "text" or "json".
	LogFormat string

	// AuthorizedFetch makes actor and object documents answer only signed
	// GETs (Mastodon's secure mode). The instance actor is always served
	// unsigned.
	AuthorizedFetch bool
	// InstanceName and InstanceDescription describe the server in NodeInfo
	// (nodeName, nodeDescription); empty ones are left out.
	InstanceName        string
	InstanceDescription string
	// DeliveryConcurrency is the most outgoing deliveries in flight at once;
	// DeliveryPerHost the most to one remote host.
	DeliveryConcurrency int
	DeliveryPerHost     int

	// Registration says who may create an account on the sign-up page:
	// RegistrationOpen, RegistrationApproval, RegistrationClosed or
	// RegistrationInvite. It is the one source of NodeInfo's
	// openRegistrations (see OpenRegistrations).
	Registration string
	// OAuthPasswordGrant enables OAuth's grant_type=password for legacy
	// clients (it hands the person's password to the app).
	OAuthPasswordGrant bool

	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// is believed: a request from one of these networks is attributed to
	// the right-most address in the header that is not itself trusted.
	// Empty (the default) means the header is never read.
	TrustedProxies []netip.Prefix
	// RateLimitAPI bounds requests to /api/* and /oauth/token per client:
	// per bearer token when one is sent, per IP address (IPv6 per /64)
	// otherwise. A zero RateLimit turns the limit off.
	RateLimitAPI RateLimit
}

// RateLimit is a number of requests allowed in a window, written "300/5m".
// The zero value means no limit.
type RateLimit struct {
	Requests int
	Window   time.Duration
}

// Off reports whether the limit is turned off.
func (r RateLimit) Off() bool { return r.Requests <= 0 }

// String returns the limit as ParseRateLimit reads it: "300/5m0s", or "off".
func (r RateLimit) String() string {
	if r.Off() {
		return "off"
	}
	return strconv.Itoa(r.Requests) + "/" + r.Window.String()
}

// ParseRateLimit reads "N/DURATION" (such as "300/5m"); "0" and "off" mean
// no limit.
func ParseRateLimit(s string) (RateLimit, error) {
	s = strings.TrimSpace(s)
	if s == "0" || strings.EqualFold(s, "off") {
		return RateLimit{}, nil
	}
	n, w, ok := strings.Cut(s, "/")
	if !ok {
		return RateLimit{}, errors.New(`want requests/window such as "300/5m", or "off"`)
	}
	requests, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || requests < 0 {
		return RateLimit{}, errors.New(`want a whole number of requests before the slash, such as "300/5m"`)
	}
	window, err := time.ParseDuration(strings.TrimSpace(w))
	if err != nil || window < time.Second {
		return RateLimit{}, errors.New(`want a window of at least 1s after the slash, such as "300/5m"`)
	}
	if requests == 0 {
		return RateLimit{}, nil
	}
	return RateLimit{Requests: requests, Window: window}, nil
}

// ParseTrustedProxies reads a comma-separated list of CIDRs (10.0.0.0/8,
// fd00::/8); a bare address stands for itself alone. Blank items are
// skipped.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			a, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an address", item)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or fd00::/8", item)
		}
		if p.Addr().Is4In6() {
			// ::ffff:10.0.0.0/104 is 10.0.0.0/8: compare in one family.
			bits := p.Bits() - 96
			if bits < 0 {
				return nil, fmt.Errorf("%q is wider than the IPv4-mapped range", item)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// The registration modes, as the oauth package names them.
const (
	// RegistrationOpen lets anyone sign up and sign in at once.
	RegistrationOpen = "open"
	// RegistrationApproval creates accounts that cannot sign in until a
	// moderator approves them.
	RegistrationApproval = "approval"
	// RegistrationClosed turns sign-up off: accounts come from
	// `commonroom admin user create`. The default.
	RegistrationClosed = "closed"
	// RegistrationInvite lets people with an invite code sign up.
	RegistrationInvite = "invite"
)

// OpenRegistrations reports whether anyone may sign up without approval or
// an invite: what NodeInfo's openRegistrations says.
func (c Config) OpenRegistrations() bool { return c.Registration == RegistrationOpen }

// Bounds on the federation settings.
const (
	MaxDeliveryConcurrency       = 1024
	MaxInstanceNameLength        = 100
	MaxInstanceDescriptionLength = 1000
)

// DefaultConfig returns the configuration used when nothing is set: listen on
// 127.0.0.1:8080, public host localhost:8080, data in ./data, sign-up
// closed (a new server takes no strangers' accounts until its operator
// chooses a mode), no OAuth password grant.
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		Host:            "localhost:8080",
		DataDir:         "data",
		ShutdownTimeout: 15 * time.Second,
		LogLevel:        slog.LevelInfo,
		LogFormat:       "text",

		DeliveryConcurrency: 64,
		DeliveryPerHost:     4,

		Registration: RegistrationClosed,

		RateLimitAPI: RateLimit{Requests: 300, Window: 5 * time.Minute},
	}
}

// DatabaseDSN returns DB, or when it is empty the SQLite file commonroom.db
// in DataDir.
func (c Config) DatabaseDSN() string {
	if c.DB != "" {
		return c.DB
	}
	return "sqlite:" + filepath.Join(c.DataDir, "commonroom.db")
}

// Scheme returns "http" with InsecureHTTP and "https" otherwise: the scheme
// of this server's public IRIs.
func (c Config) Scheme() string {
	if c.InsecureHTTP {
		return "http"
	}
	return "https"
}

// BaseURL returns the public origin, such as https://example.org.
func (c Config) BaseURL() string { return c.Scheme() + "://" + c.Host }

// Error is a configuration error: the key, the offending value, where it came
// from and what was wrong. Its message reads like
// `config: addr "foo": missing port`.
type Error struct {
	Key    string
	Value  string
	Source string // "file commonroom.toml", "env COMMONROOM_ADDR", "flag --addr", or "" for the value in effect
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	from := ""
	if e.Source != "" {
		from = " (" + e.Source + ")"
	}
	return fmt.Sprintf("config: %s %q%s: %s", e.Key, e.Value, from, e.Reason)
}

// Validate checks every setting and normalizes Host to lower case. It returns
// the first problem as an *Error.
func (c *Config) Validate() error {
	if reason := checkListenAddr(c.Addr); reason != "" {
		return &Error{Key: "addr", Value: c.Addr, Reason: reason}
	}
	host, reason := normalizeHost(c.Host)
	if reason != "" {
		return &Error{Key: "host", Value: c.Host, Reason: reason}
	}
	c.Host = host
	if c.DB == "" && strings.TrimSpace(c.DataDir) == "" {
		return &Error{Key: "data_dir", Value: c.DataDir, Reason: "must not be empty when db is not set"}
	}
	if c.DB != "" {
		if err := db.CheckDSN(c.DB); err != nil {
			return &Error{Key: "db", Value: db.Redact(c.DB), Reason: err.Error()}
		}
	}
	if c.ShutdownTimeout <= 0 {
		return &Error{Key: "shutdown_timeout", Value: c.ShutdownTimeout.String(), Reason: "must be positive"}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return &Error{Key: "log_format", Value: c.LogFormat, Reason: `want "text" or "json"`}
	}
	if reason := checkText(c.InstanceName, MaxInstanceNameLength, false); reason != "" {
		return &Error{Key: "instance_name", Value: c.InstanceName, Reason: reason}
	}
	if reason := checkText(c.InstanceDescription, MaxInstanceDescriptionLength, true); reason != "" {
		return &Error{Key: "instance_description", Value: c.InstanceDescription, Reason: reason}
	}
	if c.DeliveryConcurrency < 1 || c.DeliveryConcurrency > MaxDeliveryConcurrency {
		return &Error{Key: "delivery_concurrency", Value: strconv.Itoa(c.DeliveryConcurrency),
			Reason: fmt.Sprintf("must be from 1 to %d", MaxDeliveryConcurrency)}
	}
	if c.DeliveryPerHost < 1 || c.DeliveryPerHost > c.DeliveryConcurrency {
		return &Error{Key: "delivery_per_host", Value: strconv.Itoa(c.DeliveryPerHost),
			Reason: fmt.Sprintf("must be from 1 to delivery_concurrency (%d)", c.DeliveryConcurrency)}
	}
	switch c.Registration {
	case RegistrationOpen, RegistrationApproval, RegistrationClosed, RegistrationInvite:
	default:
		return &Error{Key: "registration", Value: c.Registration, Reason: "want open, approval, closed or invite"}
	}
	return nil
}

// checkText checks a free-text setting: valid UTF-8, at most max
// characters, no control characters (but line breaks where multiline).
func checkText(s string, max int, multiline bool) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("longer than %d characters", max)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) {
			return "contains a control character"
		}
	}
	return ""
}

func checkListenAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return ae.Err
		}
		return err.Error()
	}
	if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		return "bad host name"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "port must be a number from 0 to 65535"
	}
	return ""
}

// normalizeHost checks a public host[:port] and lower-cases it.
func normalizeHost(h string) (string, string) {
	switch {
	case h == "":
		return "", "must not be empty"
	case strings.Contains(h, "://"):
		return "", "give the host name only, without a scheme"
	case strings.ContainsAny(h, "/?#@ "):
		return "", "give the host name only, without a path, user or spaces"
	}
	u, err := url.Parse("//" + h)
	if err != nil {
		return "", "not a host name"
	}
	name := strings.TrimSuffix(u.Hostname(), ".")
	if name == "" || (net.ParseIP(name) == nil && !validHostname(name)) {
		return "", "not a host name"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "port must be a number from 1 to 65535"
		}
	} else if strings.HasSuffix(h, ":") {
		return "", "empty port"
	}
	out := strings.ToLower(name)
	if strings.Contains(out, ":") {
		out = "[" + out + "]"
	}
	if p := u.Port(); p != "" {
		out += ":" + p
	}
	return out, ""
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			ok := r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			if !ok {
				return false
			}
		}
	}
	return true
}
