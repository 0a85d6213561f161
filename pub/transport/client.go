package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"
)

// Defaults applied by [DefaultConfig] and, for zero fields, by [New].
const (
	DefaultConnectTimeout      = 5 * time.Second
	DefaultReadTimeout         = 10 * time.Second
	DefaultTotalTimeout        = 30 * time.Second
	DefaultMaxBodyBytes        = 1 << 20
	DefaultMaxRedirects        = 3
	DefaultMaxIdleConnsPerHost = 16
	DefaultUserAgent           = "Commonroom/0.1"
)

// Signer signs an outgoing request. The client calls SignRequest once per
// HTTP request it sends, after setting every other header, so each redirect
// hop is signed anew for its own URL; body is the exact request body (nil for
// GET). req.URL is final: its host is in normalized form and is what the
// Host header will carry (req.Host is empty). SignRequest may set headers
// (Date, Digest, Signature, ...) and must not read or replace req.Body. An error aborts the request before anything
// is sent. Implementations must be safe for concurrent use; the pub core
// signs as the instance actor with pub/httpsig.
type Signer interface {
	SignRequest(req *http.Request, body []byte) error
}

// Config configures a [Client]. Zero durations and limits mean the package
// defaults; start from [DefaultConfig].
type Config struct {
	// UserAgent names the software, version and instance, for example
	// UserAgent("0.1", "https://school.example/").
	UserAgent string
	// Signer signs every request and redirect hop. Nil sends requests
	// unsigned.
	Signer Signer
	// Resolver resolves host names; nil uses a fresh *net.Resolver.
	Resolver Resolver
	// Dialer connects to checked IP addresses; nil uses a *net.Dialer with
	// ConnectTimeout whose Control function re-checks the address policy
	// on the socket itself.
	Dialer Dialer
	// AllowPrefixes lists address ranges permitted despite the address
	// policy ([AddressAllowed]). Empty by default; only tests and
	// --insecure-http demos set it, to [InsecurePrefixes] or narrower.
	AllowPrefixes []netip.Prefix
	// AllowHTTP permits plain http URLs and redirects (insecure mode).
	// Otherwise only https is used.
	AllowHTTP bool
	// LocalOrigins are the server's own origins (URLs or bare origins such
	// as "https://school.example"). Requests to them fail with [ErrLocal]
	// without being sent.
	LocalOrigins []string
	// ConnectTimeout bounds name resolution plus TCP connect.
	ConnectTimeout time.Duration
	// ReadTimeout bounds the TLS handshake, the wait for response headers,
	// and every single read of the response body.
	ReadTimeout time.Duration
	// TotalTimeout bounds one request from the first dial to the last byte
	// of the body, redirects included.
	TotalTimeout time.Duration
	// MaxBodyBytes caps response bodies read through Get and Dereference.
	MaxBodyBytes int64
	// MaxRedirects is how many redirects one request follows; negative
	// follows none.
	MaxRedirects int
	// MaxIdleConnsPerHost sizes the per-host pool of idle connections.
	MaxIdleConnsPerHost int
	// TLSConfig, when set, is used for https (tests trust httptest's
	// certificate through it). Nil uses the system roots.
	TLSConfig *tls.Config
	// Now is the clock for Retry-After dates; nil uses time.Now.
	Now func() time.Time
}

// DefaultConfig returns the production defaults: https only, no allow-list,
// connect 5 s, read 10 s, total 30 s, 1 MiB bodies, 3 redirects, 16 idle
// connections per host, and the default User-Agent.
func DefaultConfig() Config {
	return Config{
		UserAgent:           DefaultUserAgent,
		ConnectTimeout:      DefaultConnectTimeout,
		ReadTimeout:         DefaultReadTimeout,
		TotalTimeout:        DefaultTotalTimeout,
		MaxBodyBytes:        DefaultMaxBodyBytes,
		MaxRedirects:        DefaultMaxRedirects,
		MaxIdleConnsPerHost: DefaultMaxIdleConnsPerHost,
	}
}

// UserAgent formats the User-Agent header for an instance:
// UserAgent("0.1", "https://school.example/") is
// "Commonroom/0.1 (+https://school.example/)".
func UserAgent(version, instanceURL string) string {
	if instanceURL == "" {
		return "Commonroom/" + version
	}
	return "Commonroom/" + version + " (+" + instanceURL + ")"
}

// Client is the server's outbound HTTP client for fetching and delivering.
// It is safe for concurrent use and should be shared: it holds the
// connection pool. Create it with [New].
type Client struct {
	cfg       Config
	local     map[Origin]bool
	transport *http.Transport
}

