package webfinger

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/commonroom/commonroom/pub/transport"
)

// DefaultMaxBodyBytes is the response size cap of a Client whose
// MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 256 << 10

// Getter fetches a URL with an Accept header. *transport.Client (package
// pub/transport, the engine's SSRF-safe client) implements it: it caps
// bodies, bounds time and redirects, and reports non-2xx statuses as
// *transport.StatusError, which the Client reads like a response status. For
// a plain *http.Client use HTTPGetter.
type Getter interface {
	Get(ctx context.Context, rawURL, accept string) (*http.Response, error)
}

// Both Getters the engine and tests use.
var (
	_ Getter = (*transport.Client)(nil)
	_ Getter = HTTPGetter{}
)

// HTTPGetter adapts an *http.Client to Getter for tests, tools and embedders
// without pub/transport. It has no SSRF protection of its own. Every status
// comes back as a response; redirects follow the http.Client's policy.
type HTTPGetter struct {
	// Client sends the requests; nil means a new http.Client.
	Client *http.Client
	// UserAgent, if set, is sent with every request.
	UserAgent string
}

// Get sends GET rawURL with the given Accept header. The caller closes the
// response body.
func (g HTTPGetter) Get(ctx context.Context, rawURL, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if g.UserAgent != "" {
		req.Header.Set("User-Agent", g.UserAgent)
	}
	hc := g.Client
	if hc == nil {
		hc = &http.Client{}
	}
	return hc.Do(req)
}

// Client looks up remote accounts with WebFinger. The zero value is usable
// but talks through HTTPGetter{}; production code sets HTTP to the engine's
// *transport.Client. A Client is safe for concurrent use if its Getter is.
type Client struct {
	// HTTP fetches; nil means HTTPGetter{} (no SSRF protection: tests and
	// tools only).
	HTTP Getter
	// Scheme is "https" (the default when empty) or "http" for loopback
	// tests and --insecure-http demos. With "http", actor IRIs may be http
	// too; otherwise they must be https.
	Scheme string
	// MaxBodyBytes caps every response body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Local, if set, answers queries for its own hosts (Handler.IsLocal)
	// directly, so that resolving a local handle, or confirming an actor
	// that claims to be on a local host, never sends a request to this
	// server itself (SECURITY.md rule 17).
	Local *Handler
}

// Resolution is the outcome of resolving a handle.
type Resolution struct {
	// Subject is the account's canonical handle, as the authoritative
	// server's subject names it (it may differ from the handle asked for
	// in case, or in host when the asked host delegates).
	Subject Handle
	// Actor is the ActivityPub actor IRI, as the server wrote it.
	Actor string
	// ProfileURL is the HTML profile page, if the server gave one.
	ProfileURL string
	// JRD is the answer Actor was taken from.
	JRD *JRD
}

// Resolve finds the ActivityPub actor of an account written as "@user@host",
// "user@host" or "acct:user@host".
//
// It asks host's WebFinger endpoint (falling back to the lrdd template of
// host's host-meta when the endpoint answers 404) and takes the first self
// link typed application/activity+json or application/ld+json with the
// ActivityStreams profile. It then checks, as Mastodon does, that the hosts
// agree:
//
//   - if the answer's subject names another host, that host is asked for the
//     subject and must answer with the same subject (one redirect only), and
//     its answer is used;
//   - if the actor IRI's host is not the host that answered for the subject,
//     the actor's host is asked for the subject and must name the same actor
//     (split domains: accounts @user@example.com served by social.example).
//
// Errors wrap ErrInvalidResource (bad handle), ErrNotFound or ErrGone,
// ErrTooLarge, ErrContentType, ErrMalformed, ErrNoActor or ErrMismatch (as a
// *MismatchError); other HTTP statuses are *StatusError values.
func (c *Client) Resolve(ctx context.Context, handle string) (*Resolution, error) {
	asked, err := ParseHandle(handle)
	if err != nil {
		return nil, err
	}
	authority := asked.Host
	answer, subject, err := c.lookupSubject(ctx, asked)
	if err != nil {
		return nil, err
	}
	if !subject.Equal(asked) && subject.Host != asked.Host {
		// The asked host names an account elsewhere: only that host can
		// vouch for it.
		authority = subject.Host
		again, confirmed, err := c.lookupSubject(ctx, subject)
		if err != nil {
			return nil, fmt.Errorf("webfinger: confirm %s named by %s: %w", subject, asked.Host, err)
		}
		if !confirmed.Equal(subject) {
			return nil, &MismatchError{Handle: asked, QueryHost: subject.Host,
				Reason: fmt.Sprintf("subject %s redirects again to %s", subject, confirmed)}
		}
		answer = again
	}
	actor, err := c.actorLink(answer)
	if err != nil {
		return nil, fmt.Errorf("webfinger: %s: %w", subject, err)
	}
	actorHost, err := hostOf(actor)
	if err != nil {
		return nil, fmt.Errorf("webfinger: %s: actor %q: %w", subject, actor, ErrNoActor)
	}
	if actorHost != authorityKey(authority, c.scheme()) {
		if err := c.confirmActor(ctx, subject, actorHost, actor); err != nil {
			return nil, err
		}
	}
	res := &Resolution{Subject: subject, Actor: actor, JRD: answer}
	if l, ok := answer.Find(RelProfilePage, nil); ok {
		res.ProfileURL = l.Href
	}
	return res, nil
}

