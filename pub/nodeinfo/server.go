package nodeinfo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/commonroom/commonroom/pub/webfinger"
)

// UsageSource is how the host tells the Handler its usage counts. The
// Handler calls it on every document request, possibly concurrently; a host
// with expensive counts caches them.
type UsageSource interface {
	Usage(ctx context.Context) (Usage, error)
}

// UsageFunc adapts a function to UsageSource.
type UsageFunc func(ctx context.Context) (Usage, error)

// Usage calls f.
func (f UsageFunc) Usage(ctx context.Context) (Usage, error) { return f(ctx) }

// Mux is what Routes registers on: *http.ServeMux and chi's Router both have
// this method.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Config configures a Handler.
type Config struct {
	// BaseURL is where the documents are served, scheme://host[:port]
	// without a path, for example https://social.example. Required.
	BaseURL string
	// Software describes the software. An empty Name means SoftwareName;
	// Version is required. Repository and Homepage appear in 2.1 only.
	Software Software
	// OpenRegistrations tells whether anyone may sign up.
	OpenRegistrations bool
	// NodeName and NodeDescription, if set, are served as the metadata
	// keys nodeName and nodeDescription.
	NodeName        string
	NodeDescription string
	// Metadata holds further free-form metadata keys; it is copied by
	// NewHandler. NodeName and NodeDescription win over its keys.
	Metadata map[string]any
	// Usage supplies the usage counts. Required.
	Usage UsageSource
	// Logger receives UsageSource errors; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the Config Commonroom serves at baseURL for the given
// software version: Commonroom's name, repository and home page, closed
// registrations. Usage must still be set.
func DefaultConfig(baseURL, version string) Config {
	return Config{
		BaseURL: baseURL,
		Software: Software{
			Name:       SoftwareName,
			Version:    version,
			Repository: SoftwareRepository,
			Homepage:   SoftwareHomepage,
		},
	}
}

// Handler serves NodeInfo discovery and documents. It is safe for concurrent
// use; build it with NewHandler.
type Handler struct {
	base     string
	software Software
	open     bool
	metadata map[string]any
	usage    UsageSource
	log      *slog.Logger
}

// validSoftwareName reports whether s matches the schema's ^[a-z0-9-]+$.
func validSoftwareName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return s != ""
}

// NewHandler checks cfg and returns a Handler for it.
func NewHandler(cfg Config) (*Handler, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" ||
		base.User != nil || strings.Trim(base.Path, "/") != "" || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("nodeinfo: BaseURL %q must be http(s)://host[:port]", cfg.BaseURL)
	}
	host, err := webfinger.NormalizeHost(base.Host)
	if err != nil {
		return nil, fmt.Errorf("nodeinfo: BaseURL host: %w", err)
	}
	sw := cfg.Software
	if sw.Name == "" {
		sw.Name = SoftwareName
	}
	if !validSoftwareName(sw.Name) {
		return nil, fmt.Errorf("nodeinfo: software name %q must match ^[a-z0-9-]+$", sw.Name)
	}
	if sw.Version == "" {
		return nil, errors.New("nodeinfo: software version is required")
	}
	for _, u := range []string{sw.Repository, sw.Homepage} {
		if p, err := url.Parse(u); u != "" && (err != nil || !p.IsAbs()) {
			return nil, fmt.Errorf("nodeinfo: software URL %q is not absolute", u)
		}
	}
	if cfg.Usage == nil {
		return nil, errors.New("nodeinfo: Config.Usage is required")
	}
	meta := maps.Clone(cfg.Metadata)
	if meta == nil {
		meta = map[string]any{}
	}
	if cfg.NodeName != "" {
		meta["nodeName"] = cfg.NodeName
	}
	if cfg.NodeDescription != "" {
		meta["nodeDescription"] = cfg.NodeDescription
	}
	if _, err := json.Marshal(meta); err != nil {
		return nil, fmt.Errorf("nodeinfo: metadata is not JSON: %w", err)
	}
	h := &Handler{
		base:     base.Scheme + "://" + host,
		software: sw,
		open:     cfg.OpenRegistrations,
		metadata: meta,
		usage:    cfg.Usage,
		log:      cfg.Logger,
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h, nil
}

// Routes registers every path the Handler serves:
//
//	/.well-known/nodeinfo  ServeDiscovery
//	/nodeinfo/2.0          ServeDocument (2.0)
//	/nodeinfo/2.1          ServeDocument (2.1)
//
// The handlers check the method themselves (GET, HEAD and OPTIONS; 405
// otherwise).
func (h *Handler) Routes(mux Mux) {
	mux.Handle(PathDiscovery, http.HandlerFunc(h.ServeDiscovery))
	mux.Handle(Path20, h.ServeDocument(Version20))
	mux.Handle(Path21, h.ServeDocument(Version21))
}

// Discovery returns the discovery document: a JRD with one link per schema
// version, 2.0 first, each pointing at its document under BaseURL.
func (h *Handler) Discovery() *webfinger.JRD {
	return &webfinger.JRD{Links: []webfinger.Link{
		{Rel: Rel20, Href: h.base + Path20},
		{Rel: Rel21, Href: h.base + Path21},
	}}
}

// Document builds the document of schema version (Version20 or Version21)
// with the current usage counts. It fails if version is neither, or if the
// UsageSource fails or reports a negative count.
func (h *Handler) Document(ctx context.Context, version string) (*Document, error) {
	sw := h.software
	switch version {
	case Version21:
	case Version20:
		sw.Repository, sw.Homepage = "", ""
	default:
		return nil, fmt.Errorf("nodeinfo: unsupported schema version %q", version)
	}
	usage, err := h.usage.Usage(ctx)
	if err != nil {
		return nil, fmt.Errorf("nodeinfo: usage: %w", err)
	}
	if err := usage.validate(); err != nil {
		return nil, err
	}
	return &Document{
		Version:           version,
		Software:          sw,
		Protocols:         []string{ProtocolActivityPub},
		Services:          Services{Inbound: []string{}, Outbound: []string{}},
		OpenRegistrations: h.open,
		Usage:             usage,
		Metadata:          maps.Clone(h.metadata),
	}, nil
}

// ServeDiscovery answers GET /.well-known/nodeinfo with the Discovery JRD
// as application/json and Access-Control-Allow-Origin: *.
func (h *Handler) ServeDiscovery(w http.ResponseWriter, r *http.Request) {
	if !allowRead(w, r) {
		return
	}
	writeJSON(w, "application/json", h.Discovery())
}

// ServeDocument returns the handler of the document of schema version
// (Version20 or Version21): it answers GET with the Document, typed
// ContentType20 or ContentType21, with Access-Control-Allow-Origin: * and a
// 30-minute public cache lifetime. A UsageSource failure gets 500 (logged,
// not shown), another method than GET, HEAD or OPTIONS 405, an unknown
// version 404.
func (h *Handler) ServeDocument(version string) http.Handler {
	contentType := map[string]string{Version20: ContentType20, Version21: ContentType21}[version]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowRead(w, r) {
			return
		}
		if contentType == "" {
			http.NotFound(w, r)
			return
		}
		doc, err := h.Document(r.Context(), version)
		if err != nil {
			h.log.ErrorContext(r.Context(), "nodeinfo document failed", "version", version, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=1800")
		writeJSON(w, contentType, doc)
	})
}

// allowRead sets the CORS header, answers OPTIONS preflights and refuses
// methods other than GET and HEAD. It reports whether the caller should go
// on.
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
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // metadata was checked in NewHandler
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(buf.Bytes())
}