// New returns a Client for cfg, filling zero fields with defaults. It fails
// when a LocalOrigins entry is not an http(s) URL.
func New(cfg Config) (*Client, error) {
	def := DefaultConfig()
	if cfg.UserAgent == "" {
		cfg.UserAgent = def.UserAgent
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = def.ConnectTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = def.ReadTimeout
	}
	if cfg.TotalTimeout <= 0 {
		cfg.TotalTimeout = def.TotalTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = def.MaxBodyBytes
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = def.MaxRedirects
	} else if cfg.MaxRedirects < 0 {
		cfg.MaxRedirects = 0
	}
	if cfg.MaxIdleConnsPerHost <= 0 {
		cfg.MaxIdleConnsPerHost = def.MaxIdleConnsPerHost
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Resolver == nil {
		cfg.Resolver = &net.Resolver{}
	}
	cfg.AllowPrefixes = append([]netip.Prefix(nil), cfg.AllowPrefixes...)
	if cfg.Dialer == nil {
		cfg.Dialer = &net.Dialer{
			Timeout:   cfg.ConnectTimeout,
			KeepAlive: 30 * time.Second,
			Control:   controlAllowed(cfg.AllowPrefixes),
		}
	}
	local := make(map[Origin]bool, len(cfg.LocalOrigins))
	for _, o := range cfg.LocalOrigins {
		origin, err := ParseOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("transport: local origin %q: %w", o, err)
		}
		local[origin] = true
	}
	d := &dialer{
		resolver: cfg.Resolver,
		next:     cfg.Dialer,
		allow:    cfg.AllowPrefixes,
		timeout:  cfg.ConnectTimeout,
	}
	var tlsConfig *tls.Config
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial on our behalf, past the address policy
		DialContext:            d.DialContext,
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    cfg.ReadTimeout,
		ResponseHeaderTimeout:  cfg.ReadTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           16 * cfg.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:    cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
	return &Client{cfg: cfg, local: local, transport: tr}, nil
}

// CloseIdleConnections closes pooled connections that are not in use. The
// client stays usable.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

// IsLocal reports whether rawURL is on one of the configured local origins.
func (c *Client) IsLocal(rawURL string) bool {
	o, err := ParseOrigin(rawURL)
	return err == nil && c.local[o]
}

// Get sends a signed GET for rawURL with the given Accept header (none when
// empty), following up to MaxRedirects redirects, each re-checked and
// re-signed. On success (2xx) the caller must close resp.Body, which yields at
// most MaxBodyBytes and then fails with [ErrTooLarge], is subject to the read
// and total timeouts, and ends the request when closed; resp.Request.URL is
// the final URL. Any other status is returned as a *[StatusError] with the
// body already closed. Use it for WebFinger, NodeInfo and other non-AP
// documents; ActivityPub objects go through [Client.Dereference].
func (c *Client) Get(ctx context.Context, rawURL, accept string) (*http.Response, error) {
	resp, err := c.do(ctx, rawURL, request{
		method:   http.MethodGet,
		accept:   accept,
		follow:   isRedirect,
		maxBytes: c.cfg.MaxBodyBytes,
	})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		serr := c.statusError(resp)
		resp.Body.Close()
		return nil, serr
	}
	return resp, nil
}

// request describes one logical request; do turns it into one HTTP request
// per hop.
type request struct {
	method      string
	accept      string
	contentType string
	body        []byte
	// follow reports whether a status is a redirect to follow.
	follow func(status int) bool
	// maxBytes caps the body the caller will read; a larger Content-Length
	// fails at once.
	maxBytes int64
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// Causes for cancelling a request's context, mapped to ErrTimeout.
var (
	errTotalDeadline = errors.New("total deadline exceeded")
	errReadIdle      = errors.New("read idle timeout")
)

// do sends r to rawURL following redirects as r.follow allows. On success
// the response body is wrapped (cap, idle timer, release of the request
// context on Close) and owned by the caller.
func (c *Client) do(ctx context.Context, rawURL string, r request) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	if u, err = c.checkURL(u); err != nil {
		return nil, err
	}

	tctx, stop := context.WithTimeoutCause(ctx, c.cfg.TotalTimeout, errTotalDeadline)
	rctx, cancel := context.WithCancelCause(tctx)
	release := func() { cancel(nil); stop() }

	for hop := 0; ; hop++ {
		resp, err := c.send(ctx, rctx, u, r)
		if err != nil {
			release()
			return nil, err
		}
		if !r.follow(resp.StatusCode) {
			if r.maxBytes > 0 && resp.ContentLength > r.maxBytes {
				resp.Body.Close()
				release()
				return nil, fmt.Errorf("%w: %s declares %d bytes, limit %d", ErrTooLarge, u.Redacted(), resp.ContentLength, r.maxBytes)
			}
			expire := func() { cancel(errReadIdle) }
			resp.Body = c.newBody(ctx, rctx, resp.Body, r.maxBytes, expire, release)
			return resp, nil
		}
		// Drain a little so small redirect bodies keep the connection.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
		if hop >= c.cfg.MaxRedirects {
			release()
			return nil, fmt.Errorf("%w: more than %d from %s", ErrTooManyRedirects, c.cfg.MaxRedirects, rawURL)
		}
		loc := resp.Header.Get("Location")
		if loc == "" {
			release()
			return nil, fmt.Errorf("%w: status %d without Location from %s", ErrTooManyRedirects, resp.StatusCode, u.Redacted())
		}
		next, err := u.Parse(loc)
		if err != nil {
			release()
			return nil, fmt.Errorf("%w: redirect from %s: %w", ErrInvalidURL, u.Redacted(), err)
		}
		if next, err = c.checkURL(next); err != nil {
			release()
			return nil, fmt.Errorf("redirect from %s: %w", u.Redacted(), err)
		}
		u = next
	}
}

