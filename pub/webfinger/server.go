package webfinger

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// Paths this package serves.
const (
	PathWebFinger    = "/.well-known/webfinger"
	PathHostMeta     = "/.well-known/host-meta"
	PathHostMetaJSON = "/.well-known/host-meta.json"
)

// Kind is the ActivityStreams actor type of a local account.
type Kind string

// Kinds of local accounts. People and groups share one namespace of names
// (DESIGN.md), so a name is one or the other.
const (
	KindPerson      Kind = "Person"
	KindGroup       Kind = "Group"
	KindService     Kind = "Service"
	KindApplication Kind = "Application"
)

// Account is what the host tells the server about one local account.
type Account struct {
	// Username is the account's canonical name, used in the subject
	// (acct:Username@Domain) whatever case the request used.
	Username string
	// Kind is the actor type; empty means KindPerson.
	Kind Kind
	// ActorIRI is the account's ActivityPub id, for example
	// https://social.example/users/alice or …/groups/biology. Required.
	ActorIRI string
	// ProfileURL is the account's HTML page, for example
	// https://social.example/@alice. Optional.
	ProfileURL string
}

// Resolver is how the host tells the server who exists. The server calls it
// from request goroutines, possibly concurrently.
type Resolver interface {
	// LookupAccount returns the local person or group named username
	// (matched as the host sees fit; Mastodon matches without regard to
	// case). It returns an error wrapping ErrNotFound when there is none, or
	// when the account must not be discoverable (suspended, deleted).
	LookupAccount(ctx context.Context, username string) (*Account, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, username string) (*Account, error)

// LookupAccount calls f.
func (f ResolverFunc) LookupAccount(ctx context.Context, username string) (*Account, error) {
	return f(ctx, username)
}

// Mux is what Routes registers on: *http.ServeMux and chi's Router both have
// this method.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Config configures a Handler.
type Config struct {
	// BaseURL is where this server answers, scheme://host[:port] without a
	// path, for example https://social.example. Required. Its host is one of
	// the local hosts, and host-meta points WebFinger clients at it.
	BaseURL string
	// Domain is the account domain that subjects name
	// (acct:user@Domain). Empty means BaseURL's host. Set it when accounts
	// are @user@example.com but the server runs at social.example (then
	// example.com must redirect /.well-known/webfinger or host-meta here).
	Domain string
	// Hosts are further names that acct: and URL resources may use for
	// local accounts, in any case, with ports where they have them.
	Hosts []string
	// Resolver finds local accounts. Required.
	Resolver Resolver
	// SubscribeTemplate, if set, is served as the
	// http://ostatus.org/schema/1.0/subscribe link, for example
	// https://social.example/authorize_interaction?uri={uri}. It must
	// contain "{uri}".
	SubscribeTemplate string
	// InstanceActor, if set, is the server's own actor (pub.InstanceActor,
	// served at /actor): acct:{Username}@{local host} and its ActorIRI
	// resolve to it without asking the Resolver, as Mastodon's
	// acct:domain@domain does. Its Kind defaults to KindApplication.
	InstanceActor *Account
	// Logger receives errors from the Resolver; nil means slog.Default().
	Logger *slog.Logger
}

// Handler serves WebFinger (RFC 7033) and host-meta (RFC 6415) for local
// accounts. It is safe for concurrent use; build it with NewHandler.
type Handler struct {
	base   *url.URL
	domain string
	local  map[string]bool // canonical host[:port] of local handles
	// localKeys holds the origin host keys (originHost) of local, under
	// the BaseURL's scheme, for matching URLs.
	localKeys map[string]bool
	resolver  Resolver
	subscribe string
	instance  *Account
	// instanceURL is sameURL(instance.ActorIRI), computed once.
	instanceURL string
	log         *slog.Logger
}

// NewHandler checks cfg and returns a Handler for it.
func NewHandler(cfg Config) (*Handler, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" ||
		base.User != nil || strings.Trim(base.Path, "/") != "" || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("webfinger: BaseURL %q must be http(s)://host[:port]", cfg.BaseURL)
	}
	baseHost, err := NormalizeHost(base.Host)
	if err != nil {
		return nil, fmt.Errorf("webfinger: BaseURL host: %w", err)
	}
	base = &url.URL{Scheme: base.Scheme, Host: baseHost}
	if cfg.Resolver == nil {
		return nil, errors.New("webfinger: Config.Resolver is required")
	}
	if cfg.SubscribeTemplate != "" && !strings.Contains(cfg.SubscribeTemplate, "{uri}") {
		return nil, fmt.Errorf("webfinger: SubscribeTemplate %q lacks {uri}", cfg.SubscribeTemplate)
	}
	h := &Handler{
		base:      base,
		domain:    baseHost,
		local:     map[string]bool{baseHost: true},
		localKeys: map[string]bool{},
		resolver:  cfg.Resolver,
		subscribe: cfg.SubscribeTemplate,
		log:       cfg.Logger,
	}
	if cfg.Domain != "" {
		if h.domain, err = NormalizeHost(cfg.Domain); err != nil {
			return nil, fmt.Errorf("webfinger: Domain: %w", err)
		}
		h.local[h.domain] = true
	}
	for _, name := range cfg.Hosts {
		n, err := NormalizeHost(name)
		if err != nil {
			return nil, fmt.Errorf("webfinger: Hosts: %w", err)
		}
		h.local[n] = true
	}
	for n := range h.local {
		if k := authorityKey(n, base.Scheme); k != "" {
			h.localKeys[k] = true
		}
	}
	if a := cfg.InstanceActor; a != nil {
		h.instanceURL = sameURL(a.ActorIRI)
		if a.Username == "" || h.instanceURL == "" {
			return nil, errors.New("webfinger: InstanceActor needs a Username and an http(s) ActorIRI")
		}
		inst := *a
		if inst.Kind == "" {
			inst.Kind = KindApplication
		}
		h.instance = &inst
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h, nil
}

// Routes registers every path the Handler serves:
//
//	/.well-known/webfinger       ServeWebFinger
//	/.well-known/host-meta       ServeHostMeta
//	/.well-known/host-meta.json  ServeHostMetaJSON
//
// The handlers check the method themselves (GET, HEAD and OPTIONS; 405
// otherwise), so the patterns carry none.
func (h *Handler) Routes(mux Mux) {
	mux.Handle(PathWebFinger, http.HandlerFunc(h.ServeWebFinger))
	mux.Handle(PathHostMeta, http.HandlerFunc(h.ServeHostMeta))
	mux.Handle(PathHostMetaJSON, http.HandlerFunc(h.ServeHostMetaJSON))
}

// IsLocal reports whether host (in any case, with its port if it has one)
// names this server. Hosts without a scheme, as handles carry them, keep an
// explicit port: "social.example:443" is not "social.example" here, as
// alice@social.example:443 is not alice@social.example.
func (h *Handler) IsLocal(host string) bool {
	n, err := NormalizeHost(host)
	return err == nil && h.local[n]
}

// Lookup answers a WebFinger query without HTTP: resource is an
// acct:user@host URI (also accepted as user@host or @user@host) or an actor
// or profile URL of a local account (https://host/users/name,
// /groups/name or /@name). It returns an error wrapping ErrInvalidResource
// when resource is malformed, ErrNotFound when it names a foreign host or
// no local account, or the Resolver's other errors.
func (h *Handler) Lookup(ctx context.Context, resource string) (*JRD, error) {
	if resource == "" {
		return nil, invalidf("missing resource")
	}
	var (
		acct *Account
		err  error
	)
	scheme, _, hasScheme := strings.Cut(resource, ":")
	switch {
	case strings.EqualFold(scheme, "acct"):
		acct, err = h.lookupHandle(ctx, resource)
	case strings.Contains(resource, "://"):
		acct, err = h.lookupURL(ctx, resource)
	case hasScheme && !strings.Contains(scheme, "@"):
		// Another URI scheme (mailto:, did:…): nothing we describe.
		return nil, fmt.Errorf("%w: no accounts for %s: resources", ErrNotFound, scheme)
	default:
		// user@host, user@host:port or @user@host without a scheme, as
		// Mastodon also accepts.
		acct, err = h.lookupHandle(ctx, resource)
	}
	if err != nil {
		return nil, err
	}
	return h.describe(acct), nil
}

func (h *Handler) lookupHandle(ctx context.Context, resource string) (*Account, error) {
	hd, err := ParseHandle(resource)
	if err != nil {
		return nil, err
	}
	if !h.local[hd.Host] {
		return nil, fmt.Errorf("%w: %s is not a local host", ErrNotFound, hd.Host)
	}
	if h.instance != nil && strings.EqualFold(hd.User, h.instance.Username) {
		return h.instance, nil
	}
	return h.account(ctx, hd.User)
}

func (h *Handler) lookupURL(ctx context.Context, resource string) (*Account, error) {
	u, err := url.Parse(resource)
	if err != nil {
		return nil, invalidf("resource %q: %v", resource, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: no accounts for %s: resources", ErrNotFound, u.Scheme)
	}
	if u.Opaque != "" || u.User != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, invalidf("resource %q is not an actor or profile URL", resource)
	}
	host, err := originHost(u)
	if err != nil {
		return nil, err
	}
	if !h.localKeys[host] {
		return nil, fmt.Errorf("%w: %s is not a local host", ErrNotFound, host)
	}
	want := sameURL(resource)
	if h.instance != nil && want == h.instanceURL {
		return h.instance, nil
	}
	name, ok := nameFromPath(u.EscapedPath())
	if !ok {
		return nil, fmt.Errorf("%w: %s is not an account URL", ErrNotFound, u.EscapedPath())
	}
	acct, err := h.account(ctx, name)
	if err != nil {
		return nil, err
	}
	if want == "" || (want != sameURL(acct.ActorIRI) && want != sameURL(acct.ProfileURL)) {
		// For example /users/x where x is a group: its actor is /groups/x.
		return nil, fmt.Errorf("%w: %s is not %s's actor or profile URL", ErrNotFound, resource, acct.Username)
	}
	return acct, nil
}

// nameFromPath extracts the account name from the local IRI shapes of
// DESIGN.md: /users/{name}, /groups/{name} and /@{name}.
func nameFromPath(p string) (string, bool) {
	var name string
	switch {
	case strings.HasPrefix(p, "/users/"):
		name = p[len("/users/"):]
	case strings.HasPrefix(p, "/groups/"):
		name = p[len("/groups/"):]
	case strings.HasPrefix(p, "/@"):
		name = p[len("/@"):]
	default:
		return "", false
	}
	return name, checkUser(name) == nil
}

// sameURL returns a comparison key for an http(s) URL: scheme, normalized
// host and escaped path. It returns "" for anything else.
func sameURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return ""
	}
	host, err := originHost(u)
	if err != nil {
		return ""
	}
	return scheme + "://" + host + u.EscapedPath()
}

