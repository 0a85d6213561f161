package nodeinfo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/pub/webfinger"
)

// DefaultMaxBodyBytes is the response size cap of a Client whose
// MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 256 << 10

// Client reads remote servers' NodeInfo. The zero value is usable but talks
// through webfinger.HTTPGetter{}; production code sets HTTP to the engine's
// *transport.Client. A Client is safe for concurrent use if its Getter is.
type Client struct {
	// HTTP fetches; *transport.Client implements it. Nil means
	// webfinger.HTTPGetter{} (no SSRF protection: tests and tools only).
	HTTP webfinger.Getter
	// Scheme is "https" (the default when empty) or "http" for loopback
	// tests and --insecure-http demos.
	Scheme string
	// MaxBodyBytes caps every response body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Fetch reads host's NodeInfo: the discovery document at
// /.well-known/nodeinfo, then the document of the highest schema version it
// links that this package reads (2.1, else 2.0). host is host[:port].
//
// The document link must use the Client's scheme (or https) and stay on
// host, or on the host the discovery request was finally redirected to; the
// document's version must be the one its relation promised. Unknown fields
// are ignored. Errors wrap ErrNotFound, ErrNoSchema, ErrTooLarge,
// ErrContentType or ErrMalformed, or are *StatusError values.
func (c *Client) Fetch(ctx context.Context, host string) (*Document, error) {
	host, err := webfinger.NormalizeHost(host)
	if err != nil {
		return nil, fmt.Errorf("nodeinfo: host: %w", err)
	}
	key, err := hostKey(&url.URL{Scheme: c.scheme(), Host: host})
	if err != nil {
		return nil, fmt.Errorf("nodeinfo: host: %w", err)
	}
	var disco webfinger.JRD
	finalHost, err := c.getJSON(ctx, c.scheme()+"://"+host+PathDiscovery, &disco)
	if err != nil {
		return nil, err
	}
	href, version, err := c.pick(&disco, key, finalHost)
	if err != nil {
		return nil, fmt.Errorf("%w (host %s)", err, host)
	}
	var doc Document
	if _, err := c.getJSON(ctx, href, &doc); err != nil {
		return nil, err
	}
	if doc.Version != version {
		return nil, fmt.Errorf("%w: %s linked as %s says version %q", ErrMalformed, href, version, doc.Version)
	}
	if doc.Software.Name == "" {
		return nil, fmt.Errorf("%w: %s names no software", ErrMalformed, href)
	}
	return &doc, nil
}

// pick returns the href and version of the best supported link of disco.
func (c *Client) pick(disco *webfinger.JRD, hosts ...string) (string, string, error) {
	for _, v := range []string{Version21, Version20} { // best first
		l, ok := disco.Find(RelPrefix+v, nil)
		if !ok {
			continue
		}
		u, err := url.Parse(l.Href)
		if err != nil || u.User != nil || !(u.Scheme == "https" || u.Scheme == c.scheme()) {
			return "", "", fmt.Errorf("%w: %s link %q is not a fetchable URL", ErrNoSchema, v, l.Href)
		}
		h, err := hostKey(u)
		if err != nil || !slices.Contains(hosts, h) {
			return "", "", fmt.Errorf("%w: %s link %q points at another host", ErrNoSchema, v, l.Href)
		}
		return l.Href, v, nil
	}
	return "", "", ErrNoSchema
}

// hostKey returns the host key of an absolute http(s) URL, as pub/transport
// defines it ([transport.Origin.HostPort]): the canonical host, with the port
// unless it is the default of the URL's scheme, so that hosts compare as
// origins do everywhere in pub.
func hostKey(u *url.URL) (string, error) {
	o, err := transport.OriginOf(u)
	if err != nil {
		return "", err
	}
	return o.HostPort(), nil
}

// getJSON fetches rawURL and decodes its JSON body into v. It returns the
// normalized host of the final URL after redirects.
func (c *Client) getJSON(ctx context.Context, rawURL string, v any) (string, error) {
	getter := c.HTTP
	if getter == nil {
		getter = webfinger.HTTPGetter{}
	}
	resp, err := getter.Get(ctx, rawURL, "application/json")
	status := 0
	if err != nil {
		var se *transport.StatusError
		switch {
		case errors.As(err, &se):
			status = se.StatusCode
		case errors.Is(err, transport.ErrTooLarge):
			return "", fmt.Errorf("%w: GET %s: %w", ErrTooLarge, rawURL, err)
		default:
			return "", fmt.Errorf("nodeinfo: GET %s: %w", rawURL, err)
		}
	} else {
		defer resp.Body.Close()
		status = resp.StatusCode
	}
	switch status {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusGone:
		return "", fmt.Errorf("%w: GET %s: %d", ErrNotFound, rawURL, status)
	default:
		return "", &StatusError{URL: rawURL, StatusCode: status}
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil ||
		mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return "", fmt.Errorf("%w: GET %s: Content-Type %q", ErrContentType, rawURL, resp.Header.Get("Content-Type"))
	}
	limit := c.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if resp.ContentLength > limit {
		return "", fmt.Errorf("%w: GET %s: Content-Length %d over %d", ErrTooLarge, rawURL, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if errors.Is(err, transport.ErrTooLarge) {
		return "", fmt.Errorf("%w: GET %s: %w", ErrTooLarge, rawURL, err)
	}
	if err != nil {
		return "", fmt.Errorf("nodeinfo: GET %s: read body: %w", rawURL, err)
	}
	if int64(len(body)) > limit {
		return "", fmt.Errorf("%w: GET %s: body over %d bytes", ErrTooLarge, rawURL, limit)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return "", fmt.Errorf("%w: GET %s: %v", ErrMalformed, rawURL, err)
	}
	finalURL := rawURL
	if resp.Request != nil && resp.Request.URL != nil {
		finalURL = resp.Request.URL.String()
	}
	final, err := url.Parse(finalURL)
	if err != nil {
		return "", fmt.Errorf("nodeinfo: GET %s: final URL: %w", rawURL, err)
	}
	host, err := hostKey(final)
	if err != nil {
		return "", fmt.Errorf("nodeinfo: GET %s: final host: %w", rawURL, err)
	}
	return host, nil
}

func (c *Client) scheme() string {
	if c.Scheme == "" {
		return "https"
	}
	return c.Scheme
}
