package pub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// ContentTypeActivityJSON is the Content-Type pub serves AS2 documents with.
const ContentTypeActivityJSON = "application/activity+json"

// InstanceActorID returns the instance actor's IRI for a base URL and path
// ("" meaning "/actor"), in the normalized origin form NewInstanceActor
// expects keys for.
func InstanceActorID(baseURL, path string) (string, error) {
	origin, err := transport.ParseOrigin(baseURL)
	if err != nil {
		return "", fmt.Errorf("pub: instance actor: base URL: %w", err)
	}
	if path == "" {
		path = "/actor"
	}
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("pub: instance actor: path %q does not start with /", path)
	}
	return origin.String() + path, nil
}

// InstanceConfig configures [NewInstanceActor].
type InstanceConfig struct {
	// BaseURL is the server's origin, for example "https://school.example".
	BaseURL string
	// Path is the instance actor's path; default "/actor", so its IRI is
	// "https://school.example/actor".
	Path string
	// Name is the actor's display name; default the host name.
	Name string
	// Clock dates signatures; default SystemClock.
	Clock Clock
	// Schemes, when set, picks the signature scheme per host (RFC 9421 for
	// hosts known to accept it). Nil signs every request with
	// draft-cavage-12, which every peer reads.
	Schemes *httpsig.HostSchemes
	// Registry builds the actor document; default streams.Default().
	Registry *streams.Registry
}

// InstanceActor is the server's own actor: an Application at a stable IRI
// with its own keys. It signs every outbound fetch (it implements
// transport.Signer), so that peers in authorized-fetch mode answer us, and it
// serves its actor document as AS2 (it is an http.Handler). It is safe for
// concurrent use.
type InstanceActor struct {
	id      string
	path    string
	host    string
	keys    *ActorKeys
	signer  *httpsig.Signer
	schemes *httpsig.HostSchemes
	now     func() time.Time
	doc     []byte
}

var (
	_ transport.Signer = (*InstanceActor)(nil)
	_ http.Handler     = (*InstanceActor)(nil)
)