// lookupSubject queries h's host for h and parses the answer's subject.
func (c *Client) lookupSubject(ctx context.Context, h Handle) (*JRD, Handle, error) {
	jrd, err := c.Lookup(ctx, h.Host, h.URI())
	if err != nil {
		return nil, Handle{}, err
	}
	if jrd.Subject == "" {
		return nil, Handle{}, fmt.Errorf("%w: answer for %s has no subject", ErrMalformed, h)
	}
	subject, err := parseSubject(jrd.Subject)
	if err != nil {
		return nil, Handle{}, fmt.Errorf("%w: answer for %s has subject %q, not an acct: URI", ErrMalformed, h, jrd.Subject)
	}
	return jrd, subject, nil
}

// parseSubject parses a JRD subject that must be an acct: URI.
func parseSubject(s string) (Handle, error) {
	if len(s) < 5 || !strings.EqualFold(s[:5], "acct:") {
		return Handle{}, invalidf("subject %q is not an acct: URI", s)
	}
	return ParseHandle(s)
}

// confirmActor asks the actor's own host whether subject is actor.
func (c *Client) confirmActor(ctx context.Context, subject Handle, actorHost, actor string) error {
	mismatch := func(reason string) error {
		return &MismatchError{Handle: subject, QueryHost: actorHost, Actor: actor, Reason: reason}
	}
	jrd, err := c.Lookup(ctx, actorHost, subject.URI())
	if errors.Is(err, ErrNotFound) {
		return mismatch("actor's host does not know the subject")
	}
	if err != nil {
		return fmt.Errorf("webfinger: confirm %s at %s: %w", subject, actorHost, err)
	}
	confirmed, err := parseSubject(jrd.Subject)
	if err != nil || !confirmed.Equal(subject) {
		return mismatch(fmt.Sprintf("actor's host names subject %q", jrd.Subject))
	}
	again, err := c.actorLink(jrd)
	if err != nil || again != actor {
		return mismatch(fmt.Sprintf("actor's host names actor %q", again))
	}
	return nil
}

// actorLink returns the href of the first ActivityPub self link, checked to
// be an absolute URL the Client may fetch.
func (c *Client) actorLink(j *JRD) (string, error) {
	l, ok := j.Find(RelSelf, IsActivityPubType)
	if !ok || l.Href == "" {
		return "", ErrNoActor
	}
	u, err := url.Parse(l.Href)
	if err != nil || u.User != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && c.scheme() == "http") {
		return "", fmt.Errorf("%w: self link %q is not a fetchable %s URL", ErrNoActor, l.Href, c.scheme())
	}
	return l.Href, nil
}

// hostOf returns the host key of an absolute URL (see originHost).
func hostOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidResource, err)
	}
	return originHost(u)
}