// send makes one HTTP request: budget, headers, signature, round trip.
func (c *Client) send(ctx, rctx context.Context, u *url.URL, r request) (*http.Response, error) {
	if err := spendBudget(ctx); err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, u.Redacted(), err)
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(rctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if c.cfg.Signer != nil {
		if err := c.cfg.Signer.SignRequest(req, r.body); err != nil {
			return nil, fmt.Errorf("%w: %s %s: %w", ErrSign, r.method, u.Redacted(), err)
		}
	}
	resp, err := c.transport.RoundTrip(req)
	if err != nil {
		return nil, c.classify(ctx, rctx, fmt.Errorf("%s %s: %w", r.method, u.Redacted(), err))
	}
	return resp, nil
}

// checkURL enforces the URL rules for every hop and returns the URL to send:
// no user information, http(s) only (http only when allowed), not local,
// host in normalized form, no fragment.
func (c *Client) checkURL(u *url.URL) (*url.URL, error) {
	if u.User != nil {
		return nil, fmt.Errorf("%w: %s carries user information", ErrInvalidURL, u.Redacted())
	}
	origin, err := OriginOf(u)
	if err != nil {
		return nil, err
	}
	if origin.Scheme == "http" && !c.cfg.AllowHTTP {
		return nil, fmt.Errorf("%w: plain http to %s", ErrScheme, origin)
	}
	if c.local[origin] {
		return nil, fmt.Errorf("%w: %s", ErrLocal, u.Redacted())
	}
	out := *u
	out.Scheme = origin.Scheme
	out.Host = origin.HostPort()
	out.Fragment, out.RawFragment = "", ""
	return &out, nil
}

// classify turns deadline errors into ErrTimeout with the limit that fired.
// Cancellation by the caller's own context is left as it is.
func (c *Client) classify(ctx, rctx context.Context, err error) error {
	if errors.Is(err, ErrTimeout) || ctx.Err() != nil {
		return err
	}
	if rctx.Err() != nil {
		switch cause := context.Cause(rctx); {
		case errors.Is(cause, errTotalDeadline):
			return fmt.Errorf("%w: total %v: %w", ErrTimeout, c.cfg.TotalTimeout, err)
		case errors.Is(cause, errReadIdle):
			return fmt.Errorf("%w: no data for %v: %w", ErrTimeout, c.cfg.ReadTimeout, err)
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: read %v: %w", ErrTimeout, c.cfg.ReadTimeout, err)
	}
	return err
}

// statusError builds the error for a non-success response.
func (c *Client) statusError(resp *http.Response) *StatusError {
	se := &StatusError{URL: resp.Request.URL.Redacted(), StatusCode: resp.StatusCode}
	if v := resp.Header.Get("Retry-After"); v != "" {
		se.RetryAfter, se.HasRetryAfter = ParseRetryAfter(v, c.cfg.Now())
	}
	return se
}

// body wraps a response body: at most limit bytes (then ErrTooLarge), every
// Read bounded by the read timeout, and the request's context released on
// Close.
type body struct {
	c       *Client
	ctx     context.Context // the caller's
	rctx    context.Context // the request's
	rc      io.ReadCloser
	limit   int64 // 0: unlimited
	left    int64
	idle    *time.Timer // cancels the request when a Read waits too long
	err     error
	release func()
	once    sync.Once
}

func (c *Client) newBody(ctx, rctx context.Context, rc io.ReadCloser, limit int64, expire, release func()) *body {
	idle := time.AfterFunc(c.cfg.ReadTimeout, expire)
	idle.Stop() // armed by each Read
	return &body{c: c, ctx: ctx, rctx: rctx, rc: rc, limit: limit, left: limit, idle: idle, release: release}
}

// Read implements io.Reader.
func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.limit > 0 && int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	b.idle.Reset(b.c.cfg.ReadTimeout)
	n, err := b.rc.Read(p)
	b.idle.Stop()
	if b.limit > 0 && int64(n) > b.left {
		n = int(b.left)
		b.left = 0
		b.err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, b.limit)
		return n, b.err
	}
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		b.err = b.c.classify(b.ctx, b.rctx, fmt.Errorf("transport: reading body: %w", err))
		return n, b.err
	}
	return n, err
}

// Close implements io.Closer: it closes the underlying body and releases the
// request. Safe to call more than once, and concurrently with Read to abort
// it.
func (b *body) Close() error {
	var err error
	b.once.Do(func() {
		b.idle.Stop()
		err = b.rc.Close()
		b.release()
	})
	return err
}