// NewInstanceActor builds the instance actor from its keys, whose ActorID
// must be cfg.BaseURL + cfg.Path. Obtain them with Keys.EnsureLocal, or with
// EnsureLocalKeys before a Keys exists (the Keys' fetcher signs as this
// actor, so an engine makes the instance actor first).
func NewInstanceActor(keys *ActorKeys, cfg InstanceConfig) (*InstanceActor, error) {
	if keys == nil || keys.RSA.IsZero() {
		return nil, errors.New("pub: instance actor: no RSA key")
	}
	origin, err := transport.ParseOrigin(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("pub: instance actor: base URL: %w", err)
	}
	if cfg.Path == "" {
		cfg.Path = "/actor"
	}
	if !strings.HasPrefix(cfg.Path, "/") {
		return nil, fmt.Errorf("pub: instance actor: path %q does not start with /", cfg.Path)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Registry == nil {
		cfg.Registry = streams.Default()
	}
	host := origin.Host
	if origin.Port != "" {
		host += ":" + origin.Port
	}
	if cfg.Name == "" {
		cfg.Name = host
	}
	base := origin.String()
	id := base + cfg.Path
	if keys.ActorID != id {
		return nil, fmt.Errorf("pub: instance actor: keys are for %s, not %s", keys.ActorID, id)
	}
	ak := keys
	signer, err := httpsig.NewSigner(ak.RSA.Signer(), ak.RSAKeyID(), cfg.Clock.Now)
	if err != nil {
		return nil, fmt.Errorf("pub: instance actor signer: %w", err)
	}
	a := &InstanceActor{id: id, path: cfg.Path, host: host, keys: ak, signer: signer, schemes: cfg.Schemes, now: cfg.Clock.Now}
	doc := cfg.Registry.New("Application")
	doc.SetID(id)
	if err := setAll(doc,
		member{"preferredUsername", streams.String(host)},
		member{"name", streams.String(cfg.Name)},
		member{"inbox", streams.IRI(id + "/inbox")},
		member{"outbox", streams.IRI(id + "/outbox")},
		member{"manuallyApprovesFollowers", streams.Bool(true)},
	); err != nil {
		return nil, fmt.Errorf("pub: instance actor document: %w", err)
	}
	endpoints := cfg.Registry.New("")
	if err := endpoints.Set("sharedInbox", streams.IRI(base+"/inbox")); err != nil {
		return nil, fmt.Errorf("pub: instance actor document: %w", err)
	}
	if err := doc.Set("endpoints", streams.ObjectValue(endpoints)); err != nil {
		return nil, fmt.Errorf("pub: instance actor document: %w", err)
	}
	if err := PublishKeys(doc, ak); err != nil {
		return nil, err
	}
	if a.doc, err = streams.Marshal(doc); err != nil {
		return nil, fmt.Errorf("pub: instance actor document: %w", err)
	}
	return a, nil
}

// ID returns the instance actor's IRI.
func (a *InstanceActor) ID() string { return a.id }

// Path returns the path the actor is served at (for route tables and the
// authorized-fetch exemption).
func (a *InstanceActor) Path() string { return a.path }

// KeyID returns the id of the key the actor signs with.
func (a *InstanceActor) KeyID() string { return a.keys.RSAKeyID() }

// Keys returns the actor's key pairs (their private halves redact themselves).
func (a *InstanceActor) Keys() *ActorKeys { return a.keys }

// signAsKey is the context key of SignAs.
type signAsKey struct{}

// SignAs returns a context under which requests sent through a client whose
// Signer is an InstanceActor (the engine's client) are signed by keys' actor
// instead: deliveries from a local actor go out signed by that actor, through
// the one shared client. keys must be a local actor's, from Keys.EnsureLocal.
func SignAs(ctx context.Context, keys *ActorKeys) context.Context {
	return context.WithValue(ctx, signAsKey{}, keys)
}

// SignRequest signs req (transport.Signer): as the actor SignAs put in the
// request's context, otherwise as the instance actor. The scheme is the
// host's preferred one when Schemes is set, else draft-cavage-12.
func (a *InstanceActor) SignRequest(req *http.Request, body []byte) error {
	scheme := httpsig.Cavage
	if a.schemes != nil {
		scheme = a.schemes.Preferred(schemesHost(req))
	}
	signer := a.signer
	if keys, ok := req.Context().Value(signAsKey{}).(*ActorKeys); ok && keys != nil {
		s, err := keys.RequestSigner(a.now)
		if err != nil {
			return err
		}
		signer = s
	}
	if err := signer.Sign(req, body, scheme); err != nil {
		return fmt.Errorf("pub: sign request as %s: %w", signer.KeyID(), err)
	}
	return nil
}

// schemesHost is the key HostSchemes remembers req's host under: the
// canonical host[:port] of its URL's origin (lowercased, IDNA, no default
// port), as pub/delivery records what peers accept, so that every spelling
// of one origin shares one memory. A URL without an http(s) origin keeps
// its raw host; the transport refuses to send it anyway.
func schemesHost(req *http.Request) string {
	if req.URL != nil {
		if o, err := transport.OriginOf(req.URL); err == nil {
			return o.HostPort()
		}
		if req.URL.Host != "" {
			return req.URL.Host
		}
	}
	return req.Host
}

// Document returns the actor document as served: AS2 JSON with publicKey
// (RSA, PEM) and assertionMethod (Ed25519, Multikey). The slice is a copy.
func (a *InstanceActor) Document() []byte { return append([]byte(nil), a.doc...) }

// ServeHTTP answers GET and HEAD with the actor document as
// application/activity+json (never requiring a signature: peers fetch it to
// verify our signatures), and 405 for other methods.
func (a *InstanceActor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ContentTypeActivityJSON)
	h.Set("Content-Length", strconv.Itoa(len(a.doc)))
	h.Set("Vary", "Accept")
	h.Set("Cache-Control", "max-age=180, public")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(a.doc)
	}
}