func (h *Handler) account(ctx context.Context, name string) (*Account, error) {
	acct, err := h.resolver.LookupAccount(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("webfinger: look up %q: %w", name, err)
	}
	if acct == nil || acct.ActorIRI == "" || acct.Username == "" {
		return nil, fmt.Errorf("webfinger: resolver returned no actor for %q", name)
	}
	return acct, nil
}

// describe builds the JRD of a local account.
func (h *Handler) describe(a *Account) *JRD {
	kind := a.Kind
	if kind == "" {
		kind = KindPerson
	}
	j := &JRD{Subject: "acct:" + a.Username + "@" + h.domain}
	if a.ProfileURL != "" {
		j.Aliases = append(j.Aliases, a.ProfileURL)
	}
	if a.ActorIRI != a.ProfileURL {
		j.Aliases = append(j.Aliases, a.ActorIRI)
	}
	if a.ProfileURL != "" {
		j.Links = append(j.Links, Link{Rel: RelProfilePage, Type: "text/html", Href: a.ProfileURL})
	}
	j.Links = append(j.Links, Link{
		Rel:        RelSelf,
		Type:       MediaTypeActivity,
		Href:       a.ActorIRI,
		Properties: map[string]string{PropertyType: activityStreamsNS + "#" + string(kind)},
	})
	if h.subscribe != "" {
		j.Links = append(j.Links, Link{Rel: RelSubscribe, Template: h.subscribe})
	}
	return j
}