// Lookup fetches the JRD that host's WebFinger endpoint serves for resource
// (an acct: URI or a URL), without judging its content. When the endpoint
// answers 404 it reads host's host-meta and, if that names an lrdd template
// other than the standard endpoint, asks there once. host is host[:port];
// errors are those of Resolve.
func (c *Client) Lookup(ctx context.Context, host, resource string) (*JRD, error) {
	host, err := NormalizeHost(host)
	if err != nil {
		return nil, err
	}
	if c.Local != nil && c.Local.IsLocal(host) {
		return c.Local.Lookup(ctx, resource)
	}
	standard := c.scheme() + "://" + host + PathWebFinger + "?resource=" + url.QueryEscape(resource)
	jrd, err := c.fetchJRD(ctx, standard)
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrGone) {
		return jrd, err
	}
	tmpl, hmErr := c.hostMetaTemplate(ctx, host)
	if hmErr != nil || tmpl == "" {
		return nil, err // the original 404
	}
	alt := strings.ReplaceAll(tmpl, "{uri}", url.QueryEscape(resource))
	if alt == standard {
		return nil, err
	}
	u, perr := url.Parse(alt)
	if perr != nil || u.User != nil || u.Host == "" || u.Scheme != c.scheme() && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: host-meta of %s has an unusable lrdd template %q", ErrMalformed, host, tmpl)
	}
	return c.fetchJRD(ctx, alt)
}

// hostMetaTemplate reads the lrdd template from host's XML host-meta.
func (c *Client) hostMetaTemplate(ctx context.Context, host string) (string, error) {
	body, _, err := c.get(ctx, c.scheme()+"://"+host+PathHostMeta, MediaTypeXRD+", application/xml;q=0.9")
	if err != nil {
		return "", err
	}
	var doc struct {
		Links []xrdLink `xml:"Link"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("%w: host-meta of %s: %v", ErrMalformed, host, err)
	}
	for _, l := range doc.Links {
		if l.Rel == RelLRDD && l.Template != "" {
			return l.Template, nil
		}
	}
	return "", nil
}

func (c *Client) fetchJRD(ctx context.Context, rawURL string) (*JRD, error) {
	body, contentType, err := c.get(ctx, rawURL, MediaTypeJRD+", application/json;q=0.9")
	if err != nil {
		return nil, err
	}
	if !isJSONType(contentType) {
		return nil, fmt.Errorf("%w: GET %s: Content-Type %q", ErrContentType, rawURL, contentType)
	}
	var jrd JRD
	if err := json.Unmarshal(body, &jrd); err != nil {
		return nil, fmt.Errorf("%w: GET %s: %v", ErrMalformed, rawURL, err)
	}
	return &jrd, nil
}

// get fetches rawURL and returns its body (at most the size cap) and
// Content-Type. 404 and 410 become ErrNotFound and ErrGone, whether the
// Getter returns them as responses or as *transport.StatusError.
func (c *Client) get(ctx context.Context, rawURL, accept string) ([]byte, string, error) {
	getter := c.HTTP
	if getter == nil {
		getter = HTTPGetter{}
	}
	resp, err := getter.Get(ctx, rawURL, accept)
	status := 0
	if err != nil {
		var se *transport.StatusError
		switch {
		case errors.As(err, &se):
			status = se.StatusCode
		case errors.Is(err, transport.ErrTooLarge):
			return nil, "", fmt.Errorf("%w: GET %s: %w", ErrTooLarge, rawURL, err)
		default:
			return nil, "", fmt.Errorf("webfinger: GET %s: %w", rawURL, err)
		}
	} else {
		defer resp.Body.Close()
		status = resp.StatusCode
	}
	switch status {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, "", fmt.Errorf("%w: GET %s: 404", ErrNotFound, rawURL)
	case http.StatusGone:
		return nil, "", fmt.Errorf("%w: %w: GET %s: 410", ErrGone, ErrNotFound, rawURL)
	default:
		return nil, "", &StatusError{URL: rawURL, StatusCode: status}
	}
	limit := c.maxBody()
	if resp.ContentLength > limit {
		return nil, "", fmt.Errorf("%w: GET %s: Content-Length %d over %d", ErrTooLarge, rawURL, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if errors.Is(err, transport.ErrTooLarge) {
		return nil, "", fmt.Errorf("%w: GET %s: %w", ErrTooLarge, rawURL, err)
	}
	if err != nil {
		return nil, "", fmt.Errorf("webfinger: GET %s: read body: %w", rawURL, err)
	}
	if int64(len(body)) > limit {
		return nil, "", fmt.Errorf("%w: GET %s: body over %d bytes", ErrTooLarge, rawURL, limit)
	}
	return bytes.TrimSpace(body), resp.Header.Get("Content-Type"), nil
}

func (c *Client) scheme() string {
	if c.Scheme == "" {
		return "https"
	}
	return c.Scheme
}

func (c *Client) maxBody() int64 {
	if c.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return c.MaxBodyBytes
}
