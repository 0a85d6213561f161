package httpsig

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxHeaderLen bounds every signature-related header we parse, so that a
// hostile header costs bounded work.
const maxHeaderLen = 16 << 10

// maxCovered bounds the number of covered components.
const maxCovered = 32

// maxBaseLen bounds a signing string or signature base: covered header
// values are not capped by maxHeaderLen, only by the server's header limit.
const maxBaseLen = 64 << 10

// message is the view of a request that signature bases are built from:
// what the signer addressed (method, scheme, authority, path and query) and
// its header fields. Server and client requests are read the same way.
type message struct {
	method     string
	scheme     string
	host       string // Host as sent
	requestURI string // path and query as sent, origin-form
	header     http.Header
	length     int64
}

// newMessage reads a request. defaultScheme is used when the request itself
// does not say (a server request behind a TLS-terminating proxy).
func newMessage(req *http.Request, defaultScheme string) message {
	m := message{method: req.Method, header: req.Header, length: req.ContentLength}
	if m.method == "" {
		m.method = http.MethodGet
	}
	m.host = req.Host
	if m.host == "" && req.URL != nil {
		m.host = req.URL.Host
	}
	switch {
	case req.URL != nil && req.URL.Scheme != "":
		m.scheme = strings.ToLower(req.URL.Scheme)
	case defaultScheme != "":
		m.scheme = defaultScheme
	case req.TLS != nil:
		m.scheme = "https"
	default:
		m.scheme = "http"
	}
	// A server request keeps the request line as sent in RequestURI, which
	// no router rewrites; a client request sends URL.RequestURI().
	switch {
	case strings.HasPrefix(req.RequestURI, "/"):
		m.requestURI = req.RequestURI
	case req.RequestURI != "":
		// absolute-form request line
		if u, err := url.ParseRequestURI(req.RequestURI); err == nil {
			m.requestURI = u.RequestURI()
		}
	case req.URL != nil:
		m.requestURI = req.URL.RequestURI()
	}
	return m
}

// authority is the RFC 9421 @authority (section 2.2.3): the Host as sent,
// lower-cased, without the scheme's default port (RFC 9110 section 4.2.3).
// It is a signature-base serialization, not a host comparison, so it is
// deliberately not pub/transport's origin rule: signer and verifier, ours or
// another implementation, must derive the same bytes from the same Host
// header, and RFC 9421 neither maps IDNA names nor drops a trailing dot.
// Requests sent through a transport.Client already carry the origin's
// canonical host, on which the two rules agree.
func (m *message) authority() string {
	h := strings.ToLower(m.host)
	switch {
	case m.scheme == "https" && strings.HasSuffix(h, ":443"):
		h = strings.TrimSuffix(h, ":443")
	case m.scheme == "http" && strings.HasSuffix(h, ":80"):
		h = strings.TrimSuffix(h, ":80")
	}
	return h
}

func (m *message) path() string {
	p, _, _ := strings.Cut(m.requestURI, "?")
	if p == "" {
		return "/"
	}
	return p
}

func (m *message) query() (string, bool) {
	_, q, ok := strings.Cut(m.requestURI, "?")
	return q, ok
}

func (m *message) targetURI() string {
	return m.scheme + "://" + m.authority() + m.requestURI
}

// field returns a header field's value as signature bases use it: every
// field line's value with surrounding whitespace removed, joined by ", ".
// Host and Content-Length are read from where net/http keeps them.
func (m *message) field(name string) (string, bool) {
	switch name {
	case "host":
		if m.host == "" {
			return "", false
		}
		return m.host, true
	case "content-length":
		if vs := m.header.Values("Content-Length"); len(vs) > 0 {
			return joinValues(vs), true
		}
		if m.length > 0 || m.length == 0 && m.method != http.MethodGet && m.method != http.MethodHead {
			return strconv.FormatInt(m.length, 10), true
		}
		return "", false
	}
	vs := m.header.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	return joinValues(vs), true
}

func joinValues(vs []string) string {
	if len(vs) == 1 {
		return strings.TrimSpace(vs[0])
	}
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strings.TrimSpace(v))
	}
	return b.String()
}

// headerValue returns one header's field lines joined by ", ", failing when
// the result is over maxHeaderLen.
func headerValue(h http.Header, name string) (string, bool, error) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return "", false, nil
	}
	n := 0
	for _, v := range vs {
		n += len(v) + 2
	}
	if n > maxHeaderLen {
		return "", true, fmt.Errorf("%w: %s header is longer than %d bytes", ErrMalformed, name, maxHeaderLen)
	}
	return strings.Join(vs, ", "), true, nil
}