// ServeWebFinger answers GET /.well-known/webfinger?resource=…[&rel=…]
// (RFC 7033 §4). It writes the JRD of the account as application/jrd+json,
// or as application/json when the client's Accept header prefers that, with
// Access-Control-Allow-Origin: *. Only the links whose relation is named by
// a rel parameter are kept, if there is any. A missing, repeated or
// malformed resource gets 400, a foreign host or unknown account 404, a
// Resolver failure 500 (logged, not shown), a method other than GET, HEAD or
// OPTIONS 405.
func (h *Handler) ServeWebFinger(w http.ResponseWriter, r *http.Request) {
	if !allowRead(w, r) {
		return
	}
	q := r.URL.Query()
	res := q["resource"]
	if len(res) != 1 {
		http.Error(w, "exactly one resource parameter is required", http.StatusBadRequest)
		return
	}
	jrd, err := h.Lookup(r.Context(), res[0])
	switch {
	case errors.Is(err, ErrInvalidResource):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case errors.Is(err, ErrNotFound):
		http.Error(w, "not found", http.StatusNotFound)
		return
	case err != nil:
		h.log.ErrorContext(r.Context(), "webfinger lookup failed", "resource", res[0], "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	filtered := jrd.Filter(q["rel"]...)
	writeJSON(w, negotiate(r.Header.Get("Accept"), MediaTypeJRD, "application/json"), &filtered)
}

// xrd is the host-meta document (RFC 6415 §3) as this server writes it.
type xrd struct {
	XMLName xml.Name  `xml:"http://docs.oasis-open.org/ns/xri/xrd-1.0 XRD"`
	Links   []xrdLink `xml:"Link"`
}

type xrdLink struct {
	Rel      string `xml:"rel,attr"`
	Type     string `xml:"type,attr,omitempty"`
	Href     string `xml:"href,attr,omitempty"`
	Template string `xml:"template,attr,omitempty"`
}

// lrddTemplate is the WebFinger URL template host-meta advertises.
func (h *Handler) lrddTemplate() string {
	return h.base.String() + PathWebFinger + "?resource={uri}"
}

// ServeHostMeta answers GET /.well-known/host-meta with an XRD document
// (application/xrd+xml) whose lrdd link template points at this server's
// WebFinger endpoint, or with its JSON form (as ServeHostMetaJSON does) when
// the Accept header prefers application/json or application/jrd+json.
func (h *Handler) ServeHostMeta(w http.ResponseWriter, r *http.Request) {
	if !allowRead(w, r) {
		return
	}
	switch negotiate(r.Header.Get("Accept"), MediaTypeXRD, "application/xml", "application/json", MediaTypeJRD) {
	case "application/json", MediaTypeJRD:
		h.writeHostMetaJSON(w)
		return
	}
	doc := xrd{Links: []xrdLink{{Rel: RelLRDD, Type: MediaTypeJRD, Template: h.lrddTemplate()}}}
	body, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil { // cannot happen for this fixed shape
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", MediaTypeXRD+"; charset=utf-8")
	w.Header().Set("Vary", "Accept")
	_, _ = w.Write(append([]byte(xml.Header), append(body, '\n')...))
}

// ServeHostMetaJSON answers GET /.well-known/host-meta.json with the JSON
// form of host-meta (RFC 6415 Appendix A): {"links":[{"rel":"lrdd",…}]}.
func (h *Handler) ServeHostMetaJSON(w http.ResponseWriter, r *http.Request) {
	if !allowRead(w, r) {
		return
	}
	h.writeHostMetaJSON(w)
}

func (h *Handler) writeHostMetaJSON(w http.ResponseWriter) {
	doc := JRD{Links: []Link{{Rel: RelLRDD, Type: MediaTypeJRD, Template: h.lrddTemplate()}}}
	writeJSON(w, "application/json", &doc)
}

// allowRead sets the CORS header every discovery answer carries, answers
// OPTIONS preflights and refuses methods other than GET and HEAD. It reports
// whether the caller should go on.
func allowRead(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodOptions:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return false
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
}

func writeJSON(w http.ResponseWriter, contentType string, v any) {
	body, err := marshalJSON(v)
	if err != nil { // JRDs hold only strings: cannot happen
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Vary", "Accept")
	_, _ = w.Write(body)
}
